#pragma once
// Preprocessing belongs to the checkpoint's source (REFERENCE.md): a checkpoint was trained, or ported, for one eval
// transform, and another one costs accuracy. This is the table of them, as data: torchvision's per variant (in the
// variant table), lukemelas's per image size, timm's per pretrained tag (generated from timm's own source), and the
// rules that pick one for a model name and a checkpoint. Torch-free.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "efficientnet/variants.h"

namespace efficientnet {

// One timm pretrained tag (timm/models/efficientnet.py default_cfgs: `_cfg(...)` of "architecture.tag").
struct TimmTag {
    const char* architecture;    // "tf_efficientnetv2_s"
    const char* tag;             // "in21k_ft_in1k"
    bool isDefault;              // what timm loads for the bare architecture name
    bool pretrained;             // timm publishes weights for it ("untrained" tags have none)
    int numClasses;
    int inputSize;
    int testInputSize;           // 0: none
    double cropPct;
    double testCropPct;          // 0: none
    ResizeMode cropMode;
    Interpolation interpolation;
    std::array<float, 3> mean;
    std::array<float, 3> std;
};

const std::vector<TimmTag>& timmTags();

// The timm architecture name for a model: the name itself when it is one, else the one with the same variant and
// padding (efficientnet_v2_s with SAME padding -> tf_efficientnetv2_s; efficientnet-b2 -> tf_efficientnet_b2).
std::string timmArchitecture(const ModelName& name);

// A tag of a timm architecture: `tag`, or timm's default for it when `tag` is empty. Throws ConfigError listing the
// architecture's tags when there is no such tag.
const TimmTag& findTimmTag(const std::string& architecture, const std::string& tag = {});

// An eval transform and a sentence saying where it comes from ("timm tf_efficientnetv2_s.in1k pretrained_cfg at its
// test size 384: ...").
struct Transform {
    Preprocessing preprocessing;
    std::string origin;
};

// timm's eval transform for a tag (timm.data.resolve_data_config + transforms_imagenet_eval): at the test input size
// and test crop_pct where the tag has them, as timm's validate.py does by default; resize to floor(size / crop_pct).
Transform timmTransform(const TimmTag& tag);
// The same computed from a pretrained_cfg's values (a Hugging Face config.json).
Preprocessing timmPreprocessing(int inputSize, double cropPct, ResizeMode mode, Interpolation interpolation,
                                const std::array<float, 3>& mean, const std::array<float, 3>& std);
// lukemelas/EfficientNet-PyTorch examples/imagenet/main.py: Resize(image_size, bicubic) + CenterCrop(image_size),
// ImageNet mean and std; image_size from efficientnet_pytorch/utils.py efficientnet_params.
Transform lukemelasTransform(const VariantSpec& spec);
// torchvision's weights transform for the variant (the variant table).
Transform torchvisionTransform(const VariantSpec& spec);

// The transform a model means when nothing else says: the timm tag named, else the checkpoint source's own
// (torchvision's, timm's default tag for the architecture, lukemelas's).
Transform defaultTransform(const ModelName& name, WeightSource source);

// What the user sets by hand (--resize, --crop, --interpolation, --mean, --std, --squash); each field replaces the
// transform's own.
struct TransformOverrides {
    std::optional<int> resize;
    std::optional<int> crop;
    std::optional<Interpolation> interpolation;
    std::optional<std::array<float, 3>> mean;
    std::optional<std::array<float, 3>> std;
    std::optional<ResizeMode> resizeMode;
    bool any() const { return resize || crop || interpolation || mean || std || resizeMode; }
};
// Throws ConfigError for sizes or stds that cannot work.
Transform applyOverrides(Transform transform, const TransformOverrides& overrides);

// "resize shorter side to 256 (bicubic), centre crop 224, mean 0.485,0.456,0.406, std 0.229,0.224,0.225"
std::string describe(const Preprocessing& p);

// The transform as JSON text, as convert stores it in safetensors metadata ("preprocessing"), and back. Parsing
// returns nullopt with `problem` set for anything malformed (the text comes from a file).
std::string preprocessingToJson(const Preprocessing& p);
std::optional<Preprocessing> preprocessingFromJson(const std::string& text, std::string& problem);

} // namespace efficientnet
