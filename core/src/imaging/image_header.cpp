#include "imaging/image_header.h"

#include <cstring>
#include <string_view>
#include <variant>

namespace efficientnet {
namespace {

constexpr int kMaxDigits = 10;   // PNM sizes: larger numbers are refused rather than overflowed

// Bounds-checked little/big-endian reads over the file's bytes; nullopt past the end.
class Bytes {
public:
    Bytes(const uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}
    std::size_t size() const { return m_size; }
    bool has(uint64_t offset, uint64_t count) const { return offset <= m_size && count <= m_size - offset; }
    bool startsWith(std::string_view magic, uint64_t at = 0) const
    {
        return has(at, magic.size()) && std::memcmp(m_data + at, magic.data(), magic.size()) == 0;
    }
    uint8_t at(uint64_t offset) const { return m_data[offset]; }
    std::optional<uint64_t> read(uint64_t offset, int width, bool bigEndian) const
    {
        if (!has(offset, static_cast<uint64_t>(width)))
            return std::nullopt;
        uint64_t value = 0;
        for (int i = 0; i < width; ++i) {
            const int k = bigEndian ? i : width - 1 - i;
            value = (value << 8) | m_data[offset + static_cast<uint64_t>(k)];
        }
        return value;
    }
    std::optional<uint64_t> le(uint64_t offset, int width) const { return read(offset, width, false); }
    std::optional<uint64_t> be(uint64_t offset, int width) const { return read(offset, width, true); }

private:
    const uint8_t* m_data;
    std::size_t m_size;
};

ProbeResult found(const char* format, uint64_t width, uint64_t height)
{
    return {ProbeStatus::Found, {format, width, height}, {}};
}

ProbeResult malformed(const std::string& problem) { return {ProbeStatus::Malformed, {}, problem}; }

// EXIF (CIPA DC-008 4.5.4, 4.6.4) in an APP1 segment's `length` bytes from `start`: "Exif\0\0", a TIFF header (II or
// MM, 42, the offset of IFD0), and IFD0's entries of 12 bytes; tag 0x0112 (SHORT) is the orientation. 1 when the
// segment is another APP1 (XMP) or has no orientation; 0 when the EXIF data is cut off or malformed.
int exifOrientation(const Bytes& b, uint64_t start, uint64_t length)
{
    if (!b.startsWith(std::string_view("Exif\0\0", 6), start))
        return 1;
    const uint64_t tiff = start + 6, end = start + length;
    if (end > b.size() || !b.has(tiff, 8))
        return 0;
    const bool big = b.startsWith("MM", tiff);
    if (!big && !b.startsWith("II", tiff))
        return 0;
    const auto ifd = b.read(tiff + 4, 4, big);
    const auto count = ifd ? b.read(tiff + *ifd, 2, big) : std::nullopt;
    if (!count || tiff + *ifd + 2 > end)
        return 0;
    for (uint64_t i = 0; i < *count; ++i) {
        const uint64_t entry = tiff + *ifd + 2 + 12 * i;
        if (entry + 12 > end)
            return 0;
        if (b.read(entry, 2, big) == 0x0112u) {
            const auto value = b.read(entry + 8, 2, big);
            return value && *value >= 1 && *value <= 8 ? static_cast<int>(*value) : 0;
        }
    }
    return 1;
}

// ITU-T T.81 B.1.1: markers FFxx; SOF0-15 (but DHT C4, JPG C8, DAC CC) carry precision, height, width and the
// number of components. The segments before the frame header are walked for EXIF's orientation on the way.
std::variant<JpegLayout, std::string> walkJpeg(const Bytes& b)
{
    uint64_t pos = 2;
    JpegLayout layout;
    while (true) {
        while (b.has(pos, 1) && b.at(pos) != 0xff)
            ++pos;   // tolerate garbage between segments, as libjpeg does (with a warning)
        while (b.has(pos, 1) && b.at(pos) == 0xff)
            ++pos;   // fill bytes
        if (!b.has(pos, 1))
            return std::string("the JPEG ends before its frame header");
        const uint8_t marker = b.at(pos++);
        if (marker == 0x01 || marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7))
            continue;   // standalone markers
        if (marker == 0xd9 || marker == 0xda)
            return std::string("the JPEG has no frame header before its image data");
        const auto length = b.be(pos, 2);
        if (!length || *length < 2)
            return std::string("the JPEG ends inside a segment header");
        if (marker == 0xe1 && layout.orientation == 1)
            layout.orientation = exifOrientation(b, pos + 2, *length - 2);
        const bool frame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
        if (frame) {
            const auto precision = b.be(pos + 2, 1), height = b.be(pos + 3, 2), width = b.be(pos + 5, 2);
            const auto components = b.be(pos + 7, 1);
            if (!height || !width)
                return std::string("the JPEG frame header is cut off");
            layout.frameMarker = marker;
            layout.precision = precision ? static_cast<int>(*precision) : 0;
            layout.components = components ? static_cast<int>(*components) : 0;
            layout.width = *width;
            layout.height = *height;
            return layout;
        }
        pos += *length;
    }
}

ProbeResult probeJpeg(const Bytes& b)
{
    const auto walked = walkJpeg(b);
    if (const auto* problem = std::get_if<std::string>(&walked))
        return malformed(*problem);
    const auto& layout = std::get<JpegLayout>(walked);
    return found("JPEG", layout.width, layout.height);
}

// PNG (ISO/IEC 15948) 5.3, 11.2.2: the IHDR chunk comes first; width and height are 4-byte big-endian.
ProbeResult probePng(const Bytes& b)
{
    if (!b.startsWith("IHDR", 12))
        return malformed("the PNG does not start with its IHDR chunk");
    const auto width = b.be(16, 4), height = b.be(20, 4);
    if (!width || !height)
        return malformed("the PNG header is cut off");
    return found("PNG", *width, *height);
}

// BMP: BITMAPFILEHEADER (14 bytes), then BITMAPCOREHEADER (12 bytes, 16-bit sizes) or BITMAPINFOHEADER and later
// (signed 32-bit sizes; a negative height means top-down rows).
ProbeResult probeBmp(const Bytes& b)
{
    const auto dibSize = b.le(14, 4);
    if (!dibSize)
        return malformed("the BMP header is cut off");
    const bool core = *dibSize == 12;
    const auto width = b.le(18, core ? 2 : 4), height = b.le(core ? 20 : 22, core ? 2 : 4);
    if (!width || !height)
        return malformed("the BMP header is cut off");
    if (core)
        return found("BMP", *width, *height);
    const auto signedWidth = static_cast<int32_t>(static_cast<uint32_t>(*width));
    const auto signedHeight = static_cast<int32_t>(static_cast<uint32_t>(*height));
    if (signedWidth < 0)
        return malformed("the BMP declares a negative width");
    return found("BMP", static_cast<uint64_t>(signedWidth),
                 signedHeight < 0 ? uint64_t{0} - static_cast<uint64_t>(static_cast<int64_t>(signedHeight))
                                  : static_cast<uint64_t>(signedHeight));
}

// WebP container (RFC 9649): RIFF, WEBP, then a VP8 (lossy: RFC 6386 9.1 frame header), VP8L (lossless: 14-bit
// sizes minus one after the 0x2f signature) or VP8X (extended: 24-bit canvas sizes minus one) chunk.
ProbeResult probeWebp(const Bytes& b)
{
    constexpr uint64_t kChunk = 12, kData = 20;
    if (b.startsWith("VP8 ", kChunk)) {
        if (!b.startsWith("\x9d\x01\x2a", kData + 3))
            return malformed("the WebP (VP8) frame has no start code");
        const auto width = b.le(kData + 6, 2), height = b.le(kData + 8, 2);
        if (!width || !height)
            return malformed("the WebP header is cut off");
        return found("WebP", *width & 0x3fff, *height & 0x3fff);
    }
    if (b.startsWith("VP8L", kChunk)) {
        const auto bits = b.le(kData + 1, 4);
        if (!b.has(kData, 1) || b.at(kData) != 0x2f || !bits)
            return malformed("the WebP (VP8L) header is cut off or has no signature");
        return found("WebP", (*bits & 0x3fff) + 1, ((*bits >> 14) & 0x3fff) + 1);
    }
    if (b.startsWith("VP8X", kChunk)) {
        const auto width = b.le(kData + 4, 3), height = b.le(kData + 7, 3);
        if (!width || !height)
            return malformed("the WebP header is cut off");
        return found("WebP", *width + 1, *height + 1);
    }
    return malformed("the WebP holds no VP8, VP8L or VP8X chunk where expected");
}

// TIFF 6.0 section 2 (and BigTIFF): the first IFD's ImageWidth (256) and ImageLength (257) tags; OpenCV decodes
// the first page.
ProbeResult probeTiff(const Bytes& b, bool bigEndian, bool big)
{
    constexpr uint64_t kWidthTag = 256, kHeightTag = 257;
    constexpr uint64_t kShort = 3, kLong = 4, kLong8 = 16;
    const int offsetWidth = big ? 8 : 4;
    const auto ifd = b.read(big ? 8 : 4, offsetWidth, bigEndian);
    const auto count = ifd ? b.read(*ifd, big ? 8 : 2, bigEndian) : std::nullopt;
    if (!count)
        return malformed("the TIFF's first directory is outside the file");
    const uint64_t entrySize = big ? 20 : 12, first = *ifd + (big ? 8 : 2);
    std::optional<uint64_t> width, height;
    for (uint64_t i = 0; i < *count && b.has(first + i * entrySize, entrySize); ++i) {
        const uint64_t entry = first + i * entrySize;
        const uint64_t tag = *b.read(entry, 2, bigEndian), type = *b.read(entry + 2, 2, bigEndian);
        if (tag != kWidthTag && tag != kHeightTag)
            continue;
        const uint64_t valueAt = entry + (big ? 12 : 8);
        const int valueBytes = type == kShort ? 2 : type == kLong ? 4 : type == kLong8 ? 8 : 0;
        if (valueBytes == 0)
            return malformed("the TIFF stores its image size in an unexpected type");
        (tag == kWidthTag ? width : height) = b.read(valueAt, valueBytes, bigEndian);
    }
    if (!width || !height)
        return malformed("the TIFF's first directory has no image width or height");
    return found("TIFF", *width, *height);
}

// Netpbm (P1-P6), PFM (PF, Pf): whitespace- and comment-separated decimal width and height after the magic.
// PAM (P7): WIDTH and HEIGHT lines before ENDHDR.
class TextHeader {
public:
    explicit TextHeader(const Bytes& b) : m_b(b) {}
    std::optional<uint64_t> number()
    {
        skipSpaceAndComments();
        uint64_t value = 0;
        int digits = 0;
        while (m_b.has(m_pos, 1) && m_b.at(m_pos) >= '0' && m_b.at(m_pos) <= '9') {
            if (++digits > kMaxDigits)
                return std::nullopt;
            value = value * 10 + (m_b.at(m_pos++) - '0');
        }
        return digits ? std::optional<uint64_t>(value) : std::nullopt;
    }
    std::string word()
    {
        skipSpaceAndComments();
        std::string text;
        while (m_b.has(m_pos, 1) && !isSpace(m_b.at(m_pos)) && text.size() < 16)
            text += static_cast<char>(m_b.at(m_pos++));
        return text;
    }
    void seek(uint64_t pos) { m_pos = pos; }

private:
    static bool isSpace(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
    void skipSpaceAndComments()
    {
        while (m_b.has(m_pos, 1) && (isSpace(m_b.at(m_pos)) || m_b.at(m_pos) == '#')) {
            if (m_b.at(m_pos) == '#')
                while (m_b.has(m_pos, 1) && m_b.at(m_pos) != '\n')
                    ++m_pos;
            else
                ++m_pos;
        }
    }
    const Bytes& m_b;
    uint64_t m_pos = 0;
};

ProbeResult probeNetpbm(const Bytes& b)
{
    constexpr int kMaxPamLines = 64;
    TextHeader text(b);
    text.seek(2);
    if (b.at(1) == '7') {
        std::optional<uint64_t> width, height;
        for (int line = 0; line < kMaxPamLines; ++line) {
            const std::string key = text.word();
            if (key == "ENDHDR" || key.empty())
                break;
            if (key == "WIDTH")
                width = text.number();
            else if (key == "HEIGHT")
                height = text.number();
        }
        if (!width || !height)
            return malformed("the PAM header has no WIDTH or HEIGHT");
        return found("PAM", *width, *height);
    }
    const auto width = text.number();
    const auto height = text.number();
    if (!width || !height)
        return malformed("the Netpbm header has no width and height");
    return found("Netpbm", *width, *height);
}

} // namespace

ProbeResult probeImageHeader(const uint8_t* data, std::size_t size)
{
    const Bytes b(data, size);
    if (b.startsWith("\xff\xd8"))
        return probeJpeg(b);
    if (b.startsWith("\x89PNG\r\n\x1a\n"))
        return probePng(b);
    if (b.startsWith("BM"))
        return probeBmp(b);
    if (b.startsWith("RIFF") && b.startsWith("WEBP", 8))
        return probeWebp(b);
    if (b.startsWith(std::string_view("II*\0", 4)))
        return probeTiff(b, false, false);
    if (b.startsWith(std::string_view("MM\0*", 4)))
        return probeTiff(b, true, false);
    if (b.startsWith(std::string_view("II+\0", 4)))
        return probeTiff(b, false, true);
    if (b.startsWith(std::string_view("MM\0+", 4)))
        return probeTiff(b, true, true);
    if (b.has(0, 2) && b.at(0) == 'P' &&
        ((b.at(1) >= '1' && b.at(1) <= '7') || b.at(1) == 'F' || b.at(1) == 'f'))
        return probeNetpbm(b);
    return {};
}

std::optional<JpegLayout> probeJpegLayout(const uint8_t* data, std::size_t size)
{
    const Bytes b(data, size);
    if (!b.startsWith("\xff\xd8"))
        return std::nullopt;
    const auto walked = walkJpeg(b);
    if (const auto* layout = std::get_if<JpegLayout>(&walked))
        return *layout;
    return std::nullopt;
}

} // namespace efficientnet
