#include "efficientnet/classifier.h"

#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "engine/cuda_support.h"
#ifdef EFFICIENTNET_WITH_NVJPEG
#include "engine/cuda/jpeg_decoder.h"
#endif
#include "engine/frame_plan.h"
#include "imaging/image_header.h"
#include "efficientnet/errors.h"
#include "efficientnet/inference.h"
#include "efficientnet/model.h"
#include "efficientnet/platform.h"
#include "efficientnet/preprocess.h"
#include "efficientnet/weights.h"
#include "model/resolve.h"

namespace efficientnet {
namespace {

torch::Device chooseDevice(const std::string& device)
{
    if (device == "cpu")
        return torch::kCPU;
    const bool gpu = cuda::available();   // loads the Windows CUDA flavour's GPU runtime first
    if (device == "cuda") {
        if (!gpu) {
            const std::string why = gpuUnavailableReason();
            throw ConfigError("--device cuda: no CUDA device is available (" +
                              (why.empty() ? std::string("this LibTorch build has no CUDA") : why) +
                              "); use --device cpu or auto");
        }
        return torch::Device(torch::kCUDA, 0);
    }
    if (device == "auto")
        return gpu ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    throw ConfigError("unknown device '" + device + "'; use auto, cpu or cuda");
}

Precision choosePrecision(const std::string& precision, const torch::Device& device)
{
    if (precision == "auto")
        return device.is_cuda() ? Precision::Float16 : Precision::Float32;
    return parsePrecision(precision);
}

constexpr int64_t kUploadChunks = 4;   // host copy of chunk k+1 overlaps the device copy of chunk k
// Image sizes whose preprocessing plans are kept (about 50 KB each): a camera's one size, a folder's repeated ones.
constexpr size_t kMaxFramePlans = 256;

size_t windowBytes(const FramePlan& plan) { return static_cast<size_t>(plan.width) * plan.height * 3; }

// body(i) for every i in [first, last), spread over LibTorch's inter-op thread pool and the calling thread, as many
// workers as LibTorch's thread setting; returns when all are done. Not at::parallel_for: its OpenMP loop is inline in
// LibTorch's headers, so in a file compiled without OpenMP (as ours are) it runs on the calling thread alone, which
// made the upload of 256 camera frames take 29-38 ms at one thread's copying speed. It waits for the pool's tasks, so
// it must not be called from a task of that pool (the app, the console tool and the bench call it from their own
// threads).
void onWorkers(int64_t first, int64_t last, const std::function<void(int64_t)>& body)
{
    const int64_t workers = std::clamp<int64_t>(at::get_num_threads(), 1, std::max<int64_t>(last - first, 1));
    const auto share = [&](int64_t worker) {
        for (int64_t i = first + worker; i < last; i += workers)
            body(i);
    };
    std::mutex mutex;
    std::condition_variable done;
    int64_t running = workers - 1;
    for (int64_t worker = 1; worker < workers; ++worker)
        at::launch([&, worker] {
            share(worker);
            std::lock_guard lock(mutex);
            if (--running == 0)
                done.notify_one();
        });
    share(0);
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return running == 0; });
}

// The plan's window of an image, row by row, into `out` (rows back to back).
void copyWindow(const Image* image, const FramePlan& plan, std::uint8_t* out)
{
    const size_t rowBytes = static_cast<size_t>(plan.width) * 3;
    const std::uint8_t* in = image->rgb.data() + (static_cast<size_t>(plan.top) * image->width + plan.left) * 3;
    for (int y = 0; y < plan.height; ++y, in += static_cast<size_t>(image->width) * 3, out += rowBytes)
        std::memcpy(out, in, rowBytes);
}

} // namespace

