// Zip central directory (APPNOTE.TXT 6.3: sections 4.3.12 central directory header, 4.3.14-4.3.16 end of central
// directory records, 4.5.3 zip64 extended information). Every read is checked against the file's size.
#include "checkpoint/zip_index.h"

#include <algorithm>
#include <fstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "efficientnet/errors.h"
#include "efficientnet/limits.h"
#include "efficientnet/platform.h"
#include "common/untrusted.h"

namespace efficientnet::zip {
namespace {

constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr uint64_t kEndSize = 22;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint64_t kCentralSize = 46;
constexpr uint64_t kLocalSize = 30;
constexpr uint64_t kMaxCommentBytes = 0xffff;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint32_t kMask32 = 0xffffffff;
constexpr uint16_t kMask16 = 0xffff;
constexpr char kCorrupt[] = " — the file is corrupt or incomplete, download it again";

class File {
public:
    explicit File(std::string path)
        : m_path(std::move(path)), m_in(platform::pathFromUtf8(m_path), std::ios::binary | std::ios::ate)
    {
        if (!m_in)
            fail("cannot be opened — check that it is a readable file");
        m_size = static_cast<uint64_t>(m_in.tellg());
    }
    uint64_t size() const { return m_size; }
    std::vector<uint8_t> read(uint64_t offset, uint64_t count, const char* what)
    {
        if (offset > m_size || count > m_size - offset)
            fail(std::string("zip ") + what + " reaches past the end of the file" + kCorrupt);
        std::vector<uint8_t> bytes(static_cast<size_t>(count));
        m_in.seekg(static_cast<std::streamoff>(offset));
        m_in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
        if (static_cast<uint64_t>(m_in.gcount()) != count)
            fail(std::string("zip ") + what + " cannot be read" + kCorrupt);
        return bytes;
    }
    [[noreturn]] void fail(const std::string& problem) const { throw CheckpointError(m_path, problem); }

private:
    std::string m_path;
    std::ifstream m_in;
    uint64_t m_size = 0;
};

uint64_t le(const uint8_t* bytes, size_t width)
{
    uint64_t value = 0;
    for (size_t i = width; i-- > 0;)
        value = (value << 8) | bytes[i];
    return value;
}

struct Location {
    uint64_t offset = 0;
    uint64_t size = 0;
    uint64_t count = 0;
};

// The end of central directory record: the last signature with a whole record after it (as miniz).
uint64_t findEnd(File& file)
{
    if (file.size() < kEndSize)
        file.fail(std::string("is too small to be a zip archive") + kCorrupt);
    const uint64_t searched = std::min<uint64_t>(file.size(), kEndSize + kMaxCommentBytes);
    const auto tail = file.read(file.size() - searched, searched, "end record");
    for (uint64_t i = searched - kEndSize + 1; i-- > 0;)
        if (le(&tail[i], 4) == kEndSignature)
            return file.size() - searched + i;
    file.fail("truncated: zip central directory not found — the file is incomplete, download it again");
}

Location readDirectoryLocation(File& file)
{
    const uint64_t endOffset = findEnd(file);
    const auto end = file.read(endOffset, kEndSize, "end record");
    Location dir{le(&end[16], 4), le(&end[12], 4), le(&end[10], 2)};
    const bool zip64 = dir.offset == kMask32 || dir.size == kMask32 || dir.count == kMask16;
    if (zip64 && endOffset >= kZip64LocatorSize) {
        const auto locator = file.read(endOffset - kZip64LocatorSize, kZip64LocatorSize, "zip64 locator");
        if (le(&locator[0], 4) == kZip64LocatorSignature) {
            const auto end64 = file.read(le(&locator[8], 8), kZip64EndSize, "zip64 end record");
            if (le(&end64[0], 4) != kZip64EndSignature)
                file.fail(std::string("zip64 end record has a wrong signature") + kCorrupt);
            dir = {le(&end64[48], 8), le(&end64[40], 8), le(&end64[32], 8)};
        }
    }
    if (dir.count > kMaxZipRecords)
        file.fail("zip archive lists " + std::to_string(dir.count) + " records, more than the limit of " +
                  std::to_string(kMaxZipRecords) + "; not a plausible checkpoint");
    if (dir.offset > file.size() || dir.size > file.size() - dir.offset)
        file.fail(std::string("zip central directory reaches past the end of the file") + kCorrupt);
    return dir;
}

// Sizes and offset that do not fit 32 bits live in the zip64 extra field, in this order, only where the 32-bit
// field holds 0xffffffff (APPNOTE 4.5.3).
void applyZip64Extra(File& file, const uint8_t* extra, uint64_t length, Entry& entry)
{
    uint64_t at = 0;
    while (length - at >= 4) {
        const uint64_t id = le(extra + at, 2), size = le(extra + at + 2, 2);
        if (size > length - at - 4)
            file.fail(std::string("zip extra field reaches past its entry") + kCorrupt);
        if (id == kZip64ExtraId) {
            uint64_t field = at + 4;
            const uint64_t fieldEnd = field + size;
            for (uint64_t* value : {&entry.uncompressedSize, &entry.compressedSize, &entry.localHeaderOffset}) {
                if (*value != kMask32)
                    continue;
                if (fieldEnd - field < 8)
                    file.fail(std::string("zip64 extra field is too short") + kCorrupt);
                *value = le(extra + field, 8);
                field += 8;
            }
            return;
        }
        at += 4 + size;
    }
}

} // namespace

struct Directory::State {
    explicit State(const std::string& path) : file(path) {}
    File file;
    std::string firstName;
    std::unordered_map<std::string, Entry> entries;   // by full name
    uint64_t totalUncompressed = 0;
};

Directory::Directory(const std::string& path) : m_state(std::make_unique<State>(path))
{
    File& file = m_state->file;
    const Location dir = readDirectoryLocation(file);
    const auto bytes = file.read(dir.offset, dir.size, "central directory");
    uint64_t at = 0;
    for (uint64_t i = 0; i < dir.count; ++i) {
        if (dir.size - at < kCentralSize || le(&bytes[at], 4) != kCentralSignature)
            file.fail("zip central directory entry " + std::to_string(i) + " is malformed" + kCorrupt);
        const uint8_t* header = &bytes[at];
        const uint64_t nameLength = le(header + 28, 2), extraLength = le(header + 30, 2),
                       commentLength = le(header + 32, 2);
        if (dir.size - at - kCentralSize < nameLength + extraLength + commentLength)
            file.fail("zip central directory entry " + std::to_string(i) + " is cut off" + kCorrupt);
        Entry entry;
        entry.name.assign(reinterpret_cast<const char*>(header + kCentralSize), nameLength);
        entry.method = static_cast<uint16_t>(le(header + 10, 2));
        entry.compressedSize = le(header + 20, 4);
        entry.uncompressedSize = le(header + 24, 4);
        entry.localHeaderOffset = le(header + 42, 4);
        applyZip64Extra(file, header + kCentralSize + nameLength, extraLength, entry);
        if (entry.localHeaderOffset > file.size() || entry.compressedSize > file.size())
            file.fail("zip record '" + printable(entry.name) + "' reaches past the end of the file" + kCorrupt);
        if (i == 0)
            m_state->firstName = entry.name;
        const uint64_t room = ~uint64_t{0} - m_state->totalUncompressed;
        m_state->totalUncompressed += std::min(entry.uncompressedSize, room);
        const std::string name = entry.name;
        if (!m_state->entries.emplace(name, std::move(entry)).second)
            file.fail("zip archive lists record '" + printable(name) + "' twice" + kCorrupt);
        at += kCentralSize + nameLength + extraLength + commentLength;
    }
}

Directory::~Directory() = default;

uint64_t Directory::fileSize() const { return m_state->file.size(); }
const std::string& Directory::firstName() const { return m_state->firstName; }
uint64_t Directory::totalUncompressed() const { return m_state->totalUncompressed; }

const Entry* Directory::find(const std::string& name) const
{
    const auto found = m_state->entries.find(name);
    return found == m_state->entries.end() ? nullptr : &found->second;
}

uint64_t Directory::dataOffset(const Entry& entry)
{
    File& file = m_state->file;
    const auto local = file.read(entry.localHeaderOffset, kLocalSize, "local header");
    if (le(&local[0], 4) != kLocalSignature)
        file.fail("zip record '" + printable(entry.name) + "' has no local header" + kCorrupt);
    const uint64_t offset = entry.localHeaderOffset + kLocalSize + le(&local[26], 2) + le(&local[28], 2);
    if (offset > file.size() || entry.compressedSize > file.size() - offset)
        file.fail("zip record '" + printable(entry.name) + "' reaches past the end of the file" + kCorrupt);
    return offset;
}

} // namespace efficientnet::zip
