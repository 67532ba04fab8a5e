// CUDA tests of the engine, run on the GPU machine (no Qt there, hence a plain executable). Without a CUDA device
// it exits 77, which CTest reports as skipped, saying why.
//  - fp16 and bf16 give fp32's answers on the same weights (BatchNorm statistics calibrated on data first, else a
//    random network overflows in half precision);
//  - CUDA-graph replay equals eager execution;
//  - GPU preprocessing equals the host's (Pillow's arithmetic) to float rounding;
//  - CUDA fp32 equals the CPU within TF32 rounding.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "engine/cuda_support.h"
#include "engine/frame_plan.h"
#ifdef EFFICIENTNET_WITH_CUDA
#include "engine/cuda/fused_ops.h"
#include "engine/cuda/pointwise_gemm.h"
#endif
#ifdef EFFICIENTNET_WITH_NVJPEG
#include "engine/cuda/jpeg_decoder.h"
#endif
#include "efficientnet/checkpoint.h"
#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "efficientnet/classifier.h"
#include "efficientnet/inference.h"
#include "efficientnet/model.h"
#include "efficientnet/preprocess.h"
#include "efficientnet/swish.h"
#include "efficientnet/training_step.h"
#include "efficientnet/weights.h"

namespace {

using namespace efficientnet;

constexpr int kSkip = 77;
int g_passed = 0;
int g_failed = 0;

bool check(bool ok, const std::string& what)
{
    std::printf("%s: %s\n", ok ? "PASS" : "FAIL", what.c_str());
    ++(ok ? g_passed : g_failed);
    return ok;
}

double relativeError(const torch::Tensor& a, const torch::Tensor& b)
{
    return ((a.to(torch::kDouble) - b.to(torch::kDouble)).norm() / b.to(torch::kDouble).norm()).item<double>();
}

// Share of samples whose top-1 class agrees, among those where the reference's top-1 leads its runner-up by more
// than 5% of the logit range (a random network has near-ties that rounding may flip, and they prove nothing).
double top1Agreement(const torch::Tensor& a, const torch::Tensor& reference)
{
    const auto top2 = std::get<0>(reference.topk(2, 1));
    const auto clear = (top2.select(1, 0) - top2.select(1, 1)) > 0.05 * (reference.max() - reference.min());
    const auto agree = a.argmax(1).eq(reference.argmax(1));
    return agree.index({clear}).to(torch::kDouble).mean().item<double>();
}

// A random model whose BatchNorm statistics come from data (one train-mode pass), so activations stay O(1).
EfficientNet calibratedModel(const std::string& variant, int size, Padding padding = Padding::Symmetric)
{
    torch::manual_seed(0);
    EfficientNet model{EfficientNetOptions(variant).padding(padding)};
    for (auto& m : model->modules(false))
        if (auto* bn = m->as<torch::nn::BatchNorm2d>())
            bn->options.momentum(1.0);   // the running statistics become this batch's
    model->train();
    {
        torch::NoGradGuard noGrad;
        model->forward(torch::randn({8, 3, size, size}));
    }
    model->eval();
    return model;
}

// A second model with the same weights (InferenceModel takes its model over and folds it).
EfficientNet copyOf(const EfficientNet& model)
{
    EfficientNet copy(model->options());
    loadStateDict(copy, stateDict(model), "(copy)");
    copy->eval();
    return copy;
}

torch::Tensor run(const EfficientNet& model, Precision precision, bool graphs, const torch::Tensor& input)
{
    InferenceOptions options;
    options.device = torch::Device(torch::kCUDA, 0);
    options.precision = precision;
    options.cudaGraphs = graphs;
    InferenceModel engine(copyOf(model), options);
    return engine.forward(input.to(options.device)).cpu();
}

void halfPrecisionMatchesFloat(const std::string& variant, int size)
{
    const auto model = calibratedModel(variant, size);
    const auto input = torch::randn({32, 3, size, size});
    const auto fp32 = run(model, Precision::Float32, false, input);
    for (auto precision : {Precision::Float16, Precision::BFloat16}) {
        const auto half = run(model, precision, true, input);
        const double rel = relativeError(half, fp32);
        const double agree = top1Agreement(half, fp32);
        const double limit = precision == Precision::Float16 ? 1e-2 : 5e-2;
        char what[200];
        std::snprintf(what, sizeof what, "%s %s vs fp32: relative error %.2e (< %.0e), top-1 agreement %.2f",
                      variant.c_str(), toString(precision), rel, limit, agree);
        check(torch::isfinite(half).all().item<bool>() && rel < limit && agree == 1.0, what);
    }
}

void graphReplayEqualsEager(Precision precision)
{
    const auto model = calibratedModel("efficientnet_b0", 224);
    InferenceOptions options;
    options.device = torch::Device(torch::kCUDA, 0);
    options.precision = precision;
    InferenceModel graphed(copyOf(model), options);
    options.cudaGraphs = false;
    InferenceModel eager(copyOf(model), options);
    double worst = 0;
    for (int i = 0; i < 3; ++i) {   // new data through the same captured graph each time
        const auto input = torch::randn({4, 3, 224, 224}, torch::TensorOptions().device(options.device));
        worst = std::max(worst, (graphed.forward(input) - eager.forward(input)).abs().max().item<double>());
    }
    char what[160];
    std::snprintf(what, sizeof what, "CUDA graph replay equals eager (%s): max abs difference %.2e", toString(precision), worst);
    check(worst <= (precision == Precision::Float32 ? 1e-4 : 1e-2), what);
}

// A batch without a graph of its own (a folder's last, partial batch) replays a captured graph of up to twice its size,
// its spare rows holding the previous batch's images: its outputs are those of its images alone. A batch under half
// of every captured size gets its own graph.
void smallerBatchesReplayALargerGraph()
{
    const auto model = calibratedModel("efficientnet_b0", 224);
    InferenceOptions options;
    options.device = torch::Device(torch::kCUDA, 0);
    options.precision = Precision::Float32;
    InferenceModel graphed(copyOf(model), options);
    options.cudaGraphs = false;
    InferenceModel eager(copyOf(model), options);
    const auto onGpu = torch::TensorOptions().device(options.device);
    const auto eight = torch::randn({8, 3, 224, 224}, onGpu);
    graphed.forward(eight);   // captures batch 8
    const auto five = torch::randn({5, 3, 224, 224}, onGpu);
    const auto padded = graphed.forward(five);
    const std::size_t graphsAfterFive = graphed.capturedGraphs();
    // The reference: the same five images in a batch of 8 run eagerly (the same shape, so the same algorithms).
    const auto reference = eager.forward(torch::cat({five, eight.narrow(0, 5, 3)})).narrow(0, 0, 5);
    const double worst = (padded - reference).abs().max().item<double>();
    graphed.forward(torch::randn({3, 3, 224, 224}, onGpu));
    const std::size_t graphsAfterThree = graphed.capturedGraphs();
    char what[260];
    std::snprintf(what, sizeof what, "a batch of 5 replays the graph of 8 (graphs: %zu, then %zu after a batch of 3), "
                  "%lld rows back, max abs difference from its images alone %.2e (<= 1e-4)", graphsAfterFive,
                  graphsAfterThree, static_cast<long long>(padded.size(0)), worst);
    check(graphsAfterFive == 1 && graphsAfterThree == 2 && padded.size(0) == 5 && worst <= 1e-4, what);
}

// Without autotuning (the console tool's default) cuDNN's heuristics choose the algorithms: the process's benchmark
// flag follows the option, and the answers are the autotuned engine's within fp16 rounding. The first forward at a
// new batch size is printed for each (not asserted: a timing), as that is what the option is for; each runs at a batch
// size of its own (61 without, 62 with), so that neither reuses the algorithms cuDNN set up for the other.
void autotuningIsAChoice()
{
    const auto model = calibratedModel("efficientnet_b0", 224);
    const auto input = torch::randn({62, 3, 224, 224}, torch::TensorOptions().device(torch::kCUDA, 0));
    std::map<bool, torch::Tensor> out;
    std::map<bool, double> firstMs;
    std::map<bool, bool> flag;
    for (const bool autotune : {false, true}) {
        InferenceOptions options;
        options.device = torch::Device(torch::kCUDA, 0);
        options.precision = Precision::Float16;
        options.autotune = autotune;
        InferenceModel engine(copyOf(model), options);
        flag[autotune] = at::globalContext().benchmarkCuDNN();
        torch::cuda::synchronize();
        const auto start = std::chrono::steady_clock::now();
        out[autotune] = engine.forward(autotune ? input : input.narrow(0, 0, 61)).cpu().narrow(0, 0, 61);
        firstMs[autotune] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    const double rel = relativeError(out[false], out[true]);
    char what[300];
    std::snprintf(what, sizeof what, "autotune off/on sets cuDNN's benchmark flag (%d/%d); outputs agree (relative "
                  "error %.2e < 1e-2); first forward with its graph capture: %.0f ms off (batch 61), %.0f ms on (batch 62)",
                  flag[false], flag[true], rel, firstMs[false], firstMs[true]);
    check(!flag[false] && flag[true] && rel < 1e-2, what);
}

// The GPU's preprocessing runs Pillow's fixed-point arithmetic (engine/cuda/frame_preprocess.cu): its output equals
// the host path's, which equals torchvision's transform on PIL images (test_imaging), to float rounding — for
// landscape, portrait, upscaled and camera-sized frames, bilinear and bicubic, shorter-side and squash resizing.
void gpuPreprocessingEqualsCpu()
{
    torch::manual_seed(1);
    auto squash = efficientnet::variant("efficientnet_b0").preprocessing;
    squash.resizeMode = ResizeMode::Squash;
    squash.resizeSize = 240;
    const std::vector<std::pair<std::string, Preprocessing>> transforms = {
        {"efficientnet_b0", efficientnet::variant("efficientnet_b0").preprocessing},
        {"efficientnet_v2_s", efficientnet::variant("efficientnet_v2_s").preprocessing},
        {"squash 240", squash}};
    for (const auto& [name, p] : transforms) {
        for (auto [h, w] : {std::pair<int, int>{480, 640}, {300, 451}, {640, 480}, {1080, 1920}, {80, 100}, {224, 224}}) {
            // Smooth content (upsampled noise) like a photo, plus a little noise for edges.
            const auto frames = (torch::nn::functional::interpolate(
                                     torch::rand({2, 3, std::max(h / 8, 2), std::max(w / 8, 2)}) * 255,
                                     torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false)) +
                                 torch::randn({2, 3, h, w}) * 8)
                                    .round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
            std::vector<torch::Tensor> host;
            for (int64_t n = 0; n < frames.size(0); ++n) {
                const auto frame = frames[n];
                const Image image{w, h, std::vector<std::uint8_t>(frame.data_ptr<std::uint8_t>(), frame.data_ptr<std::uint8_t>() + frame.numel())};
                host.push_back(preprocess(image, p));
            }
            const auto cpu = torch::stack(host);
            const auto gpu = preprocessBatch(frames.cuda(), p).cpu();
            const double maxAbs = (cpu - gpu).abs().max().item<double>();
            char what[200];
            std::snprintf(what, sizeof what, "GPU preprocessing equals the host's (%s, %dx%d): max |diff| %.3g", name.c_str(),
                          w, h, maxAbs);
            check(gpu.sizes() == cpu.sizes() && maxAbs <= 1e-6, what);   // one 8-bit level is ~0.017
        }
    }
}

// A batch of photos of many sizes is preprocessed in one launch (frame_plan.h's preprocessWindows): each image with
// its own tables, some whole in the buffer (a GPU-decoded photo: the window is part of its rows) and some as uploaded
// windows, two of one size sharing a plan. Each must equal the host path's result for its own size.
void gpuPreprocessingOfMixedSizesEqualsCpu()
{
    torch::manual_seed(3);
    auto squash = efficientnet::variant("efficientnet_b0").preprocessing;
    squash.resizeMode = ResizeMode::Squash;
    squash.resizeSize = 240;
    const std::vector<std::pair<int, int>> sizes = {{480, 640}, {1440, 1920}, {300, 451}, {80, 100}, {480, 640}, {640, 427}, {224, 224}};
    for (const auto& [name, p] : std::vector<std::pair<std::string, Preprocessing>>{
             {"efficientnet_b0", efficientnet::variant("efficientnet_b0").preprocessing},
             {"efficientnet_v2_s", efficientnet::variant("efficientnet_v2_s").preprocessing},
             {"squash 240", squash}}) {
        std::vector<Image> images;
        std::vector<FramePlan> plans;
        plans.reserve(sizes.size());
        std::vector<std::uint8_t> buffer;
        std::vector<PlacedWindow> windows;
        for (size_t i = 0; i < sizes.size(); ++i) {
            const auto [h, w] = sizes[i];
            const auto pixels = (torch::rand({h, w, 3}) * 255).round().to(torch::kUInt8).contiguous();
            images.push_back({w, h, std::vector<std::uint8_t>(pixels.data_ptr<std::uint8_t>(), pixels.data_ptr<std::uint8_t>() + pixels.numel())});
            plans.push_back(planFrames(h, w, p));
            const auto& plan = plans.back();
            const auto& rgb = images.back().rgb;
            const auto start = static_cast<int64_t>(buffer.size());
            if (i % 2 == 0) {   // the whole image: the window is read with the image's pitch
                buffer.insert(buffer.end(), rgb.begin(), rgb.end());
                windows.push_back({&plan, start + (static_cast<int64_t>(plan.top) * w + plan.left) * 3, static_cast<int64_t>(w) * 3});
            } else {   // only the window, rows back to back
                for (int y = 0; y < plan.height; ++y) {
                    const auto row = rgb.begin() + (static_cast<std::ptrdiff_t>(plan.top + y) * w + plan.left) * 3;
                    buffer.insert(buffer.end(), row, row + static_cast<std::ptrdiff_t>(plan.width) * 3);
                }
                windows.push_back({&plan, start, static_cast<int64_t>(plan.width) * 3});
            }
        }
        windows[4].plan = &plans[0];   // the second 640x480 image uses the first one's plan
        const auto onDevice = torch::from_blob(buffer.data(), {static_cast<int64_t>(buffer.size())}, torch::kUInt8).cuda();
        const auto gpu = preprocessWindows(onDevice, windows, p).cpu();
        double worst = 0;
        for (size_t i = 0; i < images.size(); ++i)
            worst = std::max(worst, (gpu[static_cast<int64_t>(i)] - preprocess(images[i], p)).abs().max().item<double>());
        char what[200];
        std::snprintf(what, sizeof what, "GPU preprocessing of %zu images of 6 sizes in one launch equals the host's (%s): max |diff| %.3g",
                      images.size(), name.c_str(), worst);
        check(gpu.size(0) == static_cast<int64_t>(images.size()) && worst <= 1e-6, what);
    }
}

void cudaFloatMatchesCpu()
{
    const auto model = calibratedModel("efficientnet_b0", 224);
    const auto input = torch::randn({4, 3, 224, 224});
    InferenceModel cpuEngine(copyOf(model), InferenceOptions{});
    const auto cpu = cpuEngine.forward(input);
    const auto cuda = run(model, Precision::Float32, true, input);
    const double rel = relativeError(cuda, cpu);
    char what[160];
    std::snprintf(what, sizeof what, "CUDA fp32 (TF32 convolutions) equals CPU fp32: relative error %.2e", rel);
    check(rel < 1e-2, what);
}

// The Classifier's whole CUDA input path (pinned upload, grouping by frame size, GPU preprocessing, order of the
// results) against the CPU Classifier on the same weights and frames.
void classifierOnCudaMatchesCpu()
{
    const std::string weights = "/tmp/efficientnet_test_cuda_b0.safetensors";
    writeSafetensors(weights, stateDict(calibratedModel("efficientnet_b0", 224)));
    ClassifierOptions options;
    options.weights = weights;
    options.precision = "fp32";
    options.device = "cpu";
    Classifier cpu(options);
    options.device = "cuda";
    Classifier gpu(options);
    torch::manual_seed(2);
    std::vector<Image> frames;
    for (auto [h, w] : {std::pair<int, int>{480, 640}, {300, 451}, {480, 640}, {256, 256}, {480, 640}}) {
        const auto pixels = torch::nn::functional::interpolate(
                                torch::rand({1, 3, h / 8, w / 8}) * 255,
                                torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false))
                                .round().clamp(0, 255).to(torch::kUInt8)[0].permute({1, 2, 0}).contiguous();
        frames.push_back({w, h, std::vector<std::uint8_t>(pixels.data_ptr<std::uint8_t>(), pixels.data_ptr<std::uint8_t>() + pixels.numel())});
    }
    for (const bool sameSize : {false, true}) {
        std::vector<Image> batch = frames;
        if (sameSize)
            batch = {frames[0], frames[2], frames[4]};
        const auto a = cpu.classifyBatch(batch, 5).predictions;
        const auto b = gpu.classifyBatch(batch, 5).predictions;
        double worst = 0;
        bool sameTop1 = a.size() == b.size();
        for (size_t i = 0; sameTop1 && i < a.size(); ++i) {
            sameTop1 = a[i][0].index == b[i][0].index;
            worst = std::max(worst, static_cast<double>(std::abs(a[i][0].probability - b[i][0].probability)));
        }
        char what[200];
        std::snprintf(what, sizeof what, "Classifier on CUDA equals the CPU (%s sizes): same top-1, probability within %.2e",
                      sameSize ? "equal" : "mixed", worst);
        check(sameTop1 && worst < 1e-2, what);
    }
}