struct Classifier::Impl {
    using BatchResult = Classifier::BatchResult;
    // Declared first, so destroyed last: once the engine, its graphs and buffers are gone, their GPU memory goes
    // back to the driver, so that a model switch in the app does not keep the old model's memory reserved.
    struct ReleaseCudaCache {
        bool onCuda = false;
        ~ReleaseCudaCache()
        {
            if (onCuda)
                cuda::releaseCachedMemory();
        }
    } releaseCudaCache;
    CheckpointInfo info;
    ModelName name;
    Preprocessing preprocessing;
    torch::Device device = torch::kCPU;
    std::unique_ptr<InferenceModel> engine;
    std::unique_ptr<cuda::Stream> stream;
    std::vector<std::string> labels;
    std::string weights;
    torch::Tensor pinned;          // reused host staging buffer for uploads (grows, never shrinks)
    std::map<std::pair<int, int>, FramePlan> plans;   // by image height and width (CUDA)
#ifdef EFFICIENTNET_WITH_NVJPEG
    std::unique_ptr<cuda::JpegDecoder> jpegDecoder;   // made on first use
#endif
    std::string noJpegDecoder;     // why there is none, once that is known
    std::mutex mutex;

    BatchResult classifyFitting(const std::vector<const Image*>& images, int topk);
    BatchResult classifyNow(const std::vector<const Image*>& images, int topk);
    std::vector<std::vector<Prediction>> predict(const torch::Tensor& input, int topk, cuda::StageClock& clock);
    torch::Tensor uploadAndPreprocess(const std::vector<const Image*>& images, StageTimes& times);
    torch::Tensor preprocessOnHost(const std::vector<const Image*>& images);
    std::vector<const FramePlan*> plansFor(const std::vector<std::pair<int, int>>& sizes);
    bool hasJpegDecoder();
};

// The preprocessing plan of each image size (height, width), made the first time a size is seen; the plans new to
// this batch (a folder of photos: often every one) made on the worker threads.
std::vector<const FramePlan*> Classifier::Impl::plansFor(const std::vector<std::pair<int, int>>& sizes)
{
    const auto missingPlans = [&] {
        std::vector<std::pair<int, int>> missing;
        for (const auto& size : sizes)
            if (!plans.count(size) && std::find(missing.begin(), missing.end(), size) == missing.end())
                missing.push_back(size);
        return missing;
    };
    auto missing = missingPlans();
    if (plans.size() + missing.size() > kMaxFramePlans) {
        plans.clear();   // photos of many sizes: the tables are cheap to make again
        missing = missingPlans();
    }
    std::vector<FramePlan> made(missing.size());
    onWorkers(0, static_cast<int64_t>(missing.size()), [&](int64_t i) {
        const auto& [height, width] = missing[static_cast<size_t>(i)];
        made[static_cast<size_t>(i)] = planFrames(height, width, preprocessing);
    });
    for (size_t i = 0; i < missing.size(); ++i)
        plans.emplace(missing[i], std::move(made[i]));
    std::vector<const FramePlan*> planOf;
    for (const auto& size : sizes)
        planOf.push_back(&plans.at(size));
    return planOf;
}

