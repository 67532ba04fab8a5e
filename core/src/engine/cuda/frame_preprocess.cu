#include "frame_preprocess.h"

#include <ATen/Functions.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include "imaging/pillow_resize.h"

// Two kernels, as Pillow's two passes: the horizontal one writes the crop's columns of every window row as bytes
// (Pillow's intermediate image, a few hundred KB per frame), the vertical one reads them, rounds, and writes the
// normalised planes. Each thread computes one pixel's three channels; the per-sample arithmetic is shared with the
// host (imaging::resampleSample, imaging::normaliseByte), which the host tests check against Pillow's output.
namespace efficientnet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kChannels = 3;

struct Normalisation {
    float mean[kChannels];
    float std[kChannels];
};

__global__ void horizontalKernel(const std::uint8_t* __restrict__ windows, std::uint8_t* __restrict__ middle,
                                 const int* __restrict__ table, int rowLength, int origin, int64_t rows,
                                 int windowWidth, int cropWidth)
{
    const int64_t pixels = rows * cropWidth;   // rows: frames x window rows
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < pixels; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / cropWidth;
        const int x = static_cast<int>(i % cropWidth);
        const std::uint8_t* in = windows + row * windowWidth * kChannels;
        const int* taps = table + static_cast<int64_t>(x) * rowLength;
#pragma unroll
        for (int c = 0; c < kChannels; ++c)
            middle[i * kChannels + c] = imaging::resampleSample(in + c, kChannels, origin, taps);
    }
}

__global__ void verticalKernel(const std::uint8_t* __restrict__ middle, float* __restrict__ out,
                               const int* __restrict__ table, int rowLength, int origin, int64_t frames,
                               int windowRows, int cropHeight, int cropWidth, Normalisation norm)
{
    const int64_t plane = static_cast<int64_t>(cropHeight) * cropWidth;
    const int64_t pixels = frames * plane;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < pixels; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t n = i / plane;
        const int y = static_cast<int>((i % plane) / cropWidth);
        const int x = static_cast<int>(i % cropWidth);
        const std::uint8_t* in = middle + (n * windowRows * cropWidth + x) * kChannels;
        const int* taps = table + static_cast<int64_t>(y) * rowLength;
        float* o = out + n * kChannels * plane + static_cast<int64_t>(y) * cropWidth + x;
#pragma unroll
        for (int c = 0; c < kChannels; ++c)
            o[c * plane] = imaging::normaliseByte(
                imaging::resampleSample(in + c, static_cast<std::ptrdiff_t>(cropWidth) * kChannels, origin, taps), norm.mean[c],
                norm.std[c]);
    }
}

int blocksFor(int64_t work)
{
    return static_cast<int>(std::min<int64_t>((work + kThreads - 1) / kThreads, 65535));
}

} // namespace

at::Tensor resizeCropNormalise(const at::Tensor& windows, const at::Tensor& columnTable, int columnTaps,
                               int columnOrigin, const at::Tensor& rowTable, int rowTaps, int rowOrigin,
                               const std::array<float, 3>& mean, const std::array<float, 3>& std)
{
    TORCH_CHECK(windows.is_cuda() && windows.dim() == 4 && windows.size(3) == kChannels &&
                    windows.scalar_type() == at::kByte && windows.is_contiguous(),
                "resizeCropNormalise: windows must be contiguous uint8 [N, rows, columns, 3] on the GPU");
    TORCH_CHECK(columnTable.scalar_type() == at::kInt && rowTable.scalar_type() == at::kInt &&
                    columnTable.is_contiguous() && rowTable.is_contiguous() &&
                    columnTable.numel() % (2 + columnTaps) == 0 && rowTable.numel() % (2 + rowTaps) == 0,
                "resizeCropNormalise: the tables must be contiguous int32 rows of 2 + taps");
    const int64_t frames = windows.size(0);
    const int windowRows = static_cast<int>(windows.size(1));
    const int windowWidth = static_cast<int>(windows.size(2));
    const int cropWidth = static_cast<int>(columnTable.numel() / (2 + columnTaps));
    const int cropHeight = static_cast<int>(rowTable.numel() / (2 + rowTaps));
    auto out = at::empty({frames, kChannels, cropHeight, cropWidth}, windows.options().dtype(at::kFloat));
    if (frames == 0)
        return out;
    auto middle = at::empty({frames, windowRows, cropWidth, kChannels}, windows.options());
    auto stream = at::cuda::getCurrentCUDAStream();
    const int64_t horizontalWork = frames * windowRows * cropWidth;
    horizontalKernel<<<blocksFor(horizontalWork), kThreads, 0, stream>>>(
        windows.data_ptr<std::uint8_t>(), middle.data_ptr<std::uint8_t>(), columnTable.data_ptr<int>(),
        2 + columnTaps, columnOrigin, frames * windowRows, windowWidth, cropWidth);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    Normalisation norm{};
    for (int c = 0; c < kChannels; ++c) {
        norm.mean[c] = mean[c];
        norm.std[c] = std[c];
    }
    verticalKernel<<<blocksFor(frames * cropHeight * cropWidth), kThreads, 0, stream>>>(
        middle.data_ptr<std::uint8_t>(), out.data_ptr<float>(), rowTable.data_ptr<int>(), 2 + rowTaps, rowOrigin,
        frames, windowRows, cropHeight, cropWidth, norm);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return out;
}

} // namespace efficientnet::cuda
