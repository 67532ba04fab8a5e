#pragma once
// Resize then crop 8-bit RGB exactly as Pillow does it: Image.resize(size, BILINEAR | BICUBIC) on the whole image
// (no box, no reducing_gap, as torchvision's Resize and timm's transforms call it), then a crop of the result.
// torchvision, timm and lukemelas all evaluate on PIL images, so this is the resize their accuracy figures were
// measured with. No library offers it: OpenCV's INTER_CUBIC/INTER_AREA and LibTorch's antialiased kernels use
// other coefficients or float arithmetic and differ from Pillow by a few levels. No torch here: the core's
// preprocessing, the fuzzers and the Windows check all use it.
#include <cstdint>
#include <vector>

#include "efficientnet/variants.h"

namespace efficientnet::imaging {

// A rectangle of the resized image, in its pixels.
struct CropBox {
    int left = 0;
    int top = 0;
    int width = 0;
    int height = 0;
};

// The pixels `crop` of `rgb` (width x height, RGB interleaved) resized to resizedWidth x resizedHeight, as RGB
// interleaved bytes: byte for byte what Pillow gives for img.resize((resizedWidth, resizedHeight), filter).crop(...).
// Only the crop's pixels are computed (each exactly as Pillow computes it: the same coefficients, its 22-bit fixed
// point, the horizontal pass rounded to 8 bits before the vertical one), so a 224x224 crop of a 12-megapixel photo
// costs a fraction of the full resize. The crop must lie inside the resized image.
std::vector<std::uint8_t> resizeAndCropLikePillow(const std::uint8_t* rgb, int width, int height, int resizedWidth,
                                                  int resizedHeight, const CropBox& crop, Interpolation interpolation);

} // namespace efficientnet::imaging