// CUDA input path: of each image only the window its crop reads (frame_plan.h) goes into one pinned buffer, back to
// back; asynchronous copies on the engine's stream, then Pillow's resize, the crop and the normalisation on the GPU,
// in two kernel launches whatever the images' sizes.
torch::Tensor Classifier::Impl::uploadAndPreprocess(const std::vector<const Image*>& images, StageTimes& times)
{
    std::vector<std::pair<int, int>> sizes;
    for (const auto* image : images)
        sizes.emplace_back(image->height, image->width);
    const auto planOf = plansFor(sizes);
    std::vector<PlacedWindow> windows;   // in the images' order
    int64_t total = 0;
    for (const auto* plan : planOf) {
        windows.push_back({plan, total, static_cast<int64_t>(plan->width) * 3});
        total += static_cast<int64_t>(windowBytes(*plan));
    }
    if (!pinned.defined() || pinned.numel() < total)
        pinned = torch::empty({total}, torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
    cuda::StageClock clock(true);
    // One thread copies 3.5 GB/s into pinned memory on the H200 machine, 16 threads 37 GB/s, the copy engine takes 55
    // (benchmarks/upload_bandwidth.py): windows are copied in parallel, and in a few chunks, each sent to the device
    // asynchronously while the host fills the next one.
    auto* base = pinned.data_ptr<std::uint8_t>();
    const auto onDevice = torch::empty({total}, torch::TensorOptions().dtype(torch::kUInt8).device(device));
    const auto count = static_cast<int64_t>(windows.size());
    const int64_t chunks = std::min(kUploadChunks, count);
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t first = count * c / chunks, last = count * (c + 1) / chunks;
        onWorkers(first, last, [&](int64_t i) {
            const auto& w = windows[static_cast<size_t>(i)];
            copyWindow(images[static_cast<size_t>(i)], *w.plan, base + w.offset);
        });
        const auto from = windows[static_cast<size_t>(first)].offset;
        const auto to = last < count ? windows[static_cast<size_t>(last)].offset : total;
        onDevice.narrow(0, from, to - from).copy_(pinned.narrow(0, from, to - from), /*non_blocking=*/true);
    }
    clock.mark();
    const auto batch = preprocessWindows(onDevice, windows, preprocessing);
    clock.mark();
    const auto ms = clock.elapsedMs();
    times.uploadMs = ms[0];
    times.preprocessMs = ms[1];
    return batch;
}

torch::Tensor Classifier::Impl::preprocessOnHost(const std::vector<const Image*>& images)
{
    std::vector<torch::Tensor> tensors;
    for (const auto* image : images)
        tensors.push_back(preprocess(*image, preprocessing));
    return torch::stack(tensors);
}

Classifier::Classifier(const ClassifierOptions& options)
    : m_impl(std::make_unique<Impl>())
{
    auto& d = *m_impl;
    if (options.weights.empty() && !options.randomWeights)
        throw ConfigError("no weights for " + (options.model.empty() ? std::string("efficientnet_b0") : options.model) +
                          ": give --weights FILE, put a checkpoint in " + weightsCacheDir() +
                          ", or pass --random-weights to run on random weights");
    ModelRequest request;
    request.model = options.model;
    request.modelIsPreference = options.modelIsPreference;
    request.weights = options.weights;
    request.source = options.source;
    request.labelsFile = options.labelsFile;
    request.overrides = options.overrides;
    request.imagenetLabels = options.imagenetLabels;
    // The checkpoint decides what it can (classes, labels, transform, the network when no name is given); its
    // tensors come back under torchvision's keys.
    ResolvedCheckpoint resolved = resolveCheckpoint(request);
    d.info = std::move(resolved.info);
    d.name = d.info.name;
    d.preprocessing = d.info.transform.preprocessing;
    d.labels = d.info.labels.names;
    d.device = chooseDevice(options.device);
    d.releaseCudaCache.onCuda = d.device.is_cuda();
    EfficientNet model(EfficientNetOptions(d.name.spec->name)
                           .padding(d.name.padding)
                           .bnEps(d.name.bnEps)
                           .numClasses(d.info.numClasses));
    if (!options.weights.empty()) {
        loadStateDict(model, resolved.tensors, d.info.weightsPath);
        resolved.tensors.clear();
        d.weights = d.info.weightsPath + " (" + toString(d.info.keys) + " keys)";
    } else {
        d.weights = "random (predictions are meaningless)";
    }
    InferenceOptions inference;
    inference.device = d.device;
    inference.precision = choosePrecision(options.precision, d.device);
    inference.channelsLast = options.channelsLast && d.device.is_cuda();   // slower on the CPU (oneDNN reorders)
    inference.cudaGraphs = options.cudaGraphs;
    inference.autotune = options.autotune;
    if (d.device.is_cuda())
        d.stream = std::make_unique<cuda::Stream>(d.device.index());
    d.engine = std::make_unique<InferenceModel>(model, inference);
    if (options.warmup) {
        const int size = d.preprocessing.cropSize;
        Image blank{size, size, std::vector<std::uint8_t>(static_cast<size_t>(size) * size * 3, 0)};
        classify(blank, 1);
    }
}

