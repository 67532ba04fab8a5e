// Image bytes through decodeImageBytes: the header probe and its pixel limit, then OpenCV's decoders. The limit is
// lowered to 4 megapixels so that each input decodes quickly; the probe is what keeps larger ones out. Also through
// probeJpegLayout, which reads EXIF's orientation before the GPU decoding path takes a file.
#include <cstddef>
#include <cstdint>

#include "efficientnet/errors.h"
#include "efficientnet/imaging.h"
#include "imaging/image_header.h"

namespace {
constexpr std::uint64_t kFuzzMaxPixels = 4'000'000;
}

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    efficientnet::setMaxImagePixels(kFuzzMaxPixels);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    if (const auto layout = efficientnet::probeJpegLayout(data, size); layout && layout->orientation > 8)
        __builtin_trap();   // orientations are 0 (unreadable) to 8
    try {
        (void)efficientnet::decodeImageBytes(data, size, "fuzz-input");
    } catch (const efficientnet::ImageError&) {
    }
    return 0;
}
