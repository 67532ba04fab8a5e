#include "training/optimizer.h"

#include "efficientnet/training_step.h"

namespace efficientnet::training {

std::unique_ptr<torch::optim::AdamW> makeOptimizer(const std::vector<torch::Tensor>& parameters, double learningRate,
                                                   double weightDecay)
{
    std::vector<torch::Tensor> decay, noDecay;
    for (const auto& parameter : parameters)
        (parameter.dim() >= 2 ? decay : noDecay).push_back(parameter);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty())
        groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                       torch::optim::AdamWOptions(learningRate).weight_decay(weightDecay)));
    if (!noDecay.empty())
        groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                         torch::optim::AdamWOptions(learningRate).weight_decay(0.0)));
    return std::make_unique<MultiTensorAdamW>(std::move(groups));
}

} // namespace efficientnet::training
