#pragma once
// EfficientNet B0-B7 and V2-S/M/L as LibTorch modules. Module names reproduce torchvision's state_dict keys
// (features.S.B.block.K..., classifier.1...), so torchvision checkpoints load one-to-one.
#include <optional>
#include <string>
#include <utility>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "efficientnet/variants.h"

namespace efficientnet {

struct EfficientNetOptions {
    explicit EfficientNetOptions(std::string variant) : variant_(std::move(variant)) {}
    TORCH_ARG(std::string, variant);                     // torchvision name, e.g. "efficientnet_b0"
    TORCH_ARG(int64_t, numClasses) = 1000;
    TORCH_ARG(Padding, padding) = Padding::Symmetric;
    TORCH_ARG(std::optional<double>, bnEps);              // default: the variant's
    TORCH_ARG(std::optional<double>, dropout);            // default: the variant's
    TORCH_ARG(std::optional<double>, stochasticDepthProb);
};

// Shared by every convolution of the network: how it pads and how its BatchNorm behaves.
struct ConvSettings {
    Padding padding;
    double bnEps;
    double bnMomentum;
};

// A convolution with its BatchNorm folded in, in fp32 on the CPU: what an engine outside LibTorch builds from.
struct FoldedConv {
    torch::Tensor weight;   // [out, in / groups, k, k], BN scale folded in
    torch::Tensor bias;     // [out], BN shift folded in
    int64_t stride = 1;
    int64_t groups = 1;
    bool activation = false;   // SiLU after the bias
    bool tfSame = false;       // TensorFlow SAME padding, computed from the input size (strided convs only)
    int64_t kernel() const { return weight.size(2); }
    // Padding (begin, end) of one spatial dimension of `inSize` pixels.
    std::pair<int64_t, int64_t> padding(int64_t inSize) const;
};

// torchvision's Conv2dNormActivation: conv "0" (no bias), BatchNorm "1", optional SiLU. With TensorFlow SAME
// padding, a strided conv pads asymmetrically from the input size at run time (timm Conv2dSame).
class ConvNormActivationImpl : public torch::nn::Module {
public:
    // The BatchNorm folded into the conv (w * g/sqrt(v+eps), b - m * g/sqrt(v+eps), computed in fp32).
    FoldedConv folded() const;
    ConvNormActivationImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, bool activation,
                           const ConvSettings& settings);
    torch::Tensor forward(torch::Tensor x);
    // forward(x) + residual, which the CUDA inference form adds in the same pass as the bias.
    torch::Tensor forwardAdding(torch::Tensor x, const torch::Tensor& residual);
    bool addsResidualInPlace() const { return m_cudaEpilogue; }
    // Keeps folded() on `device` in `dtype`; forward then runs one conv with bias.
    // fusedDepthwise: on CUDA, a depthwise conv may take the hand-written form with the SE's squeeze (forwardSqueezing).
    void foldBatchNorm(const torch::Device& device, torch::ScalarType dtype, bool channelsLast, bool fusedDepthwise = true);
    // CUDA inference, a depthwise conv below batch 32 (B0–B3): the conv, bias and SiLU in one hand-written kernel that
    // also sums its output per sample and channel for the squeeze-and-excitation after it (into *partialSums when
    // given; see cuda/fused_ops.h). Undefined when this conv has no such form here (the caller then runs forward()).
    // inputBias: x is an expansion conv's output before its bias and SiLU (forwardBeforeEpilogue), which the kernel
    // applies as it reads x.
    torch::Tensor forwardSqueezing(const torch::Tensor& x, torch::Tensor* partialSums,
                                   const torch::Tensor& inputBias = {});
    // A depthwise conv that forwardSqueezing would take, at this batch size, together with the expansion's bias and
    // SiLU.
    bool takesExpansionEpilogue(int64_t batch) const;
    // CUDA inference, an expansion (1x1) conv: the conv alone, without its bias and SiLU, which the depthwise kernel
    // after it applies (forwardSqueezing's inputBias = epilogueBias()); finishEpilogue applies them where it cannot.
    torch::Tensor forwardBeforeEpilogue(const torch::Tensor& x);
    const torch::Tensor& epilogueBias() const { return m_foldedBias; }
    void finishEpilogue(torch::Tensor& y) const;
    // CUDA inference, a 1x1 projection after a squeeze-and-excitation: whether it should take the SE's gate into its
    // weights (forwardGated) for input x, rather than have x gated in a pass of its own first.
    bool takesGate(const torch::Tensor& x) const;
    // forwardAdding(x * gate, residual), as one batched GEMM of x by gatedWeight() scaled per sample by the gate,
    // weights [N, out, in] (SqueezeExcitation::gatedWeightsFromSums): the gated x is never written.
    torch::Tensor forwardGated(const torch::Tensor& x, const torch::Tensor& weights, const torch::Tensor& residual);
    const torch::Tensor& gatedWeight() const { return m_gatedWeight; }

private:
    torch::Tensor convolve(const torch::Tensor& x) const;   // CUDA epilogue form: the conv without bias

