#include "efficientnet/model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <torch/torch.h>

#include "efficientnet/swish.h"

#ifdef EFFICIENTNET_WITH_CUDA
#include "engine/cuda/fused_ops.h"
#include "engine/cuda/pointwise_gemm.h"
#endif

namespace efficientnet {
namespace {

constexpr int64_t kInputChannels = 3;
constexpr int64_t kStemKernel = 3;
constexpr int64_t kStemStride = 2;
constexpr int64_t kSqueezeDivisor = 4;   // torchvision: squeeze channels = max(1, block input // 4)
// The hand-written gate (cuda/fused_ops.h) from this batch size up. Measured on an H200, B0 fp16, alternated in one
// run (BENCHMARKS.md, "The fused squeeze-and-excitation gate"): it is 4-13 % faster at batch 64 and 256 but 2-17 %
// slower at 1-16, where its one excitation block per sample leaves the GPU mostly idle and cuBLAS's small GEMMs win.
constexpr int64_t kFusedGateMinBatch = 32;
// The hand-written depthwise conv with the squeeze (cuda/fused_ops.h) below this batch size, cuDNN's from it up.
// Measured on an H200, fp16, alternated in one run (BENCHMARKS.md, "The depthwise convolution from a tile"): for B0
// 0.43-0.45 against 0.62-0.68 ms at batch 1 and 0.81-0.85 against 1.10-1.11 ms at batch 16; at batch 256 the fused
// kernel was 5 % slower than cuDNN's convolution with the epilogue and the squeeze's own pass (37,500-37,800 against
// 39,300-39,800 img/s in its fastest form, four outputs per thread), so cuDNN's kernel keeps the large batches.
constexpr int64_t kFusedDepthwiseBelowBatch = 32;
// The 1x1 convs as cuBLAS GEMMs (one matrix product in channels_last memory) below this batch size, cuDNN's
// convolution from it up. Measured on an H200, fp16, alternated twice in each of two calls (BENCHMARKS.md, "1x1
// convolutions on cuBLAS"): at batch 1 cuBLAS is 4-7 % faster for B0 (0.566-0.581 against 0.595-0.619 ms), 2-9 %
// for B3 and 2-6 % for V2-S; at batch 256 it is level for B0 and V2-S but 2 % slower for B3.
constexpr int64_t kPointwiseGemmBelowBatch = 32;
// The head's epilogue, the pool and the classifier in two hand-written kernels below this batch size (below it the
// head conv is one of the cuBLAS GEMMs above, whose output they take before its epilogue). Measured on an H200, B0
// fp16, alternated twice in one call (BENCHMARKS.md, "The head in two kernels"): 0.416-0.417 against 0.432-0.437 ms at
// batch 1; level with LibTorch's three kernels at batch 8 and 16 (0.598-0.599 against 0.596-0.601 ms at 8).
constexpr int64_t kFusedHeadBelowBatch = kPointwiseGemmBelowBatch;
// The hand-written depthwise conv only for the variants where it pays: B0 and B3 (B3 at 300 px: 1.08 against
// 1.18-1.29 ms at batch 1, 2.27-2.30 against 2.77-2.86 ms at 16, same run), and B1 and B2 between them (not
// measured). V2-S at 384 px was 10 % slower at batch 1 (1.58 against 1.43 ms, the kernel's first form); it and the
// larger variants (not measured) keep cuDNN's depthwise convolution.
bool fusedDepthwisePays(const std::string& variant)
{
    return variant == "efficientnet_b0" || variant == "efficientnet_b1" || variant == "efficientnet_b2" ||
           variant == "efficientnet_b3";
}

// An environment variable that switches a CUDA form off for measuring against it (BENCHMARKS.md), read when a model
// is prepared for inference.
[[maybe_unused]] bool environmentIs(const char* name, const std::string& value)
{
    const char* set = std::getenv(name);
    return set && value == set;
}

// TensorFlow SAME: output = ceil(in / stride); the padding that needs, split with the extra pixel at the end.
std::pair<int64_t, int64_t> samePadding(int64_t in, int64_t kernel, int64_t stride)
{
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
    return {total / 2, total - total / 2};
}

// Stochastic depth in "row" mode (torchvision.ops.stochastic_depth): drop whole samples, rescale the survivors.
torch::Tensor stochasticDepth(const torch::Tensor& x, double p)
{
    const double survival = 1.0 - p;
    auto mask = torch::empty({x.size(0), 1, 1, 1}, x.options()).bernoulli_(survival);
    if (survival > 0.0)
        mask.div_(survival);
    return x * mask;
}

} // namespace

ConvNormActivationImpl::ConvNormActivationImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                               int64_t groups, bool activation, const ConvSettings& settings)
    : m_activation(activation)
    // Odd kernels at stride 1 pad (k-1)/2 on each side in both families; only strided SAME convs are asymmetric.
    , m_dynamicSamePadding(settings.padding == Padding::TfSame && stride > 1)
    , m_padding(m_dynamicSamePadding ? 0 : (kernel - 1) / 2)
{
    m_conv = register_module("0", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                        .stride(stride).padding(m_padding).groups(groups).bias(false)));
    m_bn = register_module("1", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out)
                                                           .eps(settings.bnEps).momentum(settings.bnMomentum)));
}

