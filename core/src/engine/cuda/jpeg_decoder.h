#pragma once
// Batched JPEG decoding on the GPU's hardware JPEG decoder, through nvJPEG's hardware backend (A100, H100, H200 and
// their kin have one). Compiled only with CUDA and nvJPEG (EFFICIENTNET_WITH_NVJPEG).
//
// Why nvJPEG itself: LibTorch decodes no JPEG, and torchvision's decode_jpeg(device="cuda") uses nvJPEG's hybrid
// backend, whose Huffman decoding runs on one CPU thread per batch (218 photos/s on the H200 machine, BENCHMARKS.md).
#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

namespace efficientnet::cuda {

class JpegDecoder {
public:
    // Throws std::runtime_error, saying why, when the device has no hardware JPEG decoder or nvJPEG cannot start.
    explicit JpegDecoder(int device);
    ~JpegDecoder();
    JpegDecoder(const JpegDecoder&) = delete;
    JpegDecoder& operator=(const JpegDecoder&) = delete;

    // The files that the hardware decoder supports (its parser reads them and nvJPEG says yes), decoded into one
    // uint8 device tensor, RGB interleaved, image after image, on the current stream. offsets[i] is -1 for a file it
    // does not take. Throws std::runtime_error when the batch's decode fails (a corrupt file among them).
    struct Batch {
        at::Tensor pixels;
        std::vector<std::int64_t> offsets;
        std::vector<int> widths;
        std::vector<int> heights;
    };
    Batch decode(const std::vector<const std::vector<std::uint8_t>*>& files);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace efficientnet::cuda
