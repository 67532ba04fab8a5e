#pragma once
// The torch side of checkpoint_info.h: the tensors read once, mapped to torchvision's keys, with what they mean.
#include "efficientnet/checkpoint.h"
#include "efficientnet/checkpoint_info.h"

namespace efficientnet {

struct ResolvedCheckpoint {
    CheckpointInfo info;
    NamedTensors tensors;   // under torchvision's keys, ready for loadStateDict into info.name with info.numClasses
};

// With request.weights empty: random weights of request.model (default efficientnet_b0), nothing read.
ResolvedCheckpoint resolveCheckpoint(const ModelRequest& request);

} // namespace efficientnet
