#pragma once
// Converting a checkpoint once into torchvision-keyed safetensors (torch-free header for the console tool).
#include <optional>
#include <string>

#include "efficientnet/variants.h"

namespace efficientnet {

struct ConversionResult {
    std::string variant;      // torchvision name of the variant the weights fit
    WeightSource source;      // whose keys the input had
    size_t tensors;
};

// Reads `from` (any supported format and source), maps it to torchvision keys, checks it loads strictly into the
// variant (given by `modelName`, or else the one variant whose keys and shapes fit), and writes `to` as
// safetensors with metadata {format, source, variant}. Throws CheckpointError / ConfigError.
ConversionResult convertCheckpoint(const std::string& from, const std::string& to,
                                   const std::optional<std::string>& modelName, std::optional<WeightSource> source);

} // namespace efficientnet
