#include "fused_ops.h"

#include <ATen/Dispatch.h>
#include <ATen/Functions.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <algorithm>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace efficientnet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kVector = 8;   // 8 x 16-bit = one 16-byte load per thread

__device__ __forceinline__ float silu(float v) { return v / (1.0f + __expf(-v)); }

// Generic path: any layout the caller describes by (channel stride, channels).
template <typename T, bool kSilu, bool kResidual>
__global__ void biasActivationKernel(T* __restrict__ y, const T* __restrict__ bias, const T* __restrict__ residual,
                                     int64_t n, int64_t channelStride, int64_t channels)
{
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        float v = static_cast<float>(y[i]) + static_cast<float>(bias[(i / channelStride) % channels]);
        if (kResidual)
            v += static_cast<float>(residual[i]);
        y[i] = static_cast<T>(kSilu ? silu(v) : v);
    }
}

// channels_last 16-bit with channels % 8 == 0: eight neighbouring channels per thread, 16-byte loads and stores.
template <typename T, bool kSilu, bool kResidual>
__global__ void biasActivationVectorKernel(T* __restrict__ y, const T* __restrict__ bias, const T* __restrict__ residual,
                                           int64_t vectors, int64_t channels)
{
    for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < vectors; v += int64_t(gridDim.x) * blockDim.x) {
        const int64_t i = v * kVector;
        uint4 packed = reinterpret_cast<const uint4*>(y)[v];
        const uint4 packedBias = *reinterpret_cast<const uint4*>(bias + i % channels);
        uint4 packedResidual{};
        if (kResidual)
            packedResidual = reinterpret_cast<const uint4*>(residual)[v];
        T* values = reinterpret_cast<T*>(&packed);
        const T* b = reinterpret_cast<const T*>(&packedBias);
        const T* r = reinterpret_cast<const T*>(&packedResidual);
#pragma unroll
        for (int k = 0; k < kVector; ++k) {
            float value = static_cast<float>(values[k]) + static_cast<float>(b[k]);
            if (kResidual)
                value += static_cast<float>(r[k]);
            values[k] = static_cast<T>(kSilu ? silu(value) : value);
        }
        reinterpret_cast<uint4*>(y)[v] = packed;
    }
}

// The excitation of one sample per block: the squeeze s = scale * (the sum, in tile order, of `tiles` partial sums
// per channel; a mean is one tile with scale 1), hidden = silu(W1 s + b1) with a warp per hidden unit (lanes over the channels,
// shuffle reduction), then gate = sigmoid(W2 hidden + b2) with a thread per channel (w2t keeps a hidden unit's weights
// contiguous over channels, so neighbouring threads read neighbouring weights). Everything in fp32.
__global__ void excitationKernel(const float* __restrict__ partial, int tiles, float scale,
                                 const float* __restrict__ w1, const float* __restrict__ b1,
                                 const float* __restrict__ w2t, const float* __restrict__ b2,
                                 float* __restrict__ gate, int channels, int squeezed)
{
    extern __shared__ float shared[];   // channels means, then squeezed hidden units
    float* s = shared;
    float* hidden = shared + channels;
    const int n = blockIdx.x;
    const float* sums = partial + int64_t(n) * tiles * channels;
    for (int c = threadIdx.x; c < channels; c += blockDim.x) {
        float total = 0.0f;
        for (int t = 0; t < tiles; ++t)
            total += sums[int64_t(t) * channels + c];
        s[c] = total * scale;
    }
    __syncthreads();
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    for (int j = warp; j < squeezed; j += warps) {
        float acc = 0.0f;
        for (int c = lane; c < channels; c += 32)
            acc += w1[int64_t(j) * channels + c] * s[c];
        for (int offset = 16; offset > 0; offset /= 2)
            acc += __shfl_down_sync(0xffffffffu, acc, offset);
        if (lane == 0)
            hidden[j] = silu(acc + b1[j]);
    }
    __syncthreads();
    for (int c = threadIdx.x; c < channels; c += blockDim.x) {
        float acc = b2[c];
        for (int j = 0; j < squeezed; ++j)
            acc += w2t[int64_t(j) * channels + c] * hidden[j];
        gate[int64_t(n) * channels + c] = 1.0f / (1.0f + __expf(-acc));
    }
}

