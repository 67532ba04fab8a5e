#include "engine/cuda/jpeg_decoder.h"

#include <mutex>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <nvjpeg.h>

#include "engine/cuda_support.h"

namespace efficientnet::cuda {
namespace {

void check(nvjpegStatus_t status, const char* what)
{
    if (status != NVJPEG_STATUS_SUCCESS)
        throw std::runtime_error(std::string("nvJPEG: ") + what + " failed (nvjpegStatus_t " +
                                 std::to_string(static_cast<int>(status)) + ")");
}

} // namespace

// One batch in flight: a decoder state, a parser and a stream, used by one call at a time.
struct JpegDecoder::Slot {
    nvjpegJpegState_t state = nullptr;
    nvjpegJpegStream_t parsed = nullptr;   // the parser's view of one file, reused
    std::unique_ptr<Stream> stream;
    std::mutex busy;
};

struct JpegDecoder::Impl {
    int device = 0;
    nvjpegHandle_t handle = nullptr;
    Slot slots[kSlots];
    std::mutex choosing;
    int next = 0;   // the slot to wait for when every one is busy
    ~Impl()
    {
        for (auto& slot : slots) {
            if (slot.stream)
                slot.stream->synchronize();
            if (slot.parsed)
                nvjpegJpegStreamDestroy(slot.parsed);
            if (slot.state)
                nvjpegJpegStateDestroy(slot.state);
        }
        if (handle)
            nvjpegDestroy(handle);
    }
};

struct JpegDecoder::Batch::Done {
    at::cuda::CUDAEvent start{cudaEventDefault};   // timing enabled
    at::cuda::CUDAEvent end{cudaEventDefault};
};

JpegDecoder::JpegDecoder(int device) : m_impl(std::make_unique<Impl>())
{
    auto& d = *m_impl;
    d.device = device;
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    check(nvjpegCreateEx(NVJPEG_BACKEND_HARDWARE, nullptr, nullptr, 0, &d.handle),
          "starting the hardware JPEG decoder (GPUs without one: every one but the A100/H100/H200 class)");
    for (auto& slot : d.slots) {
        check(nvjpegJpegStateCreate(d.handle, &slot.state), "creating a decoder state");
        check(nvjpegJpegStreamCreate(d.handle, &slot.parsed), "creating a parser");
        slot.stream = std::make_unique<Stream>(device);
    }
}

JpegDecoder::~JpegDecoder() = default;

void JpegDecoder::Batch::readyOnCurrentStream() const
{
    if (!done)
        return;
    const auto current = c10::cuda::getCurrentCUDAStream();
    done->end.block(current);
    // The pixels were allocated on the decoder's stream: without this, the caching allocator could hand their memory
    // to the decoder's next batch while the caller's stream still reads them.
    pixels.record_stream(current);
}

double JpegDecoder::Batch::elapsedMs() const
{
    if (!done)
        return 0;
    done->end.synchronize();
    return done->start.elapsed_time(done->end);
}

JpegDecoder::Batch JpegDecoder::decode(const std::vector<const std::vector<std::uint8_t>*>& files)
{
    auto& d = *m_impl;
    std::unique_lock<std::mutex> held;
    Slot* slot = nullptr;
    {
        std::lock_guard choosing(d.choosing);
        for (auto& s : d.slots)
            if (std::unique_lock<std::mutex> free(s.busy, std::try_to_lock); free) {
                held = std::move(free);
                slot = &s;
                break;
            }
        if (!slot) {
            slot = &d.slots[d.next];
            d.next = (d.next + 1) % kSlots;
        }
    }
    if (!held)
        held = std::unique_lock(slot->busy);
    StreamScope onSlot(*slot->stream);
    // The slot's previous batch is long decoded (its caller waited for it); this only makes sure the state's
    // buffers are free before nvJPEG fills them again.
    slot->stream->synchronize();

    Batch batch;
    batch.offsets.assign(files.size(), -1);
    batch.widths.assign(files.size(), 0);
    batch.heights.assign(files.size(), 0);
    std::vector<const unsigned char*> data;
    std::vector<size_t> lengths;
    std::vector<size_t> members;
    std::int64_t total = 0;
    for (size_t i = 0; i < files.size(); ++i) {
        const auto& file = *files[i];
        // The header alone, as NVIDIA's hardware-decoding samples do: a whole-stream parse (nvjpegJpegStreamParse)
        // reads every entropy-coded byte on this thread, and nvjpegDecodeBatched reads the files again anyway.
        int supported = -1;   // 0 means yes
        unsigned width = 0, height = 0;
        if (nvjpegJpegStreamParseHeader(d.handle, file.data(), file.size(), slot->parsed) != NVJPEG_STATUS_SUCCESS ||
            nvjpegDecodeBatchedSupported(d.handle, slot->parsed, &supported) != NVJPEG_STATUS_SUCCESS ||
            supported != 0 || nvjpegJpegStreamGetFrameDimensions(slot->parsed, &width, &height) != NVJPEG_STATUS_SUCCESS ||
            width == 0 || height == 0)
            continue;
        batch.offsets[i] = total;
        batch.widths[i] = static_cast<int>(width);
        batch.heights[i] = static_cast<int>(height);
        total += static_cast<std::int64_t>(width) * height * 3;
        data.push_back(file.data());
        lengths.push_back(file.size());
        members.push_back(i);
    }
    if (members.empty())
        return batch;
    const auto stream = c10::cuda::getCurrentCUDAStream();
    batch.done = std::make_shared<Batch::Done>();
    batch.done->start.record(stream);
    batch.pixels = at::empty({total}, at::TensorOptions().dtype(at::kByte).device(at::kCUDA, d.device));
    std::vector<nvjpegImage_t> outputs(members.size());
    for (size_t k = 0; k < members.size(); ++k) {
        const size_t i = members[k];
        outputs[k].channel[0] = batch.pixels.data_ptr<std::uint8_t>() + batch.offsets[i];
        outputs[k].pitch[0] = static_cast<size_t>(batch.widths[i]) * 3;
    }
    check(nvjpegDecodeBatchedInitialize(d.handle, slot->state, static_cast<int>(members.size()), 1, NVJPEG_OUTPUT_RGBI),
          "preparing a batch");
    check(nvjpegDecodeBatched(d.handle, slot->state, data.data(), lengths.data(), outputs.data(), stream.stream()),
          "decoding a batch");
    batch.done->end.record(stream);
    return batch;
}

} // namespace efficientnet::cuda
