#include "engine/cuda/jpeg_decoder.h"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <nvjpeg.h>

namespace efficientnet::cuda {
namespace {

void check(nvjpegStatus_t status, const char* what)
{
    if (status != NVJPEG_STATUS_SUCCESS)
        throw std::runtime_error(std::string("nvJPEG: ") + what + " failed (nvjpegStatus_t " +
                                 std::to_string(static_cast<int>(status)) + ")");
}

} // namespace

struct JpegDecoder::Impl {
    int device = 0;
    nvjpegHandle_t handle = nullptr;
    nvjpegJpegState_t state = nullptr;
    nvjpegJpegStream_t parsed = nullptr;   // the parser's view of one file, reused
    ~Impl()
    {
        if (parsed)
            nvjpegJpegStreamDestroy(parsed);
        if (state)
            nvjpegJpegStateDestroy(state);
        if (handle)
            nvjpegDestroy(handle);
    }
};

JpegDecoder::JpegDecoder(int device) : m_impl(std::make_unique<Impl>())
{
    m_impl->device = device;
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    check(nvjpegCreateEx(NVJPEG_BACKEND_HARDWARE, nullptr, nullptr, 0, &m_impl->handle),
          "starting the hardware JPEG decoder (GPUs without one: every one but the A100/H100/H200 class)");
    check(nvjpegJpegStateCreate(m_impl->handle, &m_impl->state), "creating a decoder state");
    check(nvjpegJpegStreamCreate(m_impl->handle, &m_impl->parsed), "creating a parser");
}

JpegDecoder::~JpegDecoder() = default;

JpegDecoder::Batch JpegDecoder::decode(const std::vector<const std::vector<std::uint8_t>*>& files)
{
    auto& d = *m_impl;
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
        if (nvjpegJpegStreamParseHeader(d.handle, file.data(), file.size(), d.parsed) != NVJPEG_STATUS_SUCCESS ||
            nvjpegDecodeBatchedSupported(d.handle, d.parsed, &supported) != NVJPEG_STATUS_SUCCESS || supported != 0 ||
            nvjpegJpegStreamGetFrameDimensions(d.parsed, &width, &height) != NVJPEG_STATUS_SUCCESS || width == 0 ||
            height == 0)
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
    batch.pixels = at::empty({total}, at::TensorOptions().dtype(at::kByte).device(at::kCUDA, d.device));
    std::vector<nvjpegImage_t> outputs(members.size());
    for (size_t k = 0; k < members.size(); ++k) {
        const size_t i = members[k];
        outputs[k].channel[0] = batch.pixels.data_ptr<std::uint8_t>() + batch.offsets[i];
        outputs[k].pitch[0] = static_cast<size_t>(batch.widths[i]) * 3;
    }
    check(nvjpegDecodeBatchedInitialize(d.handle, d.state, static_cast<int>(members.size()), 1, NVJPEG_OUTPUT_RGBI),
          "preparing a batch");
    check(nvjpegDecodeBatched(d.handle, d.state, data.data(), lengths.data(), outputs.data(),
                              c10::cuda::getCurrentCUDAStream().stream()),
          "decoding a batch");
    return batch;
}

} // namespace efficientnet::cuda
