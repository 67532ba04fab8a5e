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
    if (auto* larger = graphToPadInto(input))
        return larger->run(input).to(torch::kFloat);   // only the first input.size(0) rows come back
    auto& graph = m_graphs[input.sizes().vec()];
    if (!graph)
        graph = std::make_unique<cuda::GraphForward>([this](const torch::Tensor& x) { return eagerForward(x); }, input);
    return graph->run(input).to(torch::kFloat);
}

cuda::GraphForward* InferenceModel::graphToPadInto(const torch::Tensor& input)
{
    // A batch without a graph of its own, such as a folder's last, partial batch, replays the smallest captured graph
    // of up to twice its size: a new size would cost cuDNN's choice of algorithms for every layer plus a capture
    // (1.6-2.4 s for B0 on an H200, BENCHMARKS.md "Folders, third look"), the spare rows a few milliseconds. The
    // spare rows hold the previous batch's images; in the inference form every image's output depends on that
    // image alone (BatchNorm folded, pooling per image), so they change nothing.
    auto shape = input.sizes().vec();
    const int64_t batch = shape[0];
    if (m_graphs.count(shape))
        return nullptr;
    cuda::GraphForward* best = nullptr;
    int64_t bestBatch = 0;
    for (const auto& [captured, graph] : m_graphs) {
        shape[0] = captured[0];
        if (captured != shape || captured[0] <= batch || captured[0] > 2 * batch)
            continue;
        if (!best || captured[0] < bestBatch) {
            best = graph.get();
            bestBatch = captured[0];
        }
    }
    return best;
}

} // namespace efficientnet
