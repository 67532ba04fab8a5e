// training_step.h: the optimisation step every fine-tuning path runs. Autocast and loss scaling follow PyTorch's
// own recipe (torch.autocast + torch.amp.GradScaler, "Automatic Mixed Precision" in PyTorch's docs): LibTorch has
// autocast but no GradScaler, so the scaler's few rules are written here.
#include "efficientnet/training_step.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <map>

#include "efficientnet/errors.h"
#include "engine/cuda_support.h"

// LibTorch 2.4 made autocast's switches per device type (set_autocast_enabled(kCUDA, ...)); 1.13 has set_enabled()
// and set_autocast_gpu_dtype() for CUDA, which later releases deprecate and then drop.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define EFFICIENTNET_AUTOCAST_PER_DEVICE 1
#endif

namespace efficientnet::training {
namespace {

constexpr double kInitialScale = 65536.0;   // GradScaler(init_scale=2.**16)
constexpr double kGrowthFactor = 2.0;
constexpr double kBackoffFactor = 0.5;
constexpr int kGrowthInterval = 2000;

bool autocastEnabled()
{
#ifdef EFFICIENTNET_AUTOCAST_PER_DEVICE
    return at::autocast::is_autocast_enabled(at::kCUDA);
#else
    return at::autocast::is_enabled();
#endif
}

void setAutocast(bool enabled, torch::ScalarType type)
{
#ifdef EFFICIENTNET_AUTOCAST_PER_DEVICE
    at::autocast::set_autocast_enabled(at::kCUDA, enabled);
    at::autocast::set_autocast_dtype(at::kCUDA, type);
#else
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(type);
#endif
}

torch::ScalarType autocastType()
{
#ifdef EFFICIENTNET_AUTOCAST_PER_DEVICE
    return at::autocast::get_autocast_dtype(at::kCUDA);
#else
    return at::autocast::get_autocast_gpu_dtype();
#endif
}

std::vector<torch::Tensor> gradients(torch::optim::Optimizer& optimizer)
{
    std::vector<torch::Tensor> grads;
    for (auto& group : optimizer.param_groups())
        for (auto& parameter : group.params())
            if (parameter.grad().defined())
                grads.push_back(parameter.mutable_grad());
    return grads;
}

} // namespace

void toChannelsLast(torch::nn::Module& module, const torch::Device& device)
{
    if (!device.is_cuda())
        return;
    torch::NoGradGuard noGrad;
    for (auto& parameter : module.parameters())
        if (parameter.dim() == 4)
            parameter.set_data(parameter.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

AutocastScope::AutocastScope(Precision precision, const torch::Device& device)
    : m_active(precision != Precision::Float32 && device.is_cuda())
{
    if (!m_active)
        return;
    m_wasEnabled = autocastEnabled();
    m_previousType = autocastType();
    setAutocast(true, precision == Precision::Float16 ? torch::kFloat16 : torch::kBFloat16);
    at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope()
{
    if (!m_active)
        return;
    // As torch.autocast's __exit__: the weight casts cached for this forward are dropped with the outermost scope.
    if (at::autocast::decrement_nesting() == 0)
        at::autocast::clear_cache();
    setAutocast(m_wasEnabled, m_previousType);
}

LossScaler::LossScaler(bool enabled) : m_enabled(enabled), m_scale(enabled ? kInitialScale : 1.0) {}

bool LossScaler::unscaleAndUpdate(torch::optim::Optimizer& optimizer)
{
    if (!m_enabled)
        return true;
    auto grads = gradients(optimizer);
    if (grads.empty())
        return true;
    const auto options = torch::TensorOptions().device(grads.front().device()).dtype(torch::kFloat32);
    auto foundInf = torch::zeros({1}, options);
    const auto inverse = torch::full({1}, 1.0 / m_scale, options);
    if (grads.front().is_cuda()) {
        // One fused pass over all gradients, GradScaler's own kernel.
        at::_amp_foreach_non_finite_check_and_unscale_(grads, foundInf, inverse);
    } else {
        // The fused kernel is CUDA-only in LibTorch 1.13; the same arithmetic per tensor.
        for (auto& grad : grads) {
            grad.mul_(inverse);
            foundInf.add_(grad.isfinite().all().logical_not().to(torch::kFloat32));
        }
    }
    const bool finite = foundInf.item<float>() == 0.0f;
    if (finite) {
        if (++m_cleanSteps == kGrowthInterval) {
            m_scale *= kGrowthFactor;
            m_cleanSteps = 0;
        }
    } else {
        m_scale *= kBackoffFactor;
        m_cleanSteps = 0;
    }
    return finite;
}

StepResult optimisationStep(torch::optim::Optimizer& optimizer, const std::function<torch::Tensor()>& forward,
                            const torch::Tensor& target, double labelSmoothing, Precision precision,
                            const torch::Device& device, LossScaler& scaler)
{
    optimizer.zero_grad();
    torch::Tensor logits;
    {
        AutocastScope autocast(precision, device);
        logits = forward();
    }
    // The loss in fp32 when autocast gave half-precision logits; fp64 (the parity test's) stays fp64.
    const bool half = logits.scalar_type() == torch::kHalf || logits.scalar_type() == torch::kBFloat16;
    const auto loss = torch::nn::functional::cross_entropy(
        half ? logits.to(torch::kFloat32) : logits, target,
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(labelSmoothing));
    if (scaler.enabled())
        (loss * scaler.scale()).backward();
    else
        loss.backward();
    StepResult result{loss.detach(), scaler.unscaleAndUpdate(optimizer)};
    if (result.applied)
        optimizer.step();
    return result;
}

torch::Tensor MultiTensorAdamW::step(LossClosure closure)
{
    torch::NoGradGuard noGrad;
    torch::Tensor loss;
    if (closure) {
        torch::AutoGradMode enableGrad(true);
        loss = closure();
    }
    for (auto& group : param_groups()) {
        const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
        TORCH_CHECK(!options.amsgrad(), "MultiTensorAdamW has no amsgrad");
        const auto [beta1, beta2] = options.betas();
        // Parameters that have stepped equally often share their bias corrections: one batch of _foreach calls each
        // (normally a single batch: every parameter of a group has a gradient at every step).
        std::map<std::int64_t, std::vector<torch::Tensor>> byStep;
        for (auto& parameter : group.params()) {
            if (!parameter.grad().defined())
                continue;
            auto& moments = m_moments[parameter.unsafeGetTensorImpl()];
            if (!moments.average.defined()) {
                moments.average = torch::zeros_like(parameter, torch::MemoryFormat::Preserve);
                moments.averageOfSquares = torch::zeros_like(parameter, torch::MemoryFormat::Preserve);
            }
            byStep[++moments.steps].push_back(parameter);
        }
        for (auto& [steps, parameters] : byStep) {
            std::vector<torch::Tensor> grads, averages, squares;
            for (auto& parameter : parameters) {
                auto& moments = m_moments[parameter.unsafeGetTensorImpl()];
                grads.push_back(parameter.grad());
                averages.push_back(moments.average);
                squares.push_back(moments.averageOfSquares);
            }
            const double correction1 = 1 - std::pow(beta1, static_cast<double>(steps));
            const double correction2 = 1 - std::pow(beta2, static_cast<double>(steps));
            if (options.weight_decay() != 0)
                at::_foreach_mul_(parameters, 1 - options.lr() * options.weight_decay());
            at::_foreach_mul_(averages, beta1);
            at::_foreach_add_(averages, grads, 1 - beta1);
            at::_foreach_mul_(squares, beta2);
            at::_foreach_addcmul_(squares, grads, grads, 1 - beta2);
            auto denominators = at::_foreach_sqrt(squares);
            at::_foreach_div_(denominators, std::sqrt(correction2));
            at::_foreach_add_(denominators, options.eps());
            at::_foreach_addcdiv_(parameters, averages, denominators, -options.lr() / correction1);
        }
    }
    return loss;
}

std::int64_t peakCudaMemory() { return cuda::peakAllocatedBytes(); }
void resetPeakCudaMemory() { cuda::resetPeakAllocatedBytes(); }

} // namespace efficientnet::training