Classifier::~Classifier() = default;
Classifier::Classifier(Classifier&&) noexcept = default;
Classifier& Classifier::operator=(Classifier&&) noexcept = default;

std::vector<Prediction> Classifier::classify(const Image& image, int topk)
{
    return std::move(classifyImages({&image}, topk).predictions.front());   // no copy of the pixels
}

Classifier::BatchResult Classifier::classifyBatch(const std::vector<Image>& images, int topk)
{
    std::vector<const Image*> pointers;
    pointers.reserve(images.size());
    for (const auto& image : images)
        pointers.push_back(&image);
    return classifyImages(pointers, topk);
}

Classifier::BatchResult Classifier::classifyImages(const std::vector<const Image*>& images, int topk)
{
    if (images.empty())
        return {};
    std::lock_guard lock(m_impl->mutex);
    return m_impl->classifyFitting(images, topk);
}

// "A GPU that runs out of memory" must not lose the batch: when it does not fit, its halves are tried, down to one
// image. LibTorch reports device memory as c10::OutOfMemoryError (CUDA's caching allocator has already released its
// cache and retried by then); host memory as std::bad_alloc, or as a c10::Error from the CPU allocator.
Classifier::BatchResult Classifier::Impl::classifyFitting(const std::vector<const Image*>& images, int topk)
{
    std::string problem;
    try {
        return classifyNow(images, topk);
    } catch (const c10::OutOfMemoryError& e) {
        problem = e.what();
    } catch (const std::bad_alloc&) {
        problem = "host memory exhausted";
    } catch (const c10::Error& e) {
        if (std::string(e.what()).find("not enough memory") == std::string::npos)
            throw;
        problem = e.what();
    }
    if (images.size() == 1) {
        problem = problem.substr(0, problem.find('\n'));   // LibTorch appends a C++ stack trace in debug builds
        throw OutOfMemoryError(device.str() + " ran out of memory classifying one " + std::to_string(images[0]->width) +
                               "x" + std::to_string(images[0]->height) + " image with " + name.spec->name + ": " +
                               problem + ". Free memory on the device (other programs, a smaller model) or use the CPU.");
    }
    const auto middle = images.begin() + static_cast<std::ptrdiff_t>(images.size() / 2);
    auto result = classifyFitting({images.begin(), middle}, topk);
    auto rest = classifyFitting({middle, images.end()}, topk);
    for (auto& p : rest.predictions)
        result.predictions.push_back(std::move(p));
    result.times.preprocessMs += rest.times.preprocessMs;
    result.times.uploadMs += rest.times.uploadMs;
    result.times.forwardMs += rest.times.forwardMs;
    result.times.postprocessMs += rest.times.postprocessMs;
    return result;
}

Classifier::BatchResult Classifier::Impl::classifyNow(const std::vector<const Image*>& images, int topk)
{
    BatchResult result;
    c10::InferenceMode inference;
    const bool onCuda = device.is_cuda();
    std::optional<cuda::StreamScope> streamScope;
    if (onCuda)
        streamScope.emplace(*stream);

    cuda::StageClock clock(onCuda);
    const auto input = onCuda ? uploadAndPreprocess(images, result.times) : preprocessOnHost(images);
    clock.mark();   // the forward's time starts when upload and preprocessing are done (on CUDA: queued before it)
    result.predictions = predict(input, topk, clock);
    const auto ms = clock.elapsedMs();   // upload + preprocessing, forward, postprocessing
    if (!onCuda)
        result.times.preprocessMs = ms[0];   // on CUDA, uploadAndPreprocess timed its two stages itself
    result.times.forwardMs = ms[1];
    result.times.postprocessMs = ms[2];
    return result;
}

