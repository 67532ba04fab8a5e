#include "efficientnet/swish.h"

#include <torch/torch.h>

namespace efficientnet::activation {
namespace {

struct SwishFunction : public torch::autograd::Function<SwishFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x)
    {
        ctx->save_for_backward({x});
        return x * torch::sigmoid(x);
    }

    // d/dx x*s(x) = s(x) * (1 + x * (1 - s(x)))
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list gradOutputs)
    {
        const auto x = ctx->get_saved_variables()[0];
        const auto s = torch::sigmoid(x);
        return {gradOutputs[0] * (s * (1 + x * (1 - s)))};
    }
};

} // namespace

torch::Tensor swish(const torch::Tensor& x)
{
    if (torch::GradMode::is_enabled() && x.requires_grad())
        return SwishFunction::apply(x);
    return torch::silu(x);
}

} // namespace efficientnet::activation
