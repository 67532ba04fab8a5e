#include "efficientnet/preprocess.h"

#include <cmath>

#include <torch/torch.h>

namespace efficientnet {
namespace {

constexpr int kMaxChannelValue = 255;

} // namespace

torch::Tensor preprocess(const Image& image, const Preprocessing& p)
{
    auto x = torch::from_blob(const_cast<std::uint8_t*>(image.rgb.data()), {image.height, image.width, 3}, torch::kUInt8)
                 .permute({2, 0, 1})
                 .unsqueeze(0)
                 .to(torch::kFloat32);
    // torchvision Resize(size): the shorter side becomes `size`, the longer int(size * long / short).
    const bool wide = image.width >= image.height;
    const int64_t shortSide = wide ? image.height : image.width;
    const int64_t longSide = wide ? image.width : image.height;
    const int64_t resizedLong = static_cast<int64_t>(static_cast<double>(p.resizeSize) * longSide / shortSide);
    const int64_t h = wide ? p.resizeSize : resizedLong;
    const int64_t w = wide ? resizedLong : p.resizeSize;
    if (h != image.height || w != image.width) {
        // PIL resamples with a support scaled to the reduction (antialias); these ops are LibTorch's port of it.
        x = p.interpolation == Interpolation::Bicubic ? at::_upsample_bicubic2d_aa(x, {h, w}, false)
                                                      : at::_upsample_bilinear2d_aa(x, {h, w}, false);
        x = x.round().clamp_(0, kMaxChannelValue);   // PIL's result is 8-bit
    }
    // torchvision CenterCrop: offsets int(round((size - crop) / 2)), Python's round-half-to-even.
    const int64_t top = static_cast<int64_t>(std::nearbyint((h - p.cropSize) / 2.0));
    const int64_t left = static_cast<int64_t>(std::nearbyint((w - p.cropSize) / 2.0));
    x = x.index({0, torch::indexing::Slice(), torch::indexing::Slice(top, top + p.cropSize),
                 torch::indexing::Slice(left, left + p.cropSize)});
    const auto mean = torch::tensor({p.mean[0], p.mean[1], p.mean[2]}).view({3, 1, 1});
    const auto std = torch::tensor({p.std[0], p.std[1], p.std[2]}).view({3, 1, 1});
    return ((x / kMaxChannelValue - mean) / std).contiguous();
}

} // namespace efficientnet
