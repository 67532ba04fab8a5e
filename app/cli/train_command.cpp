// `efficientnet-cli train DATA --out FILE.safetensors`: fine-tune on an ImageFolder (training.h), one line per epoch.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "arguments.h"
#include "commands.h"
#include "model_options.h"
#include "output.h"
#include "efficientnet/classifier.h"
#include "efficientnet/platform.h"
#include "efficientnet/printable.h"
#include "efficientnet/training.h"

namespace efficientnet::cli {
namespace {

using json = nlohmann::json;

constexpr int kMaxEpochs = 100000;
constexpr int kMaxBatch = 4096;
constexpr int kExitInterrupted = 130;   // 128 + SIGINT, as shells report it
constexpr std::size_t kShownBytes = 1000;

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void onInterrupt(int)
{
    g_interrupted = 1;
}

double doubleValue(const Arguments& args, const std::string& name, double fallback, double min, double max)
{
    if (!args.has(name))
        return fallback;
    const std::string text = args.value(name);
    std::size_t used = 0;
    double parsed = 0;
    try {
        parsed = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (text.empty() || used != text.size() || !(parsed >= min && parsed <= max))
        throw UsageError("--" + name + " must be a number from " + json(min).dump() + " to " + json(max).dump() +
                         ", not '" + text + "'");
    return parsed;
}

std::string percent(const std::optional<double>& accuracy)
{
    if (!accuracy)
        return "-";
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << *accuracy * 100 << "%";
    return text.str();
}

json reportJson(const TrainingOptions& options, const std::string& out, const TrainingResult& r)
{
    json epochs = json::array();
    for (const auto& e : r.epochs)
        epochs.push_back({{"epoch", e.epoch},
                          {"train_loss", e.trainLoss},
                          {"val_top1", e.valAccuracy ? json(*e.valAccuracy) : json(nullptr)},
                          {"seconds", e.seconds}});
    json skipped = json::array();
    for (const auto& s : r.skipped)
        skipped.push_back({{"path", s.path}, {"reason", s.reason}});
    return {{"data", options.trainDir},
            {"validation", options.valDir.empty() ? json{{"split", options.valSplit}} : json{{"folder", options.valDir}}},
            {"out", out},
            {"model", modelJson(r.info)},
            {"base_weights", options.base.weights.empty() ? json(nullptr) : json(options.base.weights)},
            {"train", toString(options.scope)},
            {"seed", options.seed},
            {"classes", r.classes},
            {"train_images", r.trainImages},
            {"val_images", r.valImages},
            {"skipped", skipped},
            {"preparation_seconds", r.preparationSeconds},
            {"epochs", epochs},
            {"kept_epoch", r.keptEpoch},
            {"cancelled", r.cancelled}};
}

} // namespace

int runTrain(const std::vector<std::string>& argv)
{
    auto valueOptions = modelOptionNames();
    valueOptions.erase("labels");   // the class names are the folders'
    valueOptions.insert({"val", "val-split", "epochs", "batch-size", "lr", "train", "seed", "out", "report", "device",
                         "weight-decay", "label-smoothing", "precision"});
    const Arguments args(argv, valueOptions, {"random-weights", "recalibrate-bn", "no-progress"});
    if (args.positional().size() != 1)
        throw UsageError("train needs one DATA folder (DATA/<class>/<images>, a folder per class)");
    if (!args.has("out"))
        throw UsageError("train needs --out FILE.safetensors");
    if (platform::pathFromUtf8(args.value("out")).extension() != ".safetensors")
        throw UsageError("--out " + args.value("out") + ": train writes a .safetensors checkpoint (its class names, "
                         "network and transform inside); give a name ending in .safetensors");
    if (args.has("val") && args.has("val-split"))
        throw UsageError("give --val DIR or --val-split F, not both");

    TrainingOptions options;
    options.base = modelRequest(args);
    options.randomWeights = args.flag("random-weights");
    if (options.base.weights.empty() && !options.randomWeights) {
        const std::string model = options.base.model.empty() ? std::string("efficientnet_b0")
                                                             : resolveModelName(options.base.model).architecture;
        options.base.weights = findCachedWeights(model, {resourcesDir() + "/weights"});
        if (options.base.weights.empty())
            throw ConfigError("no weights for " + model + " to start from: none given with --weights and none cached in " +
                              weightsCacheDir() + ". Give --weights FILE, or --random-weights to train on a random "
                              "backbone (only the head learns anything useful then).");
    }
    options.trainDir = args.positional().front();
    options.valDir = args.value("val");
    options.valSplit = doubleValue(args, "val-split", options.valSplit, 0, 0.95);
    options.epochs = args.intValue("epochs", options.epochs, 1, kMaxEpochs);
    options.batchSize = args.intValue("batch-size", options.batchSize, 1, kMaxBatch);
    if (args.has("lr"))
        options.learningRate = doubleValue(args, "lr", 0, 1e-12, 10);
    options.weightDecay = doubleValue(args, "weight-decay", options.weightDecay, 0, 10);
    options.labelSmoothing = doubleValue(args, "label-smoothing", options.labelSmoothing, 0, 0.99);
    options.scope = parseTrainScope(args.value("train", "head"));
    options.seed = static_cast<std::uint64_t>(args.intValue("seed", 0, 0, 2'000'000'000));
    options.device = args.value("device", "cpu");
    options.precision = args.value("precision", "fp32");
    options.reestimateBatchNorm = args.flag("recalibrate-bn");
    const std::string out = args.value("out");
    // Where the results go is checked before the images are read: a wrong path found after training loses it all.
    checkWritable(out, "--out");
    if (args.has("report"))
        checkWritable(args.value("report"), "--report");

    // Ctrl-C ends training at the next step; the best epoch so far is written.
    g_interrupted = 0;
    const auto previous = std::signal(SIGINT, onInterrupt);
    // Reading the images and caching the head's features take most of the time on a CPU: a line says which, and a
    // progress bar (on a terminal) how far; the training steps are a line per epoch.
    std::unique_ptr<Progress> bar;
    std::optional<TrainingProgress::Phase> phase;
    int barDone = 0;
    const bool wantBar = !args.flag("no-progress");
    const auto onProgress = [&](const TrainingProgress& p) {
        if (p.phase != phase) {
            if (bar)
                bar->finish();
            bar.reset();
            barDone = 0;
            phase = p.phase;
            if (p.phase == TrainingProgress::Phase::Reading)
                std::cerr << "reading " << p.steps << " images\n";
            else if (p.phase == TrainingProgress::Phase::Features)
                std::cerr << "computing the frozen backbone's features of " << p.steps << " views\n";
            if (p.phase == TrainingProgress::Phase::Reading || p.phase == TrainingProgress::Phase::Features)
                bar = std::make_unique<Progress>(static_cast<std::size_t>(p.steps), wantBar);
        }
        if (p.phase == TrainingProgress::Phase::Reading || p.phase == TrainingProgress::Phase::Features) {
            for (; barDone < p.step; ++barDone)
                bar->advance();
            return;
        }
        if (p.phase != TrainingProgress::Phase::Evaluated)
            return;
        if (bar)
            bar->finish();
        std::cout << "epoch " << p.epoch << "/" << p.epochs << "  train loss " << std::fixed << std::setprecision(4)
                  << p.loss << "  val top-1 " << percent(p.valAccuracy) << "  " << std::setprecision(1) << p.seconds
                  << " s" << std::endl;
    };
    TrainingResult result;
    try {
        result = trainClassifier(options, out, onProgress, [] { return g_interrupted != 0; });
    } catch (const std::exception& e) {
        std::signal(SIGINT, previous);
        if (g_interrupted == 0)
            throw;
        std::cerr << "efficientnet-cli: " << printable(e.what(), kShownBytes) << "\n";   // cancelled before an epoch ended
        return kExitInterrupted;
    } catch (...) {
        std::signal(SIGINT, previous);
        throw;
    }
    std::signal(SIGINT, previous);

    for (const auto& s : result.skipped)   // the core's messages start with the file already
        std::cerr << "skipped "
                  << printable(s.reason.rfind(s.path, 0) == 0 ? s.reason : s.path + ": " + s.reason, kShownBytes) << "\n";
    std::cout << (result.cancelled ? "interrupted; " : "") << "wrote " << out << ": " << describeModel(result.info)
              << "; " << result.trainImages << " training and " << result.valImages << " validation images, kept epoch "
              << result.keptEpoch << " (val top-1 " << percent(result.epochs.at(result.keptEpoch - 1).valAccuracy)
              << "), preparation " << std::fixed << std::setprecision(1) << result.preparationSeconds << " s\n";
    if (args.has("report")) {
        AtomicFile report(args.value("report"), "--report");
        report.stream() << reportJson(options, out, result).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        report.check();
        report.commit();
    }
    if (!result.skipped.empty())
        std::cerr << skippedNote(result.skipped.size()) << "\n";
    if (result.cancelled)
        return kExitInterrupted;
    return result.skipped.empty() ? kExitOk : kExitSomeFailed;
}

} // namespace efficientnet::cli
