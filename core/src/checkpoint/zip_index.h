#pragma once
// The central directory of a zip archive, read before LibTorch's PyTorchStreamReader inflates anything.
//
// Why an own reader of the directory: PyTorchStreamReader::getRecord allocates and inflates a record to the size its
// directory entry declares before the caller can see that size (LibTorch 1.13 has no getRecordSize), so a 1 MB zip
// can make it allocate gigabytes. Reading the directory first lets the checkpoint reader compare every declared size
// with what the pickle needs and with the file's size, and refuse before any allocation. The EOCD search mirrors
// miniz's (mz_zip_reader_locate_header_sig): the last signature with a full record after it, within the last 64 KiB.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace efficientnet::zip {

enum class Method : uint16_t { Stored = 0, Deflated = 8 };

struct Entry {
    std::string name;
    uint16_t method = 0;             // Method, or anything else a hostile file says
    uint64_t compressedSize = 0;
    uint64_t uncompressedSize = 0;
    uint64_t localHeaderOffset = 0;
};

// The central directory of the zip at `path` (zip64 included). Throws CheckpointError(path, ...) when it is missing,
// truncated, inconsistent (an entry reaching past the end of the file, a repeated name) or larger than the stated
// limits (efficientnet/limits.h).
class Directory {
public:
    explicit Directory(const std::string& path);
    ~Directory();

    uint64_t fileSize() const;
    const std::string& firstName() const;   // PyTorchStreamReader takes the archive's folder name from it
    uint64_t totalUncompressed() const;     // the sum of every entry's declared size, saturating
    const Entry* find(const std::string& name) const;
    // The file offset of an entry's data (after its local header), checked to lie inside the file with its
    // compressed size.
    uint64_t dataOffset(const Entry& entry);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace efficientnet::zip
