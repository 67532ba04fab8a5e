#include "fused_ops.h"

#include <ATen/Dispatch.h>
#include <ATen/Functions.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <algorithm>
#include <cstdlib>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <string>

namespace efficientnet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kVector = 8;   // 8 x 16-bit = one 16-byte load per thread

// V values of one pixel's neighbouring channels, loaded and stored as one (up to 16-byte) access.
template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
    T v[V];
};

__device__ __forceinline__ float silu(float v) { return v / (1.0f + __expf(-v)); }

// SiLU with the fast approximate division (two instructions, not IEEE division's dozen): the depthwise kernel applies
// it to every staged input (with inputBias) and every output, where the division was measured to cost more than the
// expansion's epilogue pass that it replaces (BENCHMARKS.md, "The depthwise convolution from a tile"); the head's pool
// applies it to every one of its inputs.
__device__ __forceinline__ float fastSilu(float v) { return __fdividef(v, 1.0f + __expf(-v)); }

// Asks for the 128-byte line holding p in this SM's L1 cache without waiting for it: the excitation's weights do not
// depend on the kernel before, so their loads can travel while the block waits for what does (the squeeze's sums, the
// hidden units); the loads that then use them find them at hand, not a round trip to L2 away.
__device__ __forceinline__ void prefetchL1(const float* p) { asm volatile("prefetch.global.L1 [%0];" ::"l"(p)); }

// Every 128-byte line that row[0, count) touches, prefetched by threads `thread` of `threads` (one line each in turn).
__device__ __forceinline__ void prefetchRow(const float* row, int count, int thread, int threads)
{
    for (int i = thread * 32; i < count + 31; i += threads * 32)
        prefetchL1(row + min(i, count - 1));
}

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

// The sum of term(i) for i = first, first + stride, ... below end, in that order, with the terms' global loads issued
// sixteen at a time (the last batch padded with zeros, which leave the sum as it is) rather than each after the one
// before: the excitation's loops are bound by the latency of their loads, not by their arithmetic. Summed one load
// after another, the excitation of B0's 1152-channel blocks took 16 us at batch 1 on an H200 (BENCHMARKS.md, "The
// excitation over many blocks").
template <typename Term>
__device__ __forceinline__ float orderedSum(int first, int end, int stride, Term term)
{
    constexpr int kInFlight = 16;
    float total = 0.0f;
    for (int i = first; i < end; i += kInFlight * stride) {
        float terms[kInFlight];
#pragma unroll
        for (int k = 0; k < kInFlight; ++k)
            terms[k] = i + k * stride < end ? term(i + k * stride) : 0.0f;
#pragma unroll
        for (int k = 0; k < kInFlight; ++k)
            total += terms[k];
    }
    return total;
}

// The squeeze-and-excitation's gate, from partial sums [N, tiles, C] of the activations (a mean is one tile with
// scale 1) and fp32 weights w1 [squeezed, C], b1, w2t = W2 transposed [squeezed, C] (a hidden unit's weights
// contiguous over channels, so that neighbouring threads read neighbouring weights), b2: three steps, each written
// once and used by every kernel below, so that any of them computes the same gate bit for bit.
//
// 1. s[c] = scale * the sum over tiles of sample n, into shared memory s [C], groupSums [max(kSqueezeGroups, C)].
// Many tiles (small batches) are added up by groups of threads, each over every groups-th tile, then the groups'
// totals in order; the number of groups depends on C alone, not on the block's size, so the order is the same in
// every kernel and on every run.
constexpr int kSqueezeGroups = 1024;   // groups * C <= this
__device__ void squeezeFromSums(const float* __restrict__ partial, int tiles, float scale, int channels, int n,
                                float* s, float* groupSums)
{
    const float* sums = partial + int64_t(n) * tiles * channels;
    const int groups = max(1, kSqueezeGroups / channels);
    for (int i = threadIdx.x; i < groups * channels; i += blockDim.x) {
        const int c = i % channels;
        groupSums[i] = orderedSum(i / channels, tiles, groups, [&](int t) { return sums[int64_t(t) * channels + c]; });
    }
    __syncthreads();
    for (int c = threadIdx.x; c < channels; c += blockDim.x) {
        float total = 0.0f;
        for (int g = 0; g < groups; ++g)
            total += groupSums[g * channels + c];
        s[c] = total * scale;
    }
    __syncthreads();
}

// 2. Hidden unit j = silu(W1[j] . s + b1[j]) by one whole warp (lanes over the channels, shuffle reduction); the value
// is lane 0's.
__device__ float hiddenUnit(const float* __restrict__ w1, const float* __restrict__ b1, const float* s, int channels,
                            int j)
{
    const int lane = threadIdx.x % 32;
    const float* row = w1 + int64_t(j) * channels;
    float acc = orderedSum(lane, channels, 32, [&](int c) { return row[c] * s[c]; });
    for (int offset = 16; offset > 0; offset /= 2)
        acc += __shfl_down_sync(0xffffffffu, acc, offset);
    return silu(acc + b1[j]);
}

// 3. The gate of channel c = sigmoid(W2[c] . hidden + b2[c]), by one thread.
__device__ float gateOf(const float* __restrict__ w2t, const float* __restrict__ b2, const float* hidden, int channels,
                        int squeezed, int c)
{
    const float acc =
        b2[c] + orderedSum(0, squeezed, 1, [&](int j) { return w2t[int64_t(j) * channels + c] * hidden[j]; });
    return 1.0f / (1.0f + __expf(-acc));
}

