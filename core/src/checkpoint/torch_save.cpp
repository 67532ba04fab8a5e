// torch.save files: the zip format (PyTorch >= 1.6) and the legacy stream of pickles (_use_new_zipfile_serialization
// =False), read without running any Python code. Layouts follow torch/serialization.py (_save, _legacy_save).
#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include <c10/util/Exception.h>
#include <c10/util/safe_numerics.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include "checkpoint/guarded_read.h"
#include "checkpoint/pickle.h"
#include "checkpoint/zip_index.h"
#include "common/untrusted.h"
#include "efficientnet/checkpoint.h"
#include "efficientnet/errors.h"
#include "efficientnet/limits.h"
#include "efficientnet/platform.h"

namespace efficientnet {
namespace {

using pickle::Kind;
using pickle::StorageRef;
using pickle::TensorRef;
using pickle::Value;

constexpr std::array<char, 4> kZipMagic = {'P', 'K', '\x03', '\x04'};
constexpr uint8_t kPickleProto = 0x80;   // every binary pickle (protocol >= 2) starts with PROTO
constexpr size_t kTarMagicOffset = 257;  // POSIX tar: "ustar" in the first header block
constexpr char kTarMagic[] = "ustar";
constexpr size_t kSafetensorsLengthBytes = 8;
constexpr size_t kDetectBytes = 512;     // enough for every signature above
constexpr size_t kPreviewBytes = 16;     // shown in "not a checkpoint" errors

// Legacy torch.save: torch/serialization.py MAGIC_NUMBER 0x1950a86a20f9469cfc6c as pickled (little-endian LONG1),
// then PROTOCOL_VERSION.
constexpr std::array<uint8_t, 10> kLegacyMagic = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocolVersion = 1001;

// Where training scripts (timm, the torchvision reference scripts, Lightning-style exports) keep the weights.
constexpr std::array<const char*, 4> kNestedStateDictKeys = {"state_dict", "model", "state_dict_ema", "model_ema"};
constexpr size_t kKeysListedInErrors = 10;

std::string readHead(const std::string& path, size_t count)
{
    std::error_code error;
    if (!std::filesystem::exists(platform::pathFromUtf8(path), error))
        throw CheckpointError(path, "does not exist — check the path");
    std::ifstream in(platform::pathFromUtf8(path), std::ios::binary);
    if (!in)
        throw CheckpointError(path, "cannot be opened — check that it is a readable file");
    std::string head(count, '\0');
    in.read(head.data(), static_cast<std::streamsize>(count));
    head.resize(static_cast<size_t>(in.gcount()));
    return head;
}

std::vector<uint8_t> readWholeFile(const std::string& path)
{
    std::ifstream in(platform::pathFromUtf8(path), std::ios::binary | std::ios::ate);
    if (!in)
        throw CheckpointError(path, "cannot be opened — check that it is a readable file");
    std::vector<uint8_t> bytes(static_cast<size_t>(in.tellg()));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (static_cast<size_t>(in.gcount()) != bytes.size())
        throw CheckpointError(path, "could not be read completely — check the disk and the file");
    return bytes;
}

bool startsWith(const std::string& head, const char* signature, size_t length, size_t at = 0)
{
    return head.size() >= at + length && head.compare(at, length, signature, length) == 0;
}

uint64_t littleEndian64(const char* bytes)
{
    uint64_t value = 0;
    for (size_t i = 8; i-- > 0;)
        value = (value << 8) | static_cast<uint8_t>(bytes[i]);
    return value;
}

// A safetensors file starts with its JSON header length and then '{'. The length bound keeps a text file whose
// ninth character happens to be '{' from passing for one.
bool looksLikeSafetensors(const std::string& head)
{
    if (head.size() <= kSafetensorsLengthBytes || head[kSafetensorsLengthBytes] != '{')
        return false;
    const uint64_t headerLength = littleEndian64(head.data());
    return headerLength >= 2 && headerLength <= kSafetensorsMaxHeaderBytes;
}

std::string preview(const std::string& head)
{
    std::string shown;
    for (char c : head.substr(0, kPreviewBytes)) {
        if (c >= ' ' && c <= '~') {
            shown += c;
        } else {
            constexpr char kDigits[] = "0123456789abcdef";
            const auto byte = static_cast<uint8_t>(c);
            shown += std::string("\\x") + kDigits[byte >> 4] + kDigits[byte & 0xf];
        }
    }
    return "\"" + shown + "\"";
}

// ---- tensors from storages ----

// numel x element size, or nullopt when that does not fit 64 bits (a hostile element count).
std::optional<uint64_t> bytesOf(int64_t numel, c10::ScalarType dtype)
{
    uint64_t bytes = 0;
    if (numel < 0 ||
        c10::mul_overflows(static_cast<uint64_t>(numel), static_cast<uint64_t>(c10::elementSize(dtype)), &bytes))
        return std::nullopt;
    return bytes;
}

uint64_t storageBytes(const StorageRef& ref, const std::string& path)
{
    const auto bytes = bytesOf(ref.numel, ref.dtype);
    if (!bytes)
        throw CheckpointError(path, "storage " + printable(ref.key) + " declares an impossible size — the file is "
                                    "corrupt");
    return *bytes;
}

// Loads each storage once (tensors may share one) as an owned 1-D CPU tensor of its dtype.
class StorageCache {
public:
    using Fetch = std::function<torch::Tensor(const StorageRef&)>;
    StorageCache(const std::string& path, Fetch fetch) : m_path(path), m_fetch(std::move(fetch)) {}

