#include "commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "arguments.h"
#include "batch.h"
#include "output.h"
#include "efficientnet/classifier.h"
#include "efficientnet/convert.h"
#include "efficientnet/errors.h"
#include "efficientnet/printable.h"
#include "efficientnet/imaging.h"
#include "efficientnet/platform.h"
#include "efficientnet/variants.h"

namespace efficientnet::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kDefaultTopK = 5;
constexpr int kCpuBatch = 8;      // the CPU gains little from larger batches; small ones keep results flowing
constexpr int kGpuBatch = 64;     // fills the GPU without holding many decoded photos in memory
constexpr int kMaxBatch = 1024;
constexpr int kMaxThreads = 256;
constexpr int kMaxTopK = 1000;
constexpr const char* kLabelsFile = "imagenet_classes.txt";
constexpr const char* kBundledWeightsFolder = "weights";   // in resourcesDir(): installer/weights.cmake puts them there
constexpr const char* kRandomWeightsWarning =
    "warning: running on RANDOM weights: the predictions mean nothing. Give --weights FILE for real results.";

// Files given by name are always tried; folders are walked (recursively, sorted) for image files. Names stay UTF-8
// strings (platform.h); on Windows path::string() would turn them into the ANSI code page, and throw on a name it
// cannot represent.
std::vector<std::string> expandInputs(const std::vector<std::string>& paths)
{
    std::vector<std::string> files;
    for (const auto& path : paths) {
        std::error_code ec;
        const fs::path folder = platform::pathFromUtf8(path);
        if (!fs::is_directory(folder, ec)) {
            files.push_back(path);
            continue;
        }
        std::vector<std::string> found;
        for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
             !ec && it != end; it.increment(ec))
            if (it->is_regular_file(ec) && hasImageExtension(platform::utf8FromPath(it->path())))
                found.push_back(platform::utf8FromPath(it->path()));
        std::sort(found.begin(), found.end());
        files.insert(files.end(), found.begin(), found.end());
    }
    return files;
}

// Decoding runs beside the model: on a GPU machine every core can decode; on the CPU the model's own threads
// need the cores, and one decoder keeps up with it.
int decodeThreads(bool onGpu)
{
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return onGpu ? std::max(1, cores - 1) : 1;
}

std::vector<std::string> loadLabels()
{
    const std::string path = resourcesDir() + "/" + kLabelsFile;
    try {
        return readLabels(path);
    } catch (const Error& e) {
        std::cerr << "warning: " << e.what() << "; predictions show class numbers only\n";
        return {};
    }
}

ClassifierOptions classifierOptions(const Arguments& args)
{
    ClassifierOptions options;
    options.model = args.value("model", "efficientnet_b0");
    options.weights = args.value("weights");
    options.randomWeights = args.flag("random-weights");
    options.device = args.value("device", "auto");
    options.source = parseSourceOption(args.value("source"));
    if (options.weights.empty() && !options.randomWeights)
        options.weights = findCachedWeights(options.model, {resourcesDir() + "/" + kBundledWeightsFolder});
    if (options.weights.empty() && !options.randomWeights)
        throw ConfigError("no weights for " + options.model + ": none given with --weights and none cached in " +
                          weightsCacheDir() + " or torch.hub's checkpoints folder. Give --weights FILE (a .pth or "
                          ".safetensors checkpoint), or --random-weights to try the tool (predictions meaningless).");
    options.labels = loadLabels();
    return options;
}

json toJson(const FileResult& r)
{
    json predictions = json::array();
    for (const auto& p : r.predictions)
        predictions.push_back({{"index", p.index}, {"label", p.label}, {"probability", p.probability}});
    return {{"path", r.path}, {"predictions", predictions}, {"error", r.error.empty() ? json(nullptr) : json(r.error)}};
}