// The gate [N, C] of one sample per block: from batch 32 up, where a block per sample fills the GPU (and at every
// batch size with EFFICIENTNET_SEPARATE_EXCITATION=1). Shared memory: s [C], hidden [squeezed], groupSums
// [max(kSqueezeGroups, C)].
__global__ void excitationKernel(const float* __restrict__ partial, int tiles, float scale,
                                 const float* __restrict__ w1, const float* __restrict__ b1,
                                 const float* __restrict__ w2t, const float* __restrict__ b2,
                                 float* __restrict__ gate, int channels, int squeezed)
{
    extern __shared__ float shared[];
    float* s = shared;
    float* hidden = s + channels;
    const int n = blockIdx.x;
    squeezeFromSums(partial, tiles, scale, channels, n, s, hidden + squeezed);
    const int warp = threadIdx.x / 32, warps = blockDim.x / 32;
    for (int j = warp; j < squeezed; j += warps) {
        const float value = hiddenUnit(w1, b1, s, channels, j);
        if (threadIdx.x % 32 == 0)
            hidden[j] = value;
    }
    __syncthreads();
    for (int c = threadIdx.x; c < channels; c += blockDim.x)
        gate[int64_t(n) * channels + c] = gateOf(w2t, b2, hidden, channels, squeezed, c);
}

// Small batches: the excitation spread over many blocks instead of one per sample, where a single block's matrix
// products took 16 us at B0's 1152 channels (BENCHMARKS.md, "The excitation over many blocks"). First the hidden
// units [N, squeezed], a warp each, blocks of kSqueezeGroups threads (units / warps, sample); each block sums the
// squeeze itself, a group per thread. Shared memory: s [C], groupSums [max(kSqueezeGroups, C)].
__global__ void hiddenKernel(const float* __restrict__ partial, int tiles, float scale, const float* __restrict__ w1,
                             const float* __restrict__ b1, float* __restrict__ hidden, int channels, int squeezed,
                             bool prefetch)
{
    extern __shared__ float shared[];
    const int n = blockIdx.y;
    const int j = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (prefetch && j < squeezed)   // the warp's row of W1, while the squeeze waits for the sums
        prefetchRow(w1 + int64_t(j) * channels, channels, threadIdx.x % 32, 32);
    squeezeFromSums(partial, tiles, scale, channels, n, shared, shared + channels);
    if (j >= squeezed)
        return;   // the whole warp: no thread of it takes part in a shuffle
    const float value = hiddenUnit(w1, b1, shared, channels, j);
    if (threadIdx.x % 32 == 0)
        hidden[int64_t(n) * squeezed + j] = value;
}

