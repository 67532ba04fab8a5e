// The tensors' side of checkpoint_info.h: which network they fit, how many classes, and everything resolved once
// (the network's name, transform and labels by the rules in checkpoint_info.cpp).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>

#include <torch/torch.h>

#include "efficientnet/errors.h"
#include "efficientnet/keymap.h"
#include "efficientnet/weights.h"
#include "model/checkpoint_files.h"
#include "model/resolve.h"

namespace efficientnet {
namespace {

constexpr char kClassifierWeight[] = "classifier.1.weight";

// ---- the network the tensors fit ----

// Whether torchvision-keyed tensors have the variant's stem, stages and head (a cheap structural check that tells
// the variants apart; the strict load afterwards checks every shape).
bool structureFits(const NamedTensors& mapped, const VariantSpec& spec)
{
    const auto stages = scaledStages(spec);
    const std::string head = "features." + std::to_string(stages.size() + 1) + ".0.weight";
    std::map<int, std::set<int>> blocks;
    const torch::Tensor* stem = nullptr;
    const torch::Tensor* headConv = nullptr;
    for (const auto& [key, tensor] : mapped) {
        if (key == "features.0.0.weight")
            stem = &tensor;
        if (key == head)
            headConv = &tensor;
        int stage = 0, block = 0, end = 0;   // "features.S.B.block.*": block B of stage S
        if (std::sscanf(key.c_str(), "features.%d.%d.%n", &stage, &block, &end) == 2 && end > 0 &&
            key.compare(static_cast<size_t>(end), 6, "block.") == 0)
            blocks[stage].insert(block);
    }
    if (!stem || !headConv || stem->dim() != 4 || headConv->dim() != 4 || stem->size(0) != scaledStemChannels(spec) ||
        headConv->size(0) != scaledHeadChannels(spec) || blocks.size() != stages.size())
        return false;
    for (size_t s = 0; s < stages.size(); ++s)
        if (static_cast<int>(blocks[static_cast<int>(s) + 1].size()) != stages[s].repeats)
            return false;
    return true;
}

std::optional<NamedTensors> mapFor(const NamedTensors& raw, const VariantSpec& spec, WeightSource keys,
                                   const std::string& path)
{
    try {
        auto mapped = toTorchvisionKeys(raw, spec, keys, path);
        if (structureFits(mapped, spec))
            return mapped;
    } catch (const CheckpointError&) {
    }
    return std::nullopt;
}

const VariantSpec* fittingVariant(const NamedTensors& raw, WeightSource keys, const std::string& path)
{
    for (const auto& spec : allVariants())
        if ((keys != WeightSource::Lukemelas || spec.headChannels == 0) && mapFor(raw, spec, keys, path))
            return &spec;
    return nullptr;
}

// The name a variant goes by for weights trained by `source`, when nothing names it: lukemelas's own names, timm's
// architecture names (symmetric padding; tf_ ones need --model), else torchvision's.
ModelName nameForVariant(const VariantSpec& spec, WeightSource source)
{
    if (source == WeightSource::Lukemelas)
        return resolveModelName("efficientnet-b" + spec.name.substr(std::string("efficientnet_b").size()));
    ModelName name = resolveModelName(spec.name);
    // timm publishes V2-S/M/L weights only as TensorFlow ports (tf_efficientnetv2_*: its efficientnetv2_s/m/l tags
    // are "untrained"), so timm V2 keys mean tf_; for B0-B7 both exist, and symmetric padding is the guess.
    if (source == WeightSource::Timm)
        return resolveModelName((spec.headChannels ? "tf_" : "") + timmArchitecture(name));
    return name;
}

std::optional<WeightSource> parseSource(const std::string& text)
{
    for (auto source : {WeightSource::Torchvision, WeightSource::Timm, WeightSource::Lukemelas})
        if (text == toString(source))
            return source;
    return std::nullopt;
}

std::string formatName(CheckpointFormat format)
{
    switch (format) {
    case CheckpointFormat::TorchZip: return "torch.save zip";
    case CheckpointFormat::TorchLegacy: return "torch.save legacy";
    case CheckpointFormat::Safetensors: return "safetensors";
    }
    return "?";
}

// torch's names (torch.float32), which the people reading `inspect` know.
std::string dtypeName(c10::ScalarType type)
{
    switch (type) {
    case c10::ScalarType::Float: return "float32";
    case c10::ScalarType::Double: return "float64";
    case c10::ScalarType::Half: return "float16";
    case c10::ScalarType::BFloat16: return "bfloat16";
    case c10::ScalarType::Long: return "int64";
    case c10::ScalarType::Int: return "int32";
    case c10::ScalarType::Short: return "int16";
    case c10::ScalarType::Char: return "int8";
    case c10::ScalarType::Byte: return "uint8";
    case c10::ScalarType::Bool: return "bool";
    default: return c10::toString(type);
    }
}

} // namespace

std::int64_t parameterCount(const NamedTensors& tensors)
{
    static const std::string kBuffers[] = {".running_mean", ".running_var", ".num_batches_tracked"};
    std::int64_t count = 0;
    for (const auto& item : tensors) {
        const std::string& key = item.first;
        const auto endsWith = [&](const std::string& suffix) {
            return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
        };
        if (std::none_of(std::begin(kBuffers), std::end(kBuffers), endsWith))
            count += item.second.numel();
    }
    return count;
}

ResolvedCheckpoint resolveCheckpoint(const ModelRequest& request)
{
    ResolvedCheckpoint resolved;
    CheckpointInfo& info = resolved.info;
    if (request.weights.empty()) {
        info.name = resolveModelName(request.model.empty() ? "efficientnet_b0" : request.model);
        info.nameOrigin = request.model.empty() ? "the default" : "--model";
        info.format = "random";
        info.keys = info.trainedBy = info.name.namingHint;
        info.transform = applyOverrides(defaultTransform(info.name, info.trainedBy), request.overrides);
        info.labels = chooseLabels(request, info, std::nullopt);
        return resolved;
    }

    const Located located = locate(request.weights);
    info.weightsPath = located.weights;
    info.configPath = located.config;
    std::optional<HubConfig> config;
    if (!located.config.empty())
        config = readHubConfig(located.config);
    const auto format = detectCheckpointFormat(info.weightsPath);
    info.format = formatName(format);
    NamedTensors raw = readCheckpoint(info.weightsPath);
    if (format == CheckpointFormat::Safetensors)
        info.metadata = readSafetensorsMetadata(info.weightsPath);
    for (const auto& [key, tensor] : raw)
        ++info.dtypes[dtypeName(tensor.scalar_type())];
    info.parameters = parameterCount(raw);

    std::vector<std::string> keys;
    for (const auto& [key, tensor] : raw)
        keys.push_back(key);
    const auto detected = request.source ? request.source : detectWeightSource(keys);
    if (!detected)
        throw CheckpointError(info.weightsPath, "cannot tell whose checkpoint this is: its keys are neither "
                                                "torchvision's, timm's nor lukemelas's EfficientNet keys");
    info.keys = *detected;
    const auto metadataText = [&](const char* key) {
        const auto it = info.metadata.find(key);
        return it == info.metadata.end() ? std::string() : it->second;
    };
    info.trainedBy = parseSource(metadataText(kSourceKey)).value_or(info.keys);

    // The network: --model, else the file's metadata, else config.json, else the variant its shapes fit.
    const VariantSpec* fits = fittingVariant(raw, info.keys, info.weightsPath);
    const auto nameFromFile = [&]() -> std::optional<std::pair<std::string, std::string>> {
        if (!metadataText(kArchitectureKey).empty())
            return std::make_pair(metadataText(kArchitectureKey), std::string("the file's metadata"));
        if (config && config->architecture)
            return std::make_pair(*config->architecture, config->path);
        return std::nullopt;
    }();
    const bool preferenceFits = request.modelIsPreference && !request.model.empty() &&
                                (!fits || fits == resolveModelName(request.model).spec);
    if (!request.model.empty() && (!request.modelIsPreference || preferenceFits)) {
        info.name = resolveModelName(request.model);
        info.nameOrigin = "--model";
    } else if (nameFromFile) {
        try {
            info.name = resolveModelName(nameFromFile->first);
        } catch (const ConfigError& e) {
            throw CheckpointError(info.weightsPath, nameFromFile->second + " names a model this program cannot build: " +
                                                        e.what());
        }
        info.nameOrigin = nameFromFile->second;
    } else if (fits) {
        info.name = nameForVariant(*fits, info.trainedBy);
        if (metadataText(kPaddingKey) == toString(Padding::TfSame) && info.name.padding == Padding::Symmetric)
            info.name = resolveModelName("tf_" + timmArchitecture(info.name));   // a converted TF port
        info.nameOrigin = "its tensors' shapes";
    } else {
        throw CheckpointError(info.weightsPath, "fits none of the EfficientNet variants (" + std::string(toString(info.keys)) +
                                                    " keys); name one with --model to see which keys differ");
    }
    if (fits && fits != info.name.spec) {
        const std::string fitting = nameForVariant(*fits, info.trainedBy).architecture;
        // Named where the other network came from unless the user gave it: a config.json or metadata that names the
        // wrong network read as though --model had been given.
        const std::string saidBy = info.nameOrigin == "--model" ? "" : ", as " + info.nameOrigin + " says";
        throw NetworkMismatchError(info.weightsPath + " is an " + fits->name + " checkpoint (" + toString(info.keys) +
                                       " keys), not " + info.name.spec->name + saidBy + ": use --model " + fitting,
                                   fitting);
    }
    if (info.keys == WeightSource::Lukemelas && info.name.spec->headChannels != 0)
        throw CheckpointError(info.weightsPath, "lukemelas/EfficientNet-PyTorch has no " + info.name.spec->name +
                                                    "; choose a B0-B7 model");

    resolved.tensors = toTorchvisionKeys(raw, *info.name.spec, info.keys, info.weightsPath);
    raw.clear();
    const auto classifier = std::find_if(resolved.tensors.begin(), resolved.tensors.end(),
                                         [](const auto& entry) { return entry.first == kClassifierWeight; });
    if (classifier == resolved.tensors.end() || classifier->second.dim() != 2)
        throw CheckpointError(info.weightsPath, "has no classifier weight (classifier.1.weight, classifier.weight or "
                                                "_fc.weight) of two dimensions");
    const int64_t classes = classifier->second.size(0);
    if (classes < 1 || classes > kMaxClasses)
        throw CheckpointError(info.weightsPath, "its classifier has " + std::to_string(classes) + " classes, more "
                                                "than the limit of " + std::to_string(kMaxClasses));
    info.numClasses = static_cast<int>(classes);
    if (config && config->numClasses && *config->numClasses != info.numClasses)
        throw CheckpointError(config->path, "says num_classes " + std::to_string(*config->numClasses) + " but " +
                                                info.weightsPath + "'s classifier has " +
                                                std::to_string(info.numClasses) + " classes");

    // The transform: the tag named with --model, else the file's metadata, else config.json, else the source's own.
    Transform transform = defaultTransform(info.name, info.trainedBy);
    if (info.name.tag.empty()) {
        std::string problem;
        if (!metadataText(kPreprocessingKey).empty()) {
            const auto p = preprocessingFromJson(metadataText(kPreprocessingKey), problem);
            if (!p)
                throw CheckpointError(info.weightsPath, "its metadata's preprocessing " + problem);
            transform = {*p, "the file's metadata"};
        } else if (config && config->transform) {
            transform = *config->transform;
        }
    }
    info.transform = applyOverrides(transform, request.overrides);
    info.labels = chooseLabels(request, info, config);
    return resolved;
}

CheckpointInfo inspectCheckpoint(const ModelRequest& request) { return resolveCheckpoint(request).info; }


} // namespace efficientnet
