#pragma once
// Hand-written CUDA kernels for what LibTorch runs as several passes over an activation tensor.
// Only compiled when LibTorch has CUDA (EFFICIENTNET_WITH_CUDA).
#include <array>
#include <optional>

#include <ATen/core/Tensor.h>

namespace efficientnet::cuda {

// In place: y = act(y + bias[c] (+ residual)), act = SiLU or identity. One pass instead of cuDNN's separate bias
// add, the activation and the residual add. y and residual: contiguous NCHW or channels_last, fp32/fp16/bf16.
void biasActivationInPlace(at::Tensor& y, const at::Tensor& bias, bool silu, const at::Tensor* residual);

// In place: the squeeze-and-excitation gate of torchvision's SqueezeExcitation, x *= sigmoid(W2 silu(W1 mean(x) + b1)
// + b2) per sample and channel, in three kernels instead of seven: the per-channel means (ATen's reduction, in fp32),
// both small matrix products with their activations in one kernel per sample (weights in fp32: w1 [squeezed, C],
// w2t = W2 transposed [squeezed, C]), and the gate applied in one vectorised pass. x: 4-D CUDA, contiguous NCHW or
// channels_last, fp32/fp16/bf16. Returns false (x untouched) for a layout it does not take.
bool squeezeExcitationInPlace(at::Tensor& x, const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2t,
                              const at::Tensor& b2);

// An MBConv block's depthwise convolution with its folded BatchNorm bias and SiLU, y = silu(depthwise(x) + bias),
// and the squeeze of the squeeze-and-excitation that follows it, in one kernel: y is written once and never read
// back for its means. partialSums [N, tiles, C] fp32 add up, over tiles, to the per-channel sums of y (as stored).
struct DepthwiseSqueeze {
    at::Tensor y;             // channels_last, x's type
    at::Tensor partialSums;   // undefined unless asked for
};
// x: channels_last CUDA fp32/fp16/bf16; weight [kernel * kernel, C] in x's type (tap-major, so a tap's channels are
// contiguous); bias [C] fp32; padding {top, bottom, left, right} (TensorFlow SAME is asymmetric). Kernels 3 and 5,
// strides 1 and 2: nullopt for anything else (the caller runs the unfused form).
// inputBias [C] in x's type, when given: x is an expansion conv's output before its bias and SiLU, and the kernel
// convolves silu(x + inputBias) (the padding stays zero), so that the expansion needs no epilogue pass of its own.
std::optional<DepthwiseSqueeze> depthwiseSiluSqueeze(const at::Tensor& x, const at::Tensor& weight,
                                                     const at::Tensor& bias, int64_t kernel, int64_t stride,
                                                     const std::array<int64_t, 4>& padding, bool squeeze,
                                                     const at::Tensor& inputBias = {});

// squeezeExcitationInPlace with the squeeze already done: partialSums from depthwiseSiluSqueeze on x. The excitation
// is spread over many blocks (the hidden units in one kernel, then each block of a second computes the gate of its
// channels and applies it), for small batches where one block per sample would work alone; the same values, bit for
// bit, as applyGate(x, squeezeExcitationGate(...)).
void squeezeExcitationFromSums(at::Tensor& x, const at::Tensor& partialSums, const at::Tensor& w1,
                               const at::Tensor& b1, const at::Tensor& w2t, const at::Tensor& b2);

// squeezeExcitationFromSums in two kernels (the form before; EFFICIENTNET_SEPARATE_EXCITATION=1 measures against
// it). The gate [N, C] fp32 from partial sums over `pixels` pixels per sample (one kernel, a block per sample) ...
at::Tensor squeezeExcitationGate(const at::Tensor& partialSums, int64_t pixels, const at::Tensor& w1,
                                 const at::Tensor& b1, const at::Tensor& w2t, const at::Tensor& b2);
// ... and x[n, c, ...] *= gate[n, c] in one vectorised pass, any contiguous layout.
void applyGate(at::Tensor& x, const at::Tensor& gate);

// The weights of a 1x1 projection with each sample's squeeze-and-excitation gate folded in: out[n, o, k] =
// weight[o, k] * gate[n, k]. A batched GEMM of x's pixels by these gives conv1x1(x * gate) without the gated x ever
// being written. weight: [out, in] contiguous, CUDA fp32/fp16/bf16; gate: [N, in] fp32. out: weight's type.
at::Tensor gatedPointwiseWeights(const at::Tensor& weight, const at::Tensor& gate);
// gatedPointwiseWeights(weight, squeezeExcitationGate(partialSums, pixels, ...)) with the excitation spread over many
// blocks as in squeezeExcitationFromSums: the same values, bit for bit.
at::Tensor gatedPointwiseWeightsFromSums(const at::Tensor& weight, const at::Tensor& partialSums, int64_t pixels,
                                         const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2t,
                                         const at::Tensor& b2);

// The network's end at small batches: logits[n, o] = bias[o] + weight[o] . mean over pixels of silu(y[n, :, p] +
// headBias), i.e. the head conv's epilogue (its folded BatchNorm bias and SiLU), the global average pool and the
// classifier's Linear in two kernels, the pooled features in fp32. y: the head conv's output before its epilogue, 4-D
// CUDA in channels_last memory, fp32/fp16/bf16; headBias [C], weight [classes, C] and bias [classes] in y's type.
// Returns [N, classes] in y's type, or nullopt (nothing launched) for another layout.
std::optional<at::Tensor> poolAndClassify(const at::Tensor& y, const at::Tensor& headBias, const at::Tensor& weight,
                                          const at::Tensor& bias);

} // namespace efficientnet::cuda
