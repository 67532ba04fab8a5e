#pragma once
// EfficientNet's CPU forward in oneDNN used directly (issue 15): every layer one oneDNN primitive with its bias, SiLU
// and residual add fused, the squeeze-excitation in oneDNN's blocked layout, all primitives created once per input
// size and replayed. Built when CMake finds oneDNN (EFFICIENTNET_WITH_ONEDNN); otherwise compiled() is false and the
// engine runs the CPU through LibTorch.
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "efficientnet/model.h"

namespace efficientnet::onednn {

bool compiled();
std::string version();   // "oneDNN 2.6.3"; empty when not compiled

class Network {
public:
    // Reads the layers of a model with its weights loaded (BatchNorm folded here, in fp32); the model is not changed
    // and not kept. Throws ConfigError when not compiled().
    explicit Network(const EfficientNet& model);
    ~Network();

    // One normalised image [1, 3, H, W] (any float dtype, any memory format) on the CPU -> logits [1, classes] fp32.
    // The first call for an input size creates its primitives. Calls are serialised.
    torch::Tensor forward(const torch::Tensor& image);

    // The implementation oneDNN chose for each primitive of the plan for an input size (creating it if needed),
    // e.g. "brg:avx512_core" or "jit_dw:avx512_core"; "ref" ones are oneDNN's slow reference code.
    std::vector<std::string> implementations(int64_t height, int64_t width);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace efficientnet::onednn
