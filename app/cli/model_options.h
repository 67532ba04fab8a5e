#pragma once
// The options that say which model, weights, labels and transform to use, shared by classify, convert and inspect:
// --model --weights --source --labels --resize --crop --interpolation --mean --std --resize-mode.
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "arguments.h"
#include "efficientnet/checkpoint_info.h"

namespace efficientnet::cli {

// The value options above, for an Arguments' list.
std::set<std::string> modelOptionNames();

// The request they make; imagenetLabels filled from the resources folder.
ModelRequest modelRequest(const Arguments& args);

// "efficientnet_b0 (torchvision keys, its tensors' shapes), 1000 classes (ImageNet-1k); transform: resize ... (origin)"
std::string describeModel(const CheckpointInfo& info);

// The same as JSON, for --json outputs: {"architecture", "variant", "padding", "keys", "trained_by", "classes",
// "labels": {"origin", "first"}, "transform": {..., "origin"}}.
nlohmann::json modelJson(const CheckpointInfo& info);

// ImageNet's 1000 class names from the resources folder (a warning and none when they cannot be read).
std::vector<std::string> imagenetLabels();

} // namespace efficientnet::cli
