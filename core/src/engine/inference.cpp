#include "efficientnet/inference.h"

#include <torch/torch.h>

#include "engine/cpu/onednn_network.h"
#include "engine/cuda_support.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"

namespace efficientnet {
namespace {

// On the CPU the network runs one image at a time: its oneDNN form is several times faster per image at batch 1
// than in batches on the 2-core machine (BENCHMARKS.md, "The CPU engine's batches"), as a batch's activations fall
// out of the cache between layers.
constexpr int64_t kCpuImagesPerForward = 1;

} // namespace

const char* toString(Precision precision)
{
    switch (precision) {
    case Precision::Float32: return "fp32";
    case Precision::Float16: return "fp16";
    case Precision::BFloat16: return "bf16";
    }
    return "?";
}

Precision parsePrecision(const std::string& text)
{
    for (auto p : {Precision::Float32, Precision::Float16, Precision::BFloat16})
        if (text == toString(p))
            return p;
    throw ConfigError("unknown precision '" + text + "'; use fp32, fp16 or bf16");
}

torch::ScalarType scalarType(Precision precision)
{
    switch (precision) {
    case Precision::Float16: return torch::kHalf;
    case Precision::BFloat16: return torch::kBFloat16;
    case Precision::Float32: break;
    }
    return torch::kFloat;
}

InferenceModel::InferenceModel(EfficientNet model, const InferenceOptions& options)
    : m_model(std::move(model))
    , m_options(options)
{
    const bool onCuda = options.device.is_cuda();
    if (!onCuda && options.precision != Precision::Float32)
        throw ConfigError(std::string("precision ") + toString(options.precision) +
                          " needs a CUDA device; on the CPU use fp32");
    if (onCuda)
        cuda::setAutotuning(options.autotune);
    else
        platform::retainFreedMemory();   // or each forward may page-fault its activations back in (platform.h)
    if (!onCuda && options.directOneDnn && onednn::compiled()) {
        m_model->eval();
        m_cpuNetwork = std::make_unique<onednn::Network>(m_model);
        return;
    }
    m_model->prepareForInference(options.device, scalarType(options.precision), options.channelsLast);
}

std::string InferenceModel::backend() const
{
    if (m_cpuNetwork)
        return onednn::version() + " (direct)";
    return m_options.device.is_cuda() ? "LibTorch CUDA" : "LibTorch CPU";
}

InferenceModel::~InferenceModel() = default;

torch::Tensor InferenceModel::eagerForward(const torch::Tensor& input)
{
    if (m_cpuNetwork)
        return m_cpuNetwork->forward(input);
    return m_model->forward(input.to(scalarType(m_options.precision)));
}

torch::Tensor InferenceModel::forward(const torch::Tensor& input)
{
    c10::InferenceMode inference;
    if (!input.is_cuda() && input.size(0) > kCpuImagesPerForward) {
        std::vector<torch::Tensor> parts;
        for (const auto& images : input.split(kCpuImagesPerForward))
            parts.push_back(eagerForward(images));
        return torch::cat(parts).to(torch::kFloat);
    }
    if (!(m_options.cudaGraphs && input.is_cuda()))
        return eagerForward(input).to(torch::kFloat);
    auto& graph = m_graphs[input.sizes().vec()];
    if (!graph)
        graph = std::make_unique<cuda::GraphForward>([this](const torch::Tensor& x) { return eagerForward(x); }, input);
    return graph->run(input).to(torch::kFloat);
}

} // namespace efficientnet
