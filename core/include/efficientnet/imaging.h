#pragma once
// Decoding image files into RGB pixels (OpenCV underneath, kept out of this header).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "efficientnet/limits.h"

namespace efficientnet {

// 8-bit RGB pixels, row-major HWC. A value type: cheap to move between threads.
struct Image {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;
    bool empty() const { return rgb.empty(); }
};

// Largest image (pixels) that decoding accepts, read from the file's header before any pixel is decoded:
// kDefaultMaxImagePixels (efficientnet/limits.h) unless the environment variable EFFICIENTNET_MAX_IMAGE_PIXELS or
// setMaxImagePixels() says otherwise. Files larger than kMaxImageFileBytes are refused before they are read.
std::uint64_t maxImagePixels();
void setMaxImagePixels(std::uint64_t pixels);

// Reads and decodes an image file (JPEG, PNG, BMP, WebP, TIFF, Netpbm), with the EXIF orientation applied. Throws
// ImageError naming the file and the problem: missing, empty, too large (file or pixels), truncated, not an image,
// or a format whose size cannot be checked before decoding.
Image decodeImageFile(const std::string& path);

// The file's bytes, after decodeImageFile's checks of the file itself (missing, a folder, empty, too large).
std::vector<std::uint8_t> readImageFile(const std::string& path);

// The same for bytes already in memory (pasted, received, fuzzed); `name` is what errors call them.
Image decodeImageBytes(const std::uint8_t* data, std::size_t size, const std::string& name);

// Whether a file name has an image extension (used when walking folders; files given by name are always tried).
bool hasImageExtension(const std::string& path);

} // namespace efficientnet