// The forward, softmax and top-k of a preprocessed batch, marking the clock after the forward and after the rest.
std::vector<std::vector<Prediction>> Classifier::Impl::predict(const torch::Tensor& input, int topk, cuda::StageClock& clock)
{
    const auto logits = engine->forward(input);
    clock.mark();
    const auto probabilities = torch::softmax(logits, 1);
    const auto k = std::clamp<int64_t>(topk, 1, probabilities.size(1));
    const auto top = probabilities.topk(k);
    const auto values = std::get<0>(top).to(torch::kCPU);
    const auto indices = std::get<1>(top).to(torch::kCPU);
    clock.mark();
    std::vector<std::vector<Prediction>> all;
    const auto v = values.accessor<float, 2>();
    const auto ix = indices.accessor<int64_t, 2>();
    for (int64_t n = 0; n < values.size(0); ++n) {
        std::vector<Prediction> predictions;
        for (int64_t i = 0; i < k; ++i) {
            const int index = static_cast<int>(ix[n][i]);
            const bool named = index < static_cast<int>(labels.size());
            predictions.push_back({index, named ? labels[index] : "class " + std::to_string(index), v[n][i]});
        }
        all.push_back(std::move(predictions));
    }
    return all;
}

bool Classifier::Impl::hasJpegDecoder()
{
#ifdef EFFICIENTNET_WITH_NVJPEG
    if (!jpegDecoder && noJpegDecoder.empty()) {
        if (!device.is_cuda()) {
            noJpegDecoder = "the model runs on the CPU";
        } else {
            try {
                jpegDecoder = std::make_unique<cuda::JpegDecoder>(device.index());
            } catch (const std::exception& e) {
                noJpegDecoder = e.what();
            }
        }
    }
    return jpegDecoder != nullptr;
#else
    noJpegDecoder = "this build has no nvJPEG (it needs a CUDA LibTorch and the CUDA toolkit's nvJPEG)";
    return false;
#endif
}

bool Classifier::decodesJpegOnGpu(std::string* why)
{
    std::lock_guard lock(m_impl->mutex);
    const bool yes = m_impl->hasJpegDecoder();
    if (!yes && why)
        *why = m_impl->noJpegDecoder;
    return yes;
}