    torch::nn::Conv2d m_conv{nullptr};
    torch::nn::BatchNorm2d m_bn{nullptr};
    torch::Tensor m_foldedWeight;
    torch::Tensor m_foldedBias;
    bool m_cudaEpilogue = false; // CUDA: bias, SiLU and residual in one hand-written pass after the conv
    torch::Tensor m_depthwiseTaps;   // CUDA depthwise: folded weight as [k*k, channels] in the model's dtype;
    torch::Tensor m_depthwiseBias;   // folded bias in fp32. Undefined: no fused form (or EFFICIENTNET_UNFUSED_DW=1)
    bool m_takesExpansionEpilogue = false;   // the fused depthwise form applies the expansion's bias and SiLU
    torch::Tensor m_pointwiseRows;   // CUDA 1x1 conv as a cuBLAS GEMM at small batches: the folded weight as
                                     // [in, out], a transposed view. Undefined: cuDNN's (EFFICIENTNET_POINTWISE=cudnn)
    torch::Tensor m_gatedWeight;     // CUDA 1x1 conv: the folded weight [out, in] for forwardGated. Undefined: none
                                     // (or EFFICIENTNET_GATE_PASS=1: the gate as a pass of its own)
    torch::Tensor m_projectionWeight; // CUDA 1x1 conv without activation (the projection): the folded weight
                                      // [out, in] for one cuBLASLt GEMM with the bias and residual in its epilogue.
                                      // Undefined: GEMM then epilogue (EFFICIENTNET_PROJECTION_EPILOGUE=1)
    bool m_mkldnn = false;       // CPU fp32: folded weight prepacked for oneDNN (what TorchScript's
                                 // optimize_for_inference does), activations converted around each conv
    bool m_activation;
    bool m_dynamicSamePadding;
    int64_t m_padding;
};
TORCH_MODULE(ConvNormActivation);

// Squeeze-and-excitation (torchvision SqueezeExcitation): fc1/fc2 are 1x1 convs with bias; SiLU then sigmoid gate.
class SqueezeExcitationImpl : public torch::nn::Module {
public:
    SqueezeExcitationImpl(int64_t channels, int64_t squeezeChannels);
    torch::Tensor forward(torch::Tensor x);
    // CUDA inference: fp32 copies of fc1 and fc2 for the hand-written excitation (cuda/fused_ops.h), made here. They
    // serve forward() from batch 32 up (the gate in three passes) and, at every batch size, the gate from sums below.
    // Unless EFFICIENTNET_UNFUSED_SE=1 (for measuring against the unfused form).
    void prepareFusedGate(const torch::Device& device);
    // The fused gate can take the squeeze from the depthwise conv before it (ConvNormActivation::forwardSqueezing).
    bool gatesFromSums() const { return m_w1.defined(); }
    // From partialSums, sums of x over its pixels per sample and channel as forwardSqueezing gives them: x *= the
    // gate, in place ...
    void applyGateFromSums(torch::Tensor& x, const torch::Tensor& partialSums);
    // ... or, where the projection after takes the gate (ConvNormActivation::takesGate), its weight [out, in] times
    // the gate per sample, [N, out, in]; `pixels`: those of the x the sums are of.
    torch::Tensor gatedWeightsFromSums(const torch::Tensor& weight, const torch::Tensor& partialSums, int64_t pixels);
    const torch::nn::Conv2d& fc1() const { return m_fc1; }
    const torch::nn::Conv2d& fc2() const { return m_fc2; }

private:
    torch::nn::Conv2d m_fc1{nullptr};
    torch::nn::Conv2d m_fc2{nullptr};
    torch::Tensor m_w1, m_b1, m_w2t, m_b2;   // fp32 on the device; undefined: the unfused form
    bool m_separateExcitation = false;       // the gate from one block per sample, then applied in a pass of its
                                             // own (EFFICIENTNET_SEPARATE_EXCITATION=1)
};
TORCH_MODULE(SqueezeExcitation);

