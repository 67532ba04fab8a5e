#pragma once
// Decoding image files into RGB pixels (OpenCV underneath, kept out of this header).
#include <cstdint>
#include <string>
#include <vector>

namespace efficientnet {

// 8-bit RGB pixels, row-major HWC. A value type: cheap to move between threads.
struct Image {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;
    bool empty() const { return rgb.empty(); }
};

// Largest file decodeImageFile accepts; larger files are refused before anything is decoded.
constexpr std::uintmax_t kMaxImageFileBytes = 256ull << 20;
// Largest decoded image (pixels) accepted.
constexpr std::uint64_t kMaxImagePixels = 100'000'000ull;

// Reads and decodes an image file (JPEG, PNG, BMP, WebP, TIFF, ... whatever OpenCV reads), with the EXIF
// orientation applied. Throws ImageError naming the file and the problem: missing, empty, too large, truncated,
// or not an image.
Image decodeImageFile(const std::string& path);

// Whether a file name has an image extension (used when walking folders; files given by name are always tried).
bool hasImageExtension(const std::string& path);

} // namespace efficientnet
