#pragma once
// The fine-tuning recipe's optimiser (trainer.cpp), apart from the trainer's loop so that a test can hold it and the
// step (efficientnet/training_step.h) against PyTorch's on a given batch (tests/core/test_training_parity.cpp,
// tests/reference/make_training_step.py). Batching, augmentation and the learning-rate schedule stay in the trainer.
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace efficientnet::training {

// AdamW over `parameters` as the recipe sets it up (timm's param_groups_weight_decay): decoupled weight decay on
// weights, i.e. tensors of two or more dimensions (convolution and Linear weights), and none on biases and BatchNorm
// parameters; PyTorch's betas (0.9, 0.999) and eps (1e-8). The update is training::MultiTensorAdamW's.
std::unique_ptr<torch::optim::AdamW> makeOptimizer(const std::vector<torch::Tensor>& parameters, double learningRate,
                                                   double weightDecay);

} // namespace efficientnet::training
