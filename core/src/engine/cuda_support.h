#pragma once
// The CUDA-only pieces of the engine behind a header that compiles without CUDA: CUDA graphs, the engine's stream,
// and event timing. Builds against a LibTorch without CUDA (Debian's) get stubs, and cuda::compiled() says false.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace efficientnet::cuda {

bool compiled();                 // this build links a CUDA LibTorch
bool available();                // compiled() and a device is present

// The engine's own CUDA stream and a scope that makes it current on the calling thread. Streams come from LibTorch's
// pool and go back to this process's idle list when dropped, to be reused (cuda_support.cpp says why).
class Stream {
public:
    explicit Stream(int device);
    ~Stream();
    void synchronize();

private:
    friend class StreamScope;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

class StreamScope {
public:
    explicit StreamScope(const Stream& stream);
    ~StreamScope();
    StreamScope(const StreamScope&) = delete;
    StreamScope& operator=(const StreamScope&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Times stages on the current stream with CUDA events: mark() after each stage's work is queued, read once after
// synchronising. Host-clock fallback when the device is the CPU.
class StageClock {
public:
    explicit StageClock(bool onCuda);
    ~StageClock();
    void mark();
    std::vector<double> elapsedMs();   // between consecutive marks; call after the work finished

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// A forward captured once as a CUDA graph for one input shape and replayed: one launch instead of ~250 per
// EfficientNet-B0 forward. run() copies into the static input and returns the static output, which the next
// run() overwrites.
class GraphForward {
public:
    using Forward = std::function<torch::Tensor(const torch::Tensor&)>;
    GraphForward(const Forward& forward, const torch::Tensor& exampleInput);
    ~GraphForward();
    // input: the captured shape, or fewer images (the first rows of the captured input; the output's first rows).
    torch::Tensor run(const torch::Tensor& input);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// LibTorch's CUDA caching allocator on a device, counted since the process started: blocks of memory taken from
// the driver (cudaMalloc calls) and tensor allocations it served; and the bytes it holds now. Zeros without CUDA.
struct AllocatorCounters {
    std::int64_t driverAllocations = 0;
    std::int64_t tensorAllocations = 0;
    std::int64_t reservedBytes = 0;
};
AllocatorCounters allocatorCounters(int device);
// The allocator's peak of bytes allocated to tensors on the current device since the last reset; 0 without CUDA.
std::int64_t peakAllocatedBytes();
void resetPeakAllocatedBytes();

// Device memory in use, as the driver reports it (total - free, all processes: what nvidia-smi shows); 0 without CUDA.
std::int64_t deviceMemoryInUse(int device);
// Gives the caching allocator's unused blocks back to the driver: a dropped model's memory (weights, CUDA graphs'
// pools, activations) would otherwise stay reserved by this process. No-op without CUDA.
void releaseCachedMemory();

// cuDNN benchmark mode, for the whole process: on, cuDNN times its algorithms for every layer the first time it meets
// a batch size (seconds on B0; worth it for a camera's endless frames); off, its heuristics choose at once.
void setAutotuning(bool on);
std::string deviceName(int device);   // the GPU's name
std::string runtimeVersion();        // CUDA runtime, "13.0"; "none" without CUDA
std::string cudnnVersion();          // "9.19.0"; "none" without cuDNN

} // namespace efficientnet::cuda