    const torch::Tensor& get(const StorageRef& ref)
    {
        auto found = m_storages.find(ref.key);
        if (found == m_storages.end())
            found = m_storages.emplace(ref.key, m_fetch(ref)).first;
        const torch::Tensor& storage = found->second;
        if (storage.scalar_type() != ref.dtype || storage.numel() != ref.numel)
            throw CheckpointError(m_path, "storage " + printable(ref.key) + " is declared twice with different "
                                          "types or sizes — the file is corrupt");
        return storage;
    }

private:
    const std::string& m_path;
    Fetch m_fetch;
    std::map<std::string, torch::Tensor> m_storages;
};

// The largest element index a tensor touches must lie inside the elements its storage (view) provides, or the
// tensor would read memory outside the file's data.
void checkExtent(const TensorRef& ref, int64_t available, const std::string& name, const std::string& path)
{
    const auto fail = [&](const std::string& problem) {
        throw CheckpointError(path, "tensor '" + name + "' " + problem + " — the file is corrupt");
    };
    if (ref.offset < 0 || ref.offset > available)
        fail("starts outside its storage");
    uint64_t last = static_cast<uint64_t>(ref.offset);
    uint64_t elements = 1;   // of the non-empty dimensions: LibTorch refuses shapes whose product overflows even
                             // when another dimension is 0, so they are refused here, with the file named
    bool empty = false;
    for (size_t d = 0; d < ref.sizes.size(); ++d) {
        if (ref.sizes[d] < 0 || ref.strides[d] < 0)
            fail("has a negative size or stride");
        empty = empty || ref.sizes[d] == 0;
        uint64_t span = 0;
        if (ref.sizes[d] > 0 &&
            (c10::mul_overflows(elements, static_cast<uint64_t>(ref.sizes[d]), &elements) ||
             elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
             c10::mul_overflows(static_cast<uint64_t>(ref.sizes[d] - 1), static_cast<uint64_t>(ref.strides[d]),
                                &span) ||
             c10::add_overflows(last, span, &last) ||
             last > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
            fail("has an impossible size");
    }
    if (!empty && last >= static_cast<uint64_t>(available))
        fail("reaches past the end of its storage (element " + std::to_string(last) + " of " +
             std::to_string(available) + ")");
}

torch::Tensor buildTensor(const TensorRef& ref, StorageCache& cache, const std::string& name,
                          const std::string& path)
{
    const StorageRef& storage = *ref.storage->storage;
    checkExtent(ref, storage.viewNumel, name, path);
    return cache.get(storage).as_strided(ref.sizes, ref.strides, storage.viewOffset + ref.offset);
}

// ---- finding the state_dict ----

std::string listKeys(const Value& dict)
{
    std::string keys;
    for (size_t i = 0; i < dict.entries.size() && i < kKeysListedInErrors; ++i) {
        const Value* key = dict.entries[i].first;
        keys += (i ? ", " : "") +
                (key->kind == Kind::String ? "'" + printable(key->text) + "'" : pickle::kindName(key->kind));
    }
    return dict.entries.size() > kKeysListedInErrors ? keys + ", ..." : keys;
}

bool holdsTensors(const Value& dict)
{
    return std::any_of(dict.entries.begin(), dict.entries.end(),
                       [](const auto& entry) { return entry.second->kind == Kind::Tensor; });
}

const Value& findStateDict(const Value& root, const std::string& path)
{
    if (root.kind != Kind::Dict)
        throw CheckpointError(path, "holds a value of type " + pickle::kindName(root.kind) +
                                    ", not a state_dict — save the weights with "
                                    "torch.save(model.state_dict(), path)");
    if (holdsTensors(root))
        return root;
    for (const char* key : kNestedStateDictKeys) {
        const Value* nested = pickle::dictFind(root, key);
        if (nested && nested->kind == Kind::Dict)
            return *nested;
    }
    throw CheckpointError(path, "holds no state_dict: its top-level keys are " + listKeys(root) +
                                "; expected tensors or a dict of them under 'state_dict', 'model', "
                                "'state_dict_ema' or 'model_ema'");
}

NamedTensors collectStateDict(const Value& root, StorageCache& cache, const std::string& path)
{
    const Value& stateDict = findStateDict(root, path);
    NamedTensors tensors;
    tensors.reserve(stateDict.entries.size());
    for (const auto& [key, value] : stateDict.entries) {
        if (key->kind != Kind::String)
            throw CheckpointError(path, "the state_dict has a key of type " + pickle::kindName(key->kind) +
                                        "; expected parameter names");
        if (value->kind != Kind::Tensor)
            throw CheckpointError(path, "state_dict entry '" + printable(key->text) + "' is of type " +
                                        pickle::kindName(value->kind) + ", not a tensor");
        tensors.emplace_back(key->text, buildTensor(*value->tensor, cache, key->text, path));
    }
    if (tensors.empty())
        throw CheckpointError(path, "holds an empty state_dict");
    return tensors;
}

pickle::Pickle unpickleRecord(const at::DataPtr& data, size_t size, const std::string& path,
                              const std::string& part)
{
    return pickle::unpickle(static_cast<const uint8_t*>(data.get()), size, path, part);
}

// ---- zip ----

using caffe2::serialize::PyTorchStreamReader;

std::string describeZipError(const c10::Error& error)
{
    // "[enforce fail at inline_container.cc:129] . file in archive is not in a subdirectory: x": keep the reason.
    std::string message = error.what_without_backtrace();
    message = message.substr(0, message.find('\n'));
    const size_t reason = message.rfind("] . ");
    if (message.rfind("[enforce fail", 0) == 0 && reason != std::string::npos)
        message = message.substr(reason + 4);
    if (message.find("central directory") != std::string::npos)
        return "truncated: zip central directory not found — the file is incomplete, download it again";
    return "is not a readable torch.save zip archive (" + printable(message) + ") — the file is corrupt or "
           "incomplete, download it again";
}

// LibTorch's reader with the archive's central directory beside it: every record is checked against its directory
// entry (declared size, compression, place in the file) before getRecord allocates and inflates it.
class ZipArchive {
public:
    explicit ZipArchive(const std::string& path) : m_path(path), m_directory(path)
    {
        const uint64_t allowed = kMaxZipInflatedBaseBytes + kMaxZipInflationRatio * m_directory.fileSize();
        if (m_directory.totalUncompressed() > allowed)
            throw CheckpointError(path, "its zip records would inflate to " +
                                        describeBytes(m_directory.totalUncompressed()) + " from a " +
                                        describeBytes(m_directory.fileSize()) + " file, more than the limit (" +
                                        std::to_string(kMaxZipInflatedBaseBytes >> 20) + " MiB + " +
                                        std::to_string(kMaxZipInflationRatio) + "x the file): a zip bomb, not a "
                                        "torch.save file (torch.save stores records uncompressed)");
        try {
            m_reader = std::make_unique<PyTorchStreamReader>(path);
        } catch (const c10::Error& error) {
            throw CheckpointError(path, describeZipError(error));
        }
        // PyTorchStreamReader names every record relative to the folder of the archive's first entry.
        m_prefix = m_directory.firstName().substr(0, m_directory.firstName().find('/') + 1);
    }

    bool has(const std::string& name) { return m_reader->hasRecord(name); }

    // The record's bytes, exactly `expectedBytes` of them when given, at most `maxBytes`. The returned DataPtr owns
    // LibTorch's buffer: storages are built over it, never copied.
    std::pair<at::DataPtr, size_t> read(const std::string& name, std::optional<uint64_t> expectedBytes,
                                        uint64_t maxBytes, const std::string& needs)
    {
        const zip::Entry* entry = m_directory.find(m_prefix + name);
        if (!entry || !m_reader->hasRecord(name))
            throw CheckpointError(m_path, "record " + printable(name) + " is missing — the file is incomplete or "
                                          "corrupt, download it again");
        vet(*entry, name, expectedBytes, maxBytes, needs);
        auto [data, size] = m_reader->getRecord(name);
        return {std::move(data), size};
    }

private:
    void vet(const zip::Entry& entry, const std::string& name, std::optional<uint64_t> expectedBytes,
             uint64_t maxBytes, const std::string& needs)
    {
        const std::string record = "record " + printable(name);
        if (expectedBytes && entry.uncompressedSize != *expectedBytes)
            throw CheckpointError(m_path, record + " has " + std::to_string(entry.uncompressedSize) + " bytes but " +
                                          needs + " — the file is corrupt");
        if (entry.uncompressedSize > maxBytes)
            throw CheckpointError(m_path, record + " declares " + describeBytes(entry.uncompressedSize) + ", more " +
                                          "than the limit of " + describeBytes(maxBytes) + " for it; not a "
                                          "plausible checkpoint");
        if (entry.method == static_cast<uint16_t>(zip::Method::Stored)) {
            if (entry.compressedSize != entry.uncompressedSize)
                throw CheckpointError(m_path, record + " is stored uncompressed but declares two different sizes "
                                              "— the file is corrupt");
        } else if (entry.method != static_cast<uint16_t>(zip::Method::Deflated)) {
            throw CheckpointError(m_path, record + " uses zip compression method " + std::to_string(entry.method) +
                                          ", which this reader does not support (torch.save stores records "
                                          "uncompressed)");
        }
        // miniz and the directory read above must mean the same bytes, or the checks would be about another record.
        if (m_reader->getRecordOffset(name) != m_directory.dataOffset(entry))
            throw CheckpointError(m_path, record + " is listed ambiguously in the zip archive — the file is corrupt");
    }

    const std::string& m_path;
    zip::Directory m_directory;
    std::unique_ptr<PyTorchStreamReader> m_reader;
    std::string m_prefix;
};

torch::Tensor zipStorage(ZipArchive& archive, const StorageRef& ref, const std::string& path)
{
    const uint64_t bytes = storageBytes(ref, path);
    const std::string needs =
        "the pickle declares " + std::to_string(ref.numel) + " " + c10::toString(ref.dtype) + " elements";
    auto [data, size] = archive.read("data/" + ref.key, bytes, bytes, needs);
    const auto options = torch::TensorOptions().dtype(ref.dtype);
    if (size == 0)
        return torch::empty({ref.numel}, options);
    auto owner = std::make_shared<at::DataPtr>(std::move(data));
    void* pointer = owner->get();
    return torch::from_blob(pointer, {ref.numel}, [owner](void*) mutable { owner.reset(); }, options);
}

// torch >= 1.13 (for some writers 2.x) records the writer's byte order; older files are little-endian.
void checkByteOrder(ZipArchive& archive, const std::string& path)
{
    constexpr uint64_t kMaxByteOrderBytes = 16;
    if (!archive.has("byteorder"))
        return;
    const auto [data, size] = archive.read("byteorder", std::nullopt, kMaxByteOrderBytes, "");
    const std::string order(static_cast<const char*>(data.get()), size);
    if (order != "little")
        throw CheckpointError(path, "was saved on a " + printable(order) + "-endian machine; only little-endian "
                                    "files are supported — re-save it on a little-endian (x86, ARM) machine");
}

NamedTensors readZip(const std::string& path)
{
    ZipArchive archive(path);
    checkByteOrder(archive, path);
    if (archive.has("constants.pkl"))
        throw CheckpointError(path, "is a TorchScript archive (torch.jit.save), not a torch.save state_dict — "
                                    "save the weights with torch.save(model.state_dict(), path)");
    if (!archive.has("data.pkl"))
        throw CheckpointError(path, "is a zip archive without data.pkl, not a torch.save file");
    const uint64_t maxPickleBytes = kMaxZipInflatedBaseBytes + kMaxZipInflationRatio * std::filesystem::file_size(platform::pathFromUtf8(path));
    const auto [data, size] = archive.read("data.pkl", std::nullopt, maxPickleBytes, "");
    const pickle::Pickle pickled = unpickleRecord(data, size, path, "data.pkl");
    StorageCache cache(path, [&](const StorageRef& ref) { return zipStorage(archive, ref, path); });
    return collectStateDict(pickled.root(), cache, path);
}

// ---- legacy ----

// A sequence of pickles, each starting where the previous one stopped.
class PickleStream {
public:
    PickleStream(const std::vector<uint8_t>& bytes, const std::string& path) : m_bytes(bytes), m_path(path) {}
    pickle::Pickle next(const std::string& part)
    {
        pickle::Pickle pickled = pickle::unpickle(m_bytes.data() + m_pos, m_bytes.size() - m_pos, m_path, part);
        m_pos += pickled.bytesConsumed();
        return pickled;
    }
    size_t position() const { return m_pos; }

private:
    const std::vector<uint8_t>& m_bytes;
    const std::string& m_path;
    size_t m_pos = 0;
};

void checkLegacyPreamble(PickleStream& stream, const std::string& path)
{
    const pickle::Pickle magic = stream.next("the magic number");
    const Value& magicValue = magic.root();
    if (magicValue.kind != Kind::BigInt || magicValue.text.size() != kLegacyMagic.size() ||
        std::memcmp(magicValue.text.data(), kLegacyMagic.data(), kLegacyMagic.size()) != 0)
        throw CheckpointError(path, "is a pickle but not a torch.save file (wrong magic number) — only tensors "
                                    "saved with torch.save can be read");
    const pickle::Pickle protocol = stream.next("the protocol version");
    if (protocol.root().kind != Kind::Int || protocol.root().integer != kLegacyProtocolVersion)
        throw CheckpointError(path, "uses an unsupported legacy torch.save protocol version");
    const pickle::Pickle sysInfo = stream.next("the system info");
    const Value* littleEndian =
        sysInfo.root().kind == Kind::Dict ? pickle::dictFind(sysInfo.root(), "little_endian") : nullptr;
    if (littleEndian && littleEndian->kind == Kind::Bool && !littleEndian->boolean)
        throw CheckpointError(path, "was saved on a big-endian machine; only little-endian files are supported — "
                                    "re-save it on a little-endian (x86, ARM) machine");
}

struct LegacyRecord {
    size_t offset;   // of the first data byte in the file
    int64_t numel;
    c10::ScalarType dtype;
};

// After the storage key list, each storage in list order: int64 little-endian element count, then its bytes.
std::map<std::string, LegacyRecord> indexLegacyStorages(const std::vector<uint8_t>& file, size_t pos,
                                                        const Value& keys, const pickle::Pickle& main,
                                                        const std::string& path)
{
    // One dtype per storage key: the record's size below is computed with it, and every tensor on the storage must
    // read it with the same element size, or a copy would run past the record.
    std::map<std::string, c10::ScalarType> dtypes;
    for (const StorageRef* ref : main.storages()) {
        const auto [known, inserted] = dtypes.emplace(ref->key, ref->dtype);
        if (!inserted && known->second != ref->dtype)
            throw CheckpointError(path, "storage " + printable(ref->key) + " is declared as both " +
                                        c10::toString(known->second) + " and " + c10::toString(ref->dtype) +
                                        " — the file is corrupt");
    }
    if (keys.kind != Kind::List)
        throw CheckpointError(path, "the legacy storage key list is of type " + pickle::kindName(keys.kind) +
                                    " — the file is corrupt");
    std::map<std::string, LegacyRecord> records;
    for (const Value* key : keys.items) {
        const auto dtype = key->kind == Kind::String ? dtypes.find(key->text) : dtypes.end();
        if (dtype == dtypes.end())
            throw CheckpointError(path, "the legacy storage list names a storage the pickle does not use");
        if (file.size() - pos < sizeof(int64_t))
            throw CheckpointError(path, "truncated: storage " + printable(key->text) + " is cut off — the file is "
                                        "incomplete, download it again");
        const auto numel = static_cast<int64_t>(littleEndian64(reinterpret_cast<const char*>(&file[pos])));
        pos += sizeof(int64_t);
        const auto bytes = bytesOf(numel, dtype->second);
        if (!bytes || *bytes > file.size() - pos)
            throw CheckpointError(path, "truncated: storage " + printable(key->text) + " reaches past the end of "
                                        "the file — "
                                        "the file is incomplete, download it again");
        if (!records.emplace(key->text, LegacyRecord{pos, numel, dtype->second}).second)
            throw CheckpointError(path, "the legacy storage list names storage " + printable(key->text) +
                                        " twice — the file is corrupt");
        pos += static_cast<size_t>(*bytes);
    }
    return records;
}

NamedTensors readLegacy(const std::string& path)
{
    // The pickles have no length prefix, so the legacy format is read whole (it is rare; zip is the default
    // since PyTorch 1.6).
    const std::vector<uint8_t> file = readWholeFile(path);
    PickleStream stream(file, path);
    checkLegacyPreamble(stream, path);
    const pickle::Pickle main = stream.next("the main pickle");
    const pickle::Pickle keys = stream.next("the storage key list");
    const auto records = indexLegacyStorages(file, stream.position(), keys.root(), main, path);
    StorageCache cache(path, [&](const StorageRef& ref) {
        const auto record = records.find(ref.key);
        if (record == records.end() || record->second.numel != ref.numel || record->second.dtype != ref.dtype)
            throw CheckpointError(path, "storage " + printable(ref.key) + " is missing or has the wrong size or type "
                                        "— the file is corrupt");
        torch::Tensor storage = torch::empty({ref.numel}, torch::TensorOptions().dtype(ref.dtype));
        if (ref.numel > 0)
            std::memcpy(storage.data_ptr(), &file[record->second.offset], storageBytes(ref, path));
        return storage;
    });
    return collectStateDict(main.root(), cache, path);
}

} // namespace

CheckpointFormat detectCheckpointFormat(const std::string& path)
{
    const std::string head = readHead(path, kDetectBytes);
    if (head.empty())
        throw CheckpointError(path, "is empty — the download failed, download it again");
    if (startsWith(head, kZipMagic.data(), kZipMagic.size()))
        return CheckpointFormat::TorchZip;
    // Before the pickle test: a safetensors header length of 128 + 256k bytes starts with the PROTO byte too.
    if (looksLikeSafetensors(head))
        return CheckpointFormat::Safetensors;
    if (static_cast<uint8_t>(head[0]) == kPickleProto)
        return CheckpointFormat::TorchLegacy;
    if (startsWith(head, kTarMagic, sizeof(kTarMagic) - 1, kTarMagicOffset))
        throw CheckpointError(path, "is a tar-format torch.save file from the earliest PyTorch versions, which "
                                    "this reader does not support — load it in Python and re-save it with "
                                    "torch.save(state_dict, path)");
    const std::string hint = head[0] == '<' ? " (an HTML page: a failed download?)" : "";
    throw CheckpointError(path, "not a checkpoint: the file starts with " + preview(head) + hint +
                                "; expected a torch.save file (.pth, .pt) or safetensors — check that it is the "
                                "right file and completely downloaded");
}

NamedTensors readTorchSave(const std::string& path)
{
    return guardedRead(path, [&] {
        switch (detectCheckpointFormat(path)) {
        case CheckpointFormat::TorchZip: return readZip(path);
        case CheckpointFormat::TorchLegacy: return readLegacy(path);
        case CheckpointFormat::Safetensors: break;
        }
        throw CheckpointError(path, "is a safetensors file, not a torch.save file — read it as safetensors");
    });
}

NamedTensors readCheckpoint(const std::string& path)
{
    return guardedRead(path, [&] {
        if (detectCheckpointFormat(path) == CheckpointFormat::Safetensors)
            return readSafetensors(path);
        return readTorchSave(path);
    });
}

} // namespace efficientnet
