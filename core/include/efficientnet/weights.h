#pragma once
// Loading checkpoints into a model: key mapping from the checkpoint's source, then a strict load in which missing,
// unexpected or mis-shaped keys are an error naming them.
#include <optional>
#include <string>

#include "efficientnet/checkpoint.h"
#include "efficientnet/model.h"

namespace efficientnet {

struct LoadedWeights {
    WeightSource source;
    size_t tensors;
};

// Renames a checkpoint's tensors to torchvision's keys. `source` nullopt: detect it from the keys.
// Throws CheckpointError (naming `path`) when the source cannot be told or a key has no place in the variant.
NamedTensors toTorchvisionKeys(const NamedTensors& tensors, const VariantSpec& spec,
                               std::optional<WeightSource> source, const std::string& path,
                               WeightSource* detected = nullptr);

// Copies torchvision-keyed tensors into the model, strictly (num_batches_tracked may be absent, as PyTorch's
// BatchNorm allows for old checkpoints). Tensors are converted to the parameter's dtype and device.
void loadStateDict(EfficientNet& model, const NamedTensors& tensors, const std::string& path);

// readCheckpoint + toTorchvisionKeys + loadStateDict.
LoadedWeights loadWeights(EfficientNet& model, const std::string& path, std::optional<WeightSource> source = {});

// The model's tensors under torchvision's keys, as they would be saved.
NamedTensors stateDict(const EfficientNet& model);

} // namespace efficientnet
