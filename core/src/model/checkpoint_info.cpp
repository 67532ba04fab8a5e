// How a checkpoint's companions are read (checkpoint_info.h): class-name files, Hugging Face config.json (timm's
// push_to_hf_hub: architecture, num_classes, pretrained_cfg, label_names), model folders, and which labels win.
// Torch-free; the tensors' side is resolve.cpp.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "common/untrusted.h"
#include "efficientnet/errors.h"
#include "efficientnet/limits.h"
#include "efficientnet/platform.h"
#include "model/checkpoint_files.h"

namespace efficientnet {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr char kHubWeights[] = "model.safetensors";
constexpr char kHubLegacyWeights[] = "pytorch_model.bin";
constexpr char kHubConfig[] = "config.json";
constexpr char kLabelsSuffix[] = ".labels.txt";
constexpr int kImageNetClasses = 1000;

std::string readTextFile(const std::string& path, const char* what)
{
    std::error_code error;
    const fs::path file = platform::pathFromUtf8(path);
    const auto size = fs::file_size(file, error);
    std::ifstream in(file, std::ios::binary);
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

std::vector<std::string> numbered(int count)
{
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i)
        names.push_back("class " + std::to_string(i));
    return names;
}

} // namespace

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

// A folder: a Hugging Face model folder (model.safetensors, else pytorch_model.bin, and config.json); a file named as
// such a folder's weights: its config.json when there is one (hub downloads are cached that way).
Located locate(const std::string& path)
{
    std::error_code error;
    const fs::path p = platform::pathFromUtf8(path);
    const auto utf8 = [](const fs::path& file) { return platform::utf8FromPath(file); };
    if (fs::is_directory(p, error)) {
        for (const char* name : {kHubWeights, kHubLegacyWeights})
            if (fs::exists(p / name, error))
                return {utf8(p / name), fs::exists(p / kHubConfig, error) ? utf8(p / kHubConfig) : ""};
        throw CheckpointError(path, std::string("is a folder without ") + kHubWeights + " or " + kHubLegacyWeights +
                                        "; give a checkpoint file or a Hugging Face model folder");
    }
    const auto name = p.filename().string();
    const fs::path config = p.parent_path() / kHubConfig;
    if ((name == kHubWeights || name == kHubLegacyWeights) && fs::exists(config, error))
        return {path, utf8(config)};
    return {path, ""};
}

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
        const fs::path weights = platform::pathFromUtf8(info.weightsPath);
        fs::path besideStem = weights.parent_path() / weights.stem();   // pets.pth -> pets.labels.txt
        besideStem += kLabelsSuffix;
        std::error_code error;
        for (const fs::path& sidecar : {platform::pathFromUtf8(info.weightsPath + kLabelsSuffix), besideStem})
            if (labels.names.empty() && fs::exists(sidecar, error))
                labels = readLabelsFile(platform::utf8FromPath(sidecar));
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