torch::Tensor ConvNormActivationImpl::forward(torch::Tensor x) { return forwardAdding(std::move(x), {}); }

torch::Tensor ConvNormActivationImpl::forwardAdding(torch::Tensor x, const torch::Tensor& residual)
{
    if (m_dynamicSamePadding) {
        const auto kernel = m_conv->options.kernel_size();
        const auto stride = m_conv->options.stride();
        const auto [top, bottom] = samePadding(x.size(2), kernel->at(0), stride->at(0));
        const auto [left, right] = samePadding(x.size(3), kernel->at(1), stride->at(1));
        if (top || bottom || left || right)
            x = torch::constant_pad_nd(x.is_mkldnn() ? x.to_dense() : x, {left, right, top, bottom}, 0);
    }
    if (!m_foldedWeight.defined()) {
        x = m_bn(m_conv(x));
        x = m_activation ? activation::swish(x) : x;
        return residual.defined() ? x + residual : x;
    }
    const auto& o = m_conv->options;
    const std::vector<int64_t> padding{m_padding, m_padding};
#ifdef EFFICIENTNET_WITH_CUDA
    if (m_cudaEpilogue) {
        if (m_projectionWeight.defined())
            if (auto y = cuda::pointwiseProjection(x, m_projectionWeight, m_foldedBias, residual))
                return *y;
        x = convolve(x);
        cuda::biasActivationInPlace(x, m_foldedBias, m_activation, residual.defined() ? &residual : nullptr);
        return x;
    }
#endif
    if (m_mkldnn) {
        // Activations stay in oneDNN's blocked layout from conv to conv: converting to dense and back around each
        // SiLU is a large share of the time (TorchScript's optimize_for_inference does that: 19-30% of B0's batch-1
        // time in to_dense/to_mkldnn, `anchors.py --device cpu --profile`). oneDNN tensors have sigmoid and mul_
        // but no silu, so SiLU is x * sigmoid(x) in two passes over the blocked data; only the squeeze-excitation
        // gate leaves the layout.
        x = at::mkldnn_convolution(x.is_mkldnn() ? x : x.to_mkldnn(), m_foldedWeight, m_foldedBias, padding,
                                   o.stride(), o.dilation(), o.groups());
        if (m_activation)
            x.mul_(torch::sigmoid(x));
    } else {
        x = torch::conv2d(x, m_foldedWeight, m_foldedBias, o.stride(), padding, o.dilation(), o.groups());
        if (m_activation)
            x = torch::silu_(x);
    }
    if (!residual.defined())
        return x;
    if (x.is_mkldnn() != residual.is_mkldnn())
        return x + (x.is_mkldnn() ? residual.to_mkldnn() : residual.to_dense());
    return x + residual;
}

