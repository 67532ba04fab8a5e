// How a checkpoint is understood (checkpoint_info.h). Each rule follows what the file's own source does: timm's
// config.json (timm/models/_hub.py push_to_hf_hub: architecture, num_classes, pretrained_cfg, label_names), the
// metadata this program writes, and for plain state_dicts their keys and shapes.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/untrusted.h"
#include "efficientnet/errors.h"
#include "efficientnet/keymap.h"
#include "efficientnet/limits.h"
#include "efficientnet/weights.h"
#include "model/resolve.h"

namespace efficientnet {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr char kHubWeights[] = "model.safetensors";
constexpr char kHubLegacyWeights[] = "pytorch_model.bin";
constexpr char kHubConfig[] = "config.json";
constexpr char kLabelsSuffix[] = ".labels.txt";
constexpr char kClassifierWeight[] = "classifier.1.weight";
constexpr int kImageNetClasses = 1000;
// Metadata keys (describingMetadata); "source" and "variant" are what convert wrote before.
constexpr char kArchitectureKey[] = "architecture";
constexpr char kVariantKey[] = "variant";
constexpr char kSourceKey[] = "source";
constexpr char kPaddingKey[] = "padding";
constexpr char kClassesKey[] = "num_classes";
constexpr char kPreprocessingKey[] = "preprocessing";
constexpr char kLabelsKey[] = "labels";

std::string readTextFile(const std::string& path, const char* what)
{
    std::error_code error;
    const auto size = fs::file_size(path, error);
    std::ifstream in(path, std::ios::binary);
    if (error || !in)
        throw ConfigError(path + ": cannot read the " + what + " — check the path");
    if (size > kMaxJsonFileBytes)
        throw ConfigError(path + ": the " + what + " is " + describeBytes(size) + ", more than the limit of " +
                          describeBytes(kMaxJsonFileBytes));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- labels ----

std::vector<std::string> labelsFromJson(const Json& doc, const std::string& path)
{
    const auto fail = [&](const std::string& problem) -> std::vector<std::string> {
        throw ConfigError(path + ": " + problem + " (expected a list of names, {\"0\": \"name\", ...}, or an object "
                                                  "with \"label_names\" or \"id2label\")");
    };
    if (doc.is_object() && doc.contains("label_names"))
        return labelsFromJson(doc.at("label_names"), path);
    if (doc.is_object() && doc.contains("id2label"))
        return labelsFromJson(doc.at("id2label"), path);
    std::vector<std::string> names;
    if (doc.is_array()) {
        for (const Json& name : doc) {
            if (!name.is_string())
                return fail("a class name is " + describeJson(name) + ", not text");
            names.push_back(name.get<std::string>());
        }
        return names;
    }
    if (!doc.is_object())
        return fail("holds " + describeJson(doc));
    // {"0": "tench", "1": "goldfish"}: every index from 0 to N-1 exactly once.
    names.resize(doc.size());
    std::vector<bool> seen(doc.size(), false);
    for (const auto& [key, name] : doc.items()) {
        size_t index = 0;
        const bool number = !key.empty() && key.size() <= 9 &&
                            std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (number)
            index = std::stoul(key);
        if (!number || index >= doc.size() || seen[index])
            return fail("key '" + printable(key) + "' is not one of the indices 0 to " + std::to_string(doc.size() - 1));
        if (!name.is_string())
            return fail("class " + key + " is " + describeJson(name) + ", not text");
        names[index] = name.get<std::string>();
        seen[index] = true;
    }
    return names;
}

// ---- Hugging Face model folders (timm push_to_hf_hub) ----

struct HubConfig {
    std::string path;
    std::optional<std::string> architecture;
    std::optional<int> numClasses;
    std::optional<Transform> transform;
    std::optional<std::vector<std::string>> labelNames;
};

[[noreturn]] void configError(const std::string& path, const std::string& problem)
{
    throw CheckpointError(path, problem + " — is it a timm model folder's config.json?");
}

std::array<float, 3> channelTriple(const Json& value, const std::string& path, const char* key)
{
    if (!value.is_array() || value.size() != 3 || !value[0].is_number() || !value[1].is_number() || !value[2].is_number())
        configError(path, std::string("pretrained_cfg.") + key + " is " + describeJson(value) + ", not 3 numbers");
    return {value[0].get<float>(), value[1].get<float>(), value[2].get<float>()};
}

int configSize(const Json& cfg, const char* key, const std::string& path)
{
    const Json& value = cfg.at(key);   // [3, H, W] as timm writes it
    if (!value.is_array() || value.size() != 3 || !value[1].is_number_integer() || !value[2].is_number_integer() ||
        value[1] != value[2] || value[1].get<int64_t>() < 1 || value[1].get<int64_t>() > 8192)
        configError(path, std::string("pretrained_cfg.") + key + " is " + describeJson(value) +
                              ", not [3, size, size] with a square size up to 8192");
    return value[1].get<int>();
}

// pretrained_cfg -> the transform timm would evaluate with (resolve_data_config(use_test_size=True)).
Transform configTransform(const Json& cfg, const std::string& path)
{
    if (!cfg.is_object())
        configError(path, "pretrained_cfg is " + describeJson(cfg) + ", not an object");
    const bool test = cfg.contains("test_input_size") && !cfg.at("test_input_size").is_null();
    if (!test && !cfg.contains("input_size"))
        configError(path, "pretrained_cfg has no input_size");
    const int size = configSize(cfg, test ? "test_input_size" : "input_size", path);
    const auto number = [&](const char* key, double fallback) {
        if (!cfg.contains(key) || cfg.at(key).is_null())
            return fallback;
        if (!cfg.at(key).is_number() || !(cfg.at(key).get<double>() > 0.0) || cfg.at(key).get<double>() > 1.0)
            configError(path, std::string("pretrained_cfg.") + key + " is " + describeJson(cfg.at(key)) +
                                  ", not a fraction in (0, 1]");
        return cfg.at(key).get<double>();
    };
    const double cropPct = test && cfg.contains("test_crop_pct") && !cfg.at("test_crop_pct").is_null()
                               ? number("test_crop_pct", 0.875)
                               : number("crop_pct", 0.875);   // timm DEFAULT_CROP_PCT
    const auto word = [&](const char* key, const char* fallback) {
        if (!cfg.contains(key) || cfg.at(key).is_null())
            return std::string(fallback);
        if (!cfg.at(key).is_string())
            configError(path, std::string("pretrained_cfg.") + key + " is " + describeJson(cfg.at(key)) + ", not text");
        return cfg.at(key).get<std::string>();
    };
    const std::string interpolation = word("interpolation", "bicubic"), mode = word("crop_mode", "center");
    if (interpolation != "bicubic" && interpolation != "bilinear")
        configError(path, "pretrained_cfg.interpolation '" + printable(interpolation) + "' is not bicubic or bilinear");
    if (mode != "center" && mode != "squash")
        configError(path, "pretrained_cfg.crop_mode '" + printable(mode) + "' is not center or squash (border is not "
                          "supported)");
    const auto mean = cfg.contains("mean") ? channelTriple(cfg.at("mean"), path, "mean") : std::array<float, 3>{0.485f, 0.456f, 0.406f};
    const auto std = cfg.contains("std") ? channelTriple(cfg.at("std"), path, "std") : std::array<float, 3>{0.229f, 0.224f, 0.225f};
    if (!(std[0] > 0 && std[1] > 0 && std[2] > 0))
        configError(path, "pretrained_cfg.std must be positive");
    Transform t{timmPreprocessing(size, cropPct, mode == "squash" ? ResizeMode::Squash : ResizeMode::ShorterSide,
                                  interpolation == "bicubic" ? Interpolation::Bicubic : Interpolation::Bilinear, mean, std),
                "config.json pretrained_cfg" + std::string(test ? " at its test size " + std::to_string(size) : "")};
    return t;
}

HubConfig readHubConfig(const std::string& path)
{
    std::string problem;
    const auto doc = parseUntrustedJson(readTextFile(path, "model config"), problem);
    if (!doc)
        configError(path, "the config " + problem);
    if (!doc->is_object())
        configError(path, "holds " + describeJson(*doc) + ", not an object");
    HubConfig config{path, {}, {}, {}, {}};
    if (doc->contains("architecture")) {
        if (!doc->at("architecture").is_string())
            configError(path, "architecture is " + describeJson(doc->at("architecture")) + ", not a model name");
        config.architecture = doc->at("architecture").get<std::string>();
    }
    if (doc->contains("num_classes")) {
        const Json& n = doc->at("num_classes");
        if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > kMaxClasses)
            configError(path, "num_classes is " + describeJson(n) + ", not a number of classes from 1 to " +
                                  std::to_string(kMaxClasses));
        config.numClasses = n.get<int>();
    }
    if (doc->contains("pretrained_cfg"))
        config.transform = configTransform(doc->at("pretrained_cfg"), path);
    if (doc->contains("label_names"))
        try {
            config.labelNames = labelsFromJson(doc->at("label_names"), path);
        } catch (const ConfigError& e) {
            throw CheckpointError(path, std::string("label_names: ") + e.what());
        }
    return config;
}

struct Located {
    std::string weights;
    std::string config;
};

// A folder: a Hugging Face model folder (model.safetensors, else pytorch_model.bin, and config.json); a file named as
// such a folder's weights: its config.json when there is one (hub downloads are cached that way).
Located locate(const std::string& path)
{
    std::error_code error;
    const fs::path p(path);
    if (fs::is_directory(p, error)) {
        for (const char* name : {kHubWeights, kHubLegacyWeights})
            if (fs::exists(p / name, error))
                return {(p / name).string(), fs::exists(p / kHubConfig, error) ? (p / kHubConfig).string() : ""};
        throw CheckpointError(path, std::string("is a folder without ") + kHubWeights + " or " + kHubLegacyWeights +
                                        "; give a checkpoint file or a Hugging Face model folder");
    }
    const auto name = p.filename().string();
    const fs::path config = p.parent_path() / kHubConfig;
    if ((name == kHubWeights || name == kHubLegacyWeights) && fs::exists(config, error))
        return {path, config.string()};
    return {path, ""};
}

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

std::vector<std::string> numbered(int count)
{
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i)
        names.push_back("class " + std::to_string(i));
    return names;
}

