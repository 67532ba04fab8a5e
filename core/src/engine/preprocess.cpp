#include "efficientnet/preprocess.h"

#include <cmath>

#include <torch/torch.h>

#include "engine/frame_plan.h"
#ifdef EFFICIENTNET_WITH_CUDA
#include "engine/cuda/frame_preprocess.h"
#endif
#include "imaging/pillow_resize.h"

namespace efficientnet {
namespace {

constexpr int kMaxChannelValue = 255;

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

// On the host: Pillow's own arithmetic, for the crop's pixels only (imaging/pillow_resize.h), so the input equals
// the reference transform's exactly and costs a few milliseconds whatever the photo's size.
torch::Tensor preprocessPixels(const std::uint8_t* rgb, int width, int height, const Preprocessing& p)
{
    const Geometry g = geometry(height, width, p);
    const imaging::CropBox crop{static_cast<int>(g.left), static_cast<int>(g.top), p.cropSize, p.cropSize};
    std::vector<std::uint8_t> pixels = imaging::resizeAndCropLikePillow(
        rgb, width, height, static_cast<int>(g.width), static_cast<int>(g.height), crop, p.interpolation);
    const auto x = torch::from_blob(pixels.data(), {1, p.cropSize, p.cropSize, 3}, torch::kUInt8)
                       .permute({0, 3, 1, 2})
                       .to(torch::kFloat32);
    return normalise(x, p)[0];
}

} // namespace

FramePlan planFrames(int height, int width, const Preprocessing& p, const torch::Device& device)
{
    const Geometry g = geometry(height, width, p);
    const auto columns = imaging::pillowResampleTable(width, static_cast<int>(g.width), static_cast<int>(g.left),
                                                      p.cropSize, p.interpolation);
    const auto rows = imaging::pillowResampleTable(height, static_cast<int>(g.height), static_cast<int>(g.top),
                                                   p.cropSize, p.interpolation);
    FramePlan plan;
    plan.left = columns.firstInput;
    plan.top = rows.firstInput;
    plan.width = columns.endInput - columns.firstInput;
    plan.height = rows.endInput - rows.firstInput;
    plan.columnTaps = columns.taps;
    plan.rowTaps = rows.taps;
    const auto table = [&device](const std::vector<int>& values) {
        return torch::tensor(values, torch::kInt32).to(device);
    };
    plan.columns = table(columns.table);
    plan.rows = table(rows.table);
    return plan;
}

torch::Tensor preprocessWindows(const torch::Tensor& windows, const FramePlan& plan, const Preprocessing& p)
{
    TORCH_CHECK(windows.dim() == 4 && windows.size(1) == plan.height && windows.size(2) == plan.width &&
                    windows.size(3) == 3 && windows.scalar_type() == torch::kUInt8,
                "preprocessWindows: expects uint8 [N, ", plan.height, ", ", plan.width, ", 3] windows");
    TORCH_CHECK(windows.is_cuda(), "preprocessWindows: the windows must be on a CUDA device");
#ifdef EFFICIENTNET_WITH_CUDA
    return cuda::resizeCropNormalise(windows.contiguous(), plan.columns, plan.columnTaps, plan.left, plan.rows,
                                     plan.rowTaps, plan.top, p.mean, p.std);
#else
    (void)p;
    return {};   // not reached: a build without CUDA has no CUDA tensors
#endif
}

torch::Tensor preprocessBatch(const torch::Tensor& frames, const Preprocessing& p)
{
    TORCH_CHECK(frames.dim() == 4 && frames.size(3) == 3 && frames.scalar_type() == torch::kUInt8,
                "preprocessBatch expects uint8 NHWC RGB frames");
    const int height = static_cast<int>(frames.size(1));
    const int width = static_cast<int>(frames.size(2));
    if (frames.is_cuda()) {
        const FramePlan plan = planFrames(height, width, p, frames.device());
        return preprocessWindows(frames.narrow(1, plan.top, plan.height).narrow(2, plan.left, plan.width), plan, p);
    }
    const auto contiguous = frames.contiguous();
    std::vector<torch::Tensor> images;
    for (int64_t n = 0; n < contiguous.size(0); ++n)
        images.push_back(preprocessPixels(contiguous[n].data_ptr<std::uint8_t>(), width, height, p));
    return torch::stack(images);
}

torch::Tensor preprocess(const Image& image, const Preprocessing& p)
{
    return preprocessPixels(image.rgb.data(), image.width, image.height, p);
}

} // namespace efficientnet