torch::Tensor ConvNormActivationImpl::convolve(const torch::Tensor& x) const
{
    const auto& o = m_conv->options;
    if (m_pointwiseRows.defined() && x.size(0) < kPointwiseGemmBelowBatch) {
        // NCHW in channels_last memory is NHWC: a 1x1 conv is then one GEMM of the pixels (rows) by the weight.
        const auto n = x.size(0), h = x.size(2), w = x.size(3);
        const auto rows = x.permute({0, 2, 3, 1}).reshape({n * h * w, x.size(1)});
        return at::mm(rows, m_pointwiseRows).view({n, h, w, -1}).permute({0, 3, 1, 2});
    }
    return torch::conv2d(x, m_foldedWeight, {}, o.stride(), std::vector<int64_t>{m_padding, m_padding}, o.dilation(),
                         o.groups());
}

torch::Tensor ConvNormActivationImpl::forwardBeforeEpilogue(const torch::Tensor& x)
{
    if (!m_cudaEpilogue || m_dynamicSamePadding || !m_activation)
        return {};
    return convolve(x);
}

void ConvNormActivationImpl::finishEpilogue(torch::Tensor& y) const
{
#ifdef EFFICIENTNET_WITH_CUDA
    cuda::biasActivationInPlace(y, m_foldedBias, m_activation, nullptr);
#else
    (void)y;
#endif
}

bool ConvNormActivationImpl::takesExpansionEpilogue(int64_t batch) const
{
    const int64_t kernel = m_conv->options.kernel_size()->at(0);
    const int64_t stride = m_conv->options.stride()->at(0);
    return m_takesExpansionEpilogue && m_depthwiseTaps.defined() && batch < kFusedDepthwiseBelowBatch &&
           (kernel == 3 || kernel == 5) && (stride == 1 || stride == 2);
}

torch::Tensor ConvNormActivationImpl::forwardSqueezing(const torch::Tensor& x, torch::Tensor* partialSums,
                                                       const torch::Tensor& inputBias)
{
#ifdef EFFICIENTNET_WITH_CUDA
    if (!m_depthwiseTaps.defined() || x.size(0) >= kFusedDepthwiseBelowBatch)
        return {};
    const int64_t kernel = m_conv->options.kernel_size()->at(0);
    const int64_t stride = m_conv->options.stride()->at(0);
    // TensorFlow SAME pads in the kernel's index arithmetic instead of a padded copy of x.
    const auto [top, bottom] = m_dynamicSamePadding ? samePadding(x.size(2), kernel, stride)
                                                    : std::pair{m_padding, m_padding};
    const auto [left, right] = m_dynamicSamePadding ? samePadding(x.size(3), kernel, stride)
                                                    : std::pair{m_padding, m_padding};
    auto result = cuda::depthwiseSiluSqueeze(x, m_depthwiseTaps, m_depthwiseBias, kernel, stride,
                                             {top, bottom, left, right}, partialSums != nullptr, inputBias);
    if (!result)
        return {};
    if (partialSums)
        *partialSums = result->partialSums;
    return result->y;
#else
    (void)x;
    (void)partialSums;
    (void)inputBias;
    return {};
#endif
}

bool ConvNormActivationImpl::takesGate(const torch::Tensor& x) const
{
    // The per-sample weights are written and read instead of the gated x: worth it where they are much the smaller,
    // i.e. at B0's high-resolution blocks (at 56x56, 24x144 weights against 3,136x144 pixels), not at 7x7 with 1152
    // channels in and 192 out, where they would be four times the activations.
    // Moving the line to `outputs <= pixels` (B0's 14x14 blocks with 112 outputs too) was 1.5 % slower at batch 256
    // on an H200 (BENCHMARKS.md, "The projection's bias and residual in cuBLASLt's epilogue").
    return m_gatedWeight.defined() && x.is_cuda() && 2 * m_gatedWeight.size(0) <= x.size(2) * x.size(3);
}

