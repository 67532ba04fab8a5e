#include "engine/cuda_support.h"

#include <chrono>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include "efficientnet/platform.h"

#ifdef EFFICIENTNET_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace efficientnet::cuda {

#ifdef EFFICIENTNET_WITH_CUDA

namespace {
constexpr int kGraphWarmupRuns = 3;   // cuDNN picks its algorithms before capture, as PyTorch's docs advise

// Streams this process took from LibTorch's pool and no longer uses, kept to be handed out again. cuBLAS and cuBLASLt
// get from LibTorch a workspace for each stream they run on (32 MiB each on Hopper) that is kept until the process
// ends, and the pool hands out its 32 streams in turn: with a fresh pool stream for every model and every graph
// capture, each model switch in the app left workspaces behind on streams not seen before, until all 32 had them
// (issue 16: device memory grew by 446, then 230, then 58 MiB over three cycles of nine switches). A stream given
// back here is the next one taken, so a model that replaces another runs on its streams.
std::mutex g_idleStreamsMutex;
std::vector<c10::cuda::CUDAStream> g_idleStreams;

c10::cuda::CUDAStream takeStream(c10::DeviceIndex device)
{
    {
        std::lock_guard lock(g_idleStreamsMutex);
        for (auto it = g_idleStreams.rbegin(); it != g_idleStreams.rend(); ++it)
            if (it->device_index() == device) {
                const auto stream = *it;
                g_idleStreams.erase(std::next(it).base());
                return stream;
            }
    }
    return c10::cuda::getStreamFromPool(false, device);
}

// Work still queued on the stream stays ordered before whatever its next user queues.
void giveBackStream(const c10::cuda::CUDAStream& stream)
{
    std::lock_guard lock(g_idleStreamsMutex);
    g_idleStreams.push_back(stream);
}

// A stream taken for the scope of one task (a graph capture).
struct LeasedStream {
    explicit LeasedStream(c10::DeviceIndex device) : stream(takeStream(device)) {}
    ~LeasedStream() { giveBackStream(stream); }
    LeasedStream(const LeasedStream&) = delete;
    LeasedStream& operator=(const LeasedStream&) = delete;
    c10::cuda::CUDAStream stream;
};
} // namespace

bool compiled() { return true; }
bool available()
{
    // LibTorch caches its answer to "is there CUDA?" on the first question (at::detail::getCUDAHooks): the Windows
    // CUDA flavour's torch_cuda.dll, delay-loaded from its own folder, must be in the process before that.
    platform::loadGpuRuntime();
    return torch::cuda::is_available();
}
void setAutotuning(bool on) { at::globalContext().setBenchmarkCuDNN(on); }
std::string runtimeVersion()
{
    int version = 0;
    if (cudaRuntimeGetVersion(&version) != cudaSuccess)
        return "unknown";
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string cudnnVersion()
{
    if (!torch::cuda::cudnn_is_available())
        return "none";
    const long version = at::detail::getCUDAHooks().versionCuDNN();   // e.g. 91900 for 9.19.0
    return std::to_string(version / 10000) + "." + std::to_string(version % 10000 / 100) + "." + std::to_string(version % 100);
}

AllocatorCounters allocatorCounters(int device)
{
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    // Index 0 is StatType::AGGREGATE in LibTorch 1.x and 2.x alike (2.x moved the enum to another namespace).
    return {stats.segment[0].allocated, stats.allocation[0].allocated, stats.reserved_bytes[0].current};
}

std::int64_t deviceMemoryInUse(int device)
{
    if (!available())
        return 0;
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess)
        return 0;
    return static_cast<std::int64_t>(total - free);
}

void releaseCachedMemory()
{
    if (available())
        c10::cuda::CUDACachingAllocator::emptyCache();
}

std::int64_t peakAllocatedBytes()
{
    if (!available())
        return 0;
    const auto device = c10::cuda::current_device();
    return c10::cuda::CUDACachingAllocator::getDeviceStats(device).allocated_bytes[0].peak;   // [0]: AGGREGATE
}

void resetPeakAllocatedBytes()
{
    if (available())
        c10::cuda::CUDACachingAllocator::resetPeakStats(c10::cuda::current_device());
}

std::string deviceName(int device)
{
    cudaDeviceProp properties{};
    return cudaGetDeviceProperties(&properties, device) == cudaSuccess ? properties.name : "unknown GPU";
}

struct Stream::Impl {
    c10::cuda::CUDAStream stream;
};
Stream::Stream(int device) : m_impl(std::make_unique<Impl>(Impl{takeStream(static_cast<c10::DeviceIndex>(device))})) {}
Stream::~Stream() { giveBackStream(m_impl->stream); }
void Stream::synchronize() { m_impl->stream.synchronize(); }

struct StreamScope::Impl {
    explicit Impl(const c10::cuda::CUDAStream& stream) : guard(stream) {}
    c10::cuda::CUDAStreamGuard guard;
};
StreamScope::StreamScope(const Stream& stream) : m_impl(std::make_unique<Impl>(stream.m_impl->stream)) {}
StreamScope::~StreamScope() = default;

