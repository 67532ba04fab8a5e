#pragma once
// Converting a checkpoint once into torchvision-keyed safetensors (torch-free header for the console tool).
#include <optional>
#include <string>

#include "efficientnet/checkpoint_info.h"
#include "efficientnet/variants.h"

namespace efficientnet {

struct ConversionResult {
    CheckpointInfo info;      // what was read: network, source, classes, labels, transform
    size_t tensors;
};

// Reads request.weights (any supported format, source or folder), works out what it is (checkpoint_info.h: the
// network from request.model, the file or its shapes; labels; transform), checks that it loads strictly into that
// network, and writes `to` as torchvision-keyed safetensors whose metadata says all of it (describingMetadata), so
// that the file alone classifies as the original did. Throws CheckpointError / ConfigError.
ConversionResult convertCheckpoint(const ModelRequest& request, const std::string& to);

} // namespace efficientnet