torch::Tensor ConvNormActivationImpl::forwardGated(const torch::Tensor& x, const torch::Tensor& weights,
                                                   const torch::Tensor& residual)
{
#ifdef EFFICIENTNET_WITH_CUDA
    if (m_projectionWeight.defined())
        if (auto y = cuda::pointwiseProjection(x, weights, m_foldedBias, residual))
            return *y;
    // NCHW in channels_last memory is NHWC, [N, pixels, in] per sample: one batched GEMM by [in, out] per sample.
    const auto n = x.size(0), h = x.size(2), w = x.size(3);
    const auto rows = x.permute({0, 2, 3, 1}).reshape({n, h * w, x.size(1)});
    auto y = at::bmm(rows, weights.transpose(1, 2)).view({n, h, w, -1}).permute({0, 3, 1, 2});
    cuda::biasActivationInPlace(y, m_foldedBias, m_activation, residual.defined() ? &residual : nullptr);
    return y;
#else
    (void)x;
    (void)weights;
    (void)residual;
    TORCH_CHECK(false, "forwardGated: only CUDA inference gives per-sample weights (takesGate)");
#endif
}

FoldedConv ConvNormActivationImpl::folded() const
{
    torch::NoGradGuard noGrad;
    const auto scale = m_bn->weight.to(torch::kFloat) / torch::sqrt(m_bn->running_var.to(torch::kFloat) + m_bn->options.eps());
    FoldedConv f;
    f.weight = (m_conv->weight.to(torch::kFloat) * scale.view({-1, 1, 1, 1})).cpu().contiguous();
    f.bias = (m_bn->bias.to(torch::kFloat) - m_bn->running_mean.to(torch::kFloat) * scale).cpu().contiguous();
    f.stride = m_conv->options.stride()->at(0);
    f.groups = m_conv->options.groups();
    f.activation = m_activation;
    f.tfSame = m_dynamicSamePadding;
    return f;
}

std::pair<int64_t, int64_t> FoldedConv::padding(int64_t inSize) const
{
    if (tfSame)
        return samePadding(inSize, kernel(), stride);
    return {(kernel() - 1) / 2, (kernel() - 1) / 2};
}

