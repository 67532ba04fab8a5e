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
    // Up to kSlots batches decode at once, each with a decoder state and a CUDA stream of its own, so that the next
    // batch decodes while the current one is classified (efficientnet-cli's folder pipeline) and the hardware's
    // several JPEG engines (the H100/H200 class has seven) get more than one batch to share out.
    static constexpr int kSlots = 2;

    // Throws std::runtime_error, saying why, when the device has no hardware JPEG decoder or nvJPEG cannot start.
    explicit JpegDecoder(int device);
    ~JpegDecoder();
    JpegDecoder(const JpegDecoder&) = delete;
    JpegDecoder& operator=(const JpegDecoder&) = delete;

    // The files that the hardware decoder supports (its parser reads them and nvJPEG says yes), decoded into one
    // uint8 device tensor, RGB interleaved, image after image. offsets[i] is -1 for a file it does not take. The
    // decode is queued on a stream of the decoder's; readyOnCurrentStream() orders the caller's work after it.
    struct Batch {
        at::Tensor pixels;
        std::vector<std::int64_t> offsets;
        std::vector<int> widths;
        std::vector<int> heights;
        // Makes the calling thread's current stream wait for the decode (and keeps the pixels' memory from being
        // reused before that stream's work on them is done).
        void readyOnCurrentStream() const;
        // The decode's GPU time; waits for it to finish.
        double elapsedMs() const;
        struct Done;
        std::shared_ptr<Done> done;
    };
    // Thread-safe: each call takes a free slot, or waits for one. The files must stay alive until the decode is done
    // (elapsedMs() has returned, or the caller's stream has synchronised after readyOnCurrentStream()).
    // Throws std::runtime_error when the batch cannot be queued (a corrupt file among them).
    Batch decode(const std::vector<const std::vector<std::uint8_t>*>& files);

private:
    struct Slot;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace efficientnet::cuda
