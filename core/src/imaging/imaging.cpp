#include "efficientnet/imaging.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/untrusted.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"
#include "imaging/image_header.h"

namespace efficientnet {
namespace {

namespace fs = std::filesystem;

constexpr std::array<unsigned char, 2> kJpegStart{0xFF, 0xD8};
constexpr std::array<unsigned char, 2> kJpegEnd{0xFF, 0xD9};
constexpr char kMaxPixelsVariable[] = "EFFICIENTNET_MAX_IMAGE_PIXELS";
constexpr char kProbedFormats[] = "JPEG, PNG, BMP, WebP, TIFF, Netpbm";

uint64_t initialMaxPixels()
{
    const char* text = std::getenv(kMaxPixelsVariable);
    if (!text || !*text)
        return kDefaultMaxImagePixels;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    return (*end == '\0' && value > 0) ? value : kDefaultMaxImagePixels;
}

std::atomic<uint64_t>& maxPixels()
{
    static std::atomic<uint64_t> limit{initialMaxPixels()};
    return limit;
}

std::string thousands(uint64_t number)
{
    std::string digits = std::to_string(number);
    for (auto i = static_cast<std::ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<size_t>(i), ",");
    return digits;
}

// The header's size against the limit, before OpenCV allocates anything for the pixels.
void checkHeader(const uint8_t* data, size_t size, const std::string& name)
{
    const ProbeResult probe = probeImageHeader(data, size);
    if (probe.status == ProbeStatus::UnknownFormat)
        throw ImageError(name, std::string("not an image in a format this program reads (") + kProbedFormats + ")");
    if (probe.status == ProbeStatus::Malformed)
        throw ImageError(name, "not a readable image: " + probe.problem);
    const ImageHeader& header = probe.header;
    if (header.width == 0 || header.height == 0)
        throw ImageError(name, "the " + header.format + " header declares an empty image (" +
                                   std::to_string(header.width) + "x" + std::to_string(header.height) + ")");
    if (header.height > maxImagePixels() / header.width)   // width x height > limit, without overflow
        throw ImageError(name, "image too large: its " + header.format + " header declares " +
                                   std::to_string(header.width) + "x" + std::to_string(header.height) +
                                   " pixels; the limit is " + thousands(maxImagePixels()) + " pixels (set " +
                                   kMaxPixelsVariable + " to raise it)");
}

bool startsWith(const uint8_t* data, size_t size, const std::array<unsigned char, 2>& magic)
{
    return size >= magic.size() && std::equal(magic.begin(), magic.end(), data);
}

// libjpeg decodes a truncated JPEG with only a warning and grey rows at the bottom, so OpenCV returns a
// "valid" image; a JPEG without its end-of-image marker is refused instead of classified wrongly.
bool jpegHasEndMarker(const uint8_t* data, size_t size)
{
    const std::reverse_iterator<const uint8_t*> begin(data + size), end(data);
    return std::search(begin, end, kJpegEnd.rbegin(), kJpegEnd.rend()) != end;
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

uint64_t maxImagePixels() { return maxPixels().load(); }

void setMaxImagePixels(uint64_t pixels) { maxPixels().store(pixels > 0 ? pixels : kDefaultMaxImagePixels); }

std::vector<std::uint8_t> readImageFile(const std::string& path)
{
    std::error_code ec;
    const fs::path file = platform::pathFromUtf8(path);
    if (!fs::exists(file, ec))
        throw ImageError(path, "no such file");
    if (fs::is_directory(file, ec))
        throw ImageError(path, "is a folder, not an image");
    const auto size = fs::file_size(file, ec);
    if (ec)
        throw ImageError(path, "cannot read: " + ec.message());
    if (size == 0)
        throw ImageError(path, "empty file (0 bytes), not an image");
    if (size > kMaxImageFileBytes)
        throw ImageError(path, "file too large (" + std::to_string(size >> 20) + " MiB; the limit is " +
                                   std::to_string(kMaxImageFileBytes >> 20) + " MiB)");
    std::ifstream in(file, std::ios::binary);
    std::vector<std::uint8_t> bytes(size);
    if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
        throw ImageError(path, "cannot read the file");
    return bytes;
}

Image decodeImageFile(const std::string& path)
{
    const auto bytes = readImageFile(path);
    return decodeImageBytes(bytes.data(), bytes.size(), path);
}

Image decodeImageBytes(const uint8_t* data, size_t size, const std::string& name)
{
    if (size == 0)
        throw ImageError(name, "empty (0 bytes), not an image");
    if (size > kMaxImageFileBytes)
        throw ImageError(name, "too large (" + std::to_string(size >> 20) + " MiB; the limit is " +
                                   std::to_string(kMaxImageFileBytes >> 20) + " MiB)");
    checkHeader(data, size, name);
    if (startsWith(data, size, kJpegStart) && !jpegHasEndMarker(data, size))
        throw ImageError(name, "truncated JPEG (no end-of-image marker): the file is incomplete");
    cv::Mat bgr;
    try {
        // IMREAD_COLOR applies the EXIF orientation (OpenCV >= 3.1) and converts grey/alpha to 3 channels.
        const cv::Mat encoded(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t*>(data));
        bgr = cv::imdecode(encoded, cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        throw ImageError(name, "cannot decode the image: " + printable(e.what(), 300));
    }
    if (bgr.empty())
        throw ImageError(name, "not an image OpenCV can decode (corrupt data)");
    Image image;
    image.width = bgr.cols;
    image.height = bgr.rows;
    image.rgb.resize(static_cast<size_t>(bgr.total()) * 3);
    cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, image.rgb.data());
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return image;
}

} // namespace efficientnet