Classifier::JpegBatchResult Classifier::classifyJpegs(const std::vector<const std::vector<std::uint8_t>*>& files, int topk)
{
    JpegBatchResult result;
    result.predictions.resize(files.size());
#ifdef EFFICIENTNET_WITH_NVJPEG
    auto& d = *m_impl;
    cuda::JpegDecoder* decoder = nullptr;
    {
        std::lock_guard lock(d.mutex);
        if (files.empty() || !d.hasJpegDecoder())
            return result;
        decoder = d.jpegDecoder.get();
    }
    // What the CPU decoder would refuse or treat differently stays with it: files too large, cut off (no end
    // marker), EXIF-rotated (nvJPEG does not rotate), other than 8-bit three-component baseline or extended JPEG.
    std::vector<const std::vector<std::uint8_t>*> offered;
    std::vector<size_t> slots;
    for (size_t i = 0; i < files.size(); ++i) {
        const auto& file = *files[i];
        const auto layout = probeJpegLayout(file.data(), file.size());
        const bool plain = layout && (layout->frameMarker == kJpegBaselineFrame || layout->frameMarker == kJpegExtendedFrame) &&
                           layout->precision == 8 && layout->components == 3 && layout->orientation == 1 &&
                           layout->width * layout->height <= maxImagePixels() && file.size() <= kMaxImageFileBytes &&
                           file.size() >= 2 && file[file.size() - 2] == 0xff && file[file.size() - 1] == 0xd9;
        if (plain) {
            offered.push_back(&file);
            slots.push_back(i);
        }
    }
    if (offered.empty())
        return result;
    c10::InferenceMode inference;
    // The decode is queued outside the engine's lock, on a stream of the decoder's: another thread's batch can be
    // preprocessed and classified meanwhile (efficientnet-cli's folder pipeline).
    cuda::JpegDecoder::Batch decoded;
    try {
        decoded = decoder->decode(offered);
    } catch (const std::runtime_error& e) {
        throw Error(std::string("decoding on the GPU: ") + e.what());
    }
    std::vector<size_t> taken;   // indices into offered
    std::vector<std::pair<int, int>> sizes;
    for (size_t k = 0; k < offered.size(); ++k)
        if (decoded.offsets[k] >= 0) {
            taken.push_back(k);
            sizes.emplace_back(decoded.heights[k], decoded.widths[k]);
        }
    if (taken.empty())
        return result;
    std::lock_guard lock(d.mutex);
    cuda::StreamScope streamScope(*d.stream);
    decoded.readyOnCurrentStream();
    cuda::StageClock clock(true);
    const auto planOf = d.plansFor(sizes);
    std::vector<PlacedWindow> windows;   // each in its whole decoded image
    for (size_t t = 0; t < taken.size(); ++t) {
        const size_t k = taken[t];
        const auto& plan = *planOf[t];
        const int64_t pitch = static_cast<int64_t>(decoded.widths[k]) * 3;
        windows.push_back({&plan, decoded.offsets[k] + plan.top * pitch + static_cast<int64_t>(plan.left) * 3, pitch});
    }
    const auto input = preprocessWindows(decoded.pixels, windows, d.preprocessing);
    clock.mark();
    auto predictions = d.predict(input, topk, clock);
    const auto ms = clock.elapsedMs();
    result.times.decodeMs = decoded.elapsedMs();
    result.times.preprocessMs = ms[0];
    result.times.forwardMs = ms[1];
    result.times.postprocessMs = ms[2];
    for (size_t t = 0; t < taken.size(); ++t)
        result.predictions[slots[taken[t]]] = std::move(predictions[t]);
#else
    (void)topk;
#endif
    return result;
}

const ModelName& Classifier::model() const { return m_impl->name; }
const CheckpointInfo& Classifier::info() const { return m_impl->info; }

std::string Classifier::deviceName() const
{
    if (!m_impl->device.is_cuda())
        return "cpu";
    return m_impl->device.str() + " (" + cuda::deviceName(m_impl->device.index()) + ")";
}

std::string Classifier::precision() const { return toString(m_impl->engine->options().precision); }
int Classifier::inputSize() const { return m_impl->preprocessing.cropSize; }
std::string Classifier::weightsDescription() const { return m_impl->weights; }

void setComputeThreads(int threads) { torch::set_num_threads(threads); }

RuntimeInfo runtimeInfo()
{
    const bool gpu = cuda::available();
    const std::string libtorch = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                                 std::to_string(TORCH_VERSION_PATCH);
    return {libtorch, gpu ? cuda::runtimeVersion() : "none", gpu ? cuda::cudnnVersion() : "none",
            gpu ? cuda::deviceName(0) : "none"};
}

std::string gpuUnavailableReason()
{
    if (!cuda::compiled() || cuda::available())
        return {};
    const auto& runtime = platform::loadGpuRuntime();
    switch (runtime.state) {
    case platform::GpuRuntimeState::NotInstalled:
        return "the GPU runtime is not installed in " + runtime.detail +
               (runtime.nvidiaDriver ? "; run the installer again and let it download the GPU runtime" : "");
    case platform::GpuRuntimeState::LoadFailed:
        return "the GPU runtime could not be loaded (" + runtime.detail + ")";
    default:
        break;
    }
#ifdef _WIN32
    if (!runtime.nvidiaDriver)
        return "no NVIDIA GPU driver was found (nvcuda.dll)";
#endif
    return "no CUDA device or NVIDIA driver was found";
}

} // namespace efficientnet
