// Train-time augmentation (core/src/training/augment.h): the colour jitter's saturation and hue compute what
// torchvision's ColorJitter does (adjust_saturation, adjust_hue), augment() changes colour with them and stays
// deterministic for a seed.
#include <QtTest/QtTest>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "training/augment.h"
#include "training/random.h"

using namespace efficientnet;
using namespace efficientnet::training;

namespace {

constexpr int kSide = 64;
constexpr int kGreyRows = 8;       // the top rows are grey, which saturation and hue leave alone
constexpr std::uint8_t kGrey = 128;

// A colour gradient with a grey band at the top.
Image colourful()
{
    Image image;
    image.width = image.height = kSide;
    image.rgb.resize(kSide * kSide * 3);
    for (int y = 0; y < kSide; ++y)
        for (int x = 0; x < kSide; ++x) {
            auto* p = &image.rgb[(y * kSide + x) * 3];
            if (y < kGreyRows)
                p[0] = p[1] = p[2] = kGrey;
            else
                p[0] = static_cast<std::uint8_t>(x * 4), p[1] = static_cast<std::uint8_t>(y * 4),
                p[2] = static_cast<std::uint8_t>(255 - x * 2);
        }
    return image;
}

Preprocessing crop64()
{
    return {kSide, kSide, Interpolation::Bilinear, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
}

// The whole image, unflipped, with no brightness or contrast change: what remains is the saturation and hue.
AugmentSettings colourOnly(double saturation, double hue)
{
    AugmentSettings s;
    s.minScale = s.maxScale = 1.0;
    s.minRatio = s.maxRatio = 1.0;
    s.flipProbability = 0;
    s.brightness = s.contrast = 0;
    s.saturation = saturation;
    s.hue = hue;
    return s;
}

std::vector<std::uint8_t> pixel(int r, int g, int b)
{
    return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b)};
}

int largestDifference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b)
{
    int largest = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        largest = std::max(largest, std::abs(int(a[i]) - int(b[i])));
    return largest;
}

// Rows above the band's last (which the resampling may mix with the first coloured row).
bool greyBandKept(const std::vector<std::uint8_t>& rgb)
{
    return std::all_of(rgb.begin(), rgb.begin() + (kGreyRows - 1) * kSide * 3, [](std::uint8_t v) { return v == kGrey; });
}

} // namespace

class TestAugment : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void saturationBlendsWithTheGreyOfEachPixel()
    {
        const auto original = colourful().rgb;
        auto grey = original;
        adjustSaturation(grey, 0.0);   // torchvision: factor 0 gives the grayscale image
        for (std::size_t i = 0; i < grey.size(); i += 3) {
            QCOMPARE(grey[i], grey[i + 1]);
            QCOMPARE(grey[i + 1], grey[i + 2]);
            const double luma = 0.299 * original[i] + 0.587 * original[i + 1] + 0.114 * original[i + 2];
            QVERIFY(std::abs(grey[i] - luma) <= 0.5 + 1e-9);
        }
        auto same = original;
        adjustSaturation(same, 1.0);
        QCOMPARE(same, original);
        auto red = pixel(200, 100, 100);   // grey 129.9: twice as far from it, clamped to bytes
        adjustSaturation(red, 2.0);
        QCOMPARE(red, pixel(255, 70, 70));
        auto stillGrey = std::vector<std::uint8_t>(kSide * 3, kGrey);
        adjustSaturation(stillGrey, 1.7);
        QVERIFY(std::all_of(stillGrey.begin(), stillGrey.end(), [](std::uint8_t v) { return v == kGrey; }));
    }

    void hueTurnsTheColourCircle()
    {
        const struct {
            double shift;
            std::vector<std::uint8_t> from, to;
        } cases[] = {
            {1.0 / 3, pixel(255, 0, 0), pixel(0, 255, 0)},     // red -> green
            {-1.0 / 3, pixel(255, 0, 0), pixel(0, 0, 255)},    // red -> blue
            {0.5, pixel(255, 0, 0), pixel(0, 255, 255)},       // red -> cyan
            {1.0 / 6, pixel(200, 0, 0), pixel(200, 200, 0)},   // value kept: dark red -> dark yellow
            {1.0 / 3, pixel(255, 127, 127), pixel(127, 255, 127)},   // saturation kept
            {0.25, pixel(90, 90, 90), pixel(90, 90, 90)},      // greys have no hue
        };
        for (const auto& c : cases) {
            auto rgb = c.from;
            adjustHue(rgb, c.shift);
            QVERIFY2(rgb == c.to, qPrintable(QString("shift %1: %2,%3,%4").arg(c.shift).arg(rgb[0]).arg(rgb[1]).arg(rgb[2])));
        }
        const auto original = colourful().rgb;
        auto turnedAround = original;
        adjustHue(turnedAround, 0.0);
        QVERIFY(largestDifference(turnedAround, original) <= 1);   // the HSV round trip, to rounding
        adjustHue(turnedAround, 1.0);                               // a full turn
        QVERIFY(largestDifference(turnedAround, original) <= 1);
    }

    void jitterChangesColourAndIsDeterministicForASeed()
    {
        const Image image = colourful();
        const Preprocessing p = crop64();
        const auto run = [&](const AugmentSettings& s, std::uint64_t seed) {
            Random random(seed);
            return augment(image, p, s, random);
        };
        // The same draws with and without saturation and hue: only the colour differs, greys stay grey.
        const auto plain = run(colourOnly(0, 0), 7);
        const auto jittered = run(colourOnly(0.5, 0.1), 7);
        QCOMPARE(plain.size(), std::size_t(kSide * kSide * 3));
        qInfo("saturation 0.5 / hue 0.1 jitter, seed 7: pixels differ by up to %d levels", largestDifference(plain, jittered));
        QVERIFY(largestDifference(plain, jittered) >= 10);
        QVERIFY(greyBandKept(plain));
        QVERIFY(greyBandKept(jittered));
        // Seeds: the same one gives the same bytes, another one other colours.
        QCOMPARE(run(colourOnly(0.5, 0.1), 7), jittered);
        QVERIFY(run(colourOnly(0.5, 0.1), 8) != jittered);
        // The defaults are mild but on, and deterministic too.
        const AugmentSettings defaults;
        QVERIFY(defaults.saturation > 0 && defaults.saturation <= 0.2);
        QVERIFY(defaults.hue > 0 && defaults.hue <= 0.05);
        QCOMPARE(run(defaults, 11), run(defaults, 11));
        QVERIFY(run(defaults, 11) != run(defaults, 12));
    }
};

QTEST_APPLESS_MAIN(TestAugment)
#include "test_augment.moc"
