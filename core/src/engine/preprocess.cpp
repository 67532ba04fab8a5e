#include "efficientnet/preprocess.h"

#include <cmath>

#include <torch/torch.h>

namespace efficientnet {
namespace {

constexpr int kMaxChannelValue = 255;

at::Tensor resample(const at::Tensor& x, int64_t h, int64_t w, Interpolation interpolation)
{
    // LibTorch's antialiased kernels are its port of PIL's resampling (support scaled to the reduction).
    auto y = interpolation == Interpolation::Bicubic ? at::_upsample_bicubic2d_aa(x, {h, w}, false)
                                                     : at::_upsample_bilinear2d_aa(x, {h, w}, false);
    return y.round().clamp_(0, kMaxChannelValue);
}

// PIL (what torchvision's reference transform runs on) resamples horizontally first, rounds to 8 bits, then
// vertically; doing the same passes matches its output to within one level on a handful of pixels, where a
// single 2-D pass differs by up to 6 levels.
at::Tensor resizeLikePil(at::Tensor x, int64_t h, int64_t w, Interpolation interpolation)
{
    if (w != x.size(3))
        x = resample(x, x.size(2), w, interpolation);
    if (h != x.size(2))
        x = resample(x, h, w, interpolation);
    return x;
}

} // namespace

torch::Tensor preprocessBatch(const torch::Tensor& frames, const Preprocessing& p)
{
    TORCH_CHECK(frames.dim() == 4 && frames.size(3) == 3 && frames.scalar_type() == torch::kUInt8,
                "preprocessBatch expects uint8 NHWC RGB frames");
    const int64_t height = frames.size(1);
    const int64_t width = frames.size(2);
    auto x = frames.permute({0, 3, 1, 2}).to(torch::kFloat32);
    // torchvision Resize(size): the shorter side becomes `size`, the longer int(size * long / short); timm's "squash"
    // crop mode, Resize((size, size)): both sides become `size`.
    const bool wide = width >= height;
    const int64_t shortSide = wide ? height : width;
    const int64_t longSide = wide ? width : height;
    const bool squash = p.resizeMode == ResizeMode::Squash;
    const int64_t resizedLong =
        squash ? p.resizeSize : static_cast<int64_t>(static_cast<double>(p.resizeSize) * longSide / shortSide);
    const int64_t h = wide ? p.resizeSize : resizedLong;
    const int64_t w = wide ? resizedLong : p.resizeSize;
    x = resizeLikePil(x, h, w, p.interpolation);
    // torchvision CenterCrop: offsets int(round((size - crop) / 2)), Python's round-half-to-even.
    const int64_t top = static_cast<int64_t>(std::nearbyint((h - p.cropSize) / 2.0));
    const int64_t left = static_cast<int64_t>(std::nearbyint((w - p.cropSize) / 2.0));
    using torch::indexing::Slice;
    x = x.index({Slice(), Slice(), Slice(top, top + p.cropSize), Slice(left, left + p.cropSize)});
    const auto options = torch::TensorOptions().device(x.device());
    const auto mean = torch::tensor({p.mean[0], p.mean[1], p.mean[2]}, options).view({1, 3, 1, 1});
    const auto std = torch::tensor({p.std[0], p.std[1], p.std[2]}, options).view({1, 3, 1, 1});
    return ((x / kMaxChannelValue - mean) / std).contiguous();
}

torch::Tensor preprocess(const Image& image, const Preprocessing& p)
{
    const auto frame = torch::from_blob(const_cast<std::uint8_t*>(image.rgb.data()), {1, image.height, image.width, 3},
                                        torch::kUInt8);
    return preprocessBatch(frame, p)[0];
}

} // namespace efficientnet