// File names found in folders and labels from label files may hold anything: escaped for the terminal.
void printBlock(const FileResult& r)
{
    constexpr std::size_t kShownBytes = 4096;
    std::cout << printable(r.path, kShownBytes) << "\n";
    if (!r.error.empty()) {
        std::cout << "  error: " << printable(r.error, kShownBytes) << "\n\n";
        return;
    }
    for (size_t i = 0; i < r.predictions.size(); ++i) {
        const auto& p = r.predictions[i];
        std::cout << "  " << std::setw(2) << i + 1 << ". " << std::fixed << std::setprecision(2) << std::setw(6)
                  << p.probability * 100.0f << "%  " << printable(p.label) << " (" << p.index << ")\n";
    }
    std::cout << "\n";
}

} // namespace

// Found from this executable's own path (platform::executablePath), so that an installed tree works wherever it
// was unpacked or installed.
std::string resourcesDir()
{
    if (const auto dir = platform::environment("EFFICIENTNET_RESOURCES_DIR"))
        return *dir;
    try {
        const fs::path exe = platform::executablePath();
        std::error_code ec;
        for (const auto& candidate : {exe.parent_path() / "../share/efficientnet-libtorch", exe.parent_path() / "resources"})
            if (fs::exists(candidate / kLabelsFile, ec))
                return platform::utf8FromPath(fs::weakly_canonical(candidate, ec));
    } catch (const Error&) {   // no executable path: the source tree's resources, as in a build folder
    }
    return EFFICIENTNET_SOURCE_RESOURCES;
}

int runModels(const std::vector<std::string>& argv)
{
    const Arguments args(argv, {}, {"json"});
    json list = json::array();
    for (const auto& v : allVariants()) {
        const auto& p = v.preprocessing;
        list.push_back({{"name", v.name},
                        {"parameters", v.numParams},
                        {"input_size", p.cropSize},
                        {"resize_size", p.resizeSize},
                        {"interpolation", toString(p.interpolation)},
                        {"mean", p.mean},
                        {"std", p.std},
                        {"timm_names", {(v.headChannels ? "efficientnetv2_" + v.name.substr(16) : v.name),
                                        "tf_" + (v.headChannels ? "efficientnetv2_" + v.name.substr(16) : v.name)}},
                        {"lukemelas_name", v.headChannels ? json(nullptr) : json("efficientnet-" + v.name.substr(13))}});
    }
    if (args.flag("json")) {
        // Names and preprocessing come from the variant table, but every JSON this tool writes replaces bytes that
        // are not UTF-8 instead of throwing (as JsonWriter does for file names).
        std::cout << json{{"models", list}}.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        return kExitOk;
    }
    std::cout << std::left << std::setw(20) << "model" << std::right << std::setw(13) << "parameters" << std::setw(7)
              << "input" << "  preprocessing\n";
    for (const auto& m : list) {
        std::cout << std::left << std::setw(20) << m["name"].get<std::string>() << std::right << std::setw(13)
                  << m["parameters"].get<int64_t>() << std::setw(7) << m["input_size"].get<int>() << "  resize "
                  << m["resize_size"].get<int>() << " " << m["interpolation"].get<std::string>() << ", crop "
                  << m["input_size"].get<int>() << ", mean " << m["mean"].dump() << " std " << m["std"].dump() << "\n";
    }
    std::cout << "timm names (efficientnet_b0, tf_efficientnet_b0, tf_efficientnetv2_s) and lukemelas names "
                 "(efficientnet-b0) are accepted too; tf_ and lukemelas mean TensorFlow SAME padding.\n";
    return kExitOk;
}

