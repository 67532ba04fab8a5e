#pragma once
// The reference eval transform on the GPU, byte for byte what the host path (imaging/pillow_resize.h) and so Pillow
// give: Pillow's horizontal pass rounded to bytes, its vertical pass, ToTensor and Normalize, computed only for the
// crop's pixels. Only compiled when LibTorch has CUDA (EFFICIENTNET_WITH_CUDA).
#include <array>
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace efficientnet::cuda {

// Where one image's data lie on the device. Images of a batch may differ in size: each has its own tables.
struct ImageLayout {
    const std::uint8_t* window = nullptr;   // the top-left pixel of the input rows and columns the crop reads
    std::uint8_t* middle = nullptr;         // the horizontal pass's output: rows x cropWidth x 3 bytes
    const int* columnTable = nullptr;       // imaging::pillowResampleTable's rows for the crop's columns
    const int* rowTable = nullptr;          // ... and for its rows
    std::int64_t pitch = 0;                 // bytes from one input row to the next
    int rows = 0;                           // input rows the crop reads
    int columnOrigin = 0;                   // the input column and row of `window`
    int rowOrigin = 0;
    int columnTaps = 0;
    int rowTaps = 0;
};

// layouts: `count` ImageLayouts in device memory; maxRows: the largest of their `rows`. Writes the normalised planes
// into out (float32 [count, 3, cropHeight, cropWidth], contiguous, on the device) on the current stream.
void resizeCropNormalise(const ImageLayout* layouts, int count, int maxRows, at::Tensor& out,
                         const std::array<float, 3>& mean, const std::array<float, 3>& std);

} // namespace efficientnet::cuda