struct StageClock::Impl {
    bool onCuda;
    std::vector<at::cuda::CUDAEvent> events;
    std::vector<std::chrono::steady_clock::time_point> times;
};

StageClock::StageClock(bool onCuda) : m_impl(std::make_unique<Impl>())
{
    m_impl->onCuda = onCuda;
    mark();
}
StageClock::~StageClock() = default;

void StageClock::mark()
{
    if (m_impl->onCuda) {
        m_impl->events.emplace_back(cudaEventDefault);   // timing enabled
        m_impl->events.back().record(c10::cuda::getCurrentCUDAStream());
    } else {
        m_impl->times.push_back(std::chrono::steady_clock::now());
    }
}

std::vector<double> StageClock::elapsedMs()
{
    std::vector<double> ms;
    if (m_impl->onCuda) {
        auto& e = m_impl->events;
        if (!e.empty())
            e.back().synchronize();
        for (size_t i = 1; i < e.size(); ++i)
            ms.push_back(e[i - 1].elapsed_time(e[i]));
    } else {
        auto& t = m_impl->times;
        for (size_t i = 1; i < t.size(); ++i)
            ms.push_back(std::chrono::duration<double, std::milli>(t[i] - t[i - 1]).count());
    }
    return ms;
}

struct GraphForward::Impl {
    at::cuda::CUDAGraph graph;
    torch::Tensor input;
    torch::Tensor output;
};

GraphForward::GraphForward(const Forward& forward, const torch::Tensor& exampleInput) : m_impl(std::make_unique<Impl>())
{
    auto& d = *m_impl;
    d.input = exampleInput.clone();
    // Capture must run on a side stream; warm-up runs there too so that the captured kernels are the tuned ones.
    LeasedStream leased(exampleInput.device().index());
    auto& stream = leased.stream;
    stream.synchronize();
    c10::cuda::getCurrentCUDAStream().synchronize();
    {
        c10::cuda::CUDAStreamGuard guard(stream);
        for (int i = 0; i < kGraphWarmupRuns; ++i)
            forward(d.input);
        stream.synchronize();
        d.graph.capture_begin();
        try {
            d.output = forward(d.input);
        } catch (...) {
            // Out of memory mid-capture, say: end the capture before the error leaves, or the stream stays in
            // capture mode and every later call on it fails. The partial graph is discarded with this object.
            try {
                d.graph.capture_end();
            } catch (...) {
            }
            throw;
        }
        d.graph.capture_end();
    }
    stream.synchronize();
}

GraphForward::~GraphForward() = default;

torch::Tensor GraphForward::run(const torch::Tensor& input)
{
    const int64_t batch = input.size(0);
    m_impl->input.narrow(0, 0, batch).copy_(input, /*non_blocking=*/true);
    m_impl->graph.replay();
    return batch == m_impl->output.size(0) ? m_impl->output : m_impl->output.narrow(0, 0, batch);
}

#else   // LibTorch without CUDA: the engine never takes these paths (available() is false)

namespace {
[[noreturn]] void noCuda() { throw std::logic_error("this build of efficientnet_core has no CUDA support"); }
} // namespace

bool compiled() { return false; }
bool available() { return false; }
void setAutotuning(bool) {}
std::string deviceName(int) { return "none"; }
AllocatorCounters allocatorCounters(int) { return {}; }
std::int64_t deviceMemoryInUse(int) { return 0; }
void releaseCachedMemory() {}
std::int64_t peakAllocatedBytes() { return 0; }
void resetPeakAllocatedBytes() {}
std::string runtimeVersion() { return "none"; }
std::string cudnnVersion() { return "none"; }

struct Stream::Impl {};
Stream::Stream(int) { noCuda(); }
Stream::~Stream() = default;
void Stream::synchronize() {}

struct StreamScope::Impl {};
StreamScope::StreamScope(const Stream&) { noCuda(); }
StreamScope::~StreamScope() = default;

struct StageClock::Impl {
    std::vector<std::chrono::steady_clock::time_point> times;
};
StageClock::StageClock(bool onCuda) : m_impl(std::make_unique<Impl>())
{
    if (onCuda)
        noCuda();
    mark();
}
StageClock::~StageClock() = default;
void StageClock::mark() { m_impl->times.push_back(std::chrono::steady_clock::now()); }
std::vector<double> StageClock::elapsedMs()
{
    std::vector<double> ms;
    for (size_t i = 1; i < m_impl->times.size(); ++i)
        ms.push_back(std::chrono::duration<double, std::milli>(m_impl->times[i] - m_impl->times[i - 1]).count());
    return ms;
}

struct GraphForward::Impl {};
GraphForward::GraphForward(const Forward&, const torch::Tensor&) { noCuda(); }
GraphForward::~GraphForward() = default;
torch::Tensor GraphForward::run(const torch::Tensor&) { noCuda(); }

#endif

} // namespace efficientnet::cuda