// Issue 3's "no per-frame allocations in steady state": camera-sized frames, one at a time, through the
// Classifier's CUDA path. After warm-up no memory comes from the driver any more: the pinned staging buffer is
// reused and device tensors are recycled by LibTorch's caching allocator (its served allocations are reported).
void steadyStateFramesTakeNoNewMemory()
{
    ClassifierOptions options;
    options.randomWeights = true;
    options.device = "cuda";
    Classifier gpu(options);
    constexpr int kWidth = 640, kHeight = 480, kWarmup = 10, kFrames = 200;
    const auto pixels = torch::randint(0, 256, {kHeight, kWidth, 3}, torch::kUInt8);
    const Image frame{kWidth, kHeight, std::vector<std::uint8_t>(pixels.data_ptr<std::uint8_t>(), pixels.data_ptr<std::uint8_t>() + pixels.numel())};
    for (int i = 0; i < kWarmup; ++i)
        gpu.classify(frame, 5);
    const auto before = cuda::allocatorCounters(0);
    for (int i = 0; i < kFrames; ++i)
        gpu.classify(frame, 5);
    const auto after = cuda::allocatorCounters(0);
    char what[240];
    std::snprintf(what, sizeof what, "steady state: %lld new driver allocations over %d frames (%.1f tensors per frame "
                  "served from the cache)", static_cast<long long>(after.driverAllocations - before.driverAllocations),
                  kFrames, static_cast<double>(after.tensorAllocations - before.tensorAllocations) / kFrames);
    check(before.driverAllocations > 0 && after.driverAllocations == before.driverAllocations, what);
}

