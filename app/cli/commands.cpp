#include "commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "arguments.h"
#include "batch.h"
#include "model_options.h"
#include "output.h"
#include "efficientnet/classifier.h"
#include "efficientnet/convert.h"
#include "efficientnet/errors.h"
#include "efficientnet/printable.h"
#include "efficientnet/imaging.h"
#include "efficientnet/transforms.h"
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
constexpr std::size_t kShownPathBytes = 4096;
constexpr const char* kLabelsFile = "imagenet_classes.txt";
constexpr const char* kBundledWeightsFolder = "weights";   // in resourcesDir(): installer/weights.cmake puts them there
constexpr const char* kRandomWeightsWarning =
    "warning: running on RANDOM weights: the predictions mean nothing. Give --weights FILE for real results.";

// Files given by name are always tried; folders are walked (recursively, sorted) for image files. Names stay UTF-8
// strings (platform.h); on Windows path::string() would turn them into the ANSI code page, and throw on a name it
// cannot represent.
struct Inputs {
    std::vector<std::string> files;
    std::vector<std::string> foldersWithoutImages;   // given folders in which the walk found nothing to classify
};

Inputs expandInputs(const std::vector<std::string>& paths)
{
    Inputs inputs;
    for (const auto& path : paths) {
        std::error_code ec;
        const fs::path folder = platform::pathFromUtf8(path);
        if (!fs::is_directory(folder, ec)) {
            inputs.files.push_back(path);
            continue;
        }
        std::vector<std::string> found;
        for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
             !ec && it != end; it.increment(ec))
            if (it->is_regular_file(ec) && hasImageExtension(platform::utf8FromPath(it->path())))
                found.push_back(platform::utf8FromPath(it->path()));
        if (found.empty())
            inputs.foldersWithoutImages.push_back(path);
        std::sort(found.begin(), found.end());
        inputs.files.insert(inputs.files.end(), found.begin(), found.end());
    }
    return inputs;
}

std::string noImagesIn(const std::vector<std::string>& folders)
{
    std::string names;
    for (const auto& folder : folders)
        names += (names.empty() ? "" : ", ") + printable(folder, kShownPathBytes);
    return "no images in " + names + " (no file in " + (folders.size() == 1 ? "it" : "them") +
           " or below has an image file's extension, such as .jpg or .png)";
}

// --timings: where the command's time went, on stderr (the console tool's own profile, e.g. for benchmarks/).
void printTimings(std::size_t files, double loadSeconds, const BatchTimes& spent, double totalSeconds)
{
    const auto perBatch = [&](double ms) { return spent.batches ? ms / static_cast<double>(spent.batches) : 0.0; };
    // Only the stages that ran: no GPU decoding or upload on the CPU.
    std::string stages;
    const auto stage = [&](const char* name, double ms, bool ran) {
        if (!ran)
            return;
        char text[64];
        std::snprintf(text, sizeof text, "%s%s %.2f ms", stages.empty() ? "" : ", ", name, perBatch(ms));
        stages += text;
    };
    stage("decode on the GPU", spent.stages.decodeMs, spent.stages.decodeMs > 0);
    stage("upload", spent.stages.uploadMs, spent.stages.uploadMs > 0);
    stage("preprocess", spent.stages.preprocessMs, true);
    stage("forward", spent.stages.forwardMs, true);
    stage("postprocess", spent.stages.postprocessMs, true);
    const auto format = [](const char* pattern, auto... values) {
        char text[256];
        std::snprintf(text, sizeof text, pattern, values...);
        return std::string(text);
    };
    const size_t others = files - std::min(files, spent.firstBatchFiles);
    std::string line = format("timings: %zu files in %.2f s (%.0f/s): model load %.2f s; the first batch done %.2f s "
                              "after the load", files, totalSeconds, static_cast<double>(files) / totalSeconds,
                              loadSeconds, spent.firstBatchSeconds);
    if (others > 0 && spent.afterFirstSeconds > 0)
        line += format(", the other %zu file%s at %.0f/s", others, others == 1 ? "" : "s",
                       static_cast<double>(others) / spent.afterFirstSeconds);
    const size_t largest = spent.batches ? (files + spent.batches - 1) / spent.batches : 0;
    line += format("; %zu batch%s of up to %zu", spent.batches, spent.batches == 1 ? "" : "es", largest);
    // With several batches classified at once, their times overlap: the sums can exceed the wall time.
    if (spent.inFlight > 1)
        line += format(", up to %zu at a time (the times below are sums over the batches)", spent.inFlight);
    line += format(": waiting for decoded files %.2f s, classifying %.2f s; writing results %.2f s; per batch: ",
                   spent.waitingSeconds, spent.classifyingSeconds, spent.handingOnSeconds);
    line += stages;   // appended, not formatted: five stages would overrun format's buffer and be cut off silently
    std::fprintf(stderr, "%s\n", line.c_str());
    // The average hides one-time costs (the first batch at each size captures a CUDA graph): the spread shows them.
    if (spent.forwardMs.size() > 1) {
        auto sorted = spent.forwardMs;
        std::sort(sorted.begin(), sorted.end());
        std::fprintf(stderr, "timings: forward per batch: first %.2f ms, median %.2f ms, slowest %.2f ms\n",
                     spent.forwardMs.front(), sorted[sorted.size() / 2], sorted.back());
    }
}

