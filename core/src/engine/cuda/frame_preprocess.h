#pragma once
// The reference eval transform on the GPU, byte for byte what the host path (imaging/pillow_resize.h) and so Pillow
// give: Pillow's horizontal pass rounded to bytes, its vertical pass, ToTensor and Normalize, computed only for the
// crop's pixels. Only compiled when LibTorch has CUDA (EFFICIENTNET_WITH_CUDA).
#include <array>

#include <ATen/core/Tensor.h>

namespace efficientnet::cuda {

// windows: uint8 [N, rows, columns, 3] CUDA, contiguous: of each frame, the input rows and columns the crop reads
// (the tables' firstInput .. endInput). columnTable / rowTable: int32 CUDA, contiguous, the tables of
// imaging::pillowResampleTable for the crop's columns and rows (cropWidth resp. cropHeight rows of 2 + taps).
// Returns float32 [N, 3, cropHeight, cropWidth] on the windows' stream (the current one).
at::Tensor resizeCropNormalise(const at::Tensor& windows, const at::Tensor& columnTable, int columnTaps,
                               int columnOrigin, const at::Tensor& rowTable, int rowTaps, int rowOrigin,
                               const std::array<float, 3>& mean, const std::array<float, 3>& std);

} // namespace efficientnet::cuda
