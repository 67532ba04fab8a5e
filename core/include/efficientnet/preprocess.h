#pragma once
// The reference eval transform (torchvision weights' transforms()): resize the shorter side with the variant's
// interpolation, antialiased as PIL does; center crop; scale to [0,1]; normalise.
#include <torch/types.h>

#include "efficientnet/imaging.h"
#include "efficientnet/variants.h"

namespace efficientnet {

// Returns a float32 [3, crop, crop] CPU tensor.
torch::Tensor preprocess(const Image& image, const Preprocessing& preprocessing);

// The same for a batch of equally sized uint8 NHWC RGB frames on any device (the GPU input path): float32
// [N, 3, crop, crop] on the frames' device, equal to preprocess() of each frame to the last bit (on CUDA, kernels
// that run Pillow's fixed-point arithmetic, engine/cuda/frame_preprocess.cu).
torch::Tensor preprocessBatch(const torch::Tensor& frames, const Preprocessing& preprocessing);

} // namespace efficientnet
