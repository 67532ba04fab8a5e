#include "efficientnet/imaging.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "efficientnet/errors.h"

namespace efficientnet {
namespace {

namespace fs = std::filesystem;

constexpr std::array<unsigned char, 2> kJpegStart{0xFF, 0xD8};
constexpr std::array<unsigned char, 2> kJpegEnd{0xFF, 0xD9};

std::vector<unsigned char> readFile(const std::string& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw ImageError(path, "no such file");
    if (fs::is_directory(path, ec))
        throw ImageError(path, "is a folder, not an image");
    const auto size = fs::file_size(path, ec);
    if (ec)
        throw ImageError(path, "cannot read: " + ec.message());
    if (size == 0)
        throw ImageError(path, "empty file (0 bytes), not an image");
    if (size > kMaxImageFileBytes)
        throw ImageError(path, "file too large (" + std::to_string(size >> 20) + " MiB; the limit is " +
                                   std::to_string(kMaxImageFileBytes >> 20) + " MiB)");
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> bytes(size);
    if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
        throw ImageError(path, "cannot read the file");
    return bytes;
}

bool startsWith(const std::vector<unsigned char>& bytes, const std::array<unsigned char, 2>& magic)
{
    return bytes.size() >= magic.size() && std::equal(magic.begin(), magic.end(), bytes.begin());
}

// libjpeg decodes a truncated JPEG with only a warning and grey rows at the bottom, so OpenCV returns a
// "valid" image; a JPEG without its end-of-image marker is refused instead of classified wrongly.
bool jpegHasEndMarker(const std::vector<unsigned char>& bytes)
{
    return std::search(bytes.rbegin(), bytes.rend(), kJpegEnd.rbegin(), kJpegEnd.rend()) != bytes.rend();
}

} // namespace

bool hasImageExtension(const std::string& path)
{
    static const std::array<const char*, 10> kExtensions{".jpg", ".jpeg", ".png", ".bmp", ".webp",
                                                         ".tif", ".tiff", ".ppm", ".pgm", ".jfif"};
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

Image decodeImageFile(const std::string& path)
{
    const auto bytes = readFile(path);
    if (startsWith(bytes, kJpegStart) && !jpegHasEndMarker(bytes))
        throw ImageError(path, "truncated JPEG (no end-of-image marker): the file is incomplete");
    cv::Mat bgr;
    try {
        // IMREAD_COLOR applies the EXIF orientation (OpenCV >= 3.1) and converts grey/alpha to 3 channels.
        bgr = cv::imdecode(bytes, cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        throw ImageError(path, std::string("cannot decode the image: ") + e.what());
    }
    if (bgr.empty())
        throw ImageError(path, "not an image OpenCV can decode (unknown format or corrupt data)");
    if (static_cast<std::uint64_t>(bgr.total()) > kMaxImagePixels)
        throw ImageError(path, "image too large (" + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) + ")");
    Image image;
    image.width = bgr.cols;
    image.height = bgr.rows;
    image.rgb.resize(static_cast<size_t>(bgr.total()) * 3);
    cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, image.rgb.data());
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return image;
}

} // namespace efficientnet
