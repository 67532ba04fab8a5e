#include "fused_ops.h"

#include <ATen/Dispatch.h>
#include <ATen/Functions.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
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

// The excitation of one sample per block: hidden = silu(W1 s + b1) with a warp per hidden unit (lanes over the
// channels, shuffle reduction), then gate = sigmoid(W2 hidden + b2) with a thread per channel (w2t keeps a hidden
// unit's weights contiguous over channels, so neighbouring threads read neighbouring weights). Everything in fp32.
__global__ void excitationKernel(const float* __restrict__ means, const float* __restrict__ w1,
                                 const float* __restrict__ b1, const float* __restrict__ w2t,
                                 const float* __restrict__ b2, float* __restrict__ gate, int channels, int squeezed)
{
    extern __shared__ float shared[];   // channels means, then squeezed hidden units
    float* s = shared;
    float* hidden = shared + channels;
    const int n = blockIdx.x;
    for (int c = threadIdx.x; c < channels; c += blockDim.x)
        s[c] = means[int64_t(n) * channels + c];
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

constexpr int kExcitationThreads = 256;

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
    const bool channelsLast = x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
    if (!channelsLast && !x.is_contiguous())
        return false;
    const int64_t samples = x.size(0), channels = x.size(1), pixels = x.size(2) * x.size(3);
    const int64_t squeezed = w1.size(0);
    TORCH_CHECK(w1.scalar_type() == at::kFloat && w1.is_contiguous() && w1.size(1) == channels &&
                    w2t.scalar_type() == at::kFloat && w2t.is_contiguous() && w2t.sizes() == w1.sizes() &&
                    b1.numel() == squeezed && b2.numel() == channels,
                "squeezeExcitationInPlace: weights must be fp32, w1 and w2t [squeezed, channels]");
    auto stream = at::cuda::getCurrentCUDAStream();
    const auto means = at::mean(x, {2, 3}, /*keepdim=*/false, at::kFloat).contiguous();
    auto gate = at::empty({samples, channels}, x.options().dtype(at::kFloat));
    const size_t sharedBytes = static_cast<size_t>(channels + squeezed) * sizeof(float);
    excitationKernel<<<static_cast<unsigned>(samples), kExcitationThreads, sharedBytes, stream>>>(
        means.data_ptr<float>(), w1.data_ptr<float>(), b1.data_ptr<float>(), w2t.data_ptr<float>(),
        b2.data_ptr<float>(), gate.data_ptr<float>(), static_cast<int>(channels), static_cast<int>(squeezed));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    const int64_t n = x.numel();
    const int64_t perSample = channels * pixels;
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "squeezeExcitationInPlace", [&] {
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
    return true;
}

} // namespace efficientnet::cuda
