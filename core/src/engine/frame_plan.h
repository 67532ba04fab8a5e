#pragma once
// How images are preprocessed on the GPU: of each image size, the part the crop reads (all the GPU needs, so all that
// is uploaded: for 640x480 camera frames and a 224 crop of the 256 resize, 57 % of the pixels) and Pillow's
// resampling tables for the crop's columns and rows. Plans are made on the host, once per size; a batch's plans go
// to the device with the batch, in one copy, so a batch of photos of many sizes is preprocessed in two kernel
// launches, as a camera's batch of one size is.
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "efficientnet/variants.h"

namespace efficientnet {

struct FramePlan {
    int left = 0;     // the window of the image the crop reads
    int top = 0;
    int width = 0;
    int height = 0;
    int columnTaps = 0;
    int rowTaps = 0;
    std::vector<int> columns;   // the tables of imaging::pillowResampleTable (cropSize rows of 2 + taps)
    std::vector<int> rows;
};

FramePlan planFrames(int height, int width, const Preprocessing& preprocessing);

// One image of a batch, its pixels already on the device in `pixels` (uint8, RGB interleaved): its plan, the byte
// offset of its window's top-left pixel, and the bytes from one row to the next (the image's width x 3 for a whole
// image, the window's width x 3 for an uploaded window).
struct PlacedWindow {
    const FramePlan* plan = nullptr;
    int64_t offset = 0;
    int64_t pitch = 0;
};

// The normalised float32 [N, 3, crop, crop] of the windows, in their order, byte for byte the host path's
// (preprocess()) result, on the current CUDA stream. `pixels`: a contiguous uint8 tensor on a CUDA device.
torch::Tensor preprocessWindows(const torch::Tensor& pixels, const std::vector<PlacedWindow>& windows,
                                const Preprocessing& preprocessing);

} // namespace efficientnet