// Issue 16: switching models gives the old model's GPU memory back. 27 switches through B0, B3 and V2-S in fp16,
// bf16 and fp32, each model classifying a frame and a batch of 8 (so its CUDA graphs are captured) before the next
// replaces it, as the app's model box does. The device's memory in use with B0 fp16 loaded again at the end is
// at most 5 % above that with B0 fp16 loaded first, and at most 5 % above that after the first cycle of nine.
void modelSwitchesGiveMemoryBack()
{
    // Device memory in use is the driver's count: LibTorch's cache, cuDNN/cuBLAS state, and the code of every kernel
    // loaded so far, which CUDA loads lazily, the first time each model and precision runs one. Before streams were
    // reused (cuda_support.cpp), cuBLAS's workspace for each new stream made it grow from 1,919 MiB at the first load
    // to 2,365 / 2,595 / 2,653 MiB after one, two and three cycles on an H200. The cycle-to-cycle check tells a leak
    // (growth with every cycle) from one-time costs; the first-to-last check is the issue's own bound.
    const char* models[] = {"efficientnet_b0", "efficientnet_b3", "efficientnet_v2_s"};
    const char* precisions[] = {"fp16", "bf16", "fp32"};
    constexpr int kCombinations = 9, kSwitches = 3 * kCombinations;   // 27: back on models[0] with precisions[0]
    constexpr int kWidth = 640, kHeight = 480;
    const auto pixels = torch::randint(0, 256, {kHeight, kWidth, 3}, torch::kUInt8);
    const Image frame{kWidth, kHeight, std::vector<std::uint8_t>(pixels.data_ptr<std::uint8_t>(), pixels.data_ptr<std::uint8_t>() + pixels.numel())};
    const std::vector<Image> batch(8, frame);
    std::optional<Classifier> loaded;
    std::vector<std::int64_t> inUse;
    std::string trace = "device memory in use / LibTorch reserved after each load (MiB):";
    for (int i = 0; i <= kSwitches; ++i) {
        ClassifierOptions options;
        options.randomWeights = true;
        options.device = "cuda";
        options.model = models[i % 3];
        options.precision = precisions[(i / 3) % 3];
        loaded.reset();   // the app's session drops the old model before loading the next
        loaded.emplace(options);
        loaded->classify(frame, 5);
        loaded->classifyBatch(batch, 5);
        inUse.push_back(cuda::deviceMemoryInUse(0));
        trace += " " + std::to_string(inUse.back() >> 20) + "/" + std::to_string(cuda::allocatorCounters(0).reservedBytes >> 20);
    }
    std::printf("%s\n", trace.c_str());
    const auto mib = [&](int i) { return inUse[i] / 1048576.0; };
    const std::int64_t peak = *std::max_element(inUse.begin(), inUse.end());
    const std::int64_t afterFirstCycle = inUse[kCombinations];
    const std::int64_t last = inUse[kSwitches];
    char what[400];
    std::snprintf(what, sizeof what, "%d model switches (B0/B3/V2-S x fp16/bf16/fp32): device memory in use with B0 fp16 "
                  "%.1f MiB at the first load, %.1f / %.1f / %.1f MiB after 1 / 2 / 3 cycles through all nine (%+.1f %% "
                  "from the first load, %+.1f %% from the first cycle), peak %.1f MiB", kSwitches, mib(0), mib(kCombinations),
                  mib(2 * kCombinations), mib(kSwitches), 100.0 * (last - inUse[0]) / inUse[0],
                  100.0 * (last - afterFirstCycle) / afterFirstCycle, peak / 1048576.0);
    check(inUse[0] > 0 && last <= inUse[0] * 1.05 && last <= afterFirstCycle * 1.05, what);
}

// Issue 16: JPEGs decoded on the GPU's hardware decoder (Classifier::classifyJpegs, efficientnet-cli --decode gpu).
// Its pixels against libjpeg's (through OpenCV, the reference's decoder): same size, mean |diff| at most 2 levels of
// 255 (they round IDCT and chroma upsampling differently). The Classifier: the photos taken, the files it must leave
// to the CPU (cut off, EXIF-rotated) left, and top-5 probabilities within 0.02 of the CPU-decoded pixels'. With
// random weights those probabilities are nearly flat, so that bound shows the path runs, not that its values follow
// the pixels: the pixel comparison above does that, and test_cli's --decode gpu comparison with the reference's
// trained-like weights, where the GPU machine builds the Qt tests.
void gpuJpegDecodingFollowsCpu()
{
    std::vector<std::string> names = {"cat.jpg", "coffee.jpg", "rocket.jpg"};
    std::vector<std::vector<std::uint8_t>> files;
    std::vector<Image> cpu;
    for (const auto& name : names) {
        files.push_back(readImageFile(std::string(EFFICIENTNET_SAMPLES_DIR) + "/" + name));
        cpu.push_back(decodeImageFile(std::string(EFFICIENTNET_SAMPLES_DIR) + "/" + name));
    }
    std::vector<const std::vector<std::uint8_t>*> pointers;
    for (const auto& file : files)
        pointers.push_back(&file);
#ifdef EFFICIENTNET_WITH_NVJPEG
    std::unique_ptr<cuda::JpegDecoder> decoder;
    try {
        decoder = std::make_unique<cuda::JpegDecoder>(0);
    } catch (const std::exception& e) {
        std::printf("SKIP: GPU JPEG decoding: %s\n", e.what());
        return;
    }
    const auto decoded = decoder->decode(pointers);
    torch::cuda::synchronize();
    for (size_t i = 0; i < files.size(); ++i) {
        const bool sameSize = decoded.offsets[i] >= 0 && decoded.widths[i] == cpu[i].width && decoded.heights[i] == cpu[i].height;
        double mean = -1, worst = -1;
        if (sameSize) {
            const auto gpu = decoded.pixels.narrow(0, decoded.offsets[i], static_cast<int64_t>(cpu[i].rgb.size())).to(torch::kCPU).to(torch::kInt);
            const auto host = torch::from_blob(cpu[i].rgb.data(), {static_cast<int64_t>(cpu[i].rgb.size())}, torch::kUInt8).to(torch::kInt);
            const auto diff = (gpu - host).abs().to(torch::kDouble);
            mean = diff.mean().item<double>();
            worst = diff.max().item<double>();
        }
        char what[300];
        std::snprintf(what, sizeof what, "GPU JPEG decoder on %s (%dx%d): mean |diff| %.3f, max %.0f levels from libjpeg's pixels",
                      names[i].c_str(), cpu[i].width, cpu[i].height, mean, worst);
        check(sameSize && mean <= 2.0, what);
    }
#else
    std::printf("SKIP: GPU JPEG decoding: this build has no nvJPEG\n");
    return;
#endif
    for (const char* model : {"efficientnet_b0", "efficientnet_v2_s"}) {
        ClassifierOptions options;
        options.randomWeights = true;
        options.device = "cuda";
        options.model = model;
        options.precision = "fp32";
        Classifier gpu(options);
        std::string why;
        if (!gpu.decodesJpegOnGpu(&why)) {
            check(false, "the Classifier has no GPU JPEG decoder although the engine's starts: " + why);
            continue;
        }
        // Also offered: one cut off at half (no end marker), one with an EXIF orientation of 6 spliced in after SOI.
        auto cut = std::vector<std::uint8_t>(files[0].begin(), files[0].begin() + static_cast<std::ptrdiff_t>(files[0].size() / 2));
        const std::uint8_t exif[] = {0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                                     1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
        auto rotated = files[1];
        rotated.insert(rotated.begin() + 2, std::begin(exif), std::end(exif));
        auto offered = pointers;
        offered.push_back(&cut);
        offered.push_back(&rotated);
        const auto onGpu = gpu.classifyJpegs(offered, 5);
        const auto onCpu = gpu.classifyBatch(cpu, 5);
        bool allTaken = true;   // top-1 is not compared: a random network's near-ties may flip (test_cli compares it)
        double worst = 0;
        for (size_t i = 0; i < files.size(); ++i) {
            allTaken = allTaken && onGpu.predictions[i].has_value();
            if (!onGpu.predictions[i])
                continue;
            for (size_t k = 0; k < 5; ++k)
                worst = std::max(worst, static_cast<double>(std::abs((*onGpu.predictions[i])[k].probability - onCpu.predictions[i][k].probability)));
        }
        const bool leftOut = !onGpu.predictions[3] && !onGpu.predictions[4];
        char what[300];
        std::snprintf(what, sizeof what, "%s classifyJpegs on the GPU's decoder: 3 photos taken, cut-off and EXIF-rotated "
                      "files left to the CPU; top-5 probabilities (random weights: nearly flat) within %.2e of the "
                      "CPU-decoded pixels'; decode %.2f ms",
                      model, worst, onGpu.times.decodeMs);
        check(allTaken && worst < 0.02 && leftOut, what);
    }
}

// The folder pipeline (efficientnet-cli --decode gpu): batches given from several threads at once decode on the
// decoder's two slots, each on its own stream, while another is classified on the engine's. Each thread's answers
// must be those of the same batch given alone: same files in, same kernels, so the same probabilities exactly. A
// wrong stream order (the engine reading pixels before their decode is done, or memory reused under it) shows here.
void concurrentJpegBatchesMatchOneAtATime()
{
    std::vector<std::vector<std::uint8_t>> files;
    for (const char* name : {"cat.jpg", "coffee.jpg", "rocket.jpg"})
        files.push_back(readImageFile(std::string(EFFICIENTNET_SAMPLES_DIR) + "/" + name));
    ClassifierOptions options;
    options.randomWeights = true;
    options.device = "cuda";
    options.precision = "fp32";   // random weights overflow in fp16 (NaN never equals itself)
    Classifier gpu(options);
    if (std::string why; !gpu.decodesJpegOnGpu(&why)) {
        std::printf("SKIP: concurrent GPU JPEG batches: %s\n", why.c_str());
        return;
    }
    // Four batches of 8, each its own order of the three photos.
    constexpr int kThreads = 4, kBatch = 8, kRounds = 5;
    std::vector<std::vector<const std::vector<std::uint8_t>*>> batches(kThreads);
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kBatch; ++i)
            batches[t].push_back(&files[static_cast<size_t>((i * (t + 1) + t) % 3)]);
    std::vector<Classifier::JpegBatchResult> alone;
    for (const auto& batch : batches)
        alone.push_back(gpu.classifyJpegs(batch, 5));
    std::vector<std::vector<Classifier::JpegBatchResult>> together(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int round = 0; round < kRounds; ++round)
                together[t].push_back(gpu.classifyJpegs(batches[t], 5));
        });
    for (auto& thread : threads)
        thread.join();
    int compared = 0, differing = 0;
    for (int t = 0; t < kThreads; ++t)
        for (const auto& result : together[t])
            for (int i = 0; i < kBatch; ++i) {
                const auto& a = alone[t].predictions[i];
                const auto& b = result.predictions[i];
                ++compared;
                if (!a || !b || a->size() != b->size()) {
                    ++differing;
                    continue;
                }
                for (size_t k = 0; k < a->size(); ++k)
                    if ((*a)[k].index != (*b)[k].index || (*a)[k].probability != (*b)[k].probability) {
                        ++differing;
                        break;
                    }
            }
    char what[200];
    std::snprintf(what, sizeof what, "classifyJpegs from %d threads at once, %d rounds: %d of %d images' top-5 differ from "
                  "the same batch given alone", kThreads, kRounds, differing, compared);
    check(compared == kThreads * kRounds * kBatch && differing == 0, what);
}