// Decoding runs beside the model: on a GPU machine every core can decode; on the CPU the model's own threads
// need the cores, and one decoder keeps up with it.
int decodeThreads(bool onGpu)
{
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return onGpu ? std::max(1, cores - 1) : 1;
}

} // namespace

ClassifierOptions classifierOptions(const Arguments& args)
{
    const ModelRequest request = modelRequest(args);
    ClassifierOptions options;
    options.model = request.model;
    options.weights = request.weights;
    options.source = request.source;
    options.labelsFile = request.labelsFile;
    options.overrides = request.overrides;
    options.imagenetLabels = request.imagenetLabels;
    options.randomWeights = args.flag("random-weights");
    // A folder is classified once: cuDNN's timing of its algorithms for every batch size would cost more than it
    // saves (BENCHMARKS.md, "Folders, third look"). --autotune asks for it, for very long runs.
    options.autotune = args.flag("autotune");
    // No batch-1 warm-up at load (the app's, for its first frame): a run's first batch sets itself up at its own size.
    options.warmup = false;
    options.device = args.value("device", "auto");
    const std::string cachedName =
        options.model.empty() ? std::string("efficientnet_b0") : resolveModelName(options.model).architecture;
    if (options.weights.empty() && !options.randomWeights)
        options.weights = findCachedWeights(cachedName, {resourcesDir() + "/" + kBundledWeightsFolder});
    if (options.weights.empty() && !options.randomWeights)
        throw ConfigError("no weights for " + cachedName + ": none given with --weights and none cached in " +
                          weightsCacheDir() + " or torch.hub's checkpoints folder. Give --weights FILE (a .pth or "
                          ".safetensors checkpoint, or a Hugging Face model folder), or --random-weights to try the "
                          "tool (predictions meaningless).");
    return options;
}

