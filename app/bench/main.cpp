// efficientnet-bench: latency (batch 1) and throughput (larger batches) of the engine, per variant, device and
// precision; from ready tensors on the device (the model alone) and from uint8 frames in host memory (upload,
// GPU preprocessing, model, top-k). Anchors (PyTorch eager, CUDA graphs, torch.compile, TorchScript) are measured
// by benchmarks/anchors.py on the same machine in the same run; see BENCHMARKS.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "efficientnet/classifier.h"
#include "efficientnet/inference.h"
#include "efficientnet/model.h"
#include "efficientnet/swish.h"
#include "efficientnet/training_step.h"
#include "efficientnet/weights.h"

namespace {

using namespace efficientnet;
using Clock = std::chrono::steady_clock;

// Calls per profiler trace: enough for steady per-kernel means, few enough to keep a batch-256 trace small.
constexpr int kProfiledForwards = 20;

struct Settings {
    std::string model = "efficientnet_b0";
    std::string device = "auto";
    std::string precision = "auto";
    std::vector<int> batches{1, 8, 32, 64, 128, 256};
    int iterations = 50;
    int warmup = 10;
    int frameWidth = 640;
    int frameHeight = 480;
    bool tensors = true;
    bool frames = true;
    bool cudaGraphs = true;
    int threads = 0;
    std::string pairedAnchor;   // a scripted torchvision model: timed call by call against the engine
    std::string profileTrace;   // a folder: Chrome traces of the tensor path per batch (benchmarks/gpu_profile.sh)
    int trainStep = 0;          // a batch size: time fine-tuning steps instead of inference (benchmarks/gpu_train.sh)
    int trainSize = 224;
    bool plainSwish = false;    // with --train-step: the plain x * sigmoid(x) autograd instead of the project's swish
    bool directOneDnn = true;   // --cpu-engine libtorch: the tensor path's CPU forward through LibTorch instead
};

std::vector<int> parseList(const std::string& text)
{
    std::vector<int> values;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');)
        values.push_back(std::stoi(item));
    return values;
}

Settings parse(int argc, char** argv)
{
    Settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::runtime_error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--model") s.model = next();
        else if (arg == "--device") s.device = next();
        else if (arg == "--precision") s.precision = next();
        else if (arg == "--batches") s.batches = parseList(next());
        else if (arg == "--iterations") s.iterations = std::stoi(next());
        else if (arg == "--warmup") s.warmup = std::stoi(next());
        else if (arg == "--frame-size") { const auto v = next(); s.frameWidth = std::stoi(v); s.frameHeight = std::stoi(v.substr(v.find('x') + 1)); }
        else if (arg == "--only") { const auto v = next(); s.tensors = v == "tensors"; s.frames = v == "frames"; }
        else if (arg == "--no-cuda-graphs") s.cudaGraphs = false;
        else if (arg == "--threads") s.threads = std::stoi(next());
        else if (arg == "--paired-anchor") s.pairedAnchor = next();
        else if (arg == "--profile-trace") s.profileTrace = next();
        else if (arg == "--train-step") s.trainStep = std::stoi(next());
        else if (arg == "--train-size") s.trainSize = std::stoi(next());
        else if (arg == "--plain-swish") s.plainSwish = true;
        else if (arg == "--cpu-engine") {
            const auto v = next();
            if (v != "onednn" && v != "libtorch")
                throw std::runtime_error("--cpu-engine takes onednn or libtorch");
            s.directOneDnn = v == "onednn";
        }
        else if (arg == "--help") {
            std::cout << "usage: efficientnet-bench [--model NAME] [--device auto|cpu|cuda] [--precision auto|fp32|fp16|bf16]\n"
                         "       [--batches 1,8,...] [--iterations N] [--warmup N] [--frame-size WxH]\n"
                         "       [--only tensors|frames] [--no-cuda-graphs] [--threads N] [--cpu-engine onednn|libtorch]\n"
                         "       [--paired-anchor SCRIPTED.pt]   (benchmarks/anchors.py --save-scripted writes it)\n"
                         "       [--profile-trace DIR]   (tensor path: a Chrome trace per batch, with and without CUDA\n"
                         "                                graphs; benchmarks/gpu_profile.sh reads them)\n"
                         "       [--train-step BATCH [--train-size PX] [--plain-swish]]   (fine-tuning steps: img/s and\n"
                         "                                peak CUDA memory; benchmarks/gpu_train.sh)\n";
            std::exit(0);
        } else
            throw std::runtime_error("unknown option " + arg);
    }
    return s;
}

