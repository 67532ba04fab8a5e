#include "training/augment.h"

#include <algorithm>
#include <cmath>

#include "imaging/pillow_resize.h"

namespace efficientnet::training {
namespace {

constexpr int kCropAttempts = 10;   // torchvision's
constexpr double kMaxChannel = 255.0;
// ITU-R 601-2 luma, as PIL's convert("L") that ColorJitter's contrast uses for its mean.
constexpr double kLumaR = 0.299, kLumaG = 0.587, kLumaB = 0.114;

std::uint8_t clampToByte(double value)
{
    return static_cast<std::uint8_t>(std::clamp(std::lround(value), 0L, 255L));
}

constexpr int kHueSectors = 6;   // HSV's hexcone

} // namespace

void adjustSaturation(std::vector<std::uint8_t>& rgb, double factor)
{
    for (std::size_t i = 0; i + 2 < rgb.size(); i += 3) {
        const double grey = kLumaR * rgb[i] + kLumaG * rgb[i + 1] + kLumaB * rgb[i + 2];
        for (int c = 0; c < 3; ++c)
            rgb[i + c] = clampToByte(grey + factor * (rgb[i + c] - grey));
    }
}

// RGB -> HSV -> hue turned -> RGB, as torchvision's _rgb2hsv / _hsv2rgb compute it (hue in [0, 1)).
void adjustHue(std::vector<std::uint8_t>& rgb, double shift)
{
    for (std::size_t i = 0; i + 2 < rgb.size(); i += 3) {
        const double r = rgb[i] / kMaxChannel, g = rgb[i + 1] / kMaxChannel, b = rgb[i + 2] / kMaxChannel;
        const double value = std::max({r, g, b});
        const double chroma = value - std::min({r, g, b});
        if (chroma <= 0)
            continue;   // a grey has no hue
        double hue;
        if (value == r)
            hue = (g - b) / chroma;
        else if (value == g)
            hue = 2.0 + (b - r) / chroma;
        else
            hue = 4.0 + (r - g) / chroma;
        hue = hue / kHueSectors + shift;
        hue -= std::floor(hue);   // in [0, 1)
        const double saturation = chroma / value;
        const double sector = hue * kHueSectors;
        const int index = static_cast<int>(sector) % kHueSectors;
        const double f = sector - std::floor(sector);
        const double p = value * (1 - saturation), q = value * (1 - saturation * f),
                     t = value * (1 - saturation * (1 - f));
        const double out[kHueSectors][3] = {{value, t, p}, {q, value, p}, {p, value, t},
                                            {p, q, value}, {t, p, value}, {value, p, q}};
        for (int c = 0; c < 3; ++c)
            rgb[i + c] = clampToByte(out[index][c] * kMaxChannel);
    }
}

Region randomResizedCropRegion(int width, int height, const AugmentSettings& s, Random& random)
{
    const double area = static_cast<double>(width) * height;
    const double logMin = std::log(s.minRatio), logMax = std::log(s.maxRatio);
    for (int attempt = 0; attempt < kCropAttempts; ++attempt) {
        const double target = area * random.uniform(s.minScale, s.maxScale);
        const double ratio = std::exp(random.uniform(logMin, logMax));
        const int w = static_cast<int>(std::lround(std::sqrt(target * ratio)));
        const int h = static_cast<int>(std::lround(std::sqrt(target / ratio)));
        if (w > 0 && h > 0 && w <= width && h <= height) {
            const int top = static_cast<int>(random.below(static_cast<std::uint64_t>(height - h + 1)));
            const int left = static_cast<int>(random.below(static_cast<std::uint64_t>(width - w + 1)));
            return {left, top, w, h};
        }
    }
    // Fallback: the whole image's centre at the nearest allowed aspect ratio.
    const double inRatio = static_cast<double>(width) / height;
    int w = width, h = height;
    if (inRatio < s.minRatio)
        h = static_cast<int>(std::lround(w / s.minRatio));
    else if (inRatio > s.maxRatio)
        w = static_cast<int>(std::lround(h * s.maxRatio));
    return {(width - w) / 2, (height - h) / 2, std::max(w, 1), std::max(h, 1)};
}

std::vector<std::uint8_t> augment(const Image& image, const Preprocessing& p, const AugmentSettings& s, Random& random)
{
    const Region r = randomResizedCropRegion(image.width, image.height, s, random);
    const int size = p.cropSize;
    // Resizing the whole image so the region becomes size x size, then cropping it, is resizing the region (up to
    // Pillow's sub-pixel support at the region's edges): only the crop's pixels are computed.
    const double sx = static_cast<double>(size) / r.width, sy = static_cast<double>(size) / r.height;
    const int resizedWidth = std::max(size, static_cast<int>(std::lround(image.width * sx)));
    const int resizedHeight = std::max(size, static_cast<int>(std::lround(image.height * sy)));
    const int left = std::clamp(static_cast<int>(std::lround(r.left * sx)), 0, resizedWidth - size);
    const int top = std::clamp(static_cast<int>(std::lround(r.top * sy)), 0, resizedHeight - size);
    std::vector<std::uint8_t> pixels = imaging::resizeAndCropLikePillow(
        image.rgb.data(), image.width, image.height, resizedWidth, resizedHeight, {left, top, size, size},
        p.interpolation);

    if (random.uniform() < s.flipProbability)
        for (int y = 0; y < size; ++y)
            for (int x = 0; x < size / 2; ++x)
                for (int c = 0; c < 3; ++c)
                    std::swap(pixels[(y * size + x) * 3 + c], pixels[(y * size + size - 1 - x) * 3 + c]);

    const double brightness = random.uniform(1 - s.brightness, 1 + s.brightness);
    const double contrast = random.uniform(1 - s.contrast, 1 + s.contrast);
    const double saturation = random.uniform(1 - s.saturation, 1 + s.saturation);
    const double hue = random.uniform(-s.hue, s.hue);
    double luma = 0;
    for (std::size_t i = 0; i < pixels.size(); i += 3)
        luma += kLumaR * pixels[i] + kLumaG * pixels[i + 1] + kLumaB * pixels[i + 2];
    const double mean = std::min(kMaxChannel, brightness * luma / (static_cast<double>(size) * size));
    for (auto& value : pixels) {
        const double bright = std::min(kMaxChannel, value * brightness);
        value = clampToByte(mean + (bright - mean) * contrast);
    }
    if (saturation != 1.0)
        adjustSaturation(pixels, saturation);
    if (hue != 0.0)
        adjustHue(pixels, hue);
    return pixels;
}

Image shrinkToShorterSide(const Image& image, int shorterSide)
{
    const int shorter = std::min(image.width, image.height);
    if (shorter <= shorterSide)
        return image;
    const double scale = static_cast<double>(shorterSide) / shorter;
    Image small;
    small.width = std::max(1, static_cast<int>(std::lround(image.width * scale)));
    small.height = std::max(1, static_cast<int>(std::lround(image.height * scale)));
    small.rgb = imaging::resizeAndCropLikePillow(image.rgb.data(), image.width, image.height, small.width,
                                                 small.height, {0, 0, small.width, small.height}, Interpolation::Bilinear);
    return small;
}

} // namespace efficientnet::training