// x[n, ..., c] *= gate[n, c] for any layout described by (channel stride, channels, elements per sample).
template <typename T>
__global__ void gateKernel(T* __restrict__ x, const float* __restrict__ gate, int64_t n, int64_t channelStride,
                           int64_t channels, int64_t perSample)
{
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t sample = i / perSample;
        const int64_t c = (i / channelStride) % channels;
        x[i] = static_cast<T>(static_cast<float>(x[i]) * gate[sample * channels + c]);
    }
}

// channels_last 16-bit with channels % 8 == 0: eight neighbouring channels of one pixel per thread, 16-byte loads.
template <typename T>
__global__ void gateVectorKernel(T* __restrict__ x, const float* __restrict__ gate, int64_t vectors, int64_t channels,
                                 int64_t perSample)
{
    for (int64_t v = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; v < vectors; v += int64_t(gridDim.x) * blockDim.x) {
        const int64_t i = v * kVector;
        const float* g = gate + (i / perSample) * channels + i % channels;
        uint4 packed = reinterpret_cast<const uint4*>(x)[v];
        T* values = reinterpret_cast<T*>(&packed);
#pragma unroll
        for (int k = 0; k < kVector; ++k)
            values[k] = static_cast<T>(static_cast<float>(values[k]) * g[k]);
        reinterpret_cast<uint4*>(x)[v] = packed;
    }
}

// V values of one pixel's neighbouring channels, loaded and stored as one (up to 16-byte) access.
template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
    T v[V];
};

constexpr int kStrip = 4;   // output pixels of one row per work item: their taps share input columns

// The depthwise convolution of an MBConv block, channels_last, with its folded BatchNorm bias, SiLU and the squeeze
// of the block's squeeze-and-excitation in the same pass. cuDNN's depthwise kernel writes its output, the epilogue
// reads and rewrites it, and the squeeze's mean reads it a third time; here it is written once. A work item is V
// channels of kStrip neighbouring output pixels of one row: each input column of a kernel row is loaded once and
// used by every output pixel whose taps reach it. Accumulation in fp32 over T inputs and weights, as cuDNN does.
// Block (tile, n, chunk): threadIdx.x picks the channels (fixed for the thread, so its sums stay in registers),
// threadIdx.y and the tile stride over the image's rows and strips. The block adds its threads' sums in a fixed
// order and writes them to partial[n][tile][c], which the excitation adds up in order: no atomics and no buffer to
// clear, so a replayed graph gives bit-identical sums every time.
template <typename T, int V, int K, int S>
__global__ void depthwiseSiluSqueezeKernel(const T* __restrict__ x, const T* __restrict__ weight,
                                           const float* __restrict__ bias, T* __restrict__ y,
                                           float* __restrict__ partial, int height, int width, int channels,
                                           int outHeight, int outWidth, int padTop, int padLeft, int strips)
{
    extern __shared__ float threadSums[];   // [blockDim.y][blockDim.x * V], when partial is wanted
    using P = Pack<T, V>;
    constexpr int kColumns = (kStrip - 1) * S + K;
    const int n = blockIdx.y, tiles = gridDim.x;
    const int c0 = (blockIdx.z * blockDim.x + threadIdx.x) * V;
    float sum[V];
#pragma unroll
    for (int v = 0; v < V; ++v)
        sum[v] = 0.0f;
    if (c0 < channels) {
        const T* image = x + int64_t(n) * height * width * channels + c0;
        T* out = y + int64_t(n) * outHeight * outWidth * channels + c0;
        float b[V];
#pragma unroll
        for (int v = 0; v < V; ++v)
            b[v] = bias[c0 + v];
        const int items = outHeight * strips;
        for (int item = blockIdx.x * blockDim.y + threadIdx.y; item < items; item += tiles * blockDim.y) {
            const int ow0 = (item % strips) * kStrip;
            const int oh = item / strips;
            float acc[kStrip][V];
#pragma unroll
            for (int p = 0; p < kStrip; ++p)
#pragma unroll
                for (int v = 0; v < V; ++v)
                    acc[p][v] = 0.0f;
            const int iw0 = ow0 * S - padLeft;
#pragma unroll
            for (int kh = 0; kh < K; ++kh) {
                const int ih = oh * S - padTop + kh;
                if (ih < 0 || ih >= height)
                    continue;
                P taps[K];
#pragma unroll
                for (int kw = 0; kw < K; ++kw)
                    taps[kw] = *reinterpret_cast<const P*>(weight + (kh * K + kw) * channels + c0);
                const T* row = image + int64_t(ih) * width * channels;
#pragma unroll
                for (int j = 0; j < kColumns; ++j) {
                    const int iw = iw0 + j;
                    if (iw < 0 || iw >= width)
                        continue;
                    const P in = *reinterpret_cast<const P*>(row + int64_t(iw) * channels);
#pragma unroll
                    for (int p = 0; p < kStrip; ++p) {
                        const int kw = j - p * S;   // known at compile time once unrolled
                        if (kw < 0 || kw >= K)
                            continue;
#pragma unroll
                        for (int v = 0; v < V; ++v)
                            acc[p][v] += static_cast<float>(in.v[v]) * static_cast<float>(taps[kw].v[v]);
                    }
                }
            }
            T* outRow = out + (int64_t(oh) * outWidth + ow0) * channels;
#pragma unroll
            for (int p = 0; p < kStrip; ++p) {
                if (ow0 + p >= outWidth)
                    break;
                P result;
#pragma unroll
                for (int v = 0; v < V; ++v) {
                    result.v[v] = static_cast<T>(silu(acc[p][v] + b[v]));
                    sum[v] += static_cast<float>(result.v[v]);
                }
                *reinterpret_cast<P*>(outRow + int64_t(p) * channels) = result;
            }
        }
    }
    if (!partial)
        return;
    const int blockChannels = blockDim.x * V;   // the block's channels
#pragma unroll
    for (int v = 0; v < V; ++v)
        threadSums[threadIdx.y * blockChannels + threadIdx.x * V + v] = sum[v];
    __syncthreads();
    for (int i = threadIdx.y * blockDim.x + threadIdx.x; i < blockChannels; i += blockDim.x * blockDim.y) {
        const int c = blockIdx.z * blockChannels + i;
        if (c >= channels)
            continue;
        float total = 0.0f;
        for (int ty = 0; ty < blockDim.y; ++ty)
            total += threadSums[ty * blockChannels + i];
        partial[(int64_t(n) * tiles + blockIdx.x) * channels + c] = total;
    }
}

