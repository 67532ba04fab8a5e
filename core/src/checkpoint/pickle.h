#pragma once
// An allow-listed unpickler for the pickles inside torch.save files.
//
// Why an own unpickler:
// - LibTorch's torch::pickle_load returns None for a collections.OrderedDict (pytorch/pytorch#100741), and every
//   state_dict that torch.save writes is one, so it cannot read a torchvision checkpoint.
// - Python's pickle calls whatever global a file names (os.system, builtins.eval, ...). This reader calls nothing:
//   it resolves globals through a short allow-list of tensor and container types, turns the few allowed calls
//   (OrderedDict(), _rebuild_tensor_v2(...)) into plain data, and refuses everything else by name.
//
// The result is a small value tree that owns no tensor data: a tensor is a description (storage reference, offset,
// sizes, strides) that torch_save.cpp turns into a tensor after checking it against the storage it names.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/ScalarType.h>

namespace efficientnet::pickle {

enum class Kind { None, Bool, Int, BigInt, Float, String, Bytes, List, Tuple, Set, Dict, Global, Storage, Tensor };

struct Value;

// A storage named by a persistent id ('storage', FloatStorage, key, location, numel[, view_metadata]).
struct StorageRef {
    std::string key;             // zip: record "data/<key>"; legacy: key in the storage list after the main pickle
    c10::ScalarType dtype = c10::ScalarType::Float;
    int64_t numel = 0;           // elements in the whole storage
    int64_t viewOffset = 0;      // legacy storage views: the elements a tensor sees start here ...
    int64_t viewNumel = 0;       // ... and number this many (numel when there is no view)
};

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...), not yet checked against the storage.
struct TensorRef {
    const Value* storage = nullptr;   // Kind::Storage
    int64_t offset = 0;               // in elements, relative to the storage (view) start
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;
};

// One node of the value tree. Nodes are owned by the Pickle they came from and link to each other by plain
// pointers, so cyclic or very deep hostile pickles can neither leak nor overflow the stack on destruction.
struct Value {
    Kind kind = Kind::None;
    bool boolean = false;
    int64_t integer = 0;
    double real = 0.0;
    std::string text;                                // String, Bytes, BigInt (little-endian two's complement),
                                                     // Global ("module.name", always an allow-listed one)
    std::vector<Value*> items;                       // List, Tuple, Set
    std::vector<std::pair<Value*, Value*>> entries;  // Dict, in insertion order
    std::unique_ptr<StorageRef> storage;             // Storage
    std::unique_ptr<TensorRef> tensor;               // Tensor
};

// A parsed pickle: the value tree and how many bytes the pickle took (the legacy format stores several in a row).
class Pickle {
public:
    Pickle(std::vector<std::unique_ptr<Value>> values, const Value* root, size_t bytesConsumed)
        : m_values(std::move(values)), m_root(root), m_bytesConsumed(bytesConsumed) {}
    const Value& root() const { return *m_root; }
    size_t bytesConsumed() const { return m_bytesConsumed; }
    // Every storage the pickle names, reachable from the root or not (the legacy format stores them all).
    std::vector<const StorageRef*> storages() const
    {
        std::vector<const StorageRef*> refs;
        for (const auto& value : m_values)
            if (value->kind == Kind::Storage)
                refs.push_back(value->storage.get());
        return refs;
    }

private:
    std::vector<std::unique_ptr<Value>> m_values;
    const Value* m_root;
    size_t m_bytesConsumed;
};

// Parses one pickle from data[0, size) up to its STOP opcode. Throws CheckpointError(path, ...) naming `part`
// (e.g. "data.pkl") and the byte offset for malformed or truncated pickles, and naming the global for any global
// outside the allow-list.
Pickle unpickle(const uint8_t* data, size_t size, const std::string& path, const std::string& part);

// "int", "dict", "tensor", ... for error messages.
std::string kindName(Kind kind);

// The value under a string key of a Dict, or nullptr.
const Value* dictFind(const Value& dict, const std::string& key);

} // namespace efficientnet::pickle
