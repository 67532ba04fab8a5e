#pragma once
// Resize then crop 8-bit RGB exactly as Pillow does it: Image.resize(size, BILINEAR | BICUBIC) on the whole image
// (no box, no reducing_gap, as torchvision's Resize and timm's transforms call it), then a crop of the result.
// torchvision, timm and lukemelas all evaluate on PIL images, so this is the resize their accuracy figures were
// measured with. No library offers it: OpenCV's INTER_CUBIC/INTER_AREA and LibTorch's antialiased kernels use
// other coefficients or float arithmetic and differ from Pillow by a few levels. No torch here: the core's
// preprocessing, the fuzzers and the Windows check all use it.
#include <cstddef>
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

// The same arithmetic as tables, for the GPU's copy of it (engine/cuda/frame_preprocess.cu): one axis resized from
// inSize to outSize samples, the outputs [firstOutput, firstOutput + outputs). Row k of `table` is
// [first input sample, tap count, weight 0 .. weight taps-1] (22-bit fixed point, zero-padded). An axis that is not
// resized (Pillow skips that pass) gets one tap of weight 1 << 22, which gives each input byte back unchanged.
struct ResampleTable {
    int taps = 0;
    int firstInput = 0;   // the lowest input sample any output reads
    int endInput = 0;     // one past the highest
    std::vector<int> table;   // outputs x (2 + taps)
};
ResampleTable pillowResampleTable(int inSize, int outSize, int firstOutput, int outputs, Interpolation interpolation);
constexpr int kPillowPrecisionBits = 22;   // Pillow's PRECISION_BITS for 8-bit images

// What the GPU kernels compute per sample, here so that the host tests run the same arithmetic.
#ifdef __CUDACC__
#define EFFICIENTNET_HOST_DEVICE __host__ __device__
#else
#define EFFICIENTNET_HOST_DEVICE
#endif

// One output sample of a pass: the table row's taps over `in` (the sample at input index i is in[(i - origin) *
// stride]), Pillow's rounding, the arithmetic shift, clipped to a byte.
EFFICIENTNET_HOST_DEVICE inline std::uint8_t resampleSample(const std::uint8_t* in, std::ptrdiff_t stride, int origin,
                                                            const int* row)
{
    const int first = row[0], count = row[1];
    int sum = 1 << (kPillowPrecisionBits - 1);
    for (int k = 0; k < count; ++k)
        sum += static_cast<int>(in[static_cast<std::ptrdiff_t>(first - origin + k) * stride]) * row[2 + k];
    sum >>= kPillowPrecisionBits;
    return static_cast<std::uint8_t>(sum < 0 ? 0 : sum > 255 ? 255 : sum);
}

// ToTensor + Normalize for one byte, in torchvision's order of float operations (true divisions, as on its CPU).
EFFICIENTNET_HOST_DEVICE inline float normaliseByte(std::uint8_t value, float mean, float std)
{
#ifdef __CUDA_ARCH__
    return __fdiv_rn(__fdiv_rn(static_cast<float>(value), 255.0f) - mean, std);   // IEEE division even under fast math
#else
    return (static_cast<float>(value) / 255.0f - mean) / std;
#endif
}

} // namespace efficientnet::imaging