// out[n, o, k] = weight[o, k] * gate[n, k]: a projection's weights with one sample's gate folded in.
template <typename T>
__global__ void gatedWeightsKernel(const T* __restrict__ weight, const float* __restrict__ gate, T* __restrict__ out,
                                   int64_t total, int64_t perSample, int64_t in)
{
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t n = i / perSample, w = i % perSample;
        out[i] = static_cast<T>(static_cast<float>(weight[w]) * gate[n * in + w % in]);
    }
}

constexpr int kExcitationThreads = 256;
constexpr int64_t kSmallBatch = 32;

int blocksFor(int64_t work)
{
    const int64_t blocks = (work + kThreads - 1) / kThreads;
    return static_cast<int>(std::min<int64_t>(blocks, 65535));
}

template <typename T, bool kSilu, bool kResidual>
void launch(at::Tensor& y, const at::Tensor& bias, const at::Tensor* residual, bool channelsLast)
{
    const int64_t n = y.numel();
    const int64_t channels = y.size(1);
    auto stream = at::cuda::getCurrentCUDAStream();
    T* out = y.data_ptr<T>();
    const T* b = bias.data_ptr<T>();
    const T* r = kResidual ? residual->data_ptr<T>() : nullptr;
    const bool aligned = reinterpret_cast<uintptr_t>(out) % 16 == 0 && (!r || reinterpret_cast<uintptr_t>(r) % 16 == 0);
    if (sizeof(T) == 2 && channelsLast && channels % kVector == 0 && aligned) {
        const int64_t vectors = n / kVector;
        biasActivationVectorKernel<T, kSilu, kResidual><<<blocksFor(vectors), kThreads, 0, stream>>>(out, b, r, vectors, channels);
    } else {
        const int64_t channelStride = channelsLast ? 1 : y.size(2) * y.size(3);
        biasActivationKernel<T, kSilu, kResidual><<<blocksFor(n), kThreads, 0, stream>>>(out, b, r, n, channelStride, channels);
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// The excitation from partial sums [N, tiles, C] (scale turns their total into a mean): the gate [N, C] fp32.
at::Tensor excite(const at::Tensor& partial, float scale, const at::Tensor& w1, const at::Tensor& b1,
                  const at::Tensor& w2t, const at::Tensor& b2)
{
    const int64_t samples = partial.size(0), tiles = partial.size(1), channels = partial.size(2);
    const int64_t squeezed = w1.size(0);
    TORCH_CHECK(w1.scalar_type() == at::kFloat && w1.is_contiguous() && w1.size(1) == channels &&
                    w2t.scalar_type() == at::kFloat && w2t.is_contiguous() && w2t.sizes() == w1.sizes() &&
                    b1.numel() == squeezed && b2.numel() == channels,
                "squeeze-excitation: weights must be fp32, w1 and w2t [squeezed, channels]");
    auto stream = at::cuda::getCurrentCUDAStream();
    auto gate = at::empty({samples, channels}, partial.options());
    const size_t sharedBytes = static_cast<size_t>(channels + squeezed) * sizeof(float);
    // A few samples leave most of the GPU idle, each block working alone through its matrix products: give each the
    // most threads a block can have.
    const int threads = samples < kSmallBatch ? 1024 : kExcitationThreads;
    excitationKernel<<<static_cast<unsigned>(samples), threads, sharedBytes, stream>>>(
        partial.data_ptr<float>(), static_cast<int>(tiles), scale, w1.data_ptr<float>(), b1.data_ptr<float>(),
        w2t.data_ptr<float>(), b2.data_ptr<float>(), gate.data_ptr<float>(), static_cast<int>(channels),
        static_cast<int>(squeezed));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return gate;
}

bool isChannelsLast(const at::Tensor& x) { return x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous(); }

// x[n, c, ...] *= gate[n, c].
void multiplyByGate(at::Tensor& x, const at::Tensor& gate)
{
    const bool channelsLast = isChannelsLast(x);
    const int64_t channels = x.size(1), pixels = x.size(2) * x.size(3);
    const int64_t n = x.numel();
    const int64_t perSample = channels * pixels;
    auto stream = at::cuda::getCurrentCUDAStream();
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "squeezeExcitation", [&] {
        scalar_t* data = x.data_ptr<scalar_t>();
        if (sizeof(scalar_t) == 2 && channelsLast && channels % kVector == 0 &&
            reinterpret_cast<uintptr_t>(data) % 16 == 0) {
            const int64_t vectors = n / kVector;
            gateVectorKernel<scalar_t><<<blocksFor(vectors), kThreads, 0, stream>>>(data, gate.data_ptr<float>(),
                                                                                      vectors, channels, perSample);
        } else {
            gateKernel<scalar_t><<<blocksFor(n), kThreads, 0, stream>>>(data, gate.data_ptr<float>(), n,
                                                                         channelsLast ? 1 : pixels, channels, perSample);
        }
        C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
}

// How depthwiseSiluSqueezeKernel's blocks cover an output: channel packs across threadIdx.x (at most a warp's
// worth, split evenly into chunks), rows and strips across threadIdx.y and tiles.
struct DepthwiseGrid {
    dim3 grid, block;
};

DepthwiseGrid depthwiseGrid(int64_t samples, int64_t packs, int64_t outHeight, int64_t strips)
{
    const int64_t chunks = (packs + 31) / 32;
    const int64_t packsPerBlock = (packs + chunks - 1) / chunks;
    const int64_t rowsPerBlock = std::max<int64_t>(1, kThreads / packsPerBlock);
    // Enough blocks to fill the GPU about four times over, never more tiles than the image has work for; large
    // batches get one tile per image, so the partial sums stay small.
    const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
    const int64_t work = (outHeight * strips + rowsPerBlock - 1) / rowsPerBlock;
    const int64_t tiles = std::clamp<int64_t>((4 * sms + samples * chunks - 1) / (samples * chunks), 1, work);
    return {dim3(static_cast<unsigned>(tiles), static_cast<unsigned>(samples), static_cast<unsigned>(chunks)),
            dim3(static_cast<unsigned>(packsPerBlock), static_cast<unsigned>(rowsPerBlock))};
}

template <typename T, int V, int K, int S>
void launchDepthwise(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::Tensor& y,
                     at::Tensor* partialSums, int padTop, int padLeft)
{
    const int64_t samples = x.size(0), channels = x.size(1);
    const int64_t strips = (y.size(3) + kStrip - 1) / kStrip;
    const auto [grid, block] = depthwiseGrid(samples, channels / V, y.size(2), strips);
    float* partial = nullptr;
    if (partialSums) {
        *partialSums = at::empty({samples, int64_t(grid.x), channels}, x.options().dtype(at::kFloat));
        partial = partialSums->data_ptr<float>();
    }
    const size_t sharedBytes = partial ? size_t(block.x) * block.y * V * sizeof(float) : 0;
    depthwiseSiluSqueezeKernel<T, V, K, S><<<grid, block, sharedBytes, at::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<T>(), weight.data_ptr<T>(), bias.data_ptr<float>(), y.data_ptr<T>(), partial,
        static_cast<int>(x.size(2)), static_cast<int>(x.size(3)), static_cast<int>(channels),
        static_cast<int>(y.size(2)), static_cast<int>(y.size(3)), padTop, padLeft, static_cast<int>(strips));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// The kernel's template arguments from run-time values: the widest pack (16 bytes) the channel count and the
// pointers' alignment allow, else one channel per access; EfficientNet's kernels 3 and 5 at strides 1 and 2.
template <typename T, int V>
bool dispatchKernelShape(int64_t kernel, int64_t stride, const at::Tensor& x, const at::Tensor& weight,
                         const at::Tensor& bias, at::Tensor& y, at::Tensor* partialSums, int padTop, int padLeft)
{
    if (kernel == 3 && stride == 1)
        launchDepthwise<T, V, 3, 1>(x, weight, bias, y, partialSums, padTop, padLeft);
    else if (kernel == 3 && stride == 2)
        launchDepthwise<T, V, 3, 2>(x, weight, bias, y, partialSums, padTop, padLeft);
    else if (kernel == 5 && stride == 1)
        launchDepthwise<T, V, 5, 1>(x, weight, bias, y, partialSums, padTop, padLeft);
    else if (kernel == 5 && stride == 2)
        launchDepthwise<T, V, 5, 2>(x, weight, bias, y, partialSums, padTop, padLeft);
    else
        return false;
    return true;
}

} // namespace

void biasActivationInPlace(at::Tensor& y, const at::Tensor& bias, bool silu, const at::Tensor* residual)
{
    TORCH_CHECK(y.is_cuda() && y.dim() == 4 && bias.numel() == y.size(1) && bias.scalar_type() == y.scalar_type(),
                "biasActivationInPlace: y must be a 4-D CUDA tensor and bias hold one value per channel");
    const bool channelsLast = y.is_contiguous(at::MemoryFormat::ChannelsLast) && !y.is_contiguous();
    TORCH_CHECK(channelsLast || y.is_contiguous(), "biasActivationInPlace: y must be contiguous");
    TORCH_CHECK(!residual || (residual->sizes() == y.sizes() && residual->strides() == y.strides() &&
                              residual->scalar_type() == y.scalar_type()),
                "biasActivationInPlace: residual must match y");
    const auto contiguousBias = bias.contiguous();
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, y.scalar_type(), "biasActivationInPlace", [&] {
        if (silu && residual)
            launch<scalar_t, true, true>(y, contiguousBias, residual, channelsLast);
        else if (silu)
            launch<scalar_t, true, false>(y, contiguousBias, nullptr, channelsLast);
        else if (residual)
            launch<scalar_t, false, true>(y, contiguousBias, residual, channelsLast);
        else
            launch<scalar_t, false, false>(y, contiguousBias, nullptr, channelsLast);
    });
}

bool squeezeExcitationInPlace(at::Tensor& x, const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2t,
                              const at::Tensor& b2)
{
    if (!x.is_cuda() || x.dim() != 4)
        return false;
    const bool channelsLast = isChannelsLast(x);
    if (!channelsLast && !x.is_contiguous())
        return false;
    const auto means = at::mean(x, {2, 3}, /*keepdim=*/false, at::kFloat).contiguous();
    multiplyByGate(x, excite(means.view({x.size(0), 1, x.size(1)}), /*scale=*/1.0f, w1, b1, w2t, b2));
    return true;
}

std::optional<DepthwiseSqueeze> depthwiseSiluSqueeze(const at::Tensor& x, const at::Tensor& weight,
                                                     const at::Tensor& bias, int64_t kernel, int64_t stride,
                                                     const std::array<int64_t, 4>& padding, bool squeeze)
{
    const auto [padTop, padBottom, padLeft, padRight] = padding;
    if (!x.is_cuda() || x.dim() != 4 || !isChannelsLast(x))
        return std::nullopt;
    const int64_t samples = x.size(0), channels = x.size(1);
    TORCH_CHECK(weight.scalar_type() == x.scalar_type() && weight.is_contiguous() &&
                    weight.sizes() == at::IntArrayRef({kernel * kernel, channels}) &&
                    bias.scalar_type() == at::kFloat && bias.numel() == channels,
                "depthwiseSiluSqueeze: weight must be [k*k, channels] in x's type, bias fp32 [channels]");
    const int64_t outHeight = (x.size(2) + padTop + padBottom - kernel) / stride + 1;
    const int64_t outWidth = (x.size(3) + padLeft + padRight - kernel) / stride + 1;
    if (outHeight <= 0 || outWidth <= 0 || samples > 65535 || outHeight * outWidth > (int64_t(1) << 30))
        return std::nullopt;
    DepthwiseSqueeze result;
    result.y = at::empty({samples, channels, outHeight, outWidth}, x.options(), at::MemoryFormat::ChannelsLast);
    at::Tensor* partialSums = squeeze ? &result.partialSums : nullptr;
    const auto contiguousBias = bias.contiguous();
    const bool aligned = reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 == 0 &&
                         reinterpret_cast<uintptr_t>(weight.data_ptr()) % 16 == 0;
    const int top = static_cast<int>(padTop), left = static_cast<int>(padLeft);
    bool launched = false;
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "depthwiseSiluSqueeze", [&] {
        constexpr int kWide = 16 / sizeof(scalar_t);   // channels per 16-byte access
        launched = aligned && channels % kWide == 0
                       ? dispatchKernelShape<scalar_t, kWide>(kernel, stride, x, weight, contiguousBias, result.y,
                                                              partialSums, top, left)
                       : dispatchKernelShape<scalar_t, 1>(kernel, stride, x, weight, contiguousBias, result.y,
                                                          partialSums, top, left);
    });
    if (!launched)
        return std::nullopt;
    return result;
}