// One block of a stage, MBConv or FusedMBConv, as torchvision builds it: `block` is a Sequential whose layers are
// the keys (expand, depthwise, SE, project for MBConv; fused expand, project for FusedMBConv). The residual with
// stochastic depth applies when the block keeps shape; stochastic depth is active only in training.
class MBConvImpl : public torch::nn::Module {
public:
    MBConvImpl(const StageConfig& config, int64_t in, int64_t stride, double stochasticDepthProb,
               const ConvSettings& settings);
    torch::Tensor forward(torch::Tensor x);
    const torch::nn::Sequential& block() const { return m_block; }
    bool addsInput() const { return m_residual; }   // the residual: the block's last layer adds its input

private:
    // CUDA inference: the depthwise conv and the squeeze-excitation after it as ConvNormActivation::forwardSqueezing
    // and SqueezeExcitation's gate from the sums; false (h untouched) where that form does not apply. The gate is
    // applied to h, or folded into the projection's weights, left in gatedWeights (ConvNormActivation::takesGate).
    // expansion: h is that conv's output before its bias and SiLU (ConvNormActivation::forwardBeforeEpilogue); they
    // are applied on the way, and h holds the finished expansion if false is returned.
    bool depthwiseAndGate(torch::Tensor& h, torch::Tensor& gatedWeights, const ConvNormActivationImpl* expansion);

    torch::nn::Sequential m_block{nullptr};
    bool m_residual;
    double m_stochasticDepthProb;
    int64_t m_depthwise = -1;   // MBConv: index of the depthwise conv in `block` (the SE follows it)
};
TORCH_MODULE(MBConv);

// A stage of blocks: features.S. (LibTorch cannot nest a plain Sequential: its forward is a template.)
class StageImpl : public torch::nn::SequentialImpl {
public:
    using SequentialImpl::SequentialImpl;
    torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(x); }
};
TORCH_MODULE(Stage);

class EfficientNetImpl : public torch::nn::Module {
public:
    explicit EfficientNetImpl(const EfficientNetOptions& options);
    torch::Tensor forward(torch::Tensor x);            // NCHW float -> logits [N, numClasses]
    torch::Tensor forwardFeatures(torch::Tensor x);    // before pooling
    const VariantSpec& spec() const { return *m_spec; }
    const EfficientNetOptions& options() const { return m_options; }
    // Stem, stages (of MBConv), head; then the classifier's Dropout and Linear: the layers, for other engines.
    const torch::nn::Sequential& features() const { return m_features; }
    const torch::nn::Sequential& classifier() const { return m_classifier; }

    // The inference form: eval mode, BatchNorm folded into the convolutions, parameters on `device` in `dtype`,
    // activations channels_last when asked. Call after the weights are loaded; the model is then for inference
    // only (training or loading weights afterwards is not supported).
    void prepareForInference(const torch::Device& device, torch::ScalarType dtype, bool channelsLast);
    bool preparedForInference() const { return m_channelsLast.has_value(); }

private:
    void initializeWeights();   // torchvision's: kaiming-normal fan-out convs, unit BN, uniform(1/sqrt(out)) linear
    torch::Tensor forwardFusedHead(torch::Tensor x);   // CUDA inference at small batches: the head in two kernels

    EfficientNetOptions m_options;
    const VariantSpec* m_spec;
    std::optional<bool> m_channelsLast;   // set by prepareForInference
    bool m_fusedHead = false;             // set by prepareForInference: forwardFusedHead at small batches
    torch::nn::Sequential m_features{nullptr};
    torch::nn::Sequential m_classifier{nullptr};
};
TORCH_MODULE(EfficientNet);

} // namespace efficientnet