// Then out = source * gate, blocks (chunk of kGateChunk channels, chunk of rows, sample): each block computes the
// gate of its channels only and applies it to its rows. Rows: an element of (row r, channel c) is at r * C + c when the
// channels are innermost (channels_last activations, or a projection's [out, in] weight: then the same source for
// every sample, sourceSampleStride 0), at c * rows + r otherwise (NCHW). V > 1: packs of V neighbouring channels
// (channels innermost, C % V == 0). Each thread loads its first pack before the gate is known. Below batch
// kPrefetchMinBatch the gate reads the hidden units straight from global memory: at batch 1 every round trip to memory
// that waits for another is time. From it up (prefetch), the block first prefetches its columns of W2 and copies the
// hidden units into shared memory. Shared memory: gate [kGateChunk], then with prefetch the hidden units [squeezed].
constexpr int kGateChunk = 64;
constexpr int kPrefetchMinBatch = 8;   // why: at exciteInto
template <typename T, int V>
__global__ void gateProductKernel(const float* __restrict__ hidden, const float* __restrict__ w2t,
                                  const float* __restrict__ b2, int channels, int squeezed, const T* source,
                                  int64_t sourceSampleStride, T* out, int64_t rows, int rowsPerBlock,
                                  bool channelsInner, bool prefetch)
{
    extern __shared__ float gate[];   // [kGateChunk], then (prefetch) the sample's hidden units [squeezed]
    const int n = blockIdx.z;
    const int c0 = blockIdx.x * kGateChunk, width = min(kGateChunk, channels - c0);
    const int64_t r0 = int64_t(blockIdx.y) * rowsPerBlock;
    const int blockRows = static_cast<int>(min(int64_t(rowsPerBlock), rows - r0));
    const T* from = source + n * sourceSampleStride;
    T* to = out + n * rows * channels;
    using P = Pack<T, V>;
    const int packs = width / V;
    // Pack q of the block: its first channel within the chunk, and where it is.
    const auto channelOf = [&](int q) { return channelsInner ? q % packs * V : q / blockRows; };
    const auto offsetOf = [&](int q) {
        // Channels innermost: neighbouring threads take neighbouring packs of a row; otherwise neighbouring rows.
        const int64_t r = r0 + (channelsInner ? q / packs : q % blockRows);
        return channelsInner ? r * channels + c0 + channelOf(q) : (c0 + channelOf(q)) * rows + r;
    };
    const int total = blockRows * packs;
    P first{};
    if (threadIdx.x < total)
        first = *reinterpret_cast<const P*>(from + offsetOf(threadIdx.x));
    const float* units = hidden + int64_t(n) * squeezed;
    if (prefetch) {
        // The block's columns of W2 (a row of w2t per hidden unit), while the hidden units come into shared memory in
        // one round trip (beside the first pack's) rather than one per kInFlight of them.
        for (int j = threadIdx.x / 32; j < squeezed; j += blockDim.x / 32)
            prefetchRow(w2t + int64_t(j) * channels + c0, width, threadIdx.x % 32, 32);
        for (int j = threadIdx.x; j < squeezed; j += blockDim.x)
            gate[kGateChunk + j] = units[j];
        __syncthreads();
        units = gate + kGateChunk;
    }
    for (int k = threadIdx.x; k < width; k += blockDim.x)
        gate[k] = gateOf(w2t, b2, units, channels, squeezed, c0 + k);
    __syncthreads();
    for (int q = threadIdx.x; q < total; q += blockDim.x) {
        P value = q == static_cast<int>(threadIdx.x) ? first : *reinterpret_cast<const P*>(from + offsetOf(q));
        const int k = channelOf(q);
#pragma unroll
        for (int v = 0; v < V; ++v)
            value.v[v] = static_cast<T>(static_cast<float>(value.v[v]) * gate[k + v]);
        *reinterpret_cast<P*>(to + offsetOf(q)) = value;
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

// The depthwise convolution of an MBConv block, channels_last, with its folded BatchNorm bias, SiLU and the squeeze
// of the block's squeeze-and-excitation in the same pass: cuDNN's depthwise kernel writes its output, the epilogue
// reads and rewrites it, and the squeeze's mean reads it a third time; here it is written once. A block computes a
// tile of output pixels for `packsPerBlock` packs of V channels: it first loads into shared memory the input pixels
// the tile's taps reach (each once, 16-byte loads, zero where the padding is), then each thread computes one output
// pixel's pack from there, accumulating in fp32 as cuDNN does. With inputBias (x is then an expansion conv's output
// before its bias and SiLU), the tile holds silu(x + inputBias): the expansion needs no epilogue pass of its own.
// Block (tile, chunk of channels, sample); the squeeze's partial sums go to partial[n][tile][c], added up per block
// in a fixed order: no atomics and no buffer to clear, so a replayed graph gives bit-identical sums every time.
// An earlier form without the tile (four outputs of a row per thread, reading through the L1 cache) was 15 % slower
// at batch 1; a form of this one with four outputs per thread was 9 % slower at batch 1 and, like this one, slower
// than cuDNN's convolution + epilogue at batch 256 (BENCHMARKS.md).
template <typename T, int V, int K, int S>
__global__ void depthwiseTiledKernel(const T* __restrict__ x, const T* __restrict__ weight,
                                     const float* __restrict__ bias, const T* __restrict__ inputBias,
                                     T* __restrict__ y, float* __restrict__ partial, int height, int width,
                                     int channels, int outHeight, int outWidth, int padTop, int padLeft,
                                     int tileHeight, int tileWidth, int tilesAcross, int packsPerBlock)
{
    extern __shared__ float4 tileMemory[];   // the input tile; afterwards the threads' sums (float4: 16-byte aligned)
    using P = Pack<T, V>;
    P* tile = reinterpret_cast<P*>(tileMemory);   // [inHeight][inWidth][packsPerBlock]
    const int inHeight = (tileHeight - 1) * S + K, inWidth = (tileWidth - 1) * S + K;
    const int n = blockIdx.z, tiles = gridDim.x;
    const int firstPack = blockIdx.y * packsPerBlock;
    const int blockPacks = min(packsPerBlock, channels / V - firstPack);
    const int oy0 = blockIdx.x / tilesAcross * tileHeight, ox0 = blockIdx.x % tilesAcross * tileWidth;
    const int iy0 = oy0 * S - padTop, ix0 = ox0 * S - padLeft;
    const T* image = x + int64_t(n) * height * width * channels + firstPack * V;
    for (int i = threadIdx.x; i < inHeight * inWidth * packsPerBlock; i += blockDim.x) {
        const int p = i % packsPerBlock, pixel = i / packsPerBlock;
        const int iy = iy0 + pixel / inWidth, ix = ix0 + pixel % inWidth;
        P value;
#pragma unroll
        for (int v = 0; v < V; ++v)
            value.v[v] = static_cast<T>(0.0f);
        if (p < blockPacks && iy >= 0 && iy < height && ix >= 0 && ix < width) {
            value = *reinterpret_cast<const P*>(image + (int64_t(iy) * width + ix) * channels + p * V);
            if (inputBias) {
                const P b = *reinterpret_cast<const P*>(inputBias + (firstPack + p) * V);
#pragma unroll
                for (int v = 0; v < V; ++v)
                    value.v[v] = static_cast<T>(fastSilu(static_cast<float>(value.v[v]) + static_cast<float>(b.v[v])));
            }
        }
        tile[i] = value;
    }
    __syncthreads();
    const int p = threadIdx.x % packsPerBlock, pixel = threadIdx.x / packsPerBlock;
    const int ty = pixel / tileWidth, tx = pixel % tileWidth;
    const int oy = oy0 + ty, ox = ox0 + tx;
    float result[V];   // this thread's share of the squeeze
#pragma unroll
    for (int v = 0; v < V; ++v)
        result[v] = 0.0f;
    if (pixel < tileHeight * tileWidth && p < blockPacks && oy < outHeight && ox < outWidth) {
        const int c0 = (firstPack + p) * V;
        float acc[V];
#pragma unroll
        for (int v = 0; v < V; ++v)
            acc[v] = 0.0f;
#pragma unroll
        for (int kh = 0; kh < K; ++kh)
#pragma unroll
            for (int kw = 0; kw < K; ++kw) {
                const P in = tile[((ty * S + kh) * inWidth + tx * S + kw) * packsPerBlock + p];
                const P w = *reinterpret_cast<const P*>(weight + (kh * K + kw) * channels + c0);
#pragma unroll
                for (int v = 0; v < V; ++v)
                    acc[v] += static_cast<float>(in.v[v]) * static_cast<float>(w.v[v]);
            }
        P out;
#pragma unroll
        for (int v = 0; v < V; ++v) {
            out.v[v] = static_cast<T>(fastSilu(acc[v] + bias[c0 + v]));
            result[v] = static_cast<float>(out.v[v]);
        }
        *reinterpret_cast<P*>(y + ((int64_t(n) * outHeight + oy) * outWidth + ox) * channels + c0) = out;
    }
    if (!partial)
        return;
    // The squeeze: threadSums[pixel][channel of the block] (thread = pixel * packsPerBlock + pack), added up by groups
    // of threads over every groups-th pixel, then the groups' totals in order.
    __syncthreads();   // the tile has been read; its space holds the sums now
    float* threadSums = reinterpret_cast<float*>(tileMemory);
    const int blockChannels = packsPerBlock * V;
    float* groupSums = threadSums + max(blockDim.x * V, static_cast<unsigned>(blockChannels));
#pragma unroll
    for (int v = 0; v < V; ++v)
        threadSums[threadIdx.x * V + v] = result[v];
    __syncthreads();
    const int pixels = tileHeight * tileWidth;
    const int groups = max(1, static_cast<int>(blockDim.x) / blockChannels);
    for (int i = threadIdx.x; i < groups * blockChannels; i += blockDim.x) {
        const int c = i % blockChannels;
        float total = 0.0f;
        for (int q = i / blockChannels; q < pixels; q += groups)
            total += threadSums[q * blockChannels + c];
        groupSums[i] = total;
    }
    __syncthreads();
    for (int c = threadIdx.x; c < blockPacks * V; c += blockDim.x) {
        float total = 0.0f;
        for (int g = 0; g < groups; ++g)
            total += groupSums[g * blockChannels + c];
        partial[(int64_t(n) * tiles + blockIdx.x) * channels + firstPack * V + c] = total;
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

// The network's end at small batches, in two kernels where LibTorch runs the head conv's epilogue pass, ATen's mean
// and a cuBLAS GEMM (17 us of B0's 0.38 ms at batch 1 on an H200; the GEMM alone 9 us for a 1280 x 1000 product that
// moves 2.6 MB, BENCHMARKS.md, "The head in two kernels"). First the pool: pooled[n, c] = scale * the sum over pixels
// of silu(y[n, p, c] + bias[c]), y the head conv's output before its epilogue, channels_last; in fp32, never written
// in y's type. Blocks of kPoolPacks packs of V channels by kPoolGroups groups of pixels (chunk of channels, sample);
// each group sums every kPoolGroups-th pixel, its loads kPoolInFlight at a time, then the groups' sums are added in
// order. Many groups of few pixels each: with 32 packs by 8 groups, B0's 1280 channels made 5 blocks per sample that
// took 11.8 us at batch 1 on an H200, each thread working through 56 SiLUs.
constexpr int kPoolPacks = 8;
constexpr int kPoolGroups = 32;
constexpr int kPoolInFlight = 4;
template <typename T, int V>
__global__ void headPoolKernel(const T* __restrict__ y, const T* __restrict__ bias, float* __restrict__ pooled,
                               int channels, int pixels, float scale)
{
    using P = Pack<T, V>;
    __shared__ float groupSums[kPoolGroups][kPoolPacks * V];
    const int n = blockIdx.y, lane = threadIdx.x % kPoolPacks, group = threadIdx.x / kPoolPacks;
    const int blockFirst = blockIdx.x * kPoolPacks * V, c0 = blockFirst + lane * V;
    float sums[V] = {};
    if (c0 < channels) {
        const P b = *reinterpret_cast<const P*>(bias + c0);
        const T* column = y + int64_t(n) * pixels * channels + c0;
        for (int p0 = group; p0 < pixels; p0 += kPoolInFlight * kPoolGroups) {
            P values[kPoolInFlight];
#pragma unroll
            for (int k = 0; k < kPoolInFlight; ++k)
                if (p0 + k * kPoolGroups < pixels)
                    values[k] = *reinterpret_cast<const P*>(column + int64_t(p0 + k * kPoolGroups) * channels);
#pragma unroll
            for (int k = 0; k < kPoolInFlight; ++k)
                if (p0 + k * kPoolGroups < pixels)
#pragma unroll
                    for (int v = 0; v < V; ++v)
                        sums[v] += fastSilu(static_cast<float>(values[k].v[v]) + static_cast<float>(b.v[v]));
        }
    }
#pragma unroll
    for (int v = 0; v < V; ++v)
        groupSums[group][lane * V + v] = sums[v];
    __syncthreads();
    for (int i = threadIdx.x; i < kPoolPacks * V && blockFirst + i < channels; i += blockDim.x) {
        float total = 0.0f;
        for (int g = 0; g < kPoolGroups; ++g)
            total += groupSums[g][i];
        pooled[int64_t(n) * channels + blockFirst + i] = total * scale;
    }
}

// Then the classifier: logits[n, o] = bias[o] + weight[o] . pooled[n], a warp per class for S samples (blocks: chunk
// of classes, chunk of samples), so that each row of the weight is read once per chunk. A lane loads its packs of V
// weights kClassifierInFlight at a time before it uses them: the kernel is bound by the latency of those loads.
constexpr int kClassifierInFlight = 8;
template <typename T, int V, int S>
__global__ void classifierKernel(const float* __restrict__ pooled, const T* __restrict__ weight,
                                 const T* __restrict__ bias, T* __restrict__ logits, int samples, int channels,
                                 int classes)
{
    const int o = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (o >= classes)
        return;   // the whole warp: no thread of it takes part in a shuffle
    const int lane = threadIdx.x % 32;
    const int n0 = blockIdx.y * S, count = min(S, samples - n0);
    const T* row = weight + int64_t(o) * channels;
    const float* in = pooled + int64_t(n0) * channels;
    using P = Pack<T, V>;
    const int packs = channels / V;
    float acc[S] = {};
    for (int q0 = lane; q0 < packs; q0 += kClassifierInFlight * 32) {
        P w[kClassifierInFlight];
#pragma unroll
        for (int k = 0; k < kClassifierInFlight; ++k)
            if (q0 + k * 32 < packs)
                w[k] = *reinterpret_cast<const P*>(row + int64_t(q0 + k * 32) * V);
#pragma unroll
        for (int k = 0; k < kClassifierInFlight; ++k) {
            if (q0 + k * 32 >= packs)
                break;
            const int c = (q0 + k * 32) * V;
#pragma unroll
            for (int s = 0; s < S; ++s) {
                if (s >= count)
                    break;
                float x[V];
                if constexpr (V % 4 == 0) {   // channels % V == 0: the pooled row's 16-byte alignment too
#pragma unroll
                    for (int v = 0; v < V; v += 4)
                        *reinterpret_cast<float4*>(x + v) =
                            *reinterpret_cast<const float4*>(in + int64_t(s) * channels + c + v);
                } else {
#pragma unroll
                    for (int v = 0; v < V; ++v)
                        x[v] = in[int64_t(s) * channels + c + v];
                }
#pragma unroll
                for (int v = 0; v < V; ++v)
                    acc[s] += static_cast<float>(w[k].v[v]) * x[v];
            }
        }
    }
#pragma unroll
    for (int s = 0; s < S; ++s) {
        float total = acc[s];
        for (int offset = 16; offset > 0; offset /= 2)
            total += __shfl_down_sync(0xffffffffu, total, offset);
        if (lane == 0 && s < count)
            logits[int64_t(n0 + s) * classes + o] = static_cast<T>(total + static_cast<float>(bias[o]));
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

// The excitation's sizes, from partial sums [N, tiles, C] and its weights (checked here).
struct Excitation {
    int samples, tiles, channels, squeezed;
};

Excitation excitationShape(const at::Tensor& partial, const at::Tensor& w1, const at::Tensor& b1,
                           const at::Tensor& w2t, const at::Tensor& b2)
{
    const int64_t channels = partial.size(2), squeezed = w1.size(0);
    TORCH_CHECK(partial.is_cuda() && partial.scalar_type() == at::kFloat && partial.is_contiguous() &&
                    w1.scalar_type() == at::kFloat && w1.is_contiguous() && w1.size(1) == channels &&
                    w2t.scalar_type() == at::kFloat && w2t.is_contiguous() && w2t.sizes() == w1.sizes() &&
                    b1.numel() == squeezed && b2.numel() == channels,
                "squeeze-excitation: partial sums fp32 [samples, tiles, channels], weights fp32, w1 and w2t "
                "[squeezed, channels]");
    return {static_cast<int>(partial.size(0)), static_cast<int>(partial.size(1)), static_cast<int>(channels),
            static_cast<int>(squeezed)};
}

// The excitation from partial sums [N, tiles, C] (scale turns their total into a mean): the gate [N, C] fp32.
at::Tensor excite(const at::Tensor& partial, float scale, const at::Tensor& w1, const at::Tensor& b1,
                  const at::Tensor& w2t, const at::Tensor& b2)
{
    const Excitation e = excitationShape(partial, w1, b1, w2t, b2);
    auto gate = at::empty({e.samples, e.channels}, partial.options());
    // A few samples leave most of the GPU idle, each block working alone through its matrix products: give each the
    // most threads a block can have.
    const int threads = e.samples < kSmallBatch ? 1024 : kExcitationThreads;
    const size_t sharedBytes = size_t(e.channels + e.squeezed + std::max(kSqueezeGroups, e.channels)) * sizeof(float);
    excitationKernel<<<static_cast<unsigned>(e.samples), threads, sharedBytes, at::cuda::getCurrentCUDAStream()>>>(
        partial.data_ptr<float>(), e.tiles, scale, w1.data_ptr<float>(), b1.data_ptr<float>(), w2t.data_ptr<float>(),
        b2.data_ptr<float>(), gate.data_ptr<float>(), e.channels, e.squeezed);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return gate;
}

// out [N, rows, C] or [N, C, rows] (channelsInner or not) = source * the gate of each sample, the excitation spread
// over many blocks (hiddenKernel, gateProductKernel); source is out itself (in place) or one [rows, C] tensor for
// every sample.
void exciteInto(const at::Tensor& partial, float scale, const at::Tensor& w1, const at::Tensor& b1,
                const at::Tensor& w2t, const at::Tensor& b2, const at::Tensor& source, at::Tensor& out,
                bool channelsInner)
{
    const Excitation e = excitationShape(partial, w1, b1, w2t, b2);
    const int64_t rows = out.numel() / (int64_t(e.samples) * e.channels);
    const bool inPlace = source.data_ptr() == out.data_ptr();
    TORCH_CHECK(source.scalar_type() == out.scalar_type() && out.numel() == int64_t(e.samples) * e.channels * rows &&
                    (inPlace || source.numel() == rows * e.channels),
                "squeeze-excitation: ", out.sizes(), " does not hold ", e.samples, " samples of ", source.sizes());
    auto stream = at::cuda::getCurrentCUDAStream();
    // The weights prefetched into L1 from batch kPrefetchMinBatch up. Measured on an H200, B0 fp16, alternated twice in
    // each of two calls (BENCHMARKS.md, "The head in two kernels"): 3-5 % faster at batch 8 (0.593-0.600 against
    // 0.618-0.627 ms), but 1.5-3 % slower at batch 1 (0.416-0.422 against 0.404-0.411 ms), where the gate kernel took
    // 83 us against 68. EFFICIENTNET_EXCITATION_PREFETCH=0: never, for measuring against it (read once).
    static const bool prefetchAllowed = [] {
        const char* set = std::getenv("EFFICIENTNET_EXCITATION_PREFETCH");
        return !set || std::string(set) != "0";
    }();
    const bool prefetch = prefetchAllowed && e.samples >= kPrefetchMinBatch;
    auto hidden = at::empty({e.samples, e.squeezed}, partial.options());
    const int warps = kSqueezeGroups / 32;
    const dim3 hiddenGrid(static_cast<unsigned>((e.squeezed + warps - 1) / warps), static_cast<unsigned>(e.samples));
    hiddenKernel<<<hiddenGrid, kSqueezeGroups, size_t(e.channels + std::max(kSqueezeGroups, e.channels)) * sizeof(float),
                   stream>>>(partial.data_ptr<float>(), e.tiles, scale, w1.data_ptr<float>(), b1.data_ptr<float>(),
                             hidden.data_ptr<float>(), e.channels, e.squeezed, prefetch);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
    const int64_t chunks = (e.channels + kGateChunk - 1) / kGateChunk;
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, out.scalar_type(), "squeezeExcitation", [&] {
        constexpr int kWide = 16 / sizeof(scalar_t);
        const bool wide = channelsInner && e.channels % kWide == 0 &&
                          reinterpret_cast<uintptr_t>(source.data_ptr()) % 16 == 0 &&
                          reinterpret_cast<uintptr_t>(out.data_ptr()) % 16 == 0;
        // Rows split so that a block has about four accesses per thread, but no more blocks than fill the GPU twice.
        const int64_t packsPerRow = std::min<int64_t>(kGateChunk, e.channels) / (wide ? kWide : 1);
        const int64_t byWork = (rows * packsPerRow + 4 * kThreads - 1) / (4 * kThreads);
        const int64_t rowChunks =
            std::clamp<int64_t>(byWork, 1, std::max<int64_t>(1, 2 * sms / (chunks * e.samples)));
        const int64_t rowsPerBlock = (rows + rowChunks - 1) / rowChunks;
        const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>((rows + rowsPerBlock - 1) / rowsPerBlock),
                        static_cast<unsigned>(e.samples));
        const size_t sharedBytes = (kGateChunk + (prefetch ? e.squeezed : 0)) * sizeof(float);
        const auto kernel = wide ? gateProductKernel<scalar_t, kWide> : gateProductKernel<scalar_t, 1>;
        kernel<<<grid, kThreads, sharedBytes, stream>>>(hidden.data_ptr<float>(), w2t.data_ptr<float>(),
                                                       b2.data_ptr<float>(), e.channels, e.squeezed,
                                                       source.data_ptr<scalar_t>(), inPlace ? rows * e.channels : 0,
                                                       out.data_ptr<scalar_t>(), rows, static_cast<int>(rowsPerBlock),
                                                       channelsInner, prefetch);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
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

// How depthwiseTiledKernel's blocks cover an output: tiles of up to 8 rows by 16 columns, split evenly (a 14-pixel
// side is one tile of 14, not 16 + a tile of 2 idle columns), with as many packs of channels as fill 256 threads
// (a count that divides the channels' packs, so no block has idle packs). Small batches halve the tiles' height until
// the blocks fill the GPU twice over: at batch 1, 7x7 maps in tiles of 8 rows would leave most of its SMs idle.
struct DepthwiseTiles {
    int height, width, across, down, packsPerBlock, chunks, threads;
};

DepthwiseTiles depthwiseTiles(int64_t samples, int64_t packs, int64_t outHeight, int64_t outWidth)
{
    const auto evenly = [](int64_t size, int64_t most) {
        const int64_t parts = (size + most - 1) / most;
        return (size + parts - 1) / parts;
    };
    int64_t height = evenly(outHeight, 8);
    const int64_t width = evenly(outWidth, 16);
    int64_t perBlock = std::clamp<int64_t>(kThreads / (height * width), 1, packs);
    while (packs % perBlock != 0)
        --perBlock;
    const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
    const int64_t across = (outWidth + width - 1) / width;
    const auto blocks = [&] { return samples * ((outHeight + height - 1) / height) * across * (packs / perBlock); };
    while (height > 1 && blocks() < 2 * sms)
        height = (height + 1) / 2;
    const int64_t threads = (height * width * perBlock + 31) / 32 * 32;
    return {static_cast<int>(height), static_cast<int>(width), static_cast<int>(across),
            static_cast<int>((outHeight + height - 1) / height), static_cast<int>(perBlock),
            static_cast<int>(packs / perBlock), static_cast<int>(threads)};
}

template <typename T, int V, int K, int S>
bool launchDepthwiseTiled(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                          const at::Tensor& inputBias, at::Tensor& y, at::Tensor* partialSums, int padTop, int padLeft)
{
    const int64_t samples = x.size(0), channels = x.size(1);
    const DepthwiseTiles t = depthwiseTiles(samples, channels / V, y.size(2), y.size(3));
    const size_t tileBytes =
        size_t((t.height - 1) * S + K) * ((t.width - 1) * S + K) * t.packsPerBlock * sizeof(Pack<T, V>);
    const size_t blockChannels = size_t(t.packsPerBlock) * V;
    const size_t sumBytes = partialSums ? (std::max(size_t(t.threads) * V, blockChannels) +
                                           std::max(size_t(t.threads), blockChannels)) * sizeof(float)
                                        : 0;
    const size_t sharedBytes = std::max(tileBytes, sumBytes);
    if (sharedBytes > 48 * 1024)
        return false;   // more than a block may have without opting in; never for EfficientNet's shapes
    const int tiles = t.across * t.down;
    float* partial = nullptr;
    if (partialSums) {
        *partialSums = at::empty({samples, int64_t(tiles), channels}, x.options().dtype(at::kFloat));
        partial = partialSums->data_ptr<float>();
    }
    const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(t.chunks), static_cast<unsigned>(samples));
    depthwiseTiledKernel<T, V, K, S><<<grid, t.threads, sharedBytes, at::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<T>(), weight.data_ptr<T>(), bias.data_ptr<float>(),
        inputBias.defined() ? inputBias.data_ptr<T>() : nullptr, y.data_ptr<T>(), partial,
        static_cast<int>(x.size(2)), static_cast<int>(x.size(3)), static_cast<int>(channels),
        static_cast<int>(y.size(2)), static_cast<int>(y.size(3)), padTop, padLeft, t.height, t.width, t.across,
        t.packsPerBlock);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return true;
}

// The kernel's template arguments from run-time values: the widest pack (16 bytes) the channel count and the
// pointers' alignment allow, else one channel per access; EfficientNet's kernels 3 and 5 at strides 1 and 2.
template <typename T, int V>
bool dispatchKernelShape(int64_t kernel, int64_t stride, const at::Tensor& x, const at::Tensor& weight,
                         const at::Tensor& bias, const at::Tensor& inputBias, at::Tensor& y, at::Tensor* partialSums,
                         int padTop, int padLeft)
{
    if (kernel == 3 && stride == 1)
        return launchDepthwiseTiled<T, V, 3, 1>(x, weight, bias, inputBias, y, partialSums, padTop, padLeft);
    if (kernel == 3 && stride == 2)
        return launchDepthwiseTiled<T, V, 3, 2>(x, weight, bias, inputBias, y, partialSums, padTop, padLeft);
    if (kernel == 5 && stride == 1)
        return launchDepthwiseTiled<T, V, 5, 1>(x, weight, bias, inputBias, y, partialSums, padTop, padLeft);
    if (kernel == 5 && stride == 2)
        return launchDepthwiseTiled<T, V, 5, 2>(x, weight, bias, inputBias, y, partialSums, padTop, padLeft);
    return false;
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
                                                     const std::array<int64_t, 4>& padding, bool squeeze,
                                                     const at::Tensor& inputBias)
{
    const auto [padTop, padBottom, padLeft, padRight] = padding;
    if (!x.is_cuda() || x.dim() != 4 || !isChannelsLast(x))
        return std::nullopt;
    const int64_t samples = x.size(0), channels = x.size(1);
    TORCH_CHECK(weight.scalar_type() == x.scalar_type() && weight.is_contiguous() &&
                    weight.sizes() == at::IntArrayRef({kernel * kernel, channels}) &&
                    bias.scalar_type() == at::kFloat && bias.numel() == channels,
                "depthwiseSiluSqueeze: weight must be [k*k, channels] in x's type, bias fp32 [channels]");
    TORCH_CHECK(!inputBias.defined() || (inputBias.scalar_type() == x.scalar_type() && inputBias.is_contiguous() &&
                                         inputBias.numel() == channels && inputBias.is_cuda()),
                "depthwiseSiluSqueeze: inputBias must be [channels] in x's type");
    const int64_t outHeight = (x.size(2) + padTop + padBottom - kernel) / stride + 1;
    const int64_t outWidth = (x.size(3) + padLeft + padRight - kernel) / stride + 1;
    if (outHeight <= 0 || outWidth <= 0 || samples > 65535 || outHeight * outWidth > (int64_t(1) << 30))
        return std::nullopt;
    DepthwiseSqueeze result;
    result.y = at::empty({samples, channels, outHeight, outWidth}, x.options(), at::MemoryFormat::ChannelsLast);
    at::Tensor* partialSums = squeeze ? &result.partialSums : nullptr;
    const auto contiguousBias = bias.contiguous();
    const bool aligned = reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 == 0 &&
                         reinterpret_cast<uintptr_t>(weight.data_ptr()) % 16 == 0 &&
                         (!inputBias.defined() || reinterpret_cast<uintptr_t>(inputBias.data_ptr()) % 16 == 0);
    const int top = static_cast<int>(padTop), left = static_cast<int>(padLeft);
    bool launched = false;
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "depthwiseSiluSqueeze", [&] {
        constexpr int kWide = 16 / sizeof(scalar_t);   // channels per 16-byte access
        launched = aligned && channels % kWide == 0
                       ? dispatchKernelShape<scalar_t, kWide>(kernel, stride, x, weight, contiguousBias, inputBias,
                                                              result.y, partialSums, top, left)
                       : dispatchKernelShape<scalar_t, 1>(kernel, stride, x, weight, contiguousBias, inputBias,
                                                          result.y, partialSums, top, left);
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
    TORCH_CHECK(x.is_cuda() && x.dim() == 4 && (isChannelsLast(x) || x.is_contiguous()),
                "squeezeExcitationFromSums: x must be a contiguous 4-D CUDA tensor");
    const int64_t pixels = x.size(2) * x.size(3);
    exciteInto(partialSums, 1.0f / static_cast<float>(pixels), w1, b1, w2t, b2, x, x, isChannelsLast(x));
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

at::Tensor gatedPointwiseWeightsFromSums(const at::Tensor& weight, const at::Tensor& partialSums, int64_t pixels,
                                         const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2t,
                                         const at::Tensor& b2)
{
    TORCH_CHECK(weight.is_cuda() && weight.dim() == 2 && weight.is_contiguous() && partialSums.is_cuda() &&
                    partialSums.dim() == 3 && partialSums.scalar_type() == at::kFloat && partialSums.is_contiguous() &&
                    partialSums.size(2) == weight.size(1) && pixels > 0,
                "gatedPointwiseWeightsFromSums: weight must be [out, in] contiguous and the partial sums fp32 "
                "[samples, tiles, in]");
    auto out = at::empty({partialSums.size(0), weight.size(0), weight.size(1)}, weight.options());
    exciteInto(partialSums, 1.0f / static_cast<float>(pixels), w1, b1, w2t, b2, weight, out, /*channelsInner=*/true);
    return out;
}

std::optional<at::Tensor> poolAndClassify(const at::Tensor& y, const at::Tensor& headBias, const at::Tensor& weight,
                                          const at::Tensor& bias)
{
    if (!y.is_cuda() || y.dim() != 4 || !y.is_contiguous(at::MemoryFormat::ChannelsLast))
        return std::nullopt;
    const int64_t samples = y.size(0), channels = y.size(1), pixels = y.size(2) * y.size(3);
    const auto type = y.scalar_type();
    TORCH_CHECK(headBias.scalar_type() == type && headBias.is_contiguous() && headBias.numel() == channels &&
                    weight.scalar_type() == type && weight.is_contiguous() && weight.dim() == 2 &&
                    weight.size(1) == channels && bias.scalar_type() == type && bias.is_contiguous() &&
                    bias.numel() == weight.size(0),
                "poolAndClassify: the head's bias must be [channels], the classifier's weight [classes, channels] "
                "and bias [classes], all in y's type");
    if (samples == 0 || pixels == 0 || samples > 65535)   // grid.y of the pool: one sample each
        return std::nullopt;
    const int64_t classes = weight.size(0);
    auto pooled = at::empty({samples, channels}, y.options().dtype(at::kFloat));
    auto logits = at::empty({samples, classes}, y.options().memory_format(at::MemoryFormat::Contiguous));
    const auto stream = at::cuda::getCurrentCUDAStream();
    const bool aligned = reinterpret_cast<uintptr_t>(weight.data_ptr()) % 16 == 0 &&
                         reinterpret_cast<uintptr_t>(y.data_ptr()) % 16 == 0 &&
                         reinterpret_cast<uintptr_t>(headBias.data_ptr()) % 16 == 0;
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, type, "poolAndClassify", [&] {
        constexpr int kWide = 16 / sizeof(scalar_t);   // values per 16-byte load
        const bool wide = aligned && channels % kWide == 0;
        const int64_t perBlock = kPoolPacks * (wide ? kWide : 1);
        const dim3 poolGrid(static_cast<unsigned>((channels + perBlock - 1) / perBlock),
                            static_cast<unsigned>(samples));
        const auto pool = wide ? headPoolKernel<scalar_t, kWide> : headPoolKernel<scalar_t, 1>;
        pool<<<poolGrid, kPoolPacks * kPoolGroups, 0, stream>>>(y.data_ptr<scalar_t>(), headBias.data_ptr<scalar_t>(),
                                                               pooled.data_ptr<float>(), static_cast<int>(channels),
                                                               static_cast<int>(pixels),
                                                               1.0f / static_cast<float>(pixels));
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        // Samples per block: as many as there are, up to 8 (each one more accumulator and shuffle per lane).
        const int perChunk = samples >= 8 ? 8 : samples >= 4 ? 4 : samples >= 2 ? 2 : 1;
        const dim3 grid(static_cast<unsigned>((classes + kThreads / 32 - 1) / (kThreads / 32)),
                        static_cast<unsigned>((samples + perChunk - 1) / perChunk));
        const auto classify = [&](auto kernel) {
            kernel<<<grid, kThreads, 0, stream>>>(pooled.data_ptr<float>(), weight.data_ptr<scalar_t>(),
                                                  bias.data_ptr<scalar_t>(), logits.data_ptr<scalar_t>(),
                                                  static_cast<int>(samples), static_cast<int>(channels),
                                                  static_cast<int>(classes));
        };
        const auto inChunks = [&](auto width) {
            constexpr int V = decltype(width)::value;
            if (perChunk == 8)
                classify(classifierKernel<scalar_t, V, 8>);
            else if (perChunk == 4)
                classify(classifierKernel<scalar_t, V, 4>);
            else if (perChunk == 2)
                classify(classifierKernel<scalar_t, V, 2>);
            else
                classify(classifierKernel<scalar_t, V, 1>);
        };
        if (wide)
            inChunks(std::integral_constant<int, kWide>{});
        else
            inChunks(std::integral_constant<int, 1>{});
        C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
    return logits;
}

} // namespace efficientnet::cuda
