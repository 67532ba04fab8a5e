#pragma once
// Width and height of an image read from its header, before anything is decoded.
//
// Why an own probe: OpenCV 4.6 checks its pixel limit (OPENCV_IO_MAX_IMAGE_PIXELS, read once when the library
// loads, default 2^30) only inside imdecode, and offers no public header-only call; a 632-byte JPEG declaring
// 32767x32767 pixels makes it allocate 3 GB before it fails. The formats probed are the ones the product opens
// (hasImageExtension); each follows its specification, cited at its parser.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace efficientnet {

struct ImageHeader {
    std::string format;   // "JPEG", "PNG", ...
    uint64_t width = 0;
    uint64_t height = 0;
};

enum class ProbeStatus { Found, UnknownFormat, Malformed };

struct ProbeResult {
    ProbeStatus status = ProbeStatus::UnknownFormat;
    ImageHeader header;    // Found
    std::string problem;   // Malformed: what is wrong ("the JPEG has no frame header before its image data")
};

ProbeResult probeImageHeader(const uint8_t* data, std::size_t size);

// What a GPU JPEG decoder must know before it is given a file: the frame header's coding (its SOF marker: 0xc0
// baseline, 0xc1 extended, 0xc2 progressive, ...), sample precision, components and size, and the EXIF orientation
// (1 when there is none; 0 when the EXIF data is malformed). nullopt when the data is not a JPEG with a readable
// frame header.
constexpr uint8_t kJpegBaselineFrame = 0xc0;      // SOF0: baseline sequential, Huffman
constexpr uint8_t kJpegExtendedFrame = 0xc1;      // SOF1: extended sequential, Huffman
constexpr uint8_t kJpegProgressiveFrame = 0xc2;   // SOF2: progressive, Huffman
struct JpegLayout {
    uint8_t frameMarker = 0;
    int precision = 0;
    int components = 0;
    uint64_t width = 0;
    uint64_t height = 0;
    int orientation = 1;
};
std::optional<JpegLayout> probeJpegLayout(const uint8_t* data, std::size_t size);

} // namespace efficientnet