void squeezeExcitationFromSums(at::Tensor& x, const at::Tensor& partialSums, const at::Tensor& w1,
                               const at::Tensor& b1, const at::Tensor& w2t, const at::Tensor& b2)
{
    TORCH_CHECK(partialSums.dim() == 3 && partialSums.size(0) == x.size(0) && partialSums.size(2) == x.size(1) &&
                    partialSums.scalar_type() == at::kFloat && partialSums.is_contiguous(),
                "squeezeExcitationFromSums: partial sums must be fp32 [samples, tiles, channels]");
    applyGate(x, squeezeExcitationGate(partialSums, x.size(2) * x.size(3), w1, b1, w2t, b2));
}

at::Tensor squeezeExcitationGate(const at::Tensor& partialSums, int64_t pixels, const at::Tensor& w1,
                                 const at::Tensor& b1, const at::Tensor& w2t, const at::Tensor& b2)
{
    TORCH_CHECK(partialSums.is_cuda() && partialSums.dim() == 3 && partialSums.scalar_type() == at::kFloat &&
                    partialSums.is_contiguous() && pixels > 0,
                "squeezeExcitationGate: partial sums must be fp32 [samples, tiles, channels]");
    return excite(partialSums, 1.0f / static_cast<float>(pixels), w1, b1, w2t, b2);
}