int runClassify(const std::vector<std::string>& argv)
{
    const Arguments args(argv, {"model", "weights", "topk", "device", "source", "precision", "batch-size", "csv", "json-file", "threads"},
                         {"json", "random-weights", "no-progress"});
    const int topk = args.intValue("topk", kDefaultTopK, 1, kMaxTopK);
    if (args.positional().empty())
        throw UsageError("classify needs at least one image or folder");
    if (args.has("threads"))
        setComputeThreads(args.intValue("threads", 0, 1, kMaxThreads));
    auto options = classifierOptions(args);
    options.precision = args.value("precision", "auto");
    const auto files = expandInputs(args.positional());
    if (files.empty())
        throw UsageError("no image files found in the given folders");
    Classifier classifier(options);
    if (options.weights.empty())
        std::cerr << kRandomWeightsWarning << "\n";
    const bool onGpu = classifier.deviceName() != "cpu";
    if (!onGpu && options.device == "auto")
        if (const std::string why = gpuUnavailableReason(); !why.empty())
            std::cerr << "note: running on the CPU: " << why << "\n";   // a CUDA build that found no usable GPU

    BatchOptions batching;
    batching.batchSize = args.intValue("batch-size", onGpu ? kGpuBatch : kCpuBatch, 1, kMaxBatch);
    batching.decodeThreads = decodeThreads(onGpu);
    std::optional<CsvWriter> csv;
    if (args.has("csv"))
        csv.emplace(args.value("csv"));
    Progress progress(files.size(), !args.flag("no-progress"));

    // The JSON document goes out as results arrive, to stdout (--json) and/or a file written atomically (--json-file).
    const json header{{"model", options.model}, {"device", classifier.deviceName()}, {"weights", classifier.weightsDescription()}};
    std::optional<AtomicFile> jsonFile;
    std::vector<JsonWriter> jsonOut;
    jsonOut.reserve(2);
    if (args.has("json-file")) {
        jsonFile.emplace(args.value("json-file"), "--json-file");
        jsonOut.emplace_back(jsonFile->stream(), header);
    }
    const bool jsonOnStdout = args.flag("json");
    if (jsonOnStdout)
        jsonOut.emplace_back(std::cout, header);
    size_t failed = 0;
    classifyFiles(classifier, files, topk, batching, [&](const FileResult& r) {
        failed += r.error.empty() ? 0 : 1;
        if (csv)
            csv->write(r);
        for (auto& out : jsonOut)
            out.write(toJson(r));
        if (!jsonOnStdout)
            printBlock(r);
        progress.advance();
    });
    progress.finish();
    for (auto& out : jsonOut)
        out.finish();
    if (csv)
        csv->commit();
    if (jsonFile)
        jsonFile->commit();
    if (failed)
        std::cerr << failed << " of " << files.size() << " inputs could not be classified\n";
    return failed ? kExitSomeFailed : kExitOk;
}

int runWeights(const std::vector<std::string>& argv)
{
    const Arguments args(argv, {}, {});
    if (args.positional().size() != 1)
        throw UsageError("weights needs one model name");
    const auto& model = args.positional().front();
    resolveModelName(model);   // an unknown name is a usage error, not "nothing cached"
    const auto path = findCachedWeights(model);
    if (path.empty()) {
        std::cerr << "no weights for " << model << " in " << weightsCacheDir() << " or torch.hub's checkpoints folder\n";
        return kExitUsage;
    }
    std::cout << path << "\n";
    return kExitOk;
}

int runConvert(const std::vector<std::string>& argv)
{
    const Arguments args(argv, {"from", "to", "model", "source"}, {});
    if (!args.has("from") || !args.has("to"))
        throw UsageError("convert needs --from FILE and --to FILE.safetensors");
    if (platform::pathFromUtf8(args.value("to")).extension() != ".safetensors")
        throw UsageError("--to must name a .safetensors file");
    std::optional<std::string> model;
    if (args.has("model"))
        model = args.value("model");
    const auto result = convertCheckpoint(args.value("from"), args.value("to"), model, parseSourceOption(args.value("source")));
    std::cout << "wrote " << args.value("to") << ": " << result.tensors << " tensors of " << result.variant
              << " (read with " << toString(result.source) << " keys, written with torchvision keys)\n";
    return kExitOk;
}

} // namespace efficientnet::cli
