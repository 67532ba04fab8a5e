#include "efficientnet/preprocess.h"

#include <algorithm>
#include <cmath>
#include <map>

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

FramePlan planFrames(int height, int width, const Preprocessing& p)
{
    const Geometry g = geometry(height, width, p);
    auto columns = imaging::pillowResampleTable(width, static_cast<int>(g.width), static_cast<int>(g.left), p.cropSize,
                                                p.interpolation);
    auto rows = imaging::pillowResampleTable(height, static_cast<int>(g.height), static_cast<int>(g.top), p.cropSize,
                                             p.interpolation);
    FramePlan plan;
    plan.left = columns.firstInput;
    plan.top = rows.firstInput;
    plan.width = columns.endInput - columns.firstInput;
    plan.height = rows.endInput - rows.firstInput;
    plan.columnTaps = columns.taps;
    plan.rowTaps = rows.taps;
    plan.columns = std::move(columns.table);
    plan.rows = std::move(rows.table);
    return plan;
}

// One buffer goes to the device: the windows' layouts (device addresses, filled in here), then the tables of each
// distinct plan once. Pinned staging from LibTorch's host allocator, which keeps a block until the copy that reads
// it has finished, so the staging can be let go at once.
torch::Tensor preprocessWindows(const torch::Tensor& pixels, const std::vector<PlacedWindow>& windows, const Preprocessing& p)
{
    TORCH_CHECK(pixels.is_cuda() && pixels.scalar_type() == torch::kUInt8 && pixels.is_contiguous(),
                "preprocessWindows: the pixels must be contiguous uint8 on a CUDA device");
    const auto count = static_cast<int64_t>(windows.size());
    auto out = torch::empty({count, 3, p.cropSize, p.cropSize}, torch::TensorOptions().device(pixels.device()));
#ifdef EFFICIENTNET_WITH_CUDA
    if (count == 0)
        return out;
    std::map<const FramePlan*, int64_t> tableAt;   // the plan's first table, in ints after the layouts
    int64_t tableInts = 0, middleBytes = 0;
    int maxRows = 0;
    for (const auto& w : windows) {
        TORCH_CHECK(w.offset >= 0 && w.offset + (w.plan->height - 1) * w.pitch + w.plan->width * 3 <= pixels.numel(),
                    "preprocessWindows: a window lies outside the pixels");
        if (tableAt.emplace(w.plan, tableInts).second)
            tableInts += static_cast<int64_t>(w.plan->columns.size() + w.plan->rows.size());
        middleBytes += static_cast<int64_t>(w.plan->height) * p.cropSize * 3;
        maxRows = std::max(maxRows, w.plan->height);
    }
    const int64_t layoutBytes = count * static_cast<int64_t>(sizeof(cuda::ImageLayout));
    const int64_t bytes = layoutBytes + tableInts * static_cast<int64_t>(sizeof(int));
    auto staging = torch::empty({bytes}, torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
    auto onDevice = torch::empty({bytes}, pixels.options());
    auto middle = torch::empty({middleBytes}, pixels.options());
    auto* stagedTables = reinterpret_cast<int*>(staging.data_ptr<std::uint8_t>() + layoutBytes);
    const auto* deviceTables = reinterpret_cast<const int*>(onDevice.data_ptr<std::uint8_t>() + layoutBytes);
    for (const auto& [plan, at] : tableAt) {
        std::copy(plan->columns.begin(), plan->columns.end(), stagedTables + at);
        std::copy(plan->rows.begin(), plan->rows.end(), stagedTables + at + static_cast<int64_t>(plan->columns.size()));
    }
    auto* layouts = reinterpret_cast<cuda::ImageLayout*>(staging.data_ptr<std::uint8_t>());
    int64_t middleAt = 0;
    for (int64_t i = 0; i < count; ++i) {
        const auto& w = windows[static_cast<size_t>(i)];
        const int64_t at = tableAt[w.plan];
        auto& l = layouts[i];
        l = cuda::ImageLayout{};
        l.window = pixels.data_ptr<std::uint8_t>() + w.offset;
        l.middle = middle.data_ptr<std::uint8_t>() + middleAt;
        l.columnTable = deviceTables + at;
        l.rowTable = deviceTables + at + static_cast<int64_t>(w.plan->columns.size());
        l.pitch = w.pitch;
        l.rows = w.plan->height;
        l.columnOrigin = w.plan->left;
        l.rowOrigin = w.plan->top;
        l.columnTaps = w.plan->columnTaps;
        l.rowTaps = w.plan->rowTaps;
        middleAt += static_cast<int64_t>(w.plan->height) * p.cropSize * 3;
    }
    onDevice.copy_(staging, /*non_blocking=*/true);
    cuda::resizeCropNormalise(reinterpret_cast<const cuda::ImageLayout*>(onDevice.data_ptr<std::uint8_t>()),
                              static_cast<int>(count), maxRows, out, p.mean, p.std);
#else
    TORCH_CHECK(count == 0, "preprocessWindows: this build has no CUDA");   // a build without CUDA has no CUDA tensors
#endif
    return out;
}

torch::Tensor preprocessBatch(const torch::Tensor& frames, const Preprocessing& p)
{
    TORCH_CHECK(frames.dim() == 4 && frames.size(3) == 3 && frames.scalar_type() == torch::kUInt8,
                "preprocessBatch expects uint8 NHWC RGB frames");
    const int height = static_cast<int>(frames.size(1));
    const int width = static_cast<int>(frames.size(2));
    if (frames.is_cuda()) {
        const FramePlan plan = planFrames(height, width, p);
        const auto contiguous = frames.contiguous();
        const int64_t frameBytes = static_cast<int64_t>(height) * width * 3;
        std::vector<PlacedWindow> windows;
        for (int64_t n = 0; n < frames.size(0); ++n)
            windows.push_back({&plan, n * frameBytes + (static_cast<int64_t>(plan.top) * width + plan.left) * 3,
                               static_cast<int64_t>(width) * 3});
        return preprocessWindows(contiguous.view({-1}), windows, p);
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
