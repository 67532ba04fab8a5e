#include "fused_ops.h"

#include <ATen/Dispatch.h>
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

} // namespace efficientnet::cuda
