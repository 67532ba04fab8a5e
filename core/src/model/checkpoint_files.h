#pragma once
// Shared by checkpoint_info.cpp (torch-free: files beside the tensors) and resolve.cpp (the tensors): the metadata
// keys this program writes, a Hugging Face folder's config.json as read, and the rule that picks the labels.
#include <optional>
#include <string>
#include <vector>

#include "efficientnet/checkpoint_info.h"

namespace efficientnet {

// safetensors __metadata__ keys (describingMetadata); "source" and "variant" are what convert wrote before them.
inline constexpr char kArchitectureKey[] = "architecture";
inline constexpr char kVariantKey[] = "variant";
inline constexpr char kSourceKey[] = "source";
inline constexpr char kPaddingKey[] = "padding";
inline constexpr char kClassesKey[] = "num_classes";
inline constexpr char kPreprocessingKey[] = "preprocessing";
inline constexpr char kLabelsKey[] = "labels";

// A timm model folder's config.json (timm/models/_hub.py push_to_hf_hub), checked field by field.
struct HubConfig {
    std::string path;
    std::optional<std::string> architecture;
    std::optional<int> numClasses;
    std::optional<Transform> transform;   // from pretrained_cfg, at its test size
    std::optional<std::vector<std::string>> labelNames;
};
// Throws CheckpointError naming the file for anything malformed or out of bounds.
HubConfig readHubConfig(const std::string& path);

// The tensors' file and the config.json read with it (empty: none).
struct Located {
    std::string weights;
    std::string config;
};
// A folder: its model.safetensors (else pytorch_model.bin) and config.json; a file named like a hub folder's weights:
// the config.json beside it, when there is one. Throws CheckpointError for a folder without weights.
Located locate(const std::string& path);

// First found wins: --labels, the file's metadata, config.json, a sidecar WEIGHTS.labels.txt, ImageNet's for 1000
// classes, else "class N". A count that does not match the head is an error naming both numbers. Reads
// info.metadata, info.weightsPath and info.numClasses.
LabelSet chooseLabels(const ModelRequest& request, const CheckpointInfo& info, const std::optional<HubConfig>& config);

} // namespace efficientnet