// Per-stage timings are disjoint parts of the call: on the GPU's timeline upload, preprocessing, forward and
// postprocessing follow one another inside it, so their sum cannot exceed the call's wall time.
void stageTimesAddUp()
{
    ClassifierOptions options;
    options.randomWeights = true;
    options.device = "cuda";
    Classifier gpu(options);
    constexpr int kWidth = 640, kHeight = 480, kBatch = 64;
    const auto pixels = torch::randint(0, 256, {kHeight, kWidth, 3}, torch::kUInt8);
    const std::vector<Image> frames(kBatch, Image{kWidth, kHeight, std::vector<std::uint8_t>(pixels.data_ptr<std::uint8_t>(), pixels.data_ptr<std::uint8_t>() + pixels.numel())});
    gpu.classifyBatch(frames, 5);   // the CUDA graph for this batch size is captured on first use
    const auto start = std::chrono::steady_clock::now();
    const auto t = gpu.classifyBatch(frames, 5).times;
    const double wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const double sum = t.uploadMs + t.preprocessMs + t.forwardMs + t.postprocessMs;
    char what[240];
    std::snprintf(what, sizeof what, "stage times of 64 frames add up: upload %.2f + preprocess %.2f + forward %.2f + "
                  "postprocess %.2f = %.2f ms, call %.2f ms", t.uploadMs, t.preprocessMs, t.forwardMs, t.postprocessMs,
                  sum, wallMs);
    check(t.uploadMs > 0 && t.preprocessMs > 0 && t.forwardMs > 0 && sum <= wallMs * 1.02, what);
}

// Takes device memory until less than `leave` bytes are left (LibTorch's allocator then has no cache to release).
std::vector<torch::Tensor> fillDeviceMemory(int64_t leave)
{
    std::vector<torch::Tensor> taken;
    for (int64_t chunk = int64_t(1) << 30; chunk >= leave; chunk /= 2) {
        try {
            for (;;)
                taken.push_back(torch::empty({chunk}, torch::TensorOptions().dtype(torch::kUInt8).device(torch::kCUDA, 0)));
        } catch (const c10::OutOfMemoryError&) {
        }
    }
    return taken;
}

// A GPU that runs out of memory loses nothing: a batch that does not fit is classified in parts with the same
// answers; when not even one image fits, OutOfMemoryError says so, and the same Classifier works once memory is free.
void outOfMemoryLosesNothing()
{
    ClassifierOptions options;
    options.randomWeights = true;
    options.device = "cuda";
    options.precision = "fp32";
    options.cudaGraphs = false;   // a graph per part size would keep its own memory pool
    Classifier gpu(options);
    constexpr int kWidth = 640, kHeight = 480, kBatch = 256;
    torch::manual_seed(3);
    const auto pixels = torch::randint(0, 256, {kHeight, kWidth, 3}, torch::kUInt8);
    const Image frame{kWidth, kHeight, std::vector<std::uint8_t>(pixels.data_ptr<std::uint8_t>(), pixels.data_ptr<std::uint8_t>() + pixels.numel())};
    const auto single = gpu.classify(frame, 3);
    const std::vector<Image> frames(kBatch, frame);   // 236 MB of pixels on the device, several times that in floats

    auto filler = fillDeviceMemory(int64_t(160) << 20);
    std::vector<std::vector<Prediction>> predictions;
    std::string error;
    try {
        predictions = gpu.classifyBatch(frames, 3).predictions;
    } catch (const std::exception& e) {
        error = e.what();
    }
    bool same = predictions.size() == frames.size();
    for (size_t i = 0; same && i < predictions.size(); ++i)
        same = predictions[i][0].index == single[0].index && std::abs(predictions[i][0].probability - single[0].probability) < 1e-4;
    check(error.empty() && same, "a batch of 256 frames with ~160 MB of device memory free is classified in parts: " +
                                     std::to_string(predictions.size()) + " results, all equal to the single frame's" +
                                     (error.empty() ? "" : "; error: " + error));

    filler.clear();
    filler = fillDeviceMemory(int64_t(1) << 20);
    error.clear();
    try {
        gpu.classifyBatch(frames, 3);
    } catch (const OutOfMemoryError& e) {
        error = e.what();
    } catch (const std::exception& e) {
        error = std::string("not an OutOfMemoryError: ") + e.what();
    }
    filler.clear();
    const auto after = gpu.classify(frame, 3);
    check(error.find("ran out of memory classifying one 640x480 image") != std::string::npos &&
              after[0].index == single[0].index,
          "with ~1 MB free: OutOfMemoryError (\"" + error.substr(0, 160) + "...\"), then the same frame classifies again");
}

// The fused squeeze-and-excitation gate (cuda/fused_ops.h) against its unfused composition in fp32 (mean, Linear,
// SiLU, Linear, sigmoid, multiply), on shapes that take each path: channels_last with channels % 8 == 0 (16-byte
// vectors), channels not divisible by 8, odd spatial sizes, NCHW, batch > 1, B7's widest (3840 channels).
void fusedSqueezeExcitationMatchesComposition()
{
#ifdef EFFICIENTNET_WITH_CUDA
    struct Case { int64_t n, c, h, w, squeezed; torch::ScalarType type; bool channelsLast; double tolerance; };
    const std::vector<Case> cases{
        {1, 32, 112, 112, 8, torch::kHalf, true, 1e-2},   {3, 20, 7, 5, 5, torch::kHalf, true, 1e-2},
        {2, 1152, 7, 7, 48, torch::kBFloat16, true, 2e-2}, {2, 12, 9, 9, 3, torch::kFloat, false, 1e-5},
        {4, 96, 15, 15, 4, torch::kFloat, true, 1e-5},     {2, 3840, 5, 5, 160, torch::kHalf, true, 1e-2},
        {1, 1001, 3, 3, 7, torch::kBFloat16, false, 2e-2}};
    const torch::Device device(torch::kCUDA, 0);
    for (const auto& k : cases) {
        torch::manual_seed(7);
        auto x = torch::randn({k.n, k.c, k.h, k.w}).to(device, k.type);
        if (k.channelsLast)
            x = x.contiguous(torch::MemoryFormat::ChannelsLast);
        const auto w1 = (torch::randn({k.squeezed, k.c}) / std::sqrt(double(k.c))).to(device);
        const auto b1 = torch::randn({k.squeezed}).to(device);
        const auto w2 = (torch::randn({k.c, k.squeezed}) / std::sqrt(double(k.squeezed))).to(device);
        const auto b2 = torch::randn({k.c}).to(device);
        const auto xf = x.to(torch::kFloat);
        const auto hidden = torch::silu(torch::linear(xf.mean({2, 3}), w1, b1));
        const auto gate = torch::sigmoid(torch::linear(hidden, w2, b2)).view({k.n, k.c, 1, 1});
        const auto expected = xf * gate;
        auto fused = x.clone(x.is_contiguous() ? torch::MemoryFormat::Contiguous : torch::MemoryFormat::ChannelsLast);
        const bool taken = cuda::squeezeExcitationInPlace(fused, w1.contiguous(), b1, w2.t().contiguous(), b2);
        const double error = relativeError(fused.to(torch::kFloat), expected);
        check(taken && error < k.tolerance,
              "fused SE gate = composition: " + std::to_string(k.n) + "x" + std::to_string(k.c) + "x" +
                  std::to_string(k.h) + "x" + std::to_string(k.w) + " squeezed " + std::to_string(k.squeezed) + " " +
                  std::string(c10::toString(k.type)) + (k.channelsLast ? " channels_last" : " NCHW") +
                  ": relative error " + std::to_string(error) + " < " + std::to_string(k.tolerance));
    }
#endif
}