void synchronize(const torch::Device& device)
{
    if (device.is_cuda())
        torch::cuda::synchronize();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Median wall time of one call, after warm-up, with the device synchronised around each call.
template <typename F>
double timeMs(const Settings& s, const torch::Device& device, F&& call)
{
    for (int i = 0; i < s.warmup; ++i)
        call();
    synchronize(device);
    std::vector<double> ms;
    for (int i = 0; i < s.iterations; ++i) {
        const auto t0 = Clock::now();
        call();
        synchronize(device);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return median(ms);
}

// A Chrome trace (LibTorch's Kineto profiler, the one behind torch.profiler: CPU operators with their input shapes,
// CUDA kernels and copies) of kProfiledForwards calls, each in a "forward" scope that waits for the device, so that
// calls do not overlap and the trace can be cut per call. benchmarks/profile_table.py sorts its kernels into
// categories. Run after warm-up: CUDA graphs are captured before the profiler starts, since capturing under CUPTI
// is what PyTorch warns against.
void writeTrace(const std::string& path, const torch::Device& device, const std::function<void()>& call)
{
    namespace impl = torch::profiler::impl;
    namespace profiler = torch::autograd::profiler;
    const impl::ProfilerConfig config(impl::ProfilerState::KINETO, /*report_input_shapes=*/true);
    std::set<impl::ActivityType> activities{impl::ActivityType::CPU};
    if (device.is_cuda())
        activities.insert(impl::ActivityType::CUDA);
    profiler::prepareProfiler(config, activities);
    profiler::enableProfiler(config, activities);
    for (int i = 0; i < kProfiledForwards; ++i) {
        RECORD_USER_SCOPE("forward");
        call();
        synchronize(device);
    }
    profiler::disableProfiler()->save(path);
    std::printf("#   trace of %d calls: %s\n", kProfiledForwards, path.c_str());
}

void report(const char* mode, const Settings& s, const std::string& device, const std::string& precision, int batch,
            double ms)
{
    std::printf("%-8s %-18s %-28s %-5s %5d %10.3f ms %12.1f img/s\n", mode, s.model.c_str(), device.c_str(),
                precision.c_str(), batch, ms, batch * 1000.0 / ms);
    std::fflush(stdout);
}

// The CPU anchor in the same process: TorchScript optimize_for_inference of torchvision's model, timed call by call
// alternately with the engine (who goes first alternates too), on the same input and threads. On a machine whose
// speed drifts by +-20% between runs (this project's 2-core box), separate runs cannot rank two models 5% apart;
// interleaved calls see the same drift. Loading TorchScript runs its code: this is for the anchor file the
// benchmark script wrote, never a user's checkpoint.
void pairedAgainstTorchScript(const Settings& s, const torch::Device& device, InferenceModel& engine, int size)
{
    auto anchor = torch::jit::load(s.pairedAnchor, device);
    anchor.eval();
    anchor = torch::jit::optimize_for_inference(anchor);
    for (const int batch : s.batches) {
        const auto input = torch::randn({batch, 3, size, size}, torch::TensorOptions().device(device));
        c10::InferenceMode inference;
        const std::function<void()> calls[2] = {[&] { engine.forward(input); },
                                                [&] { anchor.forward({input}); }};
        std::vector<double> ms[2];
        std::vector<double> ratios;   // anchor / engine, per pair
        for (int i = 0; i < s.warmup + s.iterations; ++i) {
            double pair[2];
            for (int k = 0; k < 2; ++k) {
                const int which = (i + k) % 2;
                const auto t0 = Clock::now();
                calls[which]();
                synchronize(device);
                pair[which] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            }
            if (i < s.warmup)
                continue;
            ms[0].push_back(pair[0]);
            ms[1].push_back(pair[1]);
            ratios.push_back(pair[1] / pair[0]);
        }
        const auto faster = std::count_if(ratios.begin(), ratios.end(), [](double r) { return r > 1.0; });
        std::printf("paired   %s batch %d, %d pairs: engine median %.3f ms, TorchScript optimize_for_inference median "
                    "%.3f ms; median per-pair ratio anchor/engine %.3f (above 1: engine faster); engine faster in %d "
                    "of %d pairs\n",
                    s.model.c_str(), batch, s.iterations, median(ms[0]), median(ms[1]), median(ratios),
                    static_cast<int>(faster), static_cast<int>(ratios.size()));
        std::fflush(stdout);
    }
}

// Fine-tuning throughput and peak memory (issue 14): the whole network training in train mode with AdamW through
// the trainer's own optimisation step (training_step.h: autocast, fp16 loss scaling, channels_last on CUDA), on
// random images and labels (speed does not depend on them). Each step waits for its loss, as the trainer does.
// The peak counts weights, AdamW's moments, activations and gradients; it is reset after the warm-up.
int runTrainSteps(const Settings& s)
{
    const bool onCuda = s.device == "cuda" || (s.device == "auto" && torch::cuda::is_available());
    const torch::Device device = onCuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    const Precision precision = parsePrecision(s.precision == "auto" ? (onCuda ? "fp16" : "fp32") : s.precision);
    constexpr double kLearningRate = 1e-4, kWeightDecay = 0.05, kLabelSmoothing = 0.1;
    constexpr int kClasses = 1000;
    const auto name = resolveModelName(s.model);
    torch::manual_seed(0);
    EfficientNet model(EfficientNetOptions(name.spec->name).padding(name.padding));
    model->to(device);
    training::toChannelsLast(*model, device);
    model->train();
    training::MultiTensorAdamW optimizer(model->parameters(), torch::optim::AdamWOptions(kLearningRate).weight_decay(kWeightDecay));
    training::LossScaler scaler(precision == Precision::Float16);
    auto images = torch::randn({s.trainStep, 3, s.trainSize, s.trainSize}, torch::TensorOptions().device(device));
    if (onCuda)
        images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    const auto labels = torch::randint(0, kClasses, {s.trainStep}, torch::TensorOptions().device(device).dtype(torch::kInt64));
    std::optional<activation::PlainSwishScope> plain;
    if (s.plainSwish)
        plain.emplace();
    double lastLoss = 0;
    const auto step = [&] {
        lastLoss = training::optimisationStep(optimizer, [&] { return model->forward(images); }, labels,
                                              kLabelSmoothing, precision, device, scaler)
                       .loss.item<double>();
    };
    for (int i = 0; i < s.warmup; ++i)
        step();
    synchronize(device);
    training::resetPeakCudaMemory();
    const auto start = Clock::now();
    for (int i = 0; i < s.iterations; ++i)
        step();
    synchronize(device);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("train-step %s %s batch %d %dpx %s swish=%s: %.1f img/s, %.2f ms/step, peak %.1f MiB, loss %.3f\n",
                s.model.c_str(), onCuda ? "cuda" : "cpu", s.trainStep, s.trainSize, toString(precision),
                s.plainSwish ? "plain" : "memory-efficient", s.trainStep * s.iterations / seconds,
                1000 * seconds / s.iterations, training::peakCudaMemory() / (1024.0 * 1024.0), lastLoss);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const Settings s = parse(argc, argv);
        if (s.threads > 0)
            torch::set_num_threads(s.threads);
        if (s.trainStep > 0)
            return runTrainSteps(s);
        ClassifierOptions options;
        options.model = s.model;
        options.randomWeights = true;   // speed does not depend on the weights' values
        options.device = s.device;
        options.precision = s.precision;
        options.cudaGraphs = s.cudaGraphs;
        Classifier classifier(options);
        const std::string deviceName = classifier.deviceName();
        const auto device = deviceName == "cpu" ? torch::Device(torch::kCPU) : torch::Device(torch::kCUDA, 0);
        std::printf("# efficientnet-bench: %s on %s, %s, torch threads %d, CUDA graphs %s\n", s.model.c_str(),
                    deviceName.c_str(), classifier.precision().c_str(), torch::get_num_threads(),
                    s.cudaGraphs && device.is_cuda() ? "on" : "off");
        std::printf("%-8s %-18s %-28s %-5s %5s %13s %18s\n", "input", "model", "device", "prec", "batch", "time",
                    "throughput");

        if (s.tensors) {
            const auto name = resolveModelName(s.model);
            EfficientNet model(EfficientNetOptions(name.spec->name).padding(name.padding));
            InferenceOptions inference;
            inference.device = device;
            inference.precision = parsePrecision(classifier.precision());
            inference.cudaGraphs = s.cudaGraphs;
            inference.channelsLast = device.is_cuda();
            inference.directOneDnn = s.directOneDnn;
            InferenceModel engine(model, inference);
            std::printf("# tensor path: %s\n", engine.backend().c_str());
            const int size = classifier.inputSize();
            if (!s.pairedAnchor.empty()) {
                pairedAgainstTorchScript(s, device, engine, size);
                return 0;
            }
            // Profiling: the same model without CUDA graphs as well, in this process so that cuDNN's autotuning
            // picks the same kernels. Its trace names the operator behind each kernel, which a graph replay's
            // trace does not; profile_table.py carries those names over to the graph's kernels by their order.
            std::unique_ptr<InferenceModel> eagerEngine;
            if (!s.profileTrace.empty() && inference.cudaGraphs && device.is_cuda()) {
                InferenceOptions eager = inference;
                eager.cudaGraphs = false;
                eagerEngine = std::make_unique<InferenceModel>(
                    EfficientNet(EfficientNetOptions(name.spec->name).padding(name.padding)), eager);
            }
            const auto tracePath = [&](int batch, bool graphs) {
                return s.profileTrace + "/engine-" + s.model + "-" + classifier.precision() + "-b" +
                       std::to_string(batch) + (graphs ? "-graph" : "-eager") + ".json";
            };
            for (const int batch : s.batches) {
                const auto input = torch::randn({batch, 3, size, size}, torch::TensorOptions().device(device))
                                       .to(scalarType(inference.precision))
                                       .contiguous(inference.channelsLast ? torch::MemoryFormat::ChannelsLast
                                                                          : torch::MemoryFormat::Contiguous);
                report("tensor", s, deviceName, classifier.precision(), batch,
                       timeMs(s, device, [&] { engine.forward(input); }));
                if (s.profileTrace.empty())
                    continue;
                if (eagerEngine) {
                    report("nograph", s, deviceName, classifier.precision(), batch,
                           timeMs(s, device, [&] { eagerEngine->forward(input); }));
                    writeTrace(tracePath(batch, false), device, [&] { eagerEngine->forward(input); });
                }
                writeTrace(tracePath(batch, inference.cudaGraphs && device.is_cuda()), device,
                           [&] { engine.forward(input); });
            }
        }
        if (s.frames) {
            for (const int batch : s.batches) {
                std::vector<Image> frames;
                for (int i = 0; i < batch; ++i) {
                    const auto pixels = torch::randint(0, 256, {s.frameHeight, s.frameWidth, 3}, torch::kUInt8);
                    frames.push_back({s.frameWidth, s.frameHeight,
                                      std::vector<std::uint8_t>(pixels.data_ptr<std::uint8_t>(),
                                                                pixels.data_ptr<std::uint8_t>() + pixels.numel())});
                }
                StageTimes last;
                const double ms = timeMs(s, device, [&] { last = classifier.classifyBatch(frames, 5).times; });
                report("frames", s, deviceName, classifier.precision(), batch, ms);
                std::printf("#   stages (last call): preprocess %.3f ms, upload %.3f ms, forward %.3f ms, postprocess %.3f ms\n",
                            last.preprocessMs, last.uploadMs, last.forwardMs, last.postprocessMs);
            }
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "efficientnet-bench: " << e.what() << "\n";
        return 1;
    }
}
