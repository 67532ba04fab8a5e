#pragma once
#include <torch/types.h>

namespace efficientnet::activation {

// Swish / SiLU, x * sigmoid(x). When a gradient is needed it runs as a memory-efficient autograd function that saves
// only its input and recomputes the sigmoid in backward (as timm's SwishAutoFn does), so training keeps one tensor
// per activation instead of two. Without autograd it is torch::silu.
torch::Tensor swish(const torch::Tensor& x);

} // namespace efficientnet::activation