// The fused depthwise kernel (cuda/fused_ops.h: depthwise conv + folded-BN bias + SiLU + the squeeze-excitation's
// squeeze) against its composition in fp32 (a padded conv2d with groups = channels, bias, SiLU; the mean of that),
// then the gate from its sums against the composition of torchvision's SqueezeExcitation. Shapes that take every
// path: kernels 3 and 5, strides 1 and 2, symmetric and TensorFlow-SAME (asymmetric) padding, 16-byte packs and
// single channels (counts not divisible by 8), odd sizes, batch 1 (many tiles per image) and more, B7's 3840
// channels. Two runs give bit-identical outputs and sums (no atomics: a replayed graph gives the same answer).
void fusedDepthwiseMatchesComposition()
{
#ifdef EFFICIENTNET_WITH_CUDA
    struct Case {
        int64_t n, c, h, w, k, stride;
        std::array<int64_t, 4> padding;   // top, bottom, left, right
        torch::ScalarType type;
        double tolerance;
    };
    const std::vector<Case> cases{
        {1, 32, 112, 112, 3, 1, {1, 1, 1, 1}, torch::kHalf, 1e-2},      // B0's first block at batch 1
        {2, 96, 112, 112, 3, 2, {1, 1, 1, 1}, torch::kHalf, 1e-2},
        {3, 240, 28, 28, 5, 2, {1, 2, 1, 2}, torch::kBFloat16, 2e-2},   // TF SAME: 28 -> 14 pads 1 + 2
        {2, 20, 9, 7, 5, 1, {2, 2, 2, 2}, torch::kHalf, 1e-2},          // channels % 8 != 0
        {1, 1152, 7, 7, 5, 1, {2, 2, 2, 2}, torch::kBFloat16, 2e-2},
        {2, 36, 15, 15, 3, 2, {0, 1, 0, 1}, torch::kFloat, 1e-5},       // fp32 in packs of 4; TF SAME 15 -> 8
        {4, 7, 10, 13, 3, 1, {1, 1, 1, 1}, torch::kFloat, 1e-5},
        {1, 3840, 5, 5, 3, 1, {1, 1, 1, 1}, torch::kHalf, 1e-2},
        {64, 144, 56, 56, 3, 1, {1, 1, 1, 1}, torch::kHalf, 1e-2}};     // a larger batch
    const torch::Device device(torch::kCUDA, 0);
    for (const auto& k : cases) {
        torch::manual_seed(11);
        const auto x = torch::randn({k.n, k.c, k.h, k.w}).to(device, k.type).contiguous(torch::MemoryFormat::ChannelsLast);
        const auto taps = (torch::randn({k.k * k.k, k.c}) / double(k.k)).to(device, k.type);
        const auto bias = torch::randn({k.c}).to(device);
        const int64_t squeezed = std::max<int64_t>(1, k.c / 4);
        const auto w1 = (torch::randn({squeezed, k.c}) / std::sqrt(double(k.c))).to(device);
        const auto b1 = torch::randn({squeezed}).to(device);
        const auto w2 = (torch::randn({k.c, squeezed}) / std::sqrt(double(squeezed))).to(device);
        const auto b2 = torch::randn({k.c}).to(device);

        // The reference in fp32 on the CPU (cuDNN's fp32 convolutions may round through TF32).
        const auto [top, bottom, left, right] = k.padding;
        const auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat); };
        const auto padded = torch::constant_pad_nd(cpu(x), {left, right, top, bottom}, 0);
        const auto weight = cpu(taps).t().reshape({k.c, 1, k.k, k.k});
        const std::vector<int64_t> stride{k.stride, k.stride}, noPadding{0, 0}, noDilation{1, 1};
        const auto expected = torch::silu(torch::conv2d(padded, weight, cpu(bias), stride, noPadding, noDilation, k.c));
        const auto expectedMeans = expected.mean({2, 3});
        const auto hidden = torch::silu(torch::linear(expectedMeans, cpu(w1), cpu(b1)));
        const auto gate = torch::sigmoid(torch::linear(hidden, cpu(w2), cpu(b2)));
        const auto expectedGated = expected * gate.view({k.n, k.c, 1, 1});

        const auto first = cuda::depthwiseSiluSqueeze(x, taps, bias, k.k, k.stride, k.padding, true);
        const auto second = cuda::depthwiseSiluSqueeze(x, taps, bias, k.k, k.stride, k.padding, true);
        const std::string shape = std::to_string(k.n) + "x" + std::to_string(k.c) + "x" + std::to_string(k.h) + "x" +
                                  std::to_string(k.w) + " k" + std::to_string(k.k) + " s" + std::to_string(k.stride) +
                                  " pad " + std::to_string(top) + "/" + std::to_string(bottom) + "/" +
                                  std::to_string(left) + "/" + std::to_string(right) + " " +
                                  std::string(c10::toString(k.type));
        if (!check(first && second, "fused depthwise " + shape + ": taken"))
            continue;
        const auto& y = first->y;
        const bool shapeRight = y.sizes() == expected.sizes() && y.is_contiguous(torch::MemoryFormat::ChannelsLast);
        const double error = shapeRight ? relativeError(cpu(y), expected) : 1.0;
        const auto means = cpu(first->partialSums).sum(1) / double(y.size(2) * y.size(3));
        const double meanError = shapeRight ? relativeError(means, expectedMeans) : 1.0;
        check(shapeRight && error < k.tolerance && meanError < k.tolerance,
              "fused depthwise = conv + bias + SiLU, its sums = the means: " + shape + ", output " +
                  std::to_string(y.size(2)) + "x" + std::to_string(y.size(3)) + " (expected " +
                  std::to_string(expected.size(2)) + "x" + std::to_string(expected.size(3)) + "), " +
                  std::to_string(first->partialSums.size(1)) + " tiles per image, relative error " +
                  std::to_string(error) + ", means " + std::to_string(meanError) + " < " + std::to_string(k.tolerance));
        check(torch::equal(y, second->y) && torch::equal(first->partialSums, second->partialSums),
              "fused depthwise " + shape + ": two runs give bit-identical outputs and sums");
        auto gated = y.clone(torch::MemoryFormat::ChannelsLast);
        cuda::squeezeExcitationFromSums(gated, first->partialSums, w1.contiguous(), b1, w2.t().contiguous(), b2);
        const double gateError = relativeError(cpu(gated), expectedGated);
        check(gateError < k.tolerance, "SE gate from the fused sums = composition: " + shape + ", relative error " +
                                           std::to_string(gateError) + " < " + std::to_string(k.tolerance));

        // x as an expansion conv's output before its bias and SiLU, which the kernel applies as it reads x: the
        // same composition on silu(x + inputBias), with the padding still zero (not silu(bias)).
        const auto inputBias = torch::randn({k.c}).to(device, k.type);
        const auto activated = torch::silu(cpu(x) + cpu(inputBias).view({1, k.c, 1, 1}));
        const auto paddedAfter = torch::constant_pad_nd(activated, {left, right, top, bottom}, 0);
        const auto expectedAfter =
            torch::silu(torch::conv2d(paddedAfter, weight, cpu(bias), stride, noPadding, noDilation, k.c));
        const auto after = cuda::depthwiseSiluSqueeze(x, taps, bias, k.k, k.stride, k.padding, true, inputBias);
        const bool afterRight = after && after->y.sizes() == expectedAfter.sizes();
        const double afterError = afterRight ? relativeError(cpu(after->y), expectedAfter) : 1.0;
        const double afterMeanError =
            afterRight ? relativeError(cpu(after->partialSums).sum(1) / double(after->y.size(2) * after->y.size(3)),
                                       expectedAfter.mean({2, 3}))
                       : 1.0;
        check(afterError < k.tolerance && afterMeanError < k.tolerance,
              "fused depthwise with the expansion's bias and SiLU on its input = composition on silu(x + b): " + shape +
                  ", relative error " + std::to_string(afterError) + ", means " + std::to_string(afterMeanError) +
                  " < " + std::to_string(k.tolerance));
    }
#endif
}

// The projection's weights with the gate folded in (cuda/fused_ops.h gatedPointwiseWeights) equal the product
// computed in fp32 and rounded once to the weights' type, bit for bit, and a batched GEMM by them equals the 1x1
// conv of the gated input in fp32.
void gatedWeightsMatchComposition()
{
#ifdef EFFICIENTNET_WITH_CUDA
    const torch::Device device(torch::kCUDA, 0);
    for (const auto type : {torch::kHalf, torch::kBFloat16, torch::kFloat}) {
        torch::manual_seed(17);
        const int64_t n = 5, in = 36, out = 20, h = 9, w = 7;
        const auto weight = torch::randn({out, in}).to(device, type);
        const auto gate = torch::rand({n, in}).to(device);
        const auto gated = cuda::gatedPointwiseWeights(weight, gate);
        const auto expected = (weight.to(torch::kFloat).unsqueeze(0) * gate.unsqueeze(1)).to(type);
        const std::string name = c10::toString(type);
        check(gated.sizes() == expected.sizes() && torch::equal(gated, expected),
              "gated projection weights = weight * gate rounded once, " + name);
        const auto x = torch::randn({n, in, h, w}).to(device, type).contiguous(torch::MemoryFormat::ChannelsLast);
        const auto rows = x.permute({0, 2, 3, 1}).reshape({n, h * w, in});
        const auto y = at::bmm(rows, gated.transpose(1, 2)).view({n, h, w, out}).permute({0, 3, 1, 2});
        const auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat); };
        const auto reference = torch::conv2d(cpu(x) * cpu(gate).view({n, in, 1, 1}), cpu(weight).view({out, in, 1, 1}));
        const double error = relativeError(cpu(y), reference);
        const double tolerance = type == torch::kFloat ? 1e-5 : type == torch::kHalf ? 1e-2 : 2e-2;
        check(error < tolerance, "GEMM by the gated weights = conv1x1(x * gate), " + name + ": relative error " +
                                     std::to_string(error) + " < " + std::to_string(tolerance));
    }
#endif
}

