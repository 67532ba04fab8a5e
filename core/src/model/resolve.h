#pragma once
// The torch side of checkpoint_info.h: the tensors read once, mapped to torchvision's keys, with what they mean.
#include <cstdint>

#include "efficientnet/checkpoint.h"
#include "efficientnet/checkpoint_info.h"

namespace efficientnet {

struct ResolvedCheckpoint {
    CheckpointInfo info;
    NamedTensors tensors;   // under torchvision's keys, ready for loadStateDict into info.name with info.numClasses
};

// What torch's `sum(p.numel() for p in model.parameters())` counts for a model holding these tensors: every element
// except BatchNorm's buffers (running_mean, running_var, num_batches_tracked), which every source names alike. They
// are state a checkpoint carries, not parameters.
std::int64_t parameterCount(const NamedTensors& tensors);

// With request.weights empty: random weights of request.model (default efficientnet_b0), nothing read.
ResolvedCheckpoint resolveCheckpoint(const ModelRequest& request);

} // namespace efficientnet
