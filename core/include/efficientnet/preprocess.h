#pragma once
// The reference eval transform (torchvision weights' transforms()): resize the shorter side with the variant's
// interpolation, antialiased as PIL does; center crop; scale to [0,1]; normalise.
#include <torch/types.h>

#include "efficientnet/imaging.h"
#include "efficientnet/variants.h"

namespace efficientnet {

// Returns a float32 [3, crop, crop] CPU tensor.
torch::Tensor preprocess(const Image& image, const Preprocessing& preprocessing);

} // namespace efficientnet