namespace {

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
    const auto transformOf = [](const Transform& t) {
        const auto& p = t.preprocessing;
        return json{{"resize", p.resizeSize},
                    {"resize_mode", p.resizeMode == ResizeMode::Squash ? "squash" : "shorter"},
                    {"crop", p.cropSize},
                    {"interpolation", toString(p.interpolation)},
                    {"mean", p.mean},
                    {"std", p.std}};
    };
    json list = json::array();
    json lukemelas = json::array();
    for (const auto& v : allVariants()) {
        const auto& p = v.preprocessing;
        const std::string timm = v.headChannels ? "efficientnetv2_" + v.name.substr(16) : v.name;
        list.push_back({{"name", v.name},
                        {"parameters", v.numParams},
                        {"input_size", p.cropSize},
                        {"resize_size", p.resizeSize},
                        {"interpolation", toString(p.interpolation)},
                        {"mean", p.mean},
                        {"std", p.std},
                        {"timm_names", {timm, "tf_" + timm}},
                        {"lukemelas_name", v.headChannels ? json(nullptr) : json("efficientnet-" + v.name.substr(13))}});
        if (!v.headChannels)
            lukemelas.push_back({{"name", "efficientnet-" + v.name.substr(13)},
                                 {"transform", transformOf(lukemelasTransform(v))}});
    }
    json tags = json::array();
    for (const auto& tag : timmTags())
        tags.push_back({{"name", std::string(tag.architecture) + "." + tag.tag},
                        {"default", tag.isDefault},
                        {"pretrained", tag.pretrained},
                        {"classes", tag.numClasses},
                        {"transform", transformOf(timmTransform(tag))}});
    if (args.flag("json")) {
        // Every JSON this tool writes replaces bytes that are not UTF-8 instead of throwing (as JsonWriter does).
        std::cout << json{{"models", list}, {"timm_tags", tags}, {"lukemelas", lukemelas}}.dump(
                         2, ' ', false, json::error_handler_t::replace)
                  << "\n";
        return kExitOk;
    }
    std::cout << "torchvision models, with their weights' transform:\n";
    std::cout << std::left << std::setw(20) << "  model" << std::right << std::setw(13) << "parameters" << "  transform\n";
    for (const auto& v : allVariants())
        std::cout << "  " << std::left << std::setw(18) << v.name << std::right << std::setw(13) << v.numParams << "  "
                  << describe(v.preprocessing) << "\n";
    std::cout << "\nlukemelas names (TensorFlow SAME padding), with EfficientNet-PyTorch's eval transform:\n";
    for (const auto& v : allVariants())
        if (!v.headChannels)
            std::cout << "  " << std::left << std::setw(31) << "efficientnet-" + v.name.substr(13) << "  "
                      << describe(lukemelasTransform(v).preprocessing) << "\n";
    std::cout << "\ntimm names with their pretrained tags (--model NAME.TAG; a bare name means the tag marked *), "
                 "tf_ meaning TensorFlow SAME padding, evaluated at the tag's test size as timm's validate.py does:\n";
    for (const auto& tag : timmTags())
        std::cout << "  " << std::left << std::setw(44)
                  << std::string(tag.architecture) + "." + tag.tag + (tag.isDefault ? " *" : "") +
                         (tag.pretrained ? "" : " (no weights)")
                  << std::right << std::setw(6) << tag.numClasses << "  " << describe(timmTransform(tag).preprocessing)
                  << "\n";
    return kExitOk;
}