// First found wins: --labels, the file's metadata, config.json, a sidecar WEIGHTS.labels.txt, ImageNet's for 1000
// classes, else "class N". A count that does not match the head is an error naming both numbers.
LabelSet chooseLabels(const ModelRequest& request, const CheckpointInfo& info, const std::optional<HubConfig>& config)
{
    LabelSet labels;
    if (!request.labelsFile.empty()) {
        labels = readLabelsFile(request.labelsFile);
    } else if (const auto it = info.metadata.find(kLabelsKey); it != info.metadata.end()) {
        std::string problem;
        const auto doc = parseUntrustedJson(it->second, problem);
        if (!doc)
            throw CheckpointError(info.weightsPath, "its metadata's labels " + problem);
        try {
            labels = {labelsFromJson(*doc, info.weightsPath), "the file's metadata"};
        } catch (const ConfigError& e) {
            throw CheckpointError(info.weightsPath, std::string("its metadata's labels: ") + e.what());
        }
    } else if (config && config->labelNames) {
        labels = {*config->labelNames, config->path + " label_names"};
    } else if (!info.weightsPath.empty()) {
        const fs::path weights(info.weightsPath);
        std::error_code error;
        for (const fs::path& sidecar : {fs::path(info.weightsPath + kLabelsSuffix),
                                        weights.parent_path() / (weights.stem().string() + kLabelsSuffix)})
            if (labels.names.empty() && fs::exists(sidecar, error)) {
                labels = readLabelsFile(sidecar.string());
                labels.origin = sidecar.string();
            }
    }
    if (labels.names.empty()) {
        if (info.numClasses == kImageNetClasses && !request.imagenetLabels.empty())
            return {request.imagenetLabels, "ImageNet-1k"};
        return {numbered(info.numClasses), "none (class N)"};
    }
    if (static_cast<int>(labels.names.size()) != info.numClasses)
        throw ConfigError(labels.origin + " has " + std::to_string(labels.names.size()) + " class names but " +
                          (info.weightsPath.empty() ? std::string("the model") : info.weightsPath) + " has " +
                          std::to_string(info.numClasses) + " classes");
    return labels;
}

} // namespace

