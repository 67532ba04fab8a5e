#pragma once
// How frames of one size are preprocessed on the GPU: the part of each frame the crop reads (all the GPU needs, so
// all that is uploaded: for 640x480 camera frames and a 224 crop of the 256 resize, 57 % of the pixels) and Pillow's
// resampling tables for the crop's columns and rows, on the device. Made once per frame size.
#include <torch/types.h>

#include "efficientnet/variants.h"

namespace efficientnet {

struct FramePlan {
    int left = 0;     // the window of the frame the crop reads
    int top = 0;
    int width = 0;
    int height = 0;
    torch::Tensor columns;   // int32 tables of imaging::pillowResampleTable, on the device
    torch::Tensor rows;
    int columnTaps = 0;
    int rowTaps = 0;
};

FramePlan planFrames(int height, int width, const Preprocessing& preprocessing, const torch::Device& device);

// windows: uint8 [N, plan.height, plan.width, 3] on a CUDA device, each the plan's window of a frame. Returns the
// normalised float32 [N, 3, crop, crop], byte for byte the host path's (preprocess()) result.
torch::Tensor preprocessWindows(const torch::Tensor& windows, const FramePlan& plan, const Preprocessing& preprocessing);

} // namespace efficientnet