// The excitation spread over many blocks with its gate's use (squeezeExcitationFromSums,
// gatedPointwiseWeightsFromSums: the hidden units in one kernel, each block of a second computing the gate of its
// channels) gives, bit for bit, what one block per sample (squeezeExcitationGate) followed by applyGate or
// gatedPointwiseWeights gives, and both follow the composition in fp32 on the CPU: channels_last with 16-bit packs, channel counts not divisible by 8 (one element at
// a time), NCHW, fp32, a batch of 32 (fewer threads per block in the one-block form), channels over several blocks,
// and batches of 8 and more, where the many-block form prefetches its weights and keeps the hidden units in shared
// memory.
void excitationOverBlocksMatchesOneBlock()
{
#ifdef EFFICIENTNET_WITH_CUDA
    struct Case {
        int64_t n, c, h, w, tiles, out;
        torch::ScalarType type;
        bool channelsLast;
    };
    const std::vector<Case> cases{{1, 144, 56, 56, 49, 24, torch::kHalf, true},   // B0's second stage, several blocks
                                  {1, 1152, 7, 7, 2, 192, torch::kHalf, true},
                                  {3, 20, 9, 7, 4, 12, torch::kBFloat16, true},    // channels % 8 != 0
                                  {2, 40, 6, 5, 3, 16, torch::kHalf, false},       // NCHW
                                  {2, 36, 5, 5, 2, 20, torch::kFloat, true},
                                  {32, 96, 12, 12, 1, 24, torch::kBFloat16, true},
                                  {9, 1152, 7, 7, 2, 192, torch::kHalf, true},     // weights prefetched (from 8)
                                  {8, 20, 5, 3, 3, 12, torch::kHalf, false}};
    const torch::Device device(torch::kCUDA, 0);
    const auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat); };
    for (const auto& k : cases) {
        torch::manual_seed(23);
        const int64_t squeezed = std::max<int64_t>(1, k.c / 4);
        const auto w1 = (torch::randn({squeezed, k.c}) / std::sqrt(double(k.c))).to(device);
        const auto b1 = torch::randn({squeezed}).to(device);
        const auto w2 = (torch::randn({k.c, squeezed}) / std::sqrt(double(squeezed))).to(device);
        const auto b2 = torch::randn({k.c}).to(device);
        const auto w2t = w2.t().contiguous();
        auto x = torch::randn({k.n, k.c, k.h, k.w}).to(device, k.type);
        x = k.channelsLast ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x.contiguous();
        const auto partialSums = (torch::randn({k.n, k.tiles, k.c}) * double(k.h * k.w) / double(k.tiles)).to(device);
        const auto weight = torch::randn({k.out, k.c}).to(device, k.type);
        const std::string shape = std::to_string(k.n) + "x" + std::to_string(k.c) + "x" + std::to_string(k.h) + "x" +
                                  std::to_string(k.w) + " " + std::to_string(k.tiles) + " tiles " +
                                  std::string(c10::toString(k.type)) + (k.channelsLast ? " channels_last" : " NCHW");

        const auto gate = cuda::squeezeExcitationGate(partialSums, k.h * k.w, w1, b1, w2t, b2);
        auto twoKernels = x.clone();
        cuda::applyGate(twoKernels, gate);
        auto oneKernel = x.clone();
        cuda::squeezeExcitationFromSums(oneKernel, partialSums, w1, b1, w2t, b2);
        const auto means = cpu(partialSums).sum(1) / double(k.h * k.w);
        const auto expectedGate = torch::sigmoid(torch::linear(torch::silu(torch::linear(means, cpu(w1), cpu(b1))),
                                                               cpu(w2), cpu(b2)));
        const double tolerance = k.type == torch::kFloat ? 1e-5 : k.type == torch::kHalf ? 1e-2 : 2e-2;
        const double error = relativeError(cpu(oneKernel), cpu(x) * expectedGate.view({k.n, k.c, 1, 1}));
        check(torch::equal(oneKernel, twoKernels) && oneKernel.strides() == x.strides() && error < tolerance,
              "SE gate over many blocks = one block per sample + applyGate bit for bit, and = composition: " + shape +
                  ", relative error " + std::to_string(error) + " < " + std::to_string(tolerance));

        const auto weightsTwo = cuda::gatedPointwiseWeights(weight, gate);
        const auto weightsOne = cuda::gatedPointwiseWeightsFromSums(weight, partialSums, k.h * k.w, w1, b1, w2t, b2);
        const auto expectedWeights = cpu(weight).unsqueeze(0) * expectedGate.unsqueeze(1);
        const double weightError = relativeError(cpu(weightsOne), expectedWeights);
        check(weightsOne.sizes() == weightsTwo.sizes() && torch::equal(weightsOne, weightsTwo) &&
                  weightError < tolerance,
              "gated projection weights over many blocks = one block per sample + gatedPointwiseWeights bit for bit, "
              "and = "
              "composition: " + shape + " out " + std::to_string(k.out) + ", relative error " +
                  std::to_string(weightError) + " < " + std::to_string(tolerance));
    }
#endif
}

// The projection as one cuBLASLt GEMM with the bias and residual in its epilogue (pointwiseProjection) against
// conv1x1 + bias + residual in fp32 on the CPU: shared and per-sample weights, with and without a residual, channel
// counts not divisible by 8, and inputs and residuals that are views starting off cuBLASLt's assumed 256-byte
// alignment (a kernel chosen for that would fault or read wrong rows).
void projectionGemmMatchesComposition()
{
#ifdef EFFICIENTNET_WITH_CUDA
    const torch::Device device(torch::kCUDA, 0);
    const auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat); };
    struct Shape { int64_t n, in, out, h, w; bool perSample, residual, offset; };
    const Shape shapes[] = {
        {1, 24, 16, 7, 7, false, false, false}, {3, 40, 80, 14, 14, false, true, false},
        {2, 13, 7, 5, 3, false, true, true},    {5, 36, 20, 9, 7, true, true, false},
        {4, 21, 11, 3, 5, true, false, true},   {1, 96, 24, 56, 56, true, true, true},
    };
    for (const auto type : {torch::kHalf, torch::kBFloat16, torch::kFloat}) {
        for (const auto& s : shapes) {
            torch::manual_seed(23);
            // A view one sample into a larger tensor starts at an address of no particular alignment.
            const auto make = [&](int64_t channels) {
                const auto t = torch::randn({s.n + (s.offset ? 1 : 0), channels, s.h, s.w}).to(device, type)
                                   .contiguous(torch::MemoryFormat::ChannelsLast);
                return s.offset ? t.narrow(0, 1, s.n) : t;
            };
            const auto x = make(s.in);
            const auto residual = s.residual ? make(s.out) : torch::Tensor();
            const auto weight = (s.perSample ? torch::randn({s.n, s.out, s.in}) : torch::randn({s.out, s.in}))
                                    .div(std::sqrt(static_cast<double>(s.in))).to(device, type);
            const auto bias = torch::randn({s.out}).to(device, type);
            const auto y = cuda::pointwiseProjection(x, weight, bias, residual);
            const auto rows = cpu(x).permute({0, 2, 3, 1}).reshape({s.n, s.h * s.w, s.in});
            const auto weights = s.perSample ? cpu(weight) : cpu(weight).unsqueeze(0).expand({s.n, s.out, s.in});
            auto reference = at::bmm(rows, weights.transpose(1, 2)).view({s.n, s.h, s.w, s.out}).permute({0, 3, 1, 2}) +
                             cpu(bias).view({1, s.out, 1, 1});
            if (s.residual)
                reference = reference + cpu(residual);
            const std::string name = std::string(c10::toString(type)) + " N" + std::to_string(s.n) + " " +
                                     std::to_string(s.in) + "->" + std::to_string(s.out) + " " + std::to_string(s.h) +
                                     "x" + std::to_string(s.w) + (s.perSample ? " per-sample weights" : "") +
                                     (s.residual ? " + residual" : "") + (s.offset ? " (unaligned views)" : "");
            if (!check(y.has_value(), "cuBLASLt has an algorithm for the projection, " + name))
                continue;
            const double error = relativeError(cpu(*y), reference);
            const double tolerance = type == torch::kFloat ? 1e-5 : type == torch::kHalf ? 2e-3 : 1e-2;
            check(y->sizes() == reference.sizes() && y->is_contiguous(torch::MemoryFormat::ChannelsLast) &&
                      error < tolerance,
                  "projection GEMM with bias and residual = conv1x1 + bias + residual, " + name +
                      ": relative error " + std::to_string(error) + " < " + std::to_string(tolerance));
        }
    }
#endif
}

// The network's end in two kernels (cuda::poolAndClassify: the head's bias and SiLU, the mean over pixels, the
// classifier) against the composition in fp64 on the CPU: B0's and B3's head and classifier shapes, a batch of 9 (two
// chunks of samples), an odd channel count and a weight at an address one element past a 16-byte boundary (both one
// value per access, in every type), 1x1 maps, 19x19 (several rounds of the pool's loads), fp16/bf16/fp32. An NCHW
// input is refused, with nothing launched.
void poolAndClassifyMatchesComposition()
{
#ifdef EFFICIENTNET_WITH_CUDA
    const torch::Device device(torch::kCUDA, 0);
    struct Shape { int64_t n, channels, h, w, classes; bool unaligned; };
    const Shape shapes[] = {
        {1, 1280, 7, 7, 1000, false}, {9, 1536, 10, 10, 1000, false}, {3, 21, 3, 5, 7, false},
        {2, 64, 1, 1, 3, false},      {4, 40, 7, 7, 11, true},          {2, 48, 19, 19, 10, false},
    };
    const auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kDouble); };
    for (const auto type : {torch::kHalf, torch::kBFloat16, torch::kFloat}) {
        for (const auto& s : shapes) {
            torch::manual_seed(29);
            const auto y = torch::randn({s.n, s.channels, s.h, s.w}).mul(2).to(device, type)
                               .contiguous(torch::MemoryFormat::ChannelsLast);
            const auto headBias = torch::randn({s.channels}).to(device, type);
            // Unaligned: a contiguous view one element into a larger tensor (whose storage starts 16-byte aligned).
            const auto weights = torch::randn({s.classes * s.channels + 1})
                                     .div(std::sqrt(static_cast<double>(s.channels))).to(device, type);
            const auto weight = weights.narrow(0, s.unaligned ? 1 : 0, s.classes * s.channels)
                                    .view({s.classes, s.channels});
            const auto bias = torch::randn({s.classes}).to(device, type);
            const auto logits = cuda::poolAndClassify(y, headBias, weight, bias);
            const auto pooled = torch::silu(cpu(y) + cpu(headBias).view({1, -1, 1, 1})).mean({2, 3});
            const auto reference = torch::linear(pooled, cpu(weight), cpu(bias));
            const std::string name = std::string(c10::toString(type)) + " N" + std::to_string(s.n) + " " +
                                     std::to_string(s.channels) + " channels " + std::to_string(s.h) + "x" +
                                     std::to_string(s.w) + " -> " + std::to_string(s.classes) +
                                     (s.unaligned ? " (unaligned weight)" : "");
            if (!check(logits.has_value(), "poolAndClassify takes a channels_last head output, " + name))
                continue;
            const double error = relativeError(cpu(*logits), reference);
            const double tolerance = type == torch::kFloat ? 1e-5 : type == torch::kHalf ? 1e-3 : 8e-3;
            check(logits->sizes() == reference.sizes() && logits->scalar_type() == type && error < tolerance,
                  "head epilogue + pool + classifier in two kernels = composition, " + name + ": relative error " +
                      std::to_string(error) + " < " + std::to_string(tolerance));
        }
    }
    const auto nchw = torch::randn({2, 16, 5, 5}).to(device, torch::kHalf);
    const auto weight = torch::randn({4, 16}).to(device, torch::kHalf);
    check(!cuda::poolAndClassify(nchw, weight[0], weight, weight.select(1, 0).contiguous()).has_value(),
          "poolAndClassify refuses an NCHW head output (the caller runs LibTorch's pool and Linear)");