int runClassify(const std::vector<std::string>& argv)
{
    auto valueOptions = modelOptionNames();
    valueOptions.insert({"topk", "device", "precision", "batch-size", "csv", "json-file", "threads", "decode"});
    const Arguments args(argv, valueOptions, {"json", "random-weights", "no-progress", "timings", "autotune"});
    const std::string decode = args.value("decode", "cpu");
    const auto started = std::chrono::steady_clock::now();
    if (decode != "cpu" && decode != "gpu")
        throw UsageError("--decode must be cpu or gpu, not '" + decode + "'");
    const int topk = args.intValue("topk", kDefaultTopK, 1, kMaxTopK);
    if (args.positional().empty())
        throw UsageError("classify needs at least one image or folder");
    if (args.has("threads"))
        setComputeThreads(args.intValue("threads", 0, 1, kMaxThreads));
    if (args.has("batch-size"))   // checked now, not after the model has loaded
        args.intValue("batch-size", kCpuBatch, 1, kMaxBatch);
    auto options = classifierOptions(args);
    options.precision = args.value("precision", "auto");
    // Folders without images are no usage mistake (the command line is right; the folder is not): named, without
    // the usage text. Beside other inputs a note names them.
    const Inputs inputs = expandInputs(args.positional());
    const auto& files = inputs.files;
    if (files.empty())
        throw Error("classify: " + noImagesIn(inputs.foldersWithoutImages));
    if (!inputs.foldersWithoutImages.empty())
        std::cerr << "note: " << noImagesIn(inputs.foldersWithoutImages) << "\n";
    // The CSV's place is checked (its temporary file made) before the model loads, which can take seconds.
    std::optional<CsvWriter> csv;
    if (args.has("csv"))
        csv.emplace(args.value("csv"));
    if (args.has("json-file"))
        checkWritable(args.value("json-file"), "--json-file");
    Classifier classifier(options);
    const double loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (options.weights.empty())
        std::cerr << kRandomWeightsWarning << "\n";
    std::cerr << "model: " << describeModel(classifier.info()) << "\n";
    const bool onGpu = classifier.deviceName() != "cpu";
    if (!onGpu && options.device == "auto")
        if (const std::string why = gpuUnavailableReason(); !why.empty())
            std::cerr << "note: running on the CPU: " << why << "\n";   // a CUDA build that found no usable GPU

    BatchOptions batching;
    batching.batchSize = args.intValue("batch-size", onGpu ? kGpuBatch : kCpuBatch, 1, kMaxBatch);
    batching.decodeThreads = decodeThreads(onGpu);
    // For benchmarks/gpu_folder.sh's comparison of the pipeline against one batch at a time; not a user's option.
    if (const char* workers = std::getenv("EFFICIENTNET_FOLDER_WORKERS"))
        batching.workers = static_cast<size_t>(std::clamp(std::atoi(workers), 0, 8));
    if (decode == "gpu") {
        std::string why;
        batching.gpuDecode = classifier.decodesJpegOnGpu(&why);
        if (!batching.gpuDecode)
            std::cerr << "note: --decode gpu: " << why << "; decoding on the CPU\n";
    }
    Progress progress(files.size(), !args.flag("no-progress"));

    // The JSON document goes out as results arrive, to stdout (--json) and/or a file written atomically (--json-file).
    const json header{{"model", classifier.model().display()},
                      {"device", classifier.deviceName()},
                      {"weights", classifier.weightsDescription()},
                      {"classes", classifier.info().numClasses},
                      {"labels", classifier.info().labels.origin},
                      {"transform", modelJson(classifier.info())["transform"]}};
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
    const auto spent = classifyFiles(classifier, files, topk, batching, [&](const FileResult& r) {
        failed += r.error.empty() ? 0 : 1;
        if (csv)
            csv->write(r);
        for (auto& out : jsonOut)
            out.write(toJson(r));
        if (jsonFile)
            jsonFile->check();
        if (!jsonOnStdout)
            printBlock(r);
        progress.advance();
    });
    progress.finish();
    for (auto& out : jsonOut)
        out.finish();
    if (args.flag("timings"))
        printTimings(files.size(), loadSeconds, spent,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    // Both files are committed (or fail) independently: a full disk for one does not cost the other.
    std::optional<Error> writeError;
    for (auto* file : {csv ? &csv->file() : nullptr, jsonFile ? &*jsonFile : nullptr}) {
        try {
            if (file)
                file->commit();
        } catch (const Error& e) {
            std::cerr << "efficientnet-cli: error: " << printable(e.what(), 4096) << "\n";
            writeError = e;
        }
    }
    if (writeError)
        return kExitUsage;
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
    auto valueOptions = modelOptionNames();
    valueOptions.insert({"from", "to"});
    const Arguments args(argv, valueOptions, {});
    if (!args.has("from") || !args.has("to"))
        throw UsageError("convert needs --from FILE (or a model folder) and --to FILE.safetensors");
    if (platform::pathFromUtf8(args.value("to")).extension() != ".safetensors")
        throw UsageError("--to must name a .safetensors file");
    if (args.has("weights"))
        throw UsageError("convert reads --from, not --weights");
    ModelRequest request = modelRequest(args);
    request.weights = args.value("from");
    checkWritable(args.value("to"), "--to");
    const auto result = convertCheckpoint(request, args.value("to"));
    std::cout << "wrote " << args.value("to") << ": " << result.tensors << " tensors with torchvision keys; "
              << describeModel(result.info) << "\n";
    return kExitOk;
}

} // namespace efficientnet::cli
