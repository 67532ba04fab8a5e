// safetensors (https://github.com/huggingface/safetensors): 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the raw little-endian data.
// The checks mirror the reference implementation's (Metadata::validate): every byte range lies inside the data,
// matches shape x dtype, and no two tensors share bytes.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <system_error>

#include <c10/util/safe_numerics.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "efficientnet/checkpoint.h"
#include "efficientnet/errors.h"
#include "efficientnet/platform.h"
#include "checkpoint/guarded_read.h"
#include "common/untrusted.h"

namespace efficientnet {
namespace {

using Json = nlohmann::json;

constexpr size_t kLengthBytes = 8;
constexpr size_t kHeaderAlignment = 8;   // the reference pads the header with spaces so the data starts aligned
constexpr char kMetadataKey[] = "__metadata__";
constexpr char kTemporarySuffix[] = ".tmp";
constexpr char kIncomplete[] = " — the file is incomplete or corrupt, download it again";

struct DtypeCode {
    const char* code;
    c10::ScalarType dtype;
};

constexpr DtypeCode kDtypeCodes[] = {
    {"F64", c10::ScalarType::Double}, {"F32", c10::ScalarType::Float}, {"F16", c10::ScalarType::Half},
    {"BF16", c10::ScalarType::BFloat16}, {"I64", c10::ScalarType::Long}, {"I32", c10::ScalarType::Int},
    {"I16", c10::ScalarType::Short}, {"I8", c10::ScalarType::Char}, {"U8", c10::ScalarType::Byte},
    {"BOOL", c10::ScalarType::Bool},
};

std::string supportedCodes()
{
    std::string codes;
    for (const auto& entry : kDtypeCodes)
        codes += std::string(codes.empty() ? "" : ", ") + entry.code;
    return codes;
}

const char* codeOf(c10::ScalarType dtype)
{
    for (const auto& entry : kDtypeCodes)
        if (entry.dtype == dtype)
            return entry.code;
    return nullptr;
}

// One header entry, checked against the data section.
struct Entry {
    std::string name;
    c10::ScalarType dtype;
    std::vector<int64_t> shape;
    uint64_t begin;
    uint64_t end;
};

std::string describeRange(uint64_t begin, uint64_t end)
{
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// "[2, 4]", as the header wrote it; plain text, as the other messages here are.
std::string describeShape(const std::vector<int64_t>& shape)
{
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

// ---- reading ----

class HeaderReader {
public:
    HeaderReader(const std::string& path, uint64_t dataSize) : m_path(path), m_dataSize(dataSize) {}

    std::vector<Entry> entries(const Json& header) const
    {
        if (!header.is_object())
            fail("the header is " + describeJson(header) + ", not a JSON object" + kIncomplete);
        std::vector<Entry> entries;
        for (const auto& [name, value] : header.items()) {
            if (name == kMetadataKey)
                checkMetadata(value);
            else
                entries.push_back(entry(name, value));
        }
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
        });
        checkNoOverlap(entries);
        return entries;
    }

private:
    [[noreturn]] void fail(const std::string& problem) const { throw CheckpointError(m_path, problem); }

    void checkMetadata(const Json& metadata) const
    {
        if (!metadata.is_object())
            fail(std::string(kMetadataKey) + " is not an object of strings" + kIncomplete);
        for (const auto& [key, value] : metadata.items())
            if (!value.is_string())
                fail(std::string(kMetadataKey) + " entry '" + printable(key) + "' is not a string" + kIncomplete);
    }

    c10::ScalarType dtype(const std::string& name, const Json& value) const
    {
        if (value.is_string())
            for (const auto& entry : kDtypeCodes)
                if (value.get_ref<const std::string&>() == entry.code)
                    return entry.dtype;
        fail("tensor '" + printable(name) + "' has dtype " + describeJson(value) + ", which is not supported "
             "(supported: " + supportedCodes() + ")");
    }

    // JSON integers that fit an int64 (tensor sizes and byte offsets); nullopt for anything else.
    static std::optional<uint64_t> count(const Json& value)
    {
        if (!value.is_number_unsigned() || value.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            return std::nullopt;
        return value.get<uint64_t>();
    }

    const Json& field(const std::string& name, const Json& value, const char* key) const
    {
        if (!value.is_object() || !value.contains(key))
            fail("tensor '" + printable(name) + "' has no " + key + kIncomplete);
        return value.at(key);
    }

    std::vector<int64_t> shape(const std::string& name, const Json& value) const
    {
        const auto bad = [&] {
            fail("tensor '" + printable(name) + "' has shape " + describeJson(value) +
                 "; expected a list of non-negative integers" + kIncomplete);
        };
        if (!value.is_array())
            bad();
        std::vector<int64_t> dims;
        for (const Json& dim : value) {
            if (!count(dim))
                bad();
            dims.push_back(static_cast<int64_t>(*count(dim)));
        }
        return dims;
    }

    Entry entry(const std::string& name, const Json& value) const
    {
        const Json& offsets = field(name, value, "data_offsets");
        if (!offsets.is_array() || offsets.size() != 2 || !count(offsets[0]) || !count(offsets[1]))
            fail("tensor '" + printable(name) + "' has data_offsets " + describeJson(offsets) + "; expected [begin, end]" +
                 kIncomplete);
        Entry parsed{name, dtype(name, field(name, value, "dtype")), shape(name, field(name, value, "shape")),
                     *count(offsets[0]), *count(offsets[1])};
        checkRange(parsed);
        return parsed;
    }

    void checkRange(const Entry& entry) const
    {
        const std::string range = describeRange(entry.begin, entry.end);
        if (entry.begin > entry.end)
            fail("tensor '" + printable(entry.name) + "' has data_offsets " + range + " with begin after end" + kIncomplete);
        if (entry.end > m_dataSize)
            fail("tensor '" + printable(entry.name) + "' has data_offsets " + range + " past the end of the data (" +
                 std::to_string(m_dataSize) + " bytes)" + kIncomplete);
        uint64_t bytes = static_cast<uint64_t>(c10::elementSize(entry.dtype));
        for (int64_t dim : entry.shape)
            if (c10::mul_overflows(bytes, static_cast<uint64_t>(dim), &bytes))
                fail("tensor '" + printable(entry.name) + "' has an impossible shape" + kIncomplete);
        if (bytes != entry.end - entry.begin)
            fail("tensor '" + printable(entry.name) + "': shape " + describeShape(entry.shape) + " of " +
                 codeOf(entry.dtype) + " needs " + std::to_string(bytes) + " bytes but its data_offsets " + range +
                 " span " + std::to_string(entry.end - entry.begin) + " bytes" + kIncomplete);
    }

    // entries sorted by begin: a tensor overlaps another only if it starts before its predecessor ends.
    void checkNoOverlap(const std::vector<Entry>& entries) const
    {
        for (size_t i = 1; i < entries.size(); ++i) {
            const Entry& previous = entries[i - 1];
            const Entry& current = entries[i];
            if (current.begin < previous.end)
                fail("tensors '" + printable(previous.name) + "' " + describeRange(previous.begin, previous.end) +
                     " and '" + printable(current.name) + "' " + describeRange(current.begin, current.end) +
                     " overlap: two tensors share bytes" + kIncomplete);
        }
    }

    const std::string& m_path;
    uint64_t m_dataSize;
};

uint64_t fileSize(const std::string& path)
{
    std::error_code error;
    const uint64_t size = std::filesystem::file_size(platform::pathFromUtf8(path), error);
    if (error)
        throw CheckpointError(path, "cannot be read (" + error.message() + ") — check the path");
    return size;
}

uint64_t readHeaderLength(std::ifstream& in, uint64_t size, const std::string& path)
{
    if (size < kLengthBytes)
        throw CheckpointError(path, "is only " + std::to_string(size) + " bytes, too small for a safetensors file" +
                                    kIncomplete);
    unsigned char bytes[kLengthBytes] = {};
    in.read(reinterpret_cast<char*>(bytes), kLengthBytes);
    uint64_t length = 0;
    for (size_t i = kLengthBytes; i-- > 0;)
        length = (length << 8) | bytes[i];
    if (length > size - kLengthBytes)
        throw CheckpointError(path, "header length " + std::to_string(length) + " exceeds the file size (" +
                                    std::to_string(size) + " bytes)" + kIncomplete);
    if (length > kSafetensorsMaxHeaderBytes)
        throw CheckpointError(path, "header length " + std::to_string(length) + " exceeds the limit of " +
                                    std::to_string(kSafetensorsMaxHeaderBytes) + " bytes; not a plausible "
                                    "safetensors file");
    return length;
}

Json parseHeader(std::ifstream& in, uint64_t length, const std::string& path)
{
    std::string text(static_cast<size_t>(length), '\0');
    in.read(text.data(), static_cast<std::streamsize>(length));
    if (static_cast<uint64_t>(in.gcount()) != length)
        throw CheckpointError(path, std::string("truncated: the header cannot be read") + kIncomplete);
    std::string problem;
    auto header = parseUntrustedJson(text, problem);
    if (!header)
        throw CheckpointError(path, "the safetensors header " + problem + kIncomplete);
    return std::move(*header);
}

torch::Tensor readTensor(std::ifstream& in, uint64_t dataStart, const Entry& entry, const std::string& path)
{
    torch::Tensor tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(entry.dtype));
    const uint64_t bytes = entry.end - entry.begin;
    in.seekg(static_cast<std::streamoff>(dataStart + entry.begin));
    in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(bytes));
    if (!in || static_cast<uint64_t>(in.gcount()) != bytes)
        throw CheckpointError(path, "tensor '" + printable(entry.name) + "' cannot be read" + kIncomplete);
    return tensor;
}

// ---- writing ----

struct Prepared {
    std::string name;
    torch::Tensor tensor;   // contiguous, CPU
    const char* code;
};

std::vector<Prepared> prepare(const std::string& path, const NamedTensors& tensors)
{
    std::vector<Prepared> prepared;
    std::set<std::string> names;
    for (const auto& [name, tensor] : tensors) {
        if (name == kMetadataKey || !names.insert(name).second)
            throw CheckpointError(path, "cannot write tensor '" + printable(name) + "': the name is reserved or repeated");
        if (!tensor.defined() || tensor.layout() != torch::kStrided || !codeOf(tensor.scalar_type()))
            throw CheckpointError(path, "cannot write tensor '" + printable(name) + "': only dense tensors of " +
                                        supportedCodes() + " can be stored");
        prepared.push_back({name, tensor.to(torch::kCPU).contiguous(), codeOf(tensor.scalar_type())});
    }
    // As the reference writer: larger elements first, then by name, so each tensor starts aligned to its element
    // size (the header is padded to a multiple of 8).
    std::sort(prepared.begin(), prepared.end(), [](const Prepared& a, const Prepared& b) {
        const size_t sizeA = a.tensor.element_size(), sizeB = b.tensor.element_size();
        return sizeA != sizeB ? sizeA > sizeB : a.name < b.name;
    });
    return prepared;
}

std::string headerText(const std::string& path, const std::vector<Prepared>& prepared,
                       const std::map<std::string, std::string>& metadata)
{
    Json header = Json::object();
    Json meta = {{"format", "pt"}};
    for (const auto& [key, value] : metadata)
        meta[key] = value;
    header[kMetadataKey] = meta;
    uint64_t offset = 0;
    for (const Prepared& entry : prepared) {
        const uint64_t bytes = entry.tensor.nbytes();
        header[entry.name] = {{"dtype", entry.code},
                              {"shape", entry.tensor.sizes().vec()},
                              {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const Json::exception&) {
        throw CheckpointError(path, "cannot write: tensor names and metadata must be valid UTF-8");
    }
    text.append((kHeaderAlignment - text.size() % kHeaderAlignment) % kHeaderAlignment, ' ');
    return text;
}

// Throws std::system_error when the file cannot be written completely.
void writeFile(const std::string& file, const std::string& header, const std::vector<Prepared>& prepared)
{
    errno = 0;
    std::ofstream out(platform::pathFromUtf8(file), std::ios::binary | std::ios::trunc);
    char length[kLengthBytes];
    uint64_t value = header.size();
    for (char& byte : length) {
        byte = static_cast<char>(value & 0xff);
        value >>= 8;
    }
    out.write(length, kLengthBytes);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const Prepared& entry : prepared) {
        const auto bytes = static_cast<std::streamsize>(entry.tensor.nbytes());
        out.write(static_cast<const char*>(entry.tensor.data_ptr()), bytes);
    }
    out.close();
    if (!out)
        throw std::system_error(errno ? errno : EIO, std::generic_category(), "cannot write " + file);
}

NamedTensors readSafetensorsFile(const std::string& path)
{
    const uint64_t size = fileSize(path);
    std::ifstream in(platform::pathFromUtf8(path), std::ios::binary);
    if (!in)
        throw CheckpointError(path, "cannot be opened — check that it is a readable file");
    const uint64_t headerLength = readHeaderLength(in, size, path);
    const Json header = parseHeader(in, headerLength, path);
    const uint64_t dataStart = kLengthBytes + headerLength;
    const std::vector<Entry> entries = HeaderReader(path, size - dataStart).entries(header);
    NamedTensors tensors;
    tensors.reserve(entries.size());
    for (const Entry& entry : entries)
        tensors.emplace_back(entry.name, readTensor(in, dataStart, entry, path));
    return tensors;
}

} // namespace

NamedTensors readSafetensors(const std::string& path)
{
    return guardedRead(path, [&] { return readSafetensorsFile(path); });
}

std::map<std::string, std::string> readSafetensorsMetadata(const std::string& path)
{
    return guardedRead(path, [&] {
        const uint64_t size = fileSize(path);
        std::ifstream in(platform::pathFromUtf8(path), std::ios::binary);
        if (!in)
            throw CheckpointError(path, "cannot be opened — check that it is a readable file");
        const Json header = parseHeader(in, readHeaderLength(in, size, path), path);
        std::map<std::string, std::string> metadata;
        if (!header.is_object() || !header.contains(kMetadataKey))
            return metadata;
        const Json& entries = header.at(kMetadataKey);
        if (!entries.is_object())
            throw CheckpointError(path, std::string(kMetadataKey) + " is not an object of strings" + kIncomplete);
        for (const auto& [key, value] : entries.items()) {
            if (!value.is_string())
                throw CheckpointError(path, std::string(kMetadataKey) + " entry '" + printable(key) +
                                                "' is not a string" + kIncomplete);
            metadata[key] = value.get<std::string>();
        }
        return metadata;
    });
}

void writeSafetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata)
{
    const std::vector<Prepared> prepared = prepare(path, tensors);
    const std::string header = headerText(path, prepared, metadata);
    // Written next to the target and renamed over it, so a crash or a full disk never leaves a half-written file
    // under the real name.
    const std::string temporary = path + kTemporarySuffix;
    std::error_code ignored;
    try {
        writeFile(temporary, header, prepared);
        std::filesystem::rename(platform::pathFromUtf8(temporary), platform::pathFromUtf8(path));
    } catch (const std::system_error& error) {
        std::filesystem::remove(platform::pathFromUtf8(temporary), ignored);
        throw CheckpointError(path, "cannot be written (" + std::string(error.what()) + ") — check that the "
                                    "directory exists, is writable and the disk is not full");
    }
}

} // namespace efficientnet