#endif
}

#ifdef EFFICIENTNET_WITH_CUDA
// The variables that switch a CUDA form off (model.cpp), read when a model is prepared for inference.
void setEnvironment(const char* name, bool on, const char* value = "1")
{
#ifdef _WIN32
    _putenv_s(name, on ? value : "");
#else
    if (on)
        setenv(name, value, 1);
    else
        unsetenv(name);
#endif
}

// The whole network in its default CUDA form against the same weights with the given forms switched off
// (`settings`: environment variables set to 1): the same logits within fp16 rounding at each batch size, and the
// same top-1. The error must be above 0 too: the two forms did run different kernels, so this compares something.
// bitIdentical: forms that compute the same values in other kernels, whose logits must be equal bit for bit.
void defaultFormMatches(const std::string& variant, int size, Padding padding, const std::vector<const char*>& settings,
                        const std::vector<int64_t>& batches, const std::string& what, bool bitIdentical = false)
{
    const torch::Device device(torch::kCUDA, 0);
    torch::NoGradGuard noGrad;
    const auto base = calibratedModel(variant, size, padding);
    const auto prepared = [&](bool switchedOff) {
        EfficientNet model(base->options());
        loadStateDict(model, stateDict(base), "(copy)");
        for (const char* name : settings)
            setEnvironment(name, switchedOff);
        model->prepareForInference(device, torch::kHalf, /*channelsLast=*/true);
        for (const char* name : settings)
            setEnvironment(name, false);
        return model;
    };
    auto fused = prepared(false);
    auto unfused = prepared(true);
    for (const int64_t batch : batches) {
        const auto images = torch::randn({batch, 3, size, size}).to(device, torch::kHalf);
        const auto a = fused->forward(images).to(torch::kFloat);
        const auto b = unfused->forward(images).to(torch::kFloat);
        const double error = relativeError(a, b);
        const double agreement = top1Agreement(a, b);   // NaN: no sample with a clear top-1
        if (bitIdentical) {
            check(torch::equal(a, b), variant + (padding == Padding::TfSame ? " TF SAME" : " symmetric") +
                                          " fp16 batch " + std::to_string(batch) + ": " + what +
                                          ", bit for bit (relative error " + std::to_string(error) + ")");
            continue;
        }
        check(error > 0 && error < 1e-2 && (std::isnan(agreement) || agreement == 1.0),
              variant + (padding == Padding::TfSame ? " TF SAME" : " symmetric") + " fp16 batch " +
                  std::to_string(batch) + ": " + what + ", relative error " + std::to_string(error) +
                  " in (0, 0.01), same top-1");
    }
}
#endif

// The whole network with the fused depthwise + squeeze (the default on CUDA below batch 32) against the same weights
// with EFFICIENTNET_UNFUSED_DW=1 (cuDNN's depthwise, the epilogue, the SE's own mean), at batch 1 and 5, B0 with
// torchvision's padding and with TensorFlow SAME (timm's tf_ weights). On an H200 the error was 0.0043-0.0047.
void fusedDepthwiseNetworkMatchesUnfused()
{
#ifdef EFFICIENTNET_WITH_CUDA
    for (const auto padding : {Padding::Symmetric, Padding::TfSame})
        defaultFormMatches("efficientnet_b0", 224, padding, {"EFFICIENTNET_UNFUSED_DW"}, {1, 5},
                           "fused depthwise logits = unfused");
    defaultFormMatches("efficientnet_b3", 300, Padding::TfSame, {"EFFICIENTNET_UNFUSED_DW"}, {1, 3},
                       "fused depthwise logits = unfused");
#endif
}

// The expansion's bias and SiLU applied by the fused depthwise kernel as it reads its input (the default on CUDA
// where that kernel runs) against EFFICIENTNET_EXPAND_EPILOGUE=1 (the expansion's epilogue as a pass of its own):
// B0 at batch 1 and 5 (the fused depthwise kernel runs below batch 32), symmetric and TensorFlow SAME.
void expansionEpilogueInDepthwiseMatchesPass()
{
#ifdef EFFICIENTNET_WITH_CUDA
    for (const auto padding : {Padding::Symmetric, Padding::TfSame})
        defaultFormMatches("efficientnet_b0", 224, padding, {"EFFICIENTNET_EXPAND_EPILOGUE"}, {1, 5},
                           "expansion's epilogue in the depthwise kernel = epilogue pass");
#endif
}

// The SE's gate in the projection's weights (ConvNormActivation::forwardGated, B0's blocks down to 14x14) against
// EFFICIENTNET_GATE_PASS=1 (the gate as a pass of its own over the depthwise output): B0 at batch 1 (the sums from
// the fused depthwise kernel) and 40 (cuDNN's depthwise, ATen's sums), B3 with TensorFlow SAME at batch 33.
void gateInProjectionMatchesGatePass()
{
#ifdef EFFICIENTNET_WITH_CUDA
    const std::vector<const char*> passes{"EFFICIENTNET_GATE_PASS"};
    defaultFormMatches("efficientnet_b0", 224, Padding::Symmetric, passes, {1, 40}, "gate in the projection = gate pass");
    defaultFormMatches("efficientnet_b3", 300, Padding::TfSame, passes, {33}, "gate in the projection = gate pass");
#endif
}

// The SE's excitation over many blocks (the default on CUDA where the gate comes from sums) against
// EFFICIENTNET_SEPARATE_EXCITATION=1 (one block per sample, then the gate's pass): the same logits bit for bit, B0 at
// batch 1 and 5 (sums from the fused depthwise kernel, gate on x and in the projection's weights) and 40 (ATen's sums,
// gated weights), B3 with TensorFlow SAME at batch 3.
void excitationOverBlocksNetworkMatches()
{
#ifdef EFFICIENTNET_WITH_CUDA
    const std::vector<const char*> separate{"EFFICIENTNET_SEPARATE_EXCITATION"};
    const std::string what = "excitation over many blocks = one block per sample";
    defaultFormMatches("efficientnet_b0", 224, Padding::Symmetric, separate, {1, 5, 40}, what, true);
    defaultFormMatches("efficientnet_b3", 300, Padding::TfSame, separate, {3}, what, true);
#endif
}

// The projections with their bias and residual in cuBLASLt's epilogue (the default on CUDA) against
// EFFICIENTNET_PROJECTION_EPILOGUE=1 (the GEMM or cuDNN's conv, then the epilogue pass): B0 at batch 1 and 40 (per
// sample gated weights down to 14x14, shared ones below), B3 with TensorFlow SAME at 33 and V2-S (Fused-MBConv
// projections) at 3.
void projectionInGemmMatchesEpilogue()
{
#ifdef EFFICIENTNET_WITH_CUDA
    const std::vector<const char*> epilogue{"EFFICIENTNET_PROJECTION_EPILOGUE"};
    const std::string what = "projection's bias and residual in the GEMM = epilogue pass";
    defaultFormMatches("efficientnet_b0", 224, Padding::Symmetric, epilogue, {1, 40}, what);
    defaultFormMatches("efficientnet_b3", 300, Padding::TfSame, epilogue, {33}, what);
    defaultFormMatches("efficientnet_v2_s", 224, Padding::Symmetric, epilogue, {3}, what);
#endif
}

// The network's end in two kernels (the default on CUDA below batch 32) against EFFICIENTNET_UNFUSED_HEAD=1 (the head
// conv's epilogue pass, ATen's pool, the Linear on cuBLAS): B0 at batch 1, 5 and 9 (two chunks of samples in the
// classifier kernel), B3 with TensorFlow SAME at 3 and V2-S at 2. The pooled features stay in fp32 in the fused form,
// so the logits differ by fp16 rounding, not bit for bit.
void fusedHeadMatchesLibTorch()
{
#ifdef EFFICIENTNET_WITH_CUDA
    const std::vector<const char*> unfused{"EFFICIENTNET_UNFUSED_HEAD"};
    const std::string what = "head, pool and classifier in two kernels = LibTorch's";
    defaultFormMatches("efficientnet_b0", 224, Padding::Symmetric, unfused, {1, 5, 9}, what);
    defaultFormMatches("efficientnet_b3", 300, Padding::TfSame, unfused, {3}, what);
    defaultFormMatches("efficientnet_v2_s", 224, Padding::Symmetric, unfused, {2}, what);
#endif
}

