#include "efficientnet/variants.h"

#include <algorithm>
#include <cmath>

#include "efficientnet/errors.h"

namespace efficientnet {
namespace {

constexpr std::array<float, 3> kImageNetMean{0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd{0.229f, 0.224f, 0.225f};
constexpr std::array<float, 3> kHalf{0.5f, 0.5f, 0.5f};
constexpr int kChannelDivisor = 8;
constexpr double kTfBnEps = 1e-3;
constexpr double kStochasticDepth = 0.2;

constexpr BlockKind MB = BlockKind::MBConv;
constexpr BlockKind Fused = BlockKind::FusedMBConv;

// EfficientNet B0 (paper table 1; torchvision _efficientnet_conf("efficientnet_b*")).
const std::vector<StageConfig> kV1Stages{
    {MB, 1, 3, 1, 32, 16, 1},   {MB, 6, 3, 2, 16, 24, 2},   {MB, 6, 5, 2, 24, 40, 2},  {MB, 6, 3, 2, 40, 80, 3},
    {MB, 6, 5, 1, 80, 112, 3},  {MB, 6, 5, 2, 112, 192, 4}, {MB, 6, 3, 1, 192, 320, 1},
};
// EfficientNetV2 (paper table 4 and appendix; torchvision _efficientnet_conf("efficientnet_v2_*")).
const std::vector<StageConfig> kV2SStages{
    {Fused, 1, 3, 1, 24, 24, 2},  {Fused, 4, 3, 2, 24, 48, 4},  {Fused, 4, 3, 2, 48, 64, 4},
    {MB, 4, 3, 2, 64, 128, 6},    {MB, 6, 3, 1, 128, 160, 9},   {MB, 6, 3, 2, 160, 256, 15},
};
const std::vector<StageConfig> kV2MStages{
    {Fused, 1, 3, 1, 24, 24, 3},  {Fused, 4, 3, 2, 24, 48, 5},  {Fused, 4, 3, 2, 48, 80, 5},
    {MB, 4, 3, 2, 80, 160, 7},    {MB, 6, 3, 1, 160, 176, 14},  {MB, 6, 3, 2, 176, 304, 18},
    {MB, 6, 3, 1, 304, 512, 5},
};
const std::vector<StageConfig> kV2LStages{
    {Fused, 1, 3, 1, 32, 32, 4},  {Fused, 4, 3, 2, 32, 64, 7},  {Fused, 4, 3, 2, 64, 96, 7},
    {MB, 4, 3, 2, 96, 192, 10},   {MB, 6, 3, 1, 192, 224, 19},  {MB, 6, 3, 2, 224, 384, 25},
    {MB, 6, 3, 1, 384, 640, 7},
};
constexpr int kV2HeadChannels = 1280;

Preprocessing eval(int crop, int resize, Interpolation interpolation,
                   const std::array<float, 3>& mean = kImageNetMean, const std::array<float, 3>& std = kImageNetStd)
{
    return {crop, resize, interpolation, mean, std};
}

std::vector<VariantSpec> makeVariants()
{
    using I = Interpolation;
    // name, width, depth, head, stages, dropout, bn eps, bn momentum, stochastic depth, eval transform, params, entries
    return {
        {"efficientnet_b0", 1.0, 1.0, 0, kV1Stages, 0.2, 1e-5, 0.1, kStochasticDepth, eval(224, 256, I::Bicubic), 5288548, 360},
        {"efficientnet_b1", 1.0, 1.1, 0, kV1Stages, 0.2, 1e-5, 0.1, kStochasticDepth, eval(240, 256, I::Bicubic), 7794184, 508},
        {"efficientnet_b2", 1.1, 1.2, 0, kV1Stages, 0.3, 1e-5, 0.1, kStochasticDepth, eval(288, 288, I::Bicubic), 9109994, 508},
        {"efficientnet_b3", 1.2, 1.4, 0, kV1Stages, 0.3, 1e-5, 0.1, kStochasticDepth, eval(300, 320, I::Bicubic), 12233232, 574},
        {"efficientnet_b4", 1.4, 1.8, 0, kV1Stages, 0.4, 1e-5, 0.1, kStochasticDepth, eval(380, 384, I::Bicubic), 19341616, 706},
        {"efficientnet_b5", 1.6, 2.2, 0, kV1Stages, 0.4, 1e-3, 0.01, kStochasticDepth, eval(456, 456, I::Bicubic), 30389784, 854},
        {"efficientnet_b6", 1.8, 2.6, 0, kV1Stages, 0.5, 1e-3, 0.01, kStochasticDepth, eval(528, 528, I::Bicubic), 43040704, 986},
        {"efficientnet_b7", 2.0, 3.1, 0, kV1Stages, 0.5, 1e-3, 0.01, kStochasticDepth, eval(600, 600, I::Bicubic), 66347960, 1200},
        {"efficientnet_v2_s", 1.0, 1.0, kV2HeadChannels, kV2SStages, 0.2, 1e-3, 0.1, kStochasticDepth, eval(384, 384, I::Bilinear), 21458488, 782},
        {"efficientnet_v2_m", 1.0, 1.0, kV2HeadChannels, kV2MStages, 0.3, 1e-3, 0.1, kStochasticDepth, eval(480, 480, I::Bilinear), 54139356, 1120},
        {"efficientnet_v2_l", 1.0, 1.0, kV2HeadChannels, kV2LStages, 0.4, 1e-3, 0.1, kStochasticDepth, eval(480, 480, I::Bicubic, kHalf, kHalf), 118515272, 1548},
    };
}

std::string knownNames()
{
    std::string names;
    for (const auto& v : allVariants())
        names += (names.empty() ? "" : ", ") + v.name;
    return names;
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

} // namespace

const std::vector<VariantSpec>& allVariants()
{
    static const std::vector<VariantSpec> variants = makeVariants();
    return variants;
}

const VariantSpec& variant(const std::string& torchvisionName)
{
    for (const auto& v : allVariants())
        if (v.name == torchvisionName)
            return v;
    throw ConfigError("unknown model '" + torchvisionName + "'; known: " + knownNames());
}

int scaledChannels(int channels, double widthMult)
{
    const double v = channels * widthMult;
    int rounded = std::max(kChannelDivisor, static_cast<int>(v + kChannelDivisor / 2.0) / kChannelDivisor * kChannelDivisor);
    if (rounded < 0.9 * v)   // torchvision _make_divisible: never round down by more than 10%
        rounded += kChannelDivisor;
    return rounded;
}

int scaledRepeats(int repeats, double depthMult) { return static_cast<int>(std::ceil(repeats * depthMult)); }

std::vector<StageConfig> scaledStages(const VariantSpec& spec)
{
    std::vector<StageConfig> stages = spec.stages;
    for (auto& s : stages) {
        s.inChannels = scaledChannels(s.inChannels, spec.widthMult);
        s.outChannels = scaledChannels(s.outChannels, spec.widthMult);
        s.repeats = scaledRepeats(s.repeats, spec.depthMult);
    }
    return stages;
}

int scaledStemChannels(const VariantSpec& spec) { return scaledChannels(spec.stages.front().inChannels, spec.widthMult); }

int scaledHeadChannels(const VariantSpec& spec)
{
    constexpr int kHeadExpansion = 4;   // torchvision: lastconv_output_channels = 4 * lastconv_input_channels
    return spec.headChannels ? spec.headChannels
                             : kHeadExpansion * scaledChannels(spec.stages.back().outChannels, spec.widthMult);
}

ModelName resolveModelName(const std::string& name)
{
    // timm: "architecture.tag" (timm/models/_registry.py split_model_name_tag); the tag is checked against timm's
    // table by the transforms (transforms.h), which know the tags.
    const auto dot = name.find('.');
    const std::string architecture = name.substr(0, dot);
    const std::string tag = dot == std::string::npos ? std::string() : name.substr(dot + 1);
    if (dot != std::string::npos && (tag.empty() || startsWith(architecture, "efficientnet-")))
        throw ConfigError("model '" + name + "': a tag follows a timm name, as in tf_efficientnetv2_s.in21k_ft_in1k");
    // lukemelas: efficientnet-b0 ... efficientnet-b7 (TensorFlow ports).
    if (startsWith(architecture, "efficientnet-b")) {
        const auto& spec = variant("efficientnet_b" + architecture.substr(std::string("efficientnet-b").size()));
        return {&spec, Padding::TfSame, WeightSource::Lukemelas, kTfBnEps, architecture, tag};
    }
    std::string rest = architecture;
    const bool tf = startsWith(rest, "tf_");
    if (tf)
        rest = rest.substr(3);
    // timm spells V2 without the underscore: efficientnetv2_s.
    if (startsWith(rest, "efficientnetv2_"))
        rest = "efficientnet_v2_" + rest.substr(std::string("efficientnetv2_").size());
    for (const auto& v : allVariants()) {
        if (v.name != rest)
            continue;
        const bool timmName = tf || architecture != rest || !tag.empty();
        return {&v, tf ? Padding::TfSame : Padding::Symmetric,
                timmName ? WeightSource::Timm : WeightSource::Torchvision, tf ? kTfBnEps : v.bnEps, architecture, tag};
    }
    throw ConfigError("unknown model '" + name + "'; known: " + knownNames() +
                      " (timm names such as tf_efficientnet_b0 and tf_efficientnetv2_s.in1k, and lukemelas names such "
                      "as efficientnet-b0, are accepted too)");
}

const char* toString(Padding padding) { return padding == Padding::Symmetric ? "symmetric" : "tf-same"; }

const char* toString(WeightSource source)
{
    switch (source) {
    case WeightSource::Torchvision: return "torchvision";
    case WeightSource::Timm: return "timm";
    case WeightSource::Lukemelas: return "lukemelas";
    }
    return "?";
}

const char* toString(Interpolation interpolation)
{
    return interpolation == Interpolation::Bicubic ? "bicubic" : "bilinear";
}

const char* toString(ResizeMode mode) { return mode == ResizeMode::Squash ? "squash" : "shorter side"; }

} // namespace efficientnet
