#pragma once
// Checkpoint key names of timm and lukemelas, mapped to torchvision's (the names this library's modules use).
// The sources hold the same tensors under other names; the mapping is a table per block kind (keymap.cpp).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "efficientnet/variants.h"

namespace efficientnet {

// Tells the source from the keys (features.* torchvision, conv_stem/blocks.* timm, _conv_stem/_blocks.* lukemelas).
// Returns nothing when the keys fit none of them. A DataParallel "module." prefix is ignored.
std::optional<WeightSource> detectWeightSource(const std::vector<std::string>& keys);

// source key prefix (the part before .weight/.bias/.running_mean/...) -> torchvision prefix, for one variant.
std::map<std::string, std::string> keyPrefixMap(const VariantSpec& spec, WeightSource source);

// Maps one source key to its torchvision key; returns nothing for a key the variant has no place for.
std::optional<std::string> toTorchvisionKey(const std::string& key, const std::map<std::string, std::string>& prefixes);

} // namespace efficientnet
