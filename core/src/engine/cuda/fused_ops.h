#pragma once
// Hand-written CUDA kernels for what LibTorch runs as several passes over an activation tensor.
// Only compiled when LibTorch has CUDA (EFFICIENTNET_WITH_CUDA).
#include <ATen/core/Tensor.h>

namespace efficientnet::cuda {

// In place: y = act(y + bias[c] (+ residual)), act = SiLU or identity. One pass instead of cuDNN's separate bias
// add, the activation and the residual add. y and residual: contiguous NCHW or channels_last, fp32/fp16/bf16.
void biasActivationInPlace(at::Tensor& y, const at::Tensor& bias, bool silu, const at::Tensor* residual);

} // namespace efficientnet::cuda