LabelSet readLabelsFile(const std::string& path)
{
    const std::string text = readTextFile(path, "class-name file");
    const auto first = text.find_first_not_of(" \t\r\n\xef\xbb\xbf");
    if (first != std::string::npos && (text[first] == '[' || text[first] == '{')) {
        std::string problem;
        const auto doc = parseUntrustedJson(text, problem);
        if (!doc)
            throw ConfigError(path + ": the class names " + problem);
        return {labelsFromJson(*doc, path), path};
    }
    LabelSet labels{{}, path};
    size_t start = text.compare(0, 3, "\xef\xbb\xbf") == 0 ? 3 : 0;   // a UTF-8 byte-order mark
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        labels.names.push_back(line);
        start = end + 1;
    }
    while (!labels.names.empty() && labels.names.back().empty())
        labels.names.pop_back();   // a trailing blank line is not a class
    return labels;
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
    for (const auto& [key, tensor] : raw) {
        ++info.dtypes[dtypeName(tensor.scalar_type())];
        info.parameters += tensor.numel();
    }

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
    if (fits && fits != info.name.spec)
        throw ConfigError(info.weightsPath + " is an " + fits->name + " checkpoint (" + toString(info.keys) +
                          " keys), not " + info.name.spec->name + ": use --model " +
                          nameForVariant(*fits, info.trainedBy).architecture);
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

std::map<std::string, std::string> describingMetadata(const CheckpointInfo& info)
{
    return {{kArchitectureKey, info.name.display()},
            {kVariantKey, info.name.spec->name},
            {kPaddingKey, toString(info.name.padding)},
            {kSourceKey, toString(info.trainedBy)},
            {kClassesKey, std::to_string(info.numClasses)},
            {kPreprocessingKey, preprocessingToJson(info.transform.preprocessing)},
            {kLabelsKey, Json(info.labels.names).dump(-1, ' ', false, Json::error_handler_t::replace)}};
}

} // namespace efficientnet