void ConvNormActivationImpl::foldBatchNorm(const torch::Device& device, torch::ScalarType dtype, bool channelsLast,
                                           bool fusedDepthwise)
{
    torch::NoGradGuard noGrad;
    const FoldedConv f = folded();
    auto weight = f.weight;
    const auto& bias = f.bias;
    m_mkldnn = device.is_cpu() && dtype == torch::kFloat && at::hasMKLDNN();
    if (m_mkldnn) {
        const auto& o = m_conv->options;
        const std::vector<int64_t> padding{m_padding, m_padding};
        m_foldedWeight = at::mkldnn_reorder_conv2d_weight(weight.contiguous().to_mkldnn(), padding, o.stride(),
                                                          o.dilation(), o.groups());
        m_foldedBias = bias.to_mkldnn();
        return;
    }
#ifdef EFFICIENTNET_WITH_CUDA
    m_cudaEpilogue = device.is_cuda();
    const int64_t channels = weight.size(0);
    m_depthwiseTaps = m_depthwiseBias = torch::Tensor();
    if (fusedDepthwise && device.is_cuda() && channelsLast && m_activation && f.groups == channels && channels > 1 &&
        !environmentIs("EFFICIENTNET_UNFUSED_DW", "1")) {
        m_depthwiseTaps = weight.reshape({channels, -1}).t().contiguous().to(device, dtype);
        m_depthwiseBias = bias.to(device, torch::kFloat);
    }
    m_takesExpansionEpilogue = !environmentIs("EFFICIENTNET_EXPAND_EPILOGUE", "1");
#else
    (void)fusedDepthwise;
#endif
    weight = weight.to(device, dtype);
    m_foldedWeight = channelsLast ? weight.contiguous(torch::MemoryFormat::ChannelsLast) : weight.contiguous();
#ifdef EFFICIENTNET_WITH_CUDA
    // Below kPointwiseGemmBelowBatch, the 1x1 convs as cuBLAS GEMMs rather than cuDNN convolutions (why: there).
    // EFFICIENTNET_POINTWISE=cudnn keeps cuDNN's at every batch size, for measuring against it.
    m_pointwiseRows = m_gatedWeight = m_projectionWeight = torch::Tensor();
    const bool pointwise = device.is_cuda() && channelsLast && weight.size(2) == 1 && weight.size(3) == 1 &&
                           f.stride == 1 && f.groups == 1;
    if (pointwise && !environmentIs("EFFICIENTNET_POINTWISE", "cudnn"))
        m_pointwiseRows = weight.reshape({weight.size(0), weight.size(1)}).t();
    if (pointwise && !environmentIs("EFFICIENTNET_GATE_PASS", "1"))
        m_gatedWeight = weight.reshape({weight.size(0), weight.size(1)}).contiguous();
    // The projection (no SiLU) as one cuBLASLt GEMM that adds the bias and the residual itself, at every batch size:
    // its output is written once, not written, read back and written again by the epilogue. Measured on an H200, B0
    // fp16: 0.55 against 0.58 ms at batch 1, 0.6-1.3 % more images per second at 256; B3 1.2 % and V2-S 2.4 % at 256
    // (BENCHMARKS.md, "The projection's bias and residual in cuBLASLt's epilogue").
    // EFFICIENTNET_PROJECTION_EPILOGUE=1: the GEMM (or cuDNN's conv) and then the epilogue, for measuring against it.
    if (pointwise && !m_activation && !environmentIs("EFFICIENTNET_PROJECTION_EPILOGUE", "1"))
        m_projectionWeight = weight.reshape({weight.size(0), weight.size(1)}).contiguous();
#endif
    m_foldedBias = bias.to(device, dtype);
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeezeChannels)
{
    m_fc1 = register_module("fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, squeezeChannels, 1)));
    m_fc2 = register_module("fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeezeChannels, channels, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(torch::Tensor x)
{
    // fc1/fc2 are 1x1 convs on a 1x1 map (torchvision's keys), i.e. matrix products: run them as such, which is
    // several times cheaper than a convolution call on the CPU and the same arithmetic.
#ifdef EFFICIENTNET_WITH_CUDA
    if (m_w1.defined() && x.is_cuda() && x.size(0) >= kFusedGateMinBatch && !torch::GradMode::is_enabled() &&
        cuda::squeezeExcitationInPlace(x, m_w1, m_b1, m_w2t, m_b2))
        return x;
#endif
    if (x.is_mkldnn())   // oneDNN tensors cannot broadcast the gate: the block's projection converts back
        x = x.to_dense();
    auto scale = x.mean({2, 3});
    scale = activation::swish(torch::linear(scale, m_fc1->weight.flatten(1), m_fc1->bias));
    scale = torch::sigmoid(torch::linear(scale, m_fc2->weight.flatten(1), m_fc2->bias));
    scale = scale.view({scale.size(0), scale.size(1), 1, 1});
    // Without autograd the gate can overwrite its input (nothing else reads it).
    return torch::GradMode::is_enabled() ? x * scale : x.mul_(scale);
}

void SqueezeExcitationImpl::prepareFusedGate(const torch::Device& device)
{
    m_w1 = m_b1 = m_w2t = m_b2 = torch::Tensor();
#ifdef EFFICIENTNET_WITH_CUDA
    const char* unfused = std::getenv("EFFICIENTNET_UNFUSED_SE");
    if (!device.is_cuda() || (unfused && std::string(unfused) == "1"))
        return;
    torch::NoGradGuard noGrad;
    const auto asFloat = [&](const torch::Tensor& t) { return t.detach().to(device, torch::kFloat).contiguous(); };
    m_w1 = asFloat(m_fc1->weight.flatten(1));
    m_b1 = asFloat(m_fc1->bias);
    m_w2t = asFloat(m_fc2->weight.flatten(1).t());
    m_b2 = asFloat(m_fc2->bias);
    // From the depthwise kernel's sums, the excitation spread over many blocks, each applying the gate of its channels
    // (on x, or on the projection's weights). EFFICIENTNET_SEPARATE_EXCITATION=1: the gate from one block per sample
    // first, then a pass that applies it, for measuring against it.
    m_separateExcitation = environmentIs("EFFICIENTNET_SEPARATE_EXCITATION", "1");
#else
    (void)device;
#endif
}

void SqueezeExcitationImpl::applyGateFromSums(torch::Tensor& x, const torch::Tensor& partialSums)
{
#ifdef EFFICIENTNET_WITH_CUDA
    if (m_separateExcitation)
        cuda::applyGate(x, cuda::squeezeExcitationGate(partialSums, x.size(2) * x.size(3), m_w1, m_b1, m_w2t, m_b2));
    else
        cuda::squeezeExcitationFromSums(x, partialSums, m_w1, m_b1, m_w2t, m_b2);
#else
    (void)x;
    (void)partialSums;
    TORCH_CHECK(false, "applyGateFromSums: only the CUDA forms give partial sums");
#endif
}

torch::Tensor SqueezeExcitationImpl::gatedWeightsFromSums(const torch::Tensor& weight, const torch::Tensor& partialSums,
                                                          int64_t pixels)
{
#ifdef EFFICIENTNET_WITH_CUDA
    if (m_separateExcitation)
        return cuda::gatedPointwiseWeights(weight,
                                           cuda::squeezeExcitationGate(partialSums, pixels, m_w1, m_b1, m_w2t, m_b2));
    return cuda::gatedPointwiseWeightsFromSums(weight, partialSums, pixels, m_w1, m_b1, m_w2t, m_b2);
#else
    (void)weight;
    (void)partialSums;
    (void)pixels;
    TORCH_CHECK(false, "gatedWeightsFromSums: only the CUDA forms give partial sums");
#endif
}

MBConvImpl::MBConvImpl(const StageConfig& config, int64_t in, int64_t stride, double stochasticDepthProb,
                       const ConvSettings& settings)
    : m_residual(stride == 1 && in == config.outChannels)
    , m_stochasticDepthProb(stochasticDepthProb)
{
    const int64_t expanded = scaledChannels(static_cast<int>(in) * config.expandRatio, 1.0);
    const bool expands = expanded != in;
    const int64_t k = config.kernel;
    torch::nn::Sequential block;
    if (config.kind == BlockKind::MBConv) {
        if (expands)
            block->push_back(ConvNormActivation(in, expanded, 1, 1, 1, true, settings));
        m_depthwise = static_cast<int64_t>(block->size());
        block->push_back(ConvNormActivation(expanded, expanded, k, stride, expanded, true, settings));
        block->push_back(SqueezeExcitation(expanded, std::max<int64_t>(1, in / kSqueezeDivisor)));
        block->push_back(ConvNormActivation(expanded, config.outChannels, 1, 1, 1, false, settings));
    } else if (expands) {
        block->push_back(ConvNormActivation(in, expanded, k, stride, 1, true, settings));
        block->push_back(ConvNormActivation(expanded, config.outChannels, 1, 1, 1, false, settings));
    } else {
        block->push_back(ConvNormActivation(in, config.outChannels, k, stride, 1, true, settings));
    }
    m_block = register_module("block", block);
}

torch::Tensor MBConvImpl::forward(torch::Tensor x)
{
    if (m_residual && is_training() && m_stochasticDepthProb > 0.0)
        return stochasticDepth(m_block->forward(x), m_stochasticDepthProb) + x;
    // Layer by layer: the last layer (a conv + BN, with or without activation) adds the residual itself, which the
    // CUDA inference form does in the same pass as its bias; there the depthwise conv may also do the SE's squeeze,
    // and the projection take the SE's gate into its weights.
    const size_t last = m_block->size() - 1;
    auto& output = m_block->at<ConvNormActivationImpl>(last);
    const auto residual = m_residual ? x : torch::Tensor();
    auto h = x;
    torch::Tensor gatedWeights;   // the projection's weights with the SE's gate folded in, per sample, when the
                                  // projection (the next and last layer) takes the gate that way
    ConvNormActivationImpl* expansion = nullptr;   // h is its output before its bias and SiLU
    for (size_t i = 0; i < last; ++i) {
        const auto index = static_cast<int64_t>(i);
        if (index + 1 == m_depthwise && !is_training() && !torch::GradMode::is_enabled() &&
            m_block->at<ConvNormActivationImpl>(i + 1).takesExpansionEpilogue(h.size(0))) {
            auto& conv = m_block->at<ConvNormActivationImpl>(i);
            if (auto y = conv.forwardBeforeEpilogue(h); y.defined()) {
                h = std::move(y);
                expansion = &conv;
                continue;
            }
        }
        if (index == m_depthwise && depthwiseAndGate(h, gatedWeights, expansion)) {
            ++i;   // the squeeze-excitation is done too
            continue;
        }
        h = (m_block->begin() + static_cast<std::ptrdiff_t>(i))->forward(h);
    }
    return gatedWeights.defined() ? output.forwardGated(h, gatedWeights, residual) : output.forwardAdding(h, residual);
}

bool MBConvImpl::depthwiseAndGate(torch::Tensor& h, torch::Tensor& gatedWeights,
                                  const ConvNormActivationImpl* expansion)
{
    if (is_training() || torch::GradMode::is_enabled())
        return false;   // never with an expansion left unfinished: forward() only leaves one for inference
    const auto depthwise = static_cast<size_t>(m_depthwise);
    auto& se = m_block->at<SqueezeExcitationImpl>(depthwise + 1);
    auto& conv = m_block->at<ConvNormActivationImpl>(depthwise);
    // MBConv: depthwise, SE, projection; the projection is the block's last layer.
    auto& projection = m_block->at<ConvNormActivationImpl>(depthwise + 2);
    const auto projectionTakesGate = [&](const torch::Tensor& y) {
        return depthwise + 2 == m_block->size() - 1 && projection.takesGate(y);
    };
    torch::Tensor partialSums;
    auto y = conv.forwardSqueezing(h, se.gatesFromSums() ? &partialSums : nullptr,
                                   expansion ? expansion->epilogueBias() : torch::Tensor());
    if (!y.defined() && expansion)
        expansion->finishEpilogue(h);   // the kernel could not take the expansion's bias and SiLU: a pass of its own
    if (!y.defined()) {
        // No fused depthwise kernel here (large batches, other variants): where the SE's fused gate runs, the gate
        // may still go into the projection, from sums of its own (ATen's reduction in fp32). Summing in the
        // depthwise epilogue's pass instead was slower at B0 batch 256 on an H200 (BENCHMARKS.md), and was dropped.
        if (!se.gatesFromSums() || h.size(0) < kFusedGateMinBatch)
            return false;
        y = conv.forward(h);
        if (!projectionTakesGate(y)) {
            h = se.forward(y);
            return true;
        }
        partialSums = torch::sum(y, {2, 3}, /*keepdim=*/false, torch::kFloat).unsqueeze(1);   // [N, 1 tile, C]
    }
    if (!partialSums.defined()) {
        h = se.forward(y);
        return true;
    }
    if (projectionTakesGate(y))
        gatedWeights = se.gatedWeightsFromSums(projection.gatedWeight(), partialSums, y.size(2) * y.size(3));
    else
        se.applyGateFromSums(y, partialSums);
    h = std::move(y);
    return true;
}

EfficientNetImpl::EfficientNetImpl(const EfficientNetOptions& options)
    : m_options(options)
    , m_spec(&variant(options.variant()))
{
    const ConvSettings settings{options.padding(), options.bnEps().value_or(m_spec->bnEps), m_spec->bnMomentum};
    const auto stages = scaledStages(*m_spec);
    const double sdProb = options.stochasticDepthProb().value_or(m_spec->stochasticDepthProb);
    int totalBlocks = 0;
    for (const auto& s : stages)
        totalBlocks += s.repeats;

    torch::nn::Sequential features;
    features->push_back(ConvNormActivation(kInputChannels, stages.front().inChannels, kStemKernel, kStemStride, 1,
                                           true, settings));
    int blockId = 0;
    for (const auto& stage : stages) {
        Stage blocks;
        for (int i = 0; i < stage.repeats; ++i, ++blockId) {
            // Only a stage's first block strides and changes width (timm builder / torchvision).
            const int64_t in = i == 0 ? stage.inChannels : stage.outChannels;
            const int64_t stride = i == 0 ? stage.stride : 1;
            // Drop probability rises linearly over all blocks (torchvision: p * block_id / total_blocks).
            blocks->push_back(MBConv(stage, in, stride, sdProb * blockId / totalBlocks, settings));
        }
        features->push_back(blocks);
    }
    features->push_back(ConvNormActivation(stages.back().outChannels, scaledHeadChannels(*m_spec), 1, 1, 1, true,
                                           settings));
    m_features = register_module("features", features);

    torch::nn::Sequential classifier;
    classifier->push_back(torch::nn::Dropout(torch::nn::DropoutOptions(options.dropout().value_or(m_spec->dropout))));
    classifier->push_back(torch::nn::Linear(scaledHeadChannels(*m_spec), options.numClasses()));
    m_classifier = register_module("classifier", classifier);
    initializeWeights();
}

torch::Tensor EfficientNetImpl::forwardFeatures(torch::Tensor x)
{
    if (m_channelsLast.value_or(false))
        x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    x = m_features->forward(x);
    return x.is_mkldnn() ? x.to_dense() : x;   // the CPU inference form runs in oneDNN's layout inside
}

torch::Tensor EfficientNetImpl::forward(torch::Tensor x)
{
    if (m_fusedHead && x.is_cuda() && x.size(0) < kFusedHeadBelowBatch && !is_training() &&
        !torch::GradMode::is_enabled())
        return forwardFusedHead(std::move(x));
    x = torch::adaptive_avg_pool2d(forwardFeatures(x), {1, 1}).flatten(1);
    return m_classifier->forward(x);
}

torch::Tensor EfficientNetImpl::forwardFusedHead(torch::Tensor x)
{
    x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    const size_t last = m_features->size() - 1;
    for (size_t i = 0; i < last; ++i)
        x = (m_features->begin() + static_cast<std::ptrdiff_t>(i))->forward(x);
    auto& head = m_features->at<ConvNormActivationImpl>(last);
    auto y = head.forwardBeforeEpilogue(x);
#ifdef EFFICIENTNET_WITH_CUDA
    const auto& linear = m_classifier->at<torch::nn::LinearImpl>(1);   // after the Dropout, which eval() skips
    if (y.defined())
        if (auto logits = cuda::poolAndClassify(y, head.epilogueBias(), linear.weight, linear.bias))
            return *logits;
#endif
    if (y.defined())
        head.finishEpilogue(y);
    else
        y = head.forward(x);
    return m_classifier->forward(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
}

void EfficientNetImpl::prepareForInference(const torch::Device& device, torch::ScalarType dtype, bool channelsLast)
{
    eval();
    for (auto& module : modules(/*include_self=*/false))
        if (auto* cna = module->as<ConvNormActivation>())
            cna->foldBatchNorm(device, dtype, channelsLast, fusedDepthwisePays(m_spec->name));
    to(device, dtype);
    for (auto& module : modules(/*include_self=*/false))
        if (auto* se = module->as<SqueezeExcitation>())
            se->prepareFusedGate(device);
    m_channelsLast = channelsLast;
    // Below kFusedHeadBelowBatch, the head conv's epilogue, the pool and the classifier in two kernels (why: at
    // cuda::poolAndClassify); EFFICIENTNET_UNFUSED_HEAD=1 keeps LibTorch's, for measuring against it.
    m_fusedHead = false;
#ifdef EFFICIENTNET_WITH_CUDA
    m_fusedHead = device.is_cuda() && channelsLast && m_classifier->size() == 2 &&
                  m_classifier->ptr(1)->as<torch::nn::Linear>() && !environmentIs("EFFICIENTNET_UNFUSED_HEAD", "1");
#endif
}

void EfficientNetImpl::initializeWeights()
{
    torch::NoGradGuard noGrad;
    for (auto& module : modules(/*include_self=*/false)) {
        if (auto* conv = module->as<torch::nn::Conv2d>()) {
            torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut);
            if (conv->bias.defined())
                torch::nn::init::zeros_(conv->bias);
        } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
            torch::nn::init::ones_(bn->weight);
            torch::nn::init::zeros_(bn->bias);
        } else if (auto* linear = module->as<torch::nn::Linear>()) {
            const double range = 1.0 / std::sqrt(static_cast<double>(linear->options.out_features()));
            torch::nn::init::uniform_(linear->weight, -range, range);
            torch::nn::init::zeros_(linear->bias);
        }
    }
}

} // namespace efficientnet