void applyGate(at::Tensor& x, const at::Tensor& gate)
{
    TORCH_CHECK(x.is_cuda() && x.dim() == 4 && (isChannelsLast(x) || x.is_contiguous()) &&
                    gate.scalar_type() == at::kFloat && gate.is_contiguous() &&
                    gate.sizes() == at::IntArrayRef({x.size(0), x.size(1)}),
                "applyGate: x must be a contiguous 4-D CUDA tensor and the gate fp32 [samples, channels]");
    multiplyByGate(x, gate);
}

at::Tensor gatedPointwiseWeights(const at::Tensor& weight, const at::Tensor& gate)
{
    TORCH_CHECK(weight.is_cuda() && weight.dim() == 2 && weight.is_contiguous() && gate.dim() == 2 &&
                    gate.scalar_type() == at::kFloat && gate.is_contiguous() && gate.size(1) == weight.size(1),
                "gatedPointwiseWeights: weight must be [out, in] contiguous and the gate fp32 [samples, in]");
    const int64_t samples = gate.size(0), perSample = weight.numel();
    auto out = at::empty({samples, weight.size(0), weight.size(1)}, weight.options());
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, weight.scalar_type(), "gatedPointwiseWeights", [&] {
        gatedWeightsKernel<scalar_t><<<blocksFor(out.numel()), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
            weight.data_ptr<scalar_t>(), gate.data_ptr<float>(), out.data_ptr<scalar_t>(), out.numel(), perSample,
            weight.size(1));
        C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
    return out;
}

} // namespace efficientnet::cuda
