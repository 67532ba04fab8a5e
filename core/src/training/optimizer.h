#pragma once
// The fine-tuning recipe's optimiser and its step (trainer.cpp), apart from the trainer's loop so that a test can
// hold them against PyTorch's on a given batch (tests/core/test_training_parity.cpp,
// tests/reference/make_training_step.py). Batching, augmentation and the learning-rate schedule stay in the trainer.
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace efficientnet::training {

// AdamW over `parameters` as the recipe sets it up (timm's param_groups_weight_decay): decoupled weight decay on
// weights, i.e. tensors of two or more dimensions (convolution and Linear weights), and none on biases and BatchNorm
// parameters; PyTorch's betas (0.9, 0.999) and eps (1e-8).
std::unique_ptr<torch::optim::AdamW> makeOptimizer(const std::vector<torch::Tensor>& parameters, double learningRate,
                                                   double weightDecay);

// Clears the gradients, runs `forward` (the logits of the batch), label-smoothed cross-entropy averaged over the batch
// (torch.nn.functional.cross_entropy), backward, and one optimiser step at the groups' current learning rates. Modes
// (training, frozen BatchNorms) are the caller's. Returns the loss, detached.
torch::Tensor optimisationStep(torch::optim::Optimizer& optimizer, const std::function<torch::Tensor()>& forward,
                               const torch::Tensor& target, double labelSmoothing);

} // namespace efficientnet::training
