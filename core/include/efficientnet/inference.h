#pragma once
// The inference engine's model side: a loaded EfficientNet in its inference form on a device (BatchNorm folded,
// fp32/fp16/bf16, channels_last), replaying a CUDA graph per batch shape on CUDA. Used by the Classifier and by
// efficientnet-bench for "ready tensor" timings.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <torch/types.h>

#include "efficientnet/model.h"

namespace efficientnet {

namespace cuda {
class GraphForward;
}
namespace onednn {
class Network;
}

enum class Precision { Float32, Float16, BFloat16 };
const char* toString(Precision precision);
Precision parsePrecision(const std::string& text);      // fp32|fp16|bf16; throws ConfigError
torch::ScalarType scalarType(Precision precision);

struct InferenceOptions {
    torch::Device device = torch::kCPU;
    Precision precision = Precision::Float32;
    bool channelsLast = true;
    bool cudaGraphs = true;          // CUDA only: capture each batch shape once, replay afterwards
    bool autotune = true;            // CUDA only: cuDNN benchmark mode (process-wide; cuda_support.h)
    bool directOneDnn = true;        // CPU only: run oneDNN directly where the build has it (engine/cpu), else
                                     // through LibTorch
};

class InferenceModel {
public:
    // Takes a model with its weights loaded and turns it into its inference form. Throws ConfigError when the
    // precision is not supported on the device (half precision needs CUDA).
    InferenceModel(EfficientNet model, const InferenceOptions& options);
    ~InferenceModel();

    // Normalised NCHW input on the model's device (any float dtype) -> logits [N, classes] in fp32. Under
    // c10::InferenceMode. With CUDA graphs, the first call for a batch shape captures it, unless a graph of up to
    // twice its batch size was captured already: the batch then replays that one, padded.
    torch::Tensor forward(const torch::Tensor& input);
    // CUDA graphs captured so far (one per batch shape that needed its own).
    std::size_t capturedGraphs() const { return m_graphs.size(); }

    const InferenceOptions& options() const { return m_options; }
    const EfficientNet& model() const { return m_model; }
    // What runs the forward: "oneDNN 2.6.3 (direct)", "LibTorch CPU", "LibTorch CUDA".
    std::string backend() const;

private:
    torch::Tensor eagerForward(const torch::Tensor& input);
    cuda::GraphForward* graphToPadInto(const torch::Tensor& input);

    EfficientNet m_model;
    InferenceOptions m_options;
    std::map<std::vector<int64_t>, std::unique_ptr<cuda::GraphForward>> m_graphs;
    std::unique_ptr<onednn::Network> m_cpuNetwork;
};

} // namespace efficientnet
