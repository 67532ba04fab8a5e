#include "pillow_resize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

// Follows Pillow's libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc, ImagingResampleHorizontal_8bpc,
// ImagingResampleVertical_8bpc, ImagingResampleInner), unchanged since Pillow 4.3 in what matters here. Each output
// pixel depends only on its own coefficients and input pixels, so computing a crop of the output gives the same bytes
// as computing all of it and cropping.
namespace efficientnet::imaging {
namespace {

constexpr int kChannels = 3;
constexpr int kPrecisionBits = kPillowPrecisionBits;
constexpr int kMaxByte = 255;

double bilinearFilter(double x)
{
    x = std::abs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubicFilter(double x)
{
    constexpr double a = -0.5;   // Pillow's (and Keys') bicubic
    x = std::abs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// One output position's taps: the first input index and, for each tap, its fixed-point weight.
struct Taps {
    int first = 0;
    int count = 0;
    const int* weights = nullptr;
};

// precompute_coeffs + normalize_coeffs_8bpc for resizing inSize samples to outSize (box = the whole input).
class Coefficients {
public:
    Coefficients(int inSize, int outSize, Interpolation interpolation)
    {
        const bool cubic = interpolation == Interpolation::Bicubic;
        const double filterSupport = cubic ? 2.0 : 1.0;
        // Pillow computes (in1 - in0) in float from the box; for a whole-image box that is inSize exactly.
        const double scale = static_cast<double>(static_cast<float>(inSize)) / outSize;
        const double filterScale = std::max(scale, 1.0);
        const double support = filterSupport * filterScale;
        m_size = static_cast<int>(std::ceil(support)) * 2 + 1;
        m_bounds.resize(static_cast<size_t>(outSize) * 2);
        m_weights.assign(static_cast<size_t>(outSize) * static_cast<size_t>(m_size), 0);
        std::vector<double> k(static_cast<size_t>(m_size));
        for (int xx = 0; xx < outSize; ++xx) {
            const double center = (xx + 0.5) * scale;
            const double ss = 1.0 / filterScale;
            const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
            const int xmax = std::min(static_cast<int>(center + support + 0.5), inSize) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; ++x) {
                const double w = cubic ? bicubicFilter((x + xmin - center + 0.5) * ss)
                                       : bilinearFilter((x + xmin - center + 0.5) * ss);
                k[static_cast<size_t>(x)] = w;
                sum += w;
            }
            int* fixed = &m_weights[static_cast<size_t>(xx) * static_cast<size_t>(m_size)];
            for (int x = 0; x < xmax; ++x) {
                const double w = sum != 0.0 ? k[static_cast<size_t>(x)] / sum : k[static_cast<size_t>(x)];
                fixed[x] = static_cast<int>(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
            }
            m_bounds[static_cast<size_t>(xx) * 2] = xmin;
            m_bounds[static_cast<size_t>(xx) * 2 + 1] = std::max(xmax, 0);
        }
    }

    int size() const { return m_size; }

    Taps at(int index) const
    {
        const auto i = static_cast<size_t>(index);
        return {m_bounds[i * 2], m_bounds[i * 2 + 1], &m_weights[i * static_cast<size_t>(m_size)]};
    }

private:
    int m_size = 0;
    std::vector<int> m_bounds;
    std::vector<int> m_weights;
};

// clip8: the 22-bit fixed-point sum back to a byte (the shift is arithmetic for negative sums, as in Pillow).
inline std::uint8_t clip8(int sum)
{
    return static_cast<std::uint8_t>(std::clamp(sum >> kPrecisionBits, 0, kMaxByte));
}

constexpr int kRounding = 1 << (kPrecisionBits - 1);

} // namespace

std::vector<std::uint8_t> resizeAndCropLikePillow(const std::uint8_t* rgb, int width, int height, int resizedWidth,
                                                  int resizedHeight, const CropBox& crop, Interpolation interpolation)
{
    if (width < 1 || height < 1 || resizedWidth < 1 || resizedHeight < 1 || crop.width < 1 || crop.height < 1 ||
        crop.left < 0 || crop.top < 0 || crop.left + crop.width > resizedWidth || crop.top + crop.height > resizedHeight)
        throw std::invalid_argument("resizeAndCropLikePillow: the crop " + std::to_string(crop.width) + "x" +
                                    std::to_string(crop.height) + "+" + std::to_string(crop.left) + "+" +
                                    std::to_string(crop.top) + " is not inside " + std::to_string(resizedWidth) + "x" +
                                    std::to_string(resizedHeight));
    const bool horizontal = resizedWidth != width;
    const bool vertical = resizedHeight != height;
    const Coefficients columns(width, resizedWidth, interpolation);
    const Coefficients rows(height, resizedHeight, interpolation);

    // The input rows the crop's output rows read.
    int firstRow = crop.top, endRow = crop.top + crop.height;
    if (vertical) {
        firstRow = height;
        endRow = 0;
        for (int yy = crop.top; yy < crop.top + crop.height; ++yy) {
            const Taps t = rows.at(yy);
            firstRow = std::min(firstRow, t.first);
            endRow = std::max(endRow, t.first + t.count);
        }
        endRow = std::max(endRow, firstRow);
    }

    // Horizontal pass: those rows, the crop's columns, rounded to bytes (Pillow's intermediate image).
    const size_t cropRowBytes = static_cast<size_t>(crop.width) * kChannels;
    std::vector<std::uint8_t> middle(static_cast<size_t>(endRow - firstRow) * cropRowBytes);
    const size_t inRowBytes = static_cast<size_t>(width) * kChannels;
    for (int y = firstRow; y < endRow; ++y) {
        const std::uint8_t* in = rgb + static_cast<size_t>(y) * inRowBytes;
        std::uint8_t* out = &middle[static_cast<size_t>(y - firstRow) * cropRowBytes];
        for (int xx = 0; xx < crop.width; ++xx, out += kChannels) {
            if (!horizontal) {
                std::copy_n(in + static_cast<size_t>(crop.left + xx) * kChannels, kChannels, out);
                continue;
            }
            const Taps t = columns.at(crop.left + xx);
            int s0 = kRounding, s1 = kRounding, s2 = kRounding;
            const std::uint8_t* p = in + static_cast<size_t>(t.first) * kChannels;
            for (int x = 0; x < t.count; ++x, p += kChannels) {
                s0 += p[0] * t.weights[x];
                s1 += p[1] * t.weights[x];
                s2 += p[2] * t.weights[x];
            }
            out[0] = clip8(s0);
            out[1] = clip8(s1);
            out[2] = clip8(s2);
        }
    }
    if (!vertical) {
        middle.resize(static_cast<size_t>(crop.height) * cropRowBytes);   // firstRow is crop.top: already the crop
        return middle;
    }

    // Vertical pass: the crop's rows.
    std::vector<std::uint8_t> result(static_cast<size_t>(crop.height) * cropRowBytes);
    for (int yy = 0; yy < crop.height; ++yy) {
        const Taps t = rows.at(crop.top + yy);
        std::uint8_t* out = &result[static_cast<size_t>(yy) * cropRowBytes];
        for (size_t c = 0; c < cropRowBytes; ++c) {
            int s = kRounding;
            const std::uint8_t* p = &middle[static_cast<size_t>(t.first - firstRow) * cropRowBytes + c];
            for (int y = 0; y < t.count; ++y, p += cropRowBytes)
                s += *p * t.weights[y];
            out[c] = clip8(s);
        }
    }
    return result;
}

ResampleTable pillowResampleTable(int inSize, int outSize, int firstOutput, int outputs, Interpolation interpolation)
{
    if (inSize < 1 || outSize < 1 || outputs < 1 || firstOutput < 0 || firstOutput + outputs > outSize)
        throw std::invalid_argument("pillowResampleTable: outputs " + std::to_string(firstOutput) + "+" +
                                    std::to_string(outputs) + " of " + std::to_string(outSize));
    ResampleTable r;
    if (inSize == outSize) {
        r.taps = 1;
        r.firstInput = firstOutput;
        r.endInput = firstOutput + outputs;
        for (int i = firstOutput; i < firstOutput + outputs; ++i)
            r.table.insert(r.table.end(), {i, 1, 1 << kPrecisionBits});
        return r;
    }
    const Coefficients coefficients(inSize, outSize, interpolation);
    r.taps = coefficients.size();
    r.firstInput = inSize;
    r.endInput = 0;
    r.table.reserve(static_cast<size_t>(outputs) * static_cast<size_t>(2 + r.taps));
    for (int i = firstOutput; i < firstOutput + outputs; ++i) {
        const Taps t = coefficients.at(i);
        r.firstInput = std::min(r.firstInput, t.first);
        r.endInput = std::max(r.endInput, t.first + t.count);
        r.table.push_back(t.first);
        r.table.push_back(t.count);
        r.table.insert(r.table.end(), t.weights, t.weights + r.taps);
    }
    r.endInput = std::max(r.endInput, r.firstInput);
    return r;
}

} // namespace efficientnet::imaging
