#include "efficientnet/preprocess.h"

#include <cmath>

#include <torch/torch.h>

#include "imaging/pillow_resize.h"

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

// The device path (frames already on the GPU): LibTorch's antialiased kernels. PIL (what torchvision's reference
// transform runs on) resamples horizontally first, rounds to 8 bits, then vertically; doing the same passes matches
// its output to within one level on a handful of pixels, where a single 2-D pass differs by up to 6 levels. The host
// path (preprocess) is exact.
at::Tensor resizeLikePil(at::Tensor x, int64_t h, int64_t w, Interpolation interpolation)
{
    if (w != x.size(3))
        x = resample(x, x.size(2), w, interpolation);
    if (h != x.size(2))
        x = resample(x, h, w, interpolation);
    return x;
}

// torchvision Resize(size): the shorter side becomes `size`, the longer int(size * long / short); timm's "squash"
// crop mode, Resize((size, size)): both sides become `size`. Then CenterCrop: offsets int(round((size - crop) / 2)),
// Python's round-half-to-even.
struct Geometry {
    int64_t height = 0;
    int64_t width = 0;
    int64_t top = 0;
    int64_t left = 0;
};

Geometry geometry(int64_t height, int64_t width, const Preprocessing& p)
{
    const bool wide = width >= height;
    const int64_t shortSide = wide ? height : width;
    const int64_t longSide = wide ? width : height;
    const bool squash = p.resizeMode == ResizeMode::Squash;
    const int64_t resizedLong =
        squash ? p.resizeSize : static_cast<int64_t>(static_cast<double>(p.resizeSize) * longSide / shortSide);
    Geometry g;
    g.height = wide ? p.resizeSize : resizedLong;
    g.width = wide ? resizedLong : p.resizeSize;
    g.top = static_cast<int64_t>(std::nearbyint((g.height - p.cropSize) / 2.0));
    g.left = static_cast<int64_t>(std::nearbyint((g.width - p.cropSize) / 2.0));
    return g;
}

// ToTensor + Normalize on [N, 3, crop, crop] values 0..255, in torchvision's order of float operations.
torch::Tensor normalise(const torch::Tensor& x, const Preprocessing& p)
{
    const auto options = torch::TensorOptions().device(x.device());
    const auto mean = torch::tensor({p.mean[0], p.mean[1], p.mean[2]}, options).view({1, 3, 1, 1});
    const auto std = torch::tensor({p.std[0], p.std[1], p.std[2]}, options).view({1, 3, 1, 1});
    return ((x / kMaxChannelValue - mean) / std).contiguous();
}

} // namespace

torch::Tensor preprocessBatch(const torch::Tensor& frames, const Preprocessing& p)
{
    TORCH_CHECK(frames.dim() == 4 && frames.size(3) == 3 && frames.scalar_type() == torch::kUInt8,
                "preprocessBatch expects uint8 NHWC RGB frames");
    const Geometry g = geometry(frames.size(1), frames.size(2), p);
    auto x = frames.permute({0, 3, 1, 2}).to(torch::kFloat32);
    x = resizeLikePil(x, g.height, g.width, p.interpolation);
    using torch::indexing::Slice;
    x = x.index({Slice(), Slice(), Slice(g.top, g.top + p.cropSize), Slice(g.left, g.left + p.cropSize)});
    return normalise(x, p);
}

torch::Tensor preprocess(const Image& image, const Preprocessing& p)
{
    // On the host: Pillow's own arithmetic, for the crop's pixels only (imaging/pillow_resize.h), so the input equals
    // the reference transform's exactly and costs a few milliseconds whatever the photo's size.
    const Geometry g = geometry(image.height, image.width, p);
    const imaging::CropBox crop{static_cast<int>(g.left), static_cast<int>(g.top), p.cropSize, p.cropSize};
    std::vector<std::uint8_t> pixels = imaging::resizeAndCropLikePillow(
        image.rgb.data(), image.width, image.height, static_cast<int>(g.width), static_cast<int>(g.height), crop,
        p.interpolation);
    const auto x = torch::from_blob(pixels.data(), {1, p.cropSize, p.cropSize, 3}, torch::kUInt8)
                       .permute({0, 3, 1, 2})
                       .to(torch::kFloat32);
    return normalise(x, p)[0];
}

} // namespace efficientnet
