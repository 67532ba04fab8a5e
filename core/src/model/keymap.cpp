#include "efficientnet/keymap.h"

#include <utility>

namespace efficientnet {
namespace {

// The layers of one block under each source's names, in torchvision's order. torchvision keys are relative to
// features.S.B; timm's to blocks.(S-1).B; lukemelas's to _blocks.N (numbered flat over all stages).
struct LayerNames {
    const char* torchvision;
    const char* timm;
    const char* lukemelas;
};
using BlockTable = std::vector<LayerNames>;

// MBConv with an expansion conv: timm InvertedResidual, lukemelas MBConvBlock.
const BlockTable kMBConvExpand{
    {"block.0.0", "conv_pw", "_expand_conv"},     {"block.0.1", "bn1", "_bn0"},
    {"block.1.0", "conv_dw", "_depthwise_conv"},  {"block.1.1", "bn2", "_bn1"},
    {"block.2.fc1", "se.conv_reduce", "_se_reduce"}, {"block.2.fc2", "se.conv_expand", "_se_expand"},
    {"block.3.0", "conv_pwl", "_project_conv"},   {"block.3.1", "bn3", "_bn2"},
};
// MBConv without expansion (B0-B7 stage 1): timm DepthwiseSeparableConv.
const BlockTable kMBConvNoExpand{
    {"block.0.0", "conv_dw", "_depthwise_conv"},  {"block.0.1", "bn1", "_bn1"},
    {"block.1.fc1", "se.conv_reduce", "_se_reduce"}, {"block.1.fc2", "se.conv_expand", "_se_expand"},
    {"block.2.0", "conv_pw", "_project_conv"},    {"block.2.1", "bn2", "_bn2"},
};
// FusedMBConv (V2; lukemelas has no V2): timm EdgeResidual, and ConvBnAct when it does not expand.
const BlockTable kFusedExpand{
    {"block.0.0", "conv_exp", nullptr}, {"block.0.1", "bn1", nullptr},
    {"block.1.0", "conv_pwl", nullptr}, {"block.1.1", "bn2", nullptr},
};
const BlockTable kFusedNoExpand{
    {"block.0.0", "conv", nullptr}, {"block.0.1", "bn1", nullptr},
};

struct StemHeadNames {
    const char* stemConv;
    const char* stemBn;
    const char* headConv;
    const char* headBn;
    const char* classifier;
};
constexpr StemHeadNames kTimmStemHead{"conv_stem", "bn1", "conv_head", "bn2", "classifier"};
constexpr StemHeadNames kLukemelasStemHead{"_conv_stem", "_bn0", "_conv_head", "_bn1", "_fc"};

const BlockTable& blockTable(const StageConfig& stage, int inChannels)
{
    const bool expands = scaledChannels(inChannels * stage.expandRatio, 1.0) != inChannels;
    if (stage.kind == BlockKind::MBConv)
        return expands ? kMBConvExpand : kMBConvNoExpand;
    return expands ? kFusedExpand : kFusedNoExpand;
}

constexpr const char* kDataParallelPrefix = "module.";

std::string withoutDataParallel(const std::string& key)
{
    return key.rfind(kDataParallelPrefix, 0) == 0 ? key.substr(std::string(kDataParallelPrefix).size()) : key;
}

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

} // namespace

std::optional<WeightSource> detectWeightSource(const std::vector<std::string>& keys)
{
    for (const auto& raw : keys) {
        const auto key = withoutDataParallel(raw);
        if (startsWith(key, "features."))
            return WeightSource::Torchvision;
        if (startsWith(key, "_blocks.") || startsWith(key, "_conv_stem."))
            return WeightSource::Lukemelas;
        if (startsWith(key, "blocks.") || startsWith(key, "conv_stem."))
            return WeightSource::Timm;
    }
    return std::nullopt;
}

std::map<std::string, std::string> keyPrefixMap(const VariantSpec& spec, WeightSource source)
{
    std::map<std::string, std::string> map;
    const auto stages = scaledStages(spec);
    const int headIndex = static_cast<int>(stages.size()) + 1;
    if (source == WeightSource::Torchvision)
        return map;   // identity: toTorchvisionKey passes torchvision keys through
    const auto& names = source == WeightSource::Timm ? kTimmStemHead : kLukemelasStemHead;
    map[names.stemConv] = "features.0.0";
    map[names.stemBn] = "features.0.1";
    map[names.headConv] = "features." + std::to_string(headIndex) + ".0";
    map[names.headBn] = "features." + std::to_string(headIndex) + ".1";
    map[names.classifier] = "classifier.1";

    int flatIndex = 0;
    for (size_t s = 0; s < stages.size(); ++s) {
        for (int b = 0; b < stages[s].repeats; ++b, ++flatIndex) {
            const int in = b == 0 ? stages[s].inChannels : stages[s].outChannels;
            const std::string tvBlock = "features." + std::to_string(s + 1) + "." + std::to_string(b) + ".";
            const std::string srcBlock = source == WeightSource::Timm
                                             ? "blocks." + std::to_string(s) + "." + std::to_string(b) + "."
                                             : "_blocks." + std::to_string(flatIndex) + ".";
            for (const auto& layer : blockTable(stages[s], in)) {
                const char* srcName = source == WeightSource::Timm ? layer.timm : layer.lukemelas;
                if (srcName)
                    map[srcBlock + srcName] = tvBlock + layer.torchvision;
            }
        }
    }
    return map;
}

std::optional<std::string> toTorchvisionKey(const std::string& rawKey,
                                            const std::map<std::string, std::string>& prefixes)
{
    const auto key = withoutDataParallel(rawKey);
    if (prefixes.empty())
        return key;
    const auto dot = key.rfind('.');
    if (dot == std::string::npos)
        return std::nullopt;
    const auto it = prefixes.find(key.substr(0, dot));
    if (it == prefixes.end())
        return std::nullopt;
    return it->second + key.substr(dot);
}

} // namespace efficientnet
