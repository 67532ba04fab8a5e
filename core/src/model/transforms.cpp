#include "efficientnet/transforms.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/untrusted.h"
#include "efficientnet/errors.h"

namespace efficientnet {
namespace {

constexpr std::array<float, 3> kImageNetMean{0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd{0.229f, 0.224f, 0.225f};
constexpr int kMaxImageSide = 8192;   // a resize or crop larger than this is a typo, not a model's input

// lukemelas efficientnet_pytorch/utils.py efficientnet_params(): (width, depth, resolution, dropout) per b0-b7.
constexpr std::array<int, 8> kLukemelasImageSizes{224, 240, 260, 300, 380, 456, 528, 600};

const std::vector<TimmTag> kTimmTags{
#include "model/timm_tags.inc"
};

std::string triple(const std::array<float, 3>& v)
{
    char text[64];
    std::snprintf(text, sizeof text, "%g,%g,%g", v[0], v[1], v[2]);
    return text;
}

int lukemelasImageSize(const VariantSpec& spec)
{
    for (size_t i = 0; i < kLukemelasImageSizes.size(); ++i)
        if (spec.name == "efficientnet_b" + std::to_string(i))
            return kLukemelasImageSizes[i];
    throw ConfigError("lukemelas/EfficientNet-PyTorch has no " + spec.name + "; choose a B0-B7 model");
}

} // namespace

const std::vector<TimmTag>& timmTags() { return kTimmTags; }

std::string timmArchitecture(const ModelName& name)
{
    for (const auto& tag : kTimmTags)
        if (name.architecture == tag.architecture)
            return name.architecture;
    const std::string& v = name.spec->name;   // efficientnet_b3, efficientnet_v2_s
    const std::string timm = v.rfind("efficientnet_v2_", 0) == 0 ? "efficientnetv2_" + v.substr(16) : v;
    return (name.padding == Padding::TfSame ? "tf_" : "") + timm;
}

const TimmTag& findTimmTag(const std::string& architecture, const std::string& tag)
{
    std::string known;
    for (const auto& t : kTimmTags) {
        if (architecture != t.architecture)
            continue;
        if (tag.empty() ? t.isDefault : tag == t.tag)
            return t;
        known += std::string(known.empty() ? "" : ", ") + t.tag;
    }
    if (known.empty())
        throw ConfigError("timm has no architecture '" + printable(architecture) + "' among the ones this program "
                          "builds (efficientnet_b0-b7, tf_efficientnet_b0-b7, efficientnetv2_s/m/l, "
                          "tf_efficientnetv2_s/m/l)");
    throw ConfigError("timm has no tag '" + printable(tag) + "' for " + architecture + "; its tags: " + known);
}

Preprocessing timmPreprocessing(int inputSize, double cropPct, ResizeMode mode, Interpolation interpolation,
                                const std::array<float, 3>& mean, const std::array<float, 3>& std)
{
    // transforms_imagenet_eval: scale_size = math.floor(img_size / crop_pct)
    const int resize = static_cast<int>(std::floor(inputSize / cropPct));
    return {inputSize, resize, interpolation, mean, std, mode};
}

Transform timmTransform(const TimmTag& tag)
{
    // resolve_data_config(use_test_size=True): test_input_size and test_crop_pct where the tag has them.
    const bool test = tag.testInputSize > 0;
    const int size = test ? tag.testInputSize : tag.inputSize;
    const double cropPct = tag.testCropPct > 0 ? tag.testCropPct : tag.cropPct;
    Transform t{timmPreprocessing(size, cropPct, tag.cropMode, tag.interpolation, tag.mean, tag.std), {}};
    char pct[32];
    std::snprintf(pct, sizeof pct, "%g", cropPct);
    t.origin = std::string("timm ") + tag.architecture + "." + tag.tag + " pretrained_cfg" +
               (test ? " at its test size " + std::to_string(size) : std::string()) + " (crop_pct " + pct +
               (tag.cropMode == ResizeMode::Squash ? ", squash" : "") + ")";
    return t;
}

Transform lukemelasTransform(const VariantSpec& spec)
{
    const int size = lukemelasImageSize(spec);
    return {{size, size, Interpolation::Bicubic, kImageNetMean, kImageNetStd, ResizeMode::ShorterSide},
            "lukemelas EfficientNet-PyTorch eval transform (examples/imagenet/main.py, image size " +
                std::to_string(size) + ")"};
}

Transform torchvisionTransform(const VariantSpec& spec)
{
    return {spec.preprocessing, "torchvision " + spec.name + " weights transform"};
}

Transform defaultTransform(const ModelName& name, WeightSource source)
{
    if (!name.tag.empty())
        return timmTransform(findTimmTag(timmArchitecture(name), name.tag));
    switch (source) {
    case WeightSource::Timm: return timmTransform(findTimmTag(timmArchitecture(name)));
    case WeightSource::Lukemelas: return lukemelasTransform(*name.spec);
    case WeightSource::Torchvision: break;
    }
    return torchvisionTransform(*name.spec);
}

Transform applyOverrides(Transform transform, const TransformOverrides& o)
{
    if (!o.any())
        return transform;
    Preprocessing& p = transform.preprocessing;
    p.resizeSize = o.resize.value_or(p.resizeSize);
    p.cropSize = o.crop.value_or(p.cropSize);
    p.interpolation = o.interpolation.value_or(p.interpolation);
    p.mean = o.mean.value_or(p.mean);
    p.std = o.std.value_or(p.std);
    p.resizeMode = o.resizeMode.value_or(p.resizeMode);
    if (p.cropSize < 1 || p.cropSize > kMaxImageSide || p.resizeSize < p.cropSize || p.resizeSize > kMaxImageSide)
        throw ConfigError("the transform needs 1 <= crop <= resize <= " + std::to_string(kMaxImageSide) + " (crop " +
                          std::to_string(p.cropSize) + ", resize " + std::to_string(p.resizeSize) + ")");
    for (float s : p.std)
        if (!(s > 0.0f))
            throw ConfigError("the transform's std must be positive, not " + triple(p.std));
    transform.origin += ", changed by hand";
    return transform;
}

std::string describe(const Preprocessing& p)
{
    const std::string resize = p.resizeMode == ResizeMode::Squash
                                   ? "resize to " + std::to_string(p.resizeSize) + "x" + std::to_string(p.resizeSize)
                                   : "resize shorter side to " + std::to_string(p.resizeSize);
    return resize + " (" + toString(p.interpolation) + "), centre crop " + std::to_string(p.cropSize) + ", mean " +
           triple(p.mean) + ", std " + triple(p.std);
}

std::string preprocessingToJson(const Preprocessing& p)
{
    return nlohmann::json{{"resize", p.resizeSize}, {"crop", p.cropSize},
                          {"interpolation", toString(p.interpolation)},
                          {"resize_mode", p.resizeMode == ResizeMode::Squash ? "squash" : "shorter"},
                          {"mean", p.mean}, {"std", p.std}}
        .dump();
}

std::optional<Preprocessing> preprocessingFromJson(const std::string& text, std::string& problem)
{
    const auto doc = parseUntrustedJson(text, problem);
    if (!doc)
        return std::nullopt;
    const char* expected = "is not a transform: expected {\"resize\", \"crop\", \"interpolation\": bicubic|bilinear, "
                           "\"resize_mode\": shorter|squash, \"mean\": [3 numbers], \"std\": [3 positive numbers]}";
    if (!doc->is_object()) {
        problem = expected;
        return std::nullopt;
    }
    const auto size = [&](const char* key) -> std::optional<int> {
        const auto it = doc->find(key);
        if (it == doc->end() || !it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > kMaxImageSide)
            return std::nullopt;
        return static_cast<int>(it->get<int64_t>());
    };
    const auto triple = [&](const char* key) -> std::optional<std::array<float, 3>> {
        const auto it = doc->find(key);
        if (it == doc->end() || !it->is_array() || it->size() != 3)
            return std::nullopt;
        std::array<float, 3> v{};
        for (size_t i = 0; i < 3; ++i) {
            if (!(*it)[i].is_number())
                return std::nullopt;
            v[i] = (*it)[i].get<float>();
        }
        return v;
    };
    const auto word = [&](const char* key) -> std::string {
        const auto it = doc->find(key);
        return it != doc->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const auto resize = size("resize"), crop = size("crop");
    const auto mean = triple("mean"), std = triple("std");
    const std::string interpolation = word("interpolation"), mode = word("resize_mode");
    if (!resize || !crop || !mean || !std || (interpolation != "bicubic" && interpolation != "bilinear") ||
        (mode != "shorter" && mode != "squash") || *crop > *resize || !((*std)[0] > 0 && (*std)[1] > 0 && (*std)[2] > 0)) {
        problem = expected;
        return std::nullopt;
    }
    return Preprocessing{*crop, *resize,
                         interpolation == "bicubic" ? Interpolation::Bicubic : Interpolation::Bilinear, *mean, *std,
                         mode == "squash" ? ResizeMode::Squash : ResizeMode::ShorterSide};
}

} // namespace efficientnet
