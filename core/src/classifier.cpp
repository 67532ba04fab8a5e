#include "efficientnet/classifier.h"

#include <cstdlib>
#include <filesystem>

#include <torch/torch.h>

#include "efficientnet/errors.h"
#include "efficientnet/model.h"
#include "efficientnet/preprocess.h"
#include "efficientnet/weights.h"

namespace efficientnet {
namespace {

namespace fs = std::filesystem;

torch::Device chooseDevice(const std::string& device)
{
    if (device == "cpu")
        return torch::kCPU;
    const bool cuda = torch::cuda::is_available();
    if (device == "cuda") {
        if (!cuda)
            throw ConfigError("--device cuda: no CUDA device is available (this LibTorch build has no CUDA, or no "
                              "GPU/driver was found); use --device cpu or auto");
        return torch::Device(torch::kCUDA, 0);
    }
    if (device == "auto")
        return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    throw ConfigError("unknown device '" + device + "'; use auto, cpu or cuda");
}

std::string envOr(const char* name, const std::string& fallback)
{
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

bool isCheckpointFile(const fs::path& p)
{
    const auto ext = p.extension().string();
    return ext == ".pth" || ext == ".pt" || ext == ".safetensors" || ext == ".bin";
}

// "efficientnet_b0_rwightman-7f5810bc.pth" belongs to efficientnet_b0, not to efficientnet_b0x or tf_efficientnet_b0.
bool namesModel(const std::string& file, const std::string& model)
{
    if (file.rfind(model, 0) != 0 || file.size() == model.size())
        return false;
    const char next = file[model.size()];
    return next == '.' || next == '_' || next == '-';
}

} // namespace

struct Classifier::Impl {
    ModelName name;
    torch::Device device = torch::kCPU;
    EfficientNet model{nullptr};
    std::vector<std::string> labels;
    std::string weights;
};

Classifier::Classifier(const ClassifierOptions& options)
    : m_impl(std::make_unique<Impl>())
{
    auto& d = *m_impl;
    d.name = resolveModelName(options.model);
    d.device = chooseDevice(options.device);
    d.labels = options.labels;
    d.model = EfficientNet(EfficientNetOptions(d.name.spec->name).padding(d.name.padding).bnEps(d.name.bnEps));
    if (!options.weights.empty()) {
        // Without an explicit source, a checkpoint's keys tell; the model name's hint is only the fallback.
        const auto loaded = loadWeights(d.model, options.weights, options.source);
        d.weights = options.weights + " (" + toString(loaded.source) + " keys)";
    } else if (options.randomWeights) {
        d.weights = "random (predictions are meaningless)";
    } else {
        throw ConfigError("no weights for " + options.model + ": give --weights FILE, put a checkpoint in " +
                          weightsCacheDir() + ", or pass --random-weights to run on random weights");
    }
    d.model->eval();
    d.model->to(d.device);
}

Classifier::~Classifier() = default;
Classifier::Classifier(Classifier&&) noexcept = default;
Classifier& Classifier::operator=(Classifier&&) noexcept = default;

std::vector<Prediction> Classifier::classify(const Image& image, int topk)
{
    auto& d = *m_impl;
    c10::InferenceMode inference;
    const auto input = preprocess(image, d.name.spec->preprocessing).unsqueeze(0).to(d.device);
    const auto probabilities = torch::softmax(d.model->forward(input), 1)[0].to(torch::kCPU);
    const auto k = std::clamp<int64_t>(topk, 1, probabilities.size(0));
    const auto [values, indices] = probabilities.topk(k);
    std::vector<Prediction> predictions;
    for (int64_t i = 0; i < k; ++i) {
        const int index = static_cast<int>(indices[i].item<int64_t>());
        const bool named = index < static_cast<int>(d.labels.size());
        predictions.push_back({index, named ? d.labels[index] : "class " + std::to_string(index), values[i].item<float>()});
    }
    return predictions;
}

const ModelName& Classifier::model() const { return m_impl->name; }

std::string Classifier::deviceName() const
{
    return m_impl->device.str();
}

std::string Classifier::weightsDescription() const { return m_impl->weights; }

std::string weightsCacheDir()
{
    const std::string home = envOr("HOME", ".");
    return envOr("EFFICIENTNET_CACHE_DIR", envOr("XDG_CACHE_HOME", home + "/.cache") + "/efficientnet-libtorch");
}

std::string findCachedWeights(const std::string& modelName)
{
    const std::string home = envOr("HOME", ".");
    const std::vector<fs::path> folders{weightsCacheDir(),
                                        envOr("TORCH_HOME", envOr("XDG_CACHE_HOME", home + "/.cache") + "/torch") +
                                            "/hub/checkpoints"};
    for (const auto& folder : folders) {
        std::error_code ec;
        std::vector<fs::path> matches;
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
            if (it->is_regular_file(ec) && isCheckpointFile(it->path()) && namesModel(it->path().filename().string(), modelName))
                matches.push_back(it->path());
        if (!matches.empty()) {
            std::sort(matches.begin(), matches.end());
            return matches.front().string();
        }
    }
    return {};
}

} // namespace efficientnet
