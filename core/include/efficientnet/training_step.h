#pragma once
// One optimisation step of fine-tuning, shared by the trainer (training.h) and `efficientnet-bench --train-step`,
// so that what is measured is what trains: the forward under autocast on CUDA (fp16 or bf16, as torch.autocast
// runs it), the loss in fp32, and for fp16 dynamic loss scaling by torch.amp.GradScaler's rules. A torch header,
// like model.h: it is for code that already works with the network's modules.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include <torch/optim/adamw.h>
#include <torch/types.h>

#include "efficientnet/inference.h"   // Precision, parsePrecision

namespace torch::nn {
class Module;
}

namespace efficientnet::training {

// On CUDA the network trains channels_last, the layout of cuDNN's tensor-core convolutions (as PyTorch's AMP
// recipes do with model.to(memory_format=torch.channels_last)); a no-op elsewhere.
void toChannelsLast(torch::nn::Module& module, const torch::Device& device);

// While alive, CUDA operations on this thread autocast to `precision` (nothing for fp32 or off CUDA). Nests.
class AutocastScope {
public:
    AutocastScope(Precision precision, const torch::Device& device);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool m_active = false;
    bool m_wasEnabled = false;
    torch::ScalarType m_previousType = torch::kFloat16;
};

// Dynamic loss scaling for fp16 gradients, GradScaler's defaults: start at 2^16; a step whose gradients hold an
// inf or NaN is skipped and halves the scale; 2000 clean steps in a row double it. Disabled: scale 1, every step
// applied.
class LossScaler {
public:
    explicit LossScaler(bool enabled);
    bool enabled() const { return m_enabled; }
    double scale() const { return m_scale; }
    // Divides the gradients of the optimiser's parameters by the scale and says whether all of them are finite,
    // then updates the scale for the next step.
    bool unscaleAndUpdate(torch::optim::Optimizer& optimizer);

private:
    bool m_enabled;
    double m_scale;
    int m_cleanSteps = 0;
};

// torch::optim::AdamW's update, op for op (so the same numbers on the CPU), applied to all the tensors of a parameter
// group at once with ATen's multi-tensor _foreach ops, as torch.optim.AdamW's default "foreach" implementation
// does. LibTorch's C++ AdamW updates one parameter at a time: about ten kernels for each of B0's 213 tensors, which
// on a GPU costs more launch time than the update itself (measured: BENCHMARKS.md, fine-tuning). No amsgrad.
class MultiTensorAdamW : public torch::optim::AdamW {
public:
    using torch::optim::AdamW::AdamW;
    torch::Tensor step(LossClosure closure = nullptr) override;

private:
    struct Moments {
        torch::Tensor average, averageOfSquares;
        std::int64_t steps = 0;
    };
    std::unordered_map<const void*, Moments> m_moments;   // by parameter (its TensorImpl)
};

struct StepResult {
    torch::Tensor loss;   // the unscaled mean loss of the batch, fp32 (reading it waits for the step)
    bool applied = true;  // false when the gradients were not finite and the optimiser did not step
};

// Zeroes the gradients, runs `forward` (which returns logits) under autocast, takes the cross entropy with label
// smoothing in fp32, back-propagates the (scaled) loss and steps the optimiser unless the gradients overflowed.
StepResult optimisationStep(torch::optim::Optimizer& optimizer, const std::function<torch::Tensor()>& forward,
                            const torch::Tensor& target, double labelSmoothing, Precision precision,
                            const torch::Device& device, LossScaler& scaler);

// The CUDA caching allocator's peak of allocated bytes on the current device since the last reset (0 without CUDA):
// what a training step needs, for efficientnet-bench --train-step.
std::int64_t peakCudaMemory();
void resetPeakCudaMemory();

} // namespace efficientnet::training
