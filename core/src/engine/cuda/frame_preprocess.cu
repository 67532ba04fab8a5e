#include "frame_preprocess.h"

#include <algorithm>

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include "imaging/pillow_resize.h"

// Two kernels, as Pillow's two passes: the horizontal one writes the crop's columns of every window row as bytes
// (Pillow's intermediate image, a few hundred KB per image), the vertical one reads them, rounds, and writes the
// normalised planes. Each thread computes one pixel's three channels; the per-sample arithmetic is shared with the
// host (imaging::resampleSample, imaging::normaliseByte), which the host tests check against Pillow's output. The
// grid's y is the image, so one launch covers a batch of images of any sizes.
namespace efficientnet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kChannels = 3;
constexpr int64_t kMaxBlocksPerImage = 2048;   // grid-stride beyond: enough to fill the GPU with a few images

struct Normalisation {
    float mean[kChannels];
    float std[kChannels];
};

__global__ void horizontalKernel(const ImageLayout* __restrict__ layouts, int cropWidth)
{
    const ImageLayout l = layouts[blockIdx.y];
    const int64_t pixels = static_cast<int64_t>(l.rows) * cropWidth;
    const int rowLength = 2 + l.columnTaps;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < pixels; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / cropWidth;
        const int x = static_cast<int>(i % cropWidth);
        const std::uint8_t* in = l.window + row * l.pitch;
        const int* taps = l.columnTable + static_cast<int64_t>(x) * rowLength;
#pragma unroll
        for (int c = 0; c < kChannels; ++c)
            l.middle[i * kChannels + c] = imaging::resampleSample(in + c, kChannels, l.columnOrigin, taps);
    }
}

__global__ void verticalKernel(const ImageLayout* __restrict__ layouts, float* __restrict__ out, int cropHeight,
                               int cropWidth, Normalisation norm)
{
    const ImageLayout l = layouts[blockIdx.y];
    const int64_t plane = static_cast<int64_t>(cropHeight) * cropWidth;
    const int rowLength = 2 + l.rowTaps;
    float* image = out + blockIdx.y * kChannels * plane;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < plane; i += int64_t(gridDim.x) * blockDim.x) {
        const int y = static_cast<int>(i / cropWidth);
        const int x = static_cast<int>(i % cropWidth);
        const std::uint8_t* in = l.middle + static_cast<int64_t>(x) * kChannels;
        const int* taps = l.rowTable + static_cast<int64_t>(y) * rowLength;
#pragma unroll
        for (int c = 0; c < kChannels; ++c)
            image[c * plane + i] = imaging::normaliseByte(
                imaging::resampleSample(in + c, static_cast<std::ptrdiff_t>(cropWidth) * kChannels, l.rowOrigin, taps),
                norm.mean[c], norm.std[c]);
    }
}

unsigned blocksFor(int64_t work)
{
    return static_cast<unsigned>(std::clamp<int64_t>((work + kThreads - 1) / kThreads, 1, kMaxBlocksPerImage));
}

} // namespace

void resizeCropNormalise(const ImageLayout* layouts, int count, int maxRows, at::Tensor& out,
                         const std::array<float, 3>& mean, const std::array<float, 3>& std)
{
    TORCH_CHECK(out.is_cuda() && out.dim() == 4 && out.size(0) == count && out.size(1) == kChannels &&
                    out.scalar_type() == at::kFloat && out.is_contiguous(),
                "resizeCropNormalise: out must be contiguous float32 [count, 3, height, width] on the GPU");
    TORCH_CHECK(count <= 65535, "resizeCropNormalise: at most 65535 images per call");
    if (count == 0)
        return;
    const int cropHeight = static_cast<int>(out.size(2));
    const int cropWidth = static_cast<int>(out.size(3));
    auto stream = at::cuda::getCurrentCUDAStream();
    const dim3 horizontal(blocksFor(static_cast<int64_t>(maxRows) * cropWidth), static_cast<unsigned>(count));
    horizontalKernel<<<horizontal, kThreads, 0, stream>>>(layouts, cropWidth);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    Normalisation norm{};
    for (int c = 0; c < kChannels; ++c) {
        norm.mean[c] = mean[c];
        norm.std[c] = std[c];
    }
    const dim3 vertical(blocksFor(static_cast<int64_t>(cropHeight) * cropWidth), static_cast<unsigned>(count));
    verticalKernel<<<vertical, kThreads, 0, stream>>>(layouts, out.data_ptr<float>(), cropHeight, cropWidth, norm);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
}

} // namespace efficientnet::cuda
