#pragma once
// An MBConv block's 1x1 projection with its folded BatchNorm bias and the residual add done by the GEMM itself.
// Only compiled when LibTorch has CUDA (EFFICIENTNET_WITH_CUDA).
#include <optional>

#include <ATen/core/Tensor.h>

namespace efficientnet::cuda {

// y = conv1x1(x, weight) + bias (+ residual) as one cuBLASLt matmul, D = W·X + bias + C with C the residual: the
// output is written once, finished, instead of written by the GEMM and then read and written again by
// biasActivationInPlace (with the residual read there). cuBLASLt's epilogues have a bias but no SiLU, so this is for
// the projection, which has no activation.
// x: [N, in, H, W] channels_last, CUDA fp32/fp16/bf16. weight: [out, in], shared by all samples, or [N, out, in],
// one per sample (gatedPointwiseWeights: one strided batched GEMM); x's type. bias: [out], x's type. residual:
// [N, out, H, W] channels_last, or undefined. fp32 accumulates in fp32 (no TF32), as at::mm does by default.
// Returns y, channels_last; nullopt where cuBLASLt offers no algorithm for the shapes (the caller then runs its own
// GEMM and epilogue).
std::optional<at::Tensor> pointwiseProjection(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                              const at::Tensor& residual);

} // namespace efficientnet::cuda