// Fine-tuning on CUDA (training_step.h, the trainer's own step): from the same weights and batch, a step in fp16
// (autocast with loss scaling) and in bf16 gives fp32's loss and gradients within half-precision rounding. SGD with
// learning rate 1 makes the update the gradient itself. A step whose scaled fp16 gradients overflow is skipped and
// leaves the weights untouched, as GradScaler does; it is retried at the halved scale. Dropout and stochastic depth
// are off so that all three see the same network.
void trainingStepInHalfPrecisionFollowsFloat()
{
    constexpr int kBatch = 16, kSize = 128;
    const torch::Device device(torch::kCUDA, 0);
    torch::manual_seed(4);
    EfficientNet base(EfficientNetOptions("efficientnet_b0").dropout(0.0).stochasticDepthProb(0.0));
    const auto images = torch::randn({kBatch, 3, kSize, kSize}).to(device);
    const auto labels = torch::randint(0, 1000, {kBatch}, torch::kInt64).to(device);
    struct Outcome { double loss = 0; torch::Tensor update; int skipped = 0; bool unchangedWhenSkipped = true; };
    const auto stepIn = [&](Precision precision) {
        EfficientNet model(base->options());
        loadStateDict(model, stateDict(base), "(copy)");
        model->to(device);
        training::toChannelsLast(*model, device);
        model->train();
        const auto before = torch::cat([&] { std::vector<torch::Tensor> v; for (auto& p : model->parameters()) v.push_back(p.detach().flatten().clone()); return v; }());
        const auto flat = [&] { std::vector<torch::Tensor> v; for (auto& p : model->parameters()) v.push_back(p.detach().flatten()); return torch::cat(v); };
        torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(1.0));
        training::LossScaler scaler(precision == Precision::Float16);
        Outcome outcome;
        for (int attempt = 0; attempt < 20; ++attempt) {
            const auto result = training::optimisationStep(optimizer, [&] { return model->forward(images); }, labels,
                                                           0.1, precision, device, scaler);
            outcome.loss = result.loss.item<double>();
            if (result.applied)
                break;
            ++outcome.skipped;
            outcome.unchangedWhenSkipped = outcome.unchangedWhenSkipped && torch::equal(flat(), before);
        }
        outcome.update = (flat() - before).cpu();
        return outcome;
    };
    const auto reference = stepIn(Precision::Float32);
    // bf16 keeps 8 significant bits to fp16's 11: its tolerance is 8 times fp16's (measured on an H200: fp16 0.019,
    // bf16 0.156).
    for (const auto& [precision, tolerance] : {std::pair{Precision::Float16, 0.05}, std::pair{Precision::BFloat16, 0.4}}) {
        const auto got = stepIn(precision);
        const double lossError = std::abs(got.loss - reference.loss) / reference.loss;
        const double updateError = relativeError(got.update, reference.update);
        check(lossError < tolerance / 5 && updateError < tolerance && got.unchangedWhenSkipped,
              std::string("training step in ") + toString(precision) + " vs fp32 (B0, batch 16, 128 px): loss " +
                  std::to_string(got.loss) + " vs " + std::to_string(reference.loss) + " (rel " +
                  std::to_string(lossError) + "), gradient update rel error " + std::to_string(updateError) + " < " +
                  std::to_string(tolerance) + "; overflowing steps skipped: " + std::to_string(got.skipped) +
                  (got.unchangedWhenSkipped ? ", weights untouched by them" : ", WEIGHTS CHANGED BY A SKIPPED STEP"));
    }
}

// The trainer's multi-tensor AdamW on CUDA (_foreach kernels) makes LibTorch's AdamW update within float rounding:
// tensors of B0's parameter shapes, the same gradients for both at each of three steps (gradients from a network
// would differ between runs by cuDNN's nondeterministic reductions, which is not what this checks).
void multiTensorAdamWMatchesLibTorchAdamW()
{
    const torch::Device device(torch::kCUDA, 0);
    torch::manual_seed(6);
    EfficientNet shapes(EfficientNetOptions("efficientnet_b0"));
    std::vector<torch::Tensor> start;
    for (auto& p : shapes->parameters())
        start.push_back(torch::randn(p.sizes()).to(device));
    std::vector<std::vector<torch::Tensor>> gradients(3);
    for (auto& step : gradients)
        for (auto& p : start)
            step.push_back(torch::randn_like(p));
    const auto trained = [&](bool multi) {
        std::vector<torch::Tensor> params;
        for (auto& p : start)
            params.push_back(p.clone().requires_grad_(true));
        const auto options = torch::optim::AdamWOptions(1e-3).weight_decay(0.05);
        std::unique_ptr<torch::optim::Optimizer> optimizer;
        if (multi)
            optimizer = std::make_unique<training::MultiTensorAdamW>(params, options);
        else
            optimizer = std::make_unique<torch::optim::AdamW>(params, options);
        for (auto& step : gradients) {
            for (size_t i = 0; i < params.size(); ++i)
                params[i].mutable_grad() = step[i].clone();
            optimizer->step();
        }
        std::vector<torch::Tensor> flat;
        for (auto& p : params)
            flat.push_back(p.detach().flatten());
        return torch::cat(flat).cpu();
    };
    const auto reference = trained(false);
    const double moved = (reference - torch::cat([&] { std::vector<torch::Tensor> v; for (auto& p : start) v.push_back(p.flatten()); return v; }()).cpu()).abs().max().item<double>();
    const double difference = (trained(true) - reference).abs().max().item<double>();
    check(moved > 1e-3 && difference < 1e-6, "multi-tensor AdamW equals LibTorch's AdamW on CUDA over 3 steps of B0's " +
                                                 std::to_string(start.size()) + " parameter tensors: max difference " +
                                                 std::to_string(difference) + " (updates up to " + std::to_string(moved) + ")");
}

// The memory-efficient swish (saves its input only) needs less memory in a training step than the plain
// x * sigmoid(x) autograd, which keeps sigmoid(x) as well: the measured point of issue 14's benchmark.
void memoryEfficientSwishSavesMemory()
{
    constexpr int kBatch = 32, kSize = 160;
    const torch::Device device(torch::kCUDA, 0);
    const auto peakOfStep = [&](bool plain) {
        torch::manual_seed(5);
        EfficientNet model(EfficientNetOptions("efficientnet_b0"));
        model->to(device);
        training::toChannelsLast(*model, device);
        model->train();
        training::MultiTensorAdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-4));
        training::LossScaler scaler(true);
        const auto images = torch::randn({kBatch, 3, kSize, kSize}, device).contiguous(torch::MemoryFormat::ChannelsLast);
        const auto labels = torch::randint(0, 1000, {kBatch}, torch::TensorOptions().device(device).dtype(torch::kInt64));
        std::optional<activation::PlainSwishScope> scope;
        if (plain)
            scope.emplace();
        const auto step = [&] {
            training::optimisationStep(optimizer, [&] { return model->forward(images); }, labels, 0.1,
                                       Precision::Float16, device, scaler);
        };
        step();   // AdamW's moments and cuDNN's workspaces exist from here on
        torch::cuda::synchronize();
        training::resetPeakCudaMemory();
        step();
        torch::cuda::synchronize();
        return training::peakCudaMemory();
    };
    const double efficient = peakOfStep(false) / 1048576.0;
    const double plain = peakOfStep(true) / 1048576.0;
    check(efficient > 0 && efficient < plain, "B0 fp16 training step (batch 32, 160 px): peak " +
                                                  std::to_string(efficient) + " MiB with the memory-efficient swish < " +
                                                  std::to_string(plain) + " MiB with plain x * sigmoid(x)");
}

} // namespace

int main(int argc, char** argv)
{
    // cuda::available(), not torch::cuda::is_available(): on Windows it first loads the delay-loaded torch_cuda.dll,
    // without which LibTorch would answer (and remember) "no CUDA".
    if (!cuda::available()) {
        std::printf("skipped: no CUDA device (this LibTorch has no CUDA or no GPU is present); run on the GPU machine\n");
        return kSkip;
    }
    // A name given on the command line runs only the checks whose names contain it (a short call on the GPU machine).
    const std::string only = argc > 1 ? argv[1] : "";
    const std::pair<const char*, void (*)()> checks[] = {
        {"halfPrecisionMatchesFloat", [] {
             halfPrecisionMatchesFloat("efficientnet_b0", 224);
             halfPrecisionMatchesFloat("efficientnet_v2_s", 384);
         }},
        {"graphReplayEqualsEager", [] {
             graphReplayEqualsEager(Precision::Float32);
             graphReplayEqualsEager(Precision::Float16);
         }},
        {"smallerBatchesReplayALargerGraph", smallerBatchesReplayALargerGraph},
        {"autotuningIsAChoice", autotuningIsAChoice},
        {"gpuPreprocessingEqualsCpu", gpuPreprocessingEqualsCpu},
        {"gpuPreprocessingOfMixedSizesEqualsCpu", gpuPreprocessingOfMixedSizesEqualsCpu},
        {"cudaFloatMatchesCpu", cudaFloatMatchesCpu},
        {"classifierOnCudaMatchesCpu", classifierOnCudaMatchesCpu},
        {"steadyStateFramesTakeNoNewMemory", steadyStateFramesTakeNoNewMemory},
        {"fusedSqueezeExcitationMatchesComposition", fusedSqueezeExcitationMatchesComposition},
        {"fusedDepthwiseMatchesComposition", fusedDepthwiseMatchesComposition},
        {"fusedDepthwiseNetworkMatchesUnfused", fusedDepthwiseNetworkMatchesUnfused},
        {"expansionEpilogueInDepthwiseMatchesPass", expansionEpilogueInDepthwiseMatchesPass},
        {"gatedWeightsMatchComposition", gatedWeightsMatchComposition},
        {"excitationOverBlocksMatchesOneBlock", excitationOverBlocksMatchesOneBlock},
        {"excitationOverBlocksNetworkMatches", excitationOverBlocksNetworkMatches},
        {"gateInProjectionMatchesGatePass", gateInProjectionMatchesGatePass},
        {"projectionGemmMatchesComposition", projectionGemmMatchesComposition},
        {"projectionInGemmMatchesEpilogue", projectionInGemmMatchesEpilogue},
        {"poolAndClassifyMatchesComposition", poolAndClassifyMatchesComposition},
        {"fusedHeadMatchesLibTorch", fusedHeadMatchesLibTorch},
        {"trainingStepInHalfPrecisionFollowsFloat", trainingStepInHalfPrecisionFollowsFloat},
        {"multiTensorAdamWMatchesLibTorchAdamW", multiTensorAdamWMatchesLibTorchAdamW},
        {"memoryEfficientSwishSavesMemory", memoryEfficientSwishSavesMemory},
        {"stageTimesAddUp", stageTimesAddUp},
        {"modelSwitchesGiveMemoryBack", modelSwitchesGiveMemoryBack},
        {"gpuJpegDecodingFollowsCpu", gpuJpegDecodingFollowsCpu},
        {"concurrentJpegBatchesMatchOneAtATime", concurrentJpegBatchesMatchOneAtATime},
        {"outOfMemoryLosesNothing", outOfMemoryLosesNothing},
    };
    for (const auto& [name, run] : checks)
        if (std::string(name).find(only) != std::string::npos)
            run();
    if (g_passed + g_failed == 0) {
        std::printf("FAIL: no check is named like \"%s\"\n", only.c_str());
        return 1;
    }
    const auto runtime = runtimeInfo();
    check(runtime.cuda != "none" && runtime.cudnn != "none" && runtime.gpu != "none",
          "runtime info names CUDA " + runtime.cuda + ", cuDNN " + runtime.cudnn + ", GPU " + runtime.gpu +
              ", LibTorch " + runtime.libtorch);
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
