#pragma once
// The EfficientNet family as data: one table row per variant (torchvision's naming), and the model names people
// use for them in torchvision, timm and lukemelas. No torch here, so the console tool and the app can list variants
// cheaply.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace efficientnet {

// Padding family. torchvision and timm `efficientnet_*` pad symmetrically; lukemelas and timm `tf_*` ports of
// the TensorFlow weights use TensorFlow "SAME" padding (asymmetric for stride 2) and BatchNorm eps 1e-3.
enum class Padding { Symmetric, TfSame };

// Where a checkpoint's key names come from. They differ only by a key-mapping table (keymap.h).
enum class WeightSource { Torchvision, Timm, Lukemelas };

enum class Interpolation { Bilinear, Bicubic };

// How the image is resized before the centre crop: the shorter side to resizeSize, keeping the aspect ratio
// (torchvision Resize(int), timm crop_mode "center"), or both sides to resizeSize (timm crop_mode "squash").
enum class ResizeMode { ShorterSide, Squash };

enum class BlockKind { MBConv, FusedMBConv };

// One row of the paper's stage table (torchvision `_MBConvConfig` before scaling).
struct StageConfig {
    BlockKind kind;
    int expandRatio;
    int kernel;
    int stride;
    int inChannels;
    int outChannels;
    int repeats;
};

// An eval transform: resize (antialiased, as PIL), centre crop, scale to [0, 1], normalise. The variant table holds
// torchvision's; other sources' are in transforms.h.
struct Preprocessing {
    int cropSize;
    int resizeSize;
    Interpolation interpolation;
    std::array<float, 3> mean;
    std::array<float, 3> std;
    ResizeMode resizeMode = ResizeMode::ShorterSide;
};

struct VariantSpec {
    std::string name;            // torchvision name, e.g. "efficientnet_b0"
    double widthMult;            // 1.0 for V2 (its table is already at scale)
    double depthMult;
    int headChannels;            // 0: four times the last stage's output channels (B0-B7)
    std::vector<StageConfig> stages;
    double dropout;
    double bnEps;
    double bnMomentum;
    double stochasticDepthProb;
    Preprocessing preprocessing;
    std::int64_t numParams;      // torchvision's, 1000 classes (REFERENCE.md)
    int stateDictEntries;
};

const std::vector<VariantSpec>& allVariants();
const VariantSpec& variant(const std::string& torchvisionName);   // throws ConfigError listing the known names

// torchvision's _make_divisible(v * width, 8): channels rounded to a multiple of 8, never more than 10% down.
int scaledChannels(int channels, double widthMult);
// ceil(repeats * depth)
int scaledRepeats(int repeats, double depthMult);
std::vector<StageConfig> scaledStages(const VariantSpec& spec);
int scaledStemChannels(const VariantSpec& spec);   // the first stage's input channels
int scaledHeadChannels(const VariantSpec& spec);

// A model name as a user types it, resolved: torchvision (`efficientnet_b0`, `efficientnet_v2_s`), timm
// (`efficientnet_b0`, `tf_efficientnet_b0`, `efficientnetv2_s`, `tf_efficientnetv2_s`, any of them with a
// pretrained tag: `tf_efficientnetv2_s.in21k_ft_in1k`) or lukemelas (`efficientnet-b0`). `tf_` and lukemelas names
// mean TensorFlow SAME padding and BN eps 1e-3.
struct ModelName {
    const VariantSpec* spec;
    Padding padding;
    WeightSource namingHint;     // the source the name suggests, used when a checkpoint's keys do not tell
    double bnEps;                // spec->bnEps, or 1e-3 for TF-ported weights
    std::string architecture;    // the name without its tag, as typed ("tf_efficientnetv2_s", "efficientnet-b2")
    std::string tag;             // a timm pretrained tag ("in21k_ft_in1k"); empty when none was given
    std::string display() const { return tag.empty() ? architecture : architecture + "." + tag; }
};
ModelName resolveModelName(const std::string& name);   // throws ConfigError listing accepted names

const char* toString(Padding padding);
const char* toString(WeightSource source);
const char* toString(Interpolation interpolation);
const char* toString(ResizeMode mode);

} // namespace efficientnet
