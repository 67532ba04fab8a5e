#pragma once
#include <torch/types.h>

namespace efficientnet::activation {

// Swish / SiLU, x * sigmoid(x). When a gradient is needed it runs as a memory-efficient autograd function that saves
// only its input and recomputes the sigmoid in backward (as timm's SwishAutoFn does), so training keeps one tensor
// per activation instead of two. Without autograd it is torch::silu.
torch::Tensor swish(const torch::Tensor& x);

// While alive, swish() with autograd on this thread is the plain composition x * torch::sigmoid(x), whose autograd
// keeps both x and sigmoid(x): only for measuring what the memory-efficient form saves (efficientnet-bench
// --train-step --plain-swish, BENCHMARKS.md).
class PlainSwishScope {
public:
    PlainSwishScope();
    ~PlainSwishScope();
    PlainSwishScope(const PlainSwishScope&) = delete;
    PlainSwishScope& operator=(const PlainSwishScope&) = delete;

private:
    bool m_previous;
};

} // namespace efficientnet::activation
