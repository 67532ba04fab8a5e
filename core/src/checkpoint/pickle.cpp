// Allow-listed unpickler: see pickle.h for why the project does not use Python's pickle or torch::pickle_load.
// Opcode semantics follow CPython's Lib/pickle.py (_Unpickler) and Lib/pickletools.py, protocols 2 to 5.
#include "checkpoint/pickle.h"

#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "common/untrusted.h"
#include "efficientnet/errors.h"
#include "efficientnet/limits.h"

namespace efficientnet::pickle {
namespace {

// A b7 state_dict is ~40k values; training checkpoints with optimizer state a few times more. Memory is bounded by
// the budget in limits.h (kPickleMemory*); the count is a second, cheaper bound.
constexpr size_t kMaxValues = kMaxPickleValues;
// What each structure costs against the budget, close to what it takes on the heap (node, pointers, allocator).
constexpr uint64_t kValueCost = sizeof(Value) + 2 * sizeof(void*) + 16;
constexpr uint64_t kSlotCost = sizeof(void*);
constexpr uint64_t kEntryCost = 2 * sizeof(void*);
constexpr uint64_t kHashNodeCost = 48;   // an unordered_map node with its bucket
constexpr int kHighestProtocol = 5;
// LONG1/LONG4 integers: the largest a torch.save file holds is the legacy format's 10-byte magic number.
constexpr size_t kMaxLongBytes = 64;
// torch allows at most 64 dimensions (at::kMaxDims style limit); anything beyond is not a real tensor.
constexpr size_t kMaxTensorDims = 64;

// Opcode bytes (CPython Lib/pickle.py).
namespace op {
constexpr uint8_t MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J', BININT1 = 'K',
                  BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T',
                  SHORT_BINSTRING = 'U', BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd',
                  EMPTY_DICT = '}', APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']',
                  BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u',
                  BINFLOAT = 'G', BINBYTES = 'B', SHORT_BINBYTES = 'C';
constexpr uint8_t PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88,
                  NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d,
                  BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, STACK_GLOBAL = 0x93,
                  MEMOIZE = 0x94, FRAME = 0x95;
} // namespace op

// What an allowed global may be used for. Nothing here runs code: each role is interpreted as data below.
enum class Role {
    OrderedDict,      // collections.OrderedDict(): an empty or pre-filled dict
    RebuildTensor,    // torch._utils._rebuild_tensor[_v2](storage, offset, size, stride, ...)
    RebuildParameter, // torch._utils._rebuild_parameter[_with_state](tensor, requires_grad, hooks[, state])
    StorageType,      // torch.FloatStorage etc.: only names a dtype inside a persistent id
    Constant,         // torch.float32, torch.strided: opaque values that may appear in metadata
};

struct AllowedGlobal {
    const char* module;
    const char* name;
    Role role;
    c10::ScalarType dtype;
};

using ST = c10::ScalarType;
constexpr AllowedGlobal kAllowedGlobals[] = {
    {"collections", "OrderedDict", Role::OrderedDict, ST::Undefined},
    {"torch._utils", "_rebuild_tensor_v2", Role::RebuildTensor, ST::Undefined},
    {"torch._utils", "_rebuild_tensor", Role::RebuildTensor, ST::Undefined},  // torch < 0.4 files
    {"torch._utils", "_rebuild_parameter", Role::RebuildParameter, ST::Undefined},
    {"torch._utils", "_rebuild_parameter_with_state", Role::RebuildParameter, ST::Undefined},
    {"torch", "FloatStorage", Role::StorageType, ST::Float},
    {"torch", "DoubleStorage", Role::StorageType, ST::Double},
    {"torch", "HalfStorage", Role::StorageType, ST::Half},
    {"torch", "BFloat16Storage", Role::StorageType, ST::BFloat16},
    {"torch", "LongStorage", Role::StorageType, ST::Long},
    {"torch", "IntStorage", Role::StorageType, ST::Int},
    {"torch", "ShortStorage", Role::StorageType, ST::Short},
    {"torch", "CharStorage", Role::StorageType, ST::Char},
    {"torch", "ByteStorage", Role::StorageType, ST::Byte},
    {"torch", "BoolStorage", Role::StorageType, ST::Bool},
    {"torch", "float32", Role::Constant, ST::Float},
    {"torch", "float64", Role::Constant, ST::Double},
    {"torch", "float16", Role::Constant, ST::Half},
    {"torch", "bfloat16", Role::Constant, ST::BFloat16},
    {"torch", "int64", Role::Constant, ST::Long},
    {"torch", "int32", Role::Constant, ST::Int},
    {"torch", "int16", Role::Constant, ST::Short},
    {"torch", "int8", Role::Constant, ST::Char},
    {"torch", "uint8", Role::Constant, ST::Byte},
    {"torch", "bool", Role::Constant, ST::Bool},
    {"torch", "strided", Role::Constant, ST::Undefined},
};

const AllowedGlobal* findAllowed(const std::string& qualifiedName)
{
    for (const auto& allowed : kAllowedGlobals)
        if (qualifiedName == std::string(allowed.module) + "." + allowed.name)
            return &allowed;
    return nullptr;
}

// Pickles name os.system as posix.system (nt.system on Windows) and Python 2 builtins as __builtin__; say both so
// the user recognises the call.
std::string displayName(const std::string& module, const std::string& name)
{
    const std::string raw = printable(module + "." + name);
    if (module == "posix" || module == "nt")
        return raw + " (os." + printable(name) + ")";
    if (module == "__builtin__")
        return raw + " (builtins." + printable(name) + ")";
    return raw;
}

std::string hexByte(uint8_t byte)
{
    constexpr char kDigits[] = "0123456789abcdef";
    return std::string("0x") + kDigits[byte >> 4] + kDigits[byte & 0xf];
}

class Unpickler {
public:
    Unpickler(const uint8_t* data, size_t size, const std::string& path, const std::string& part)
        : m_data(data), m_size(size), m_path(path), m_part(part)
    {
    }

    Pickle run()
    {
        while (true) {
            m_opcodeOffset = m_pos;
            if (!step(readByte()))
                break;
        }
        if (m_stack.empty())
            fail("malformed: STOP with an empty stack");
        const Value* root = m_stack.back();
        return Pickle(std::move(m_values), root, m_pos);
    }

private:
    [[noreturn]] void fail(const std::string& problem) const
    {
        throw CheckpointError(m_path, problem + " (in " + m_part + " at byte " + std::to_string(m_opcodeOffset) + ")");
    }

    // ---- reading, every read checked against the end of the buffer ----
    const uint8_t* readBytes(uint64_t count)
    {
        if (count > m_size - m_pos)
            fail("truncated: the pickle needs " + std::to_string(count) + " more bytes but only " +
                 std::to_string(m_size - m_pos) + " remain — the file is incomplete, download it again");
        const uint8_t* bytes = m_data + m_pos;
        m_pos += static_cast<size_t>(count);
        return bytes;
    }
    uint8_t readByte() { return *readBytes(1); }
    uint64_t readUnsigned(size_t width)   // little-endian
    {
        const uint8_t* bytes = readBytes(width);
        uint64_t value = 0;
        for (size_t i = width; i-- > 0;)
            value = (value << 8) | bytes[i];
        return value;
    }
    std::string readString(uint64_t length)
    {
        const uint8_t* bytes = readBytes(length);
        return std::string(reinterpret_cast<const char*>(bytes), static_cast<size_t>(length));
    }
    std::string readLine()   // GLOBAL's text arguments
    {
        if (m_pos >= m_size)
            fail("truncated: a GLOBAL name is cut off");
        const void* newline = std::memchr(m_data + m_pos, '\n', m_size - m_pos);
        if (!newline)
            fail("truncated: a GLOBAL name has no end of line");
        const size_t length = static_cast<const uint8_t*>(newline) - (m_data + m_pos);
        std::string line = readString(length);
        m_pos += 1;
        return line;
    }

    // ---- values and the stack ----
    // Every allocation is charged against a budget that grows with the pickle bytes read so far, so no sequence of
    // opcodes (memoised containers copied by calls, repeated keys, DUP) can buy more memory than its own size pays for.
    void charge(uint64_t bytes)
    {
        const uint64_t budget = kPickleMemoryBaseBytes + kPickleMemoryPerPickleByte * m_pos;
        const uint64_t transient = kSlotCost * (m_stack.size() + m_marks.size());
        if (bytes > budget || m_charged + transient > budget - bytes)
            fail("the pickle would need more than " + std::to_string(budget >> 20) + " MiB to unpickle (the limit "
                 "is " + std::to_string(kPickleMemoryBaseBytes >> 20) + " MiB + " +
                 std::to_string(kPickleMemoryPerPickleByte) + " bytes per pickle byte); not a plausible checkpoint");
        m_charged += bytes;
    }
    Value* make(Kind kind)
    {
        if (m_values.size() >= kMaxValues)
            fail("the pickle holds more than " + std::to_string(kMaxValues) + " objects; not a plausible checkpoint");
        charge(kValueCost);
        m_values.push_back(std::make_unique<Value>());
        m_values.back()->kind = kind;
        return m_values.back().get();
    }
    Value* makeInt(int64_t number)
    {
        Value* value = make(Kind::Int);
        value->integer = number;
        return value;
    }
    Value* makeText(Kind kind, std::string text)
    {
        // Strings are immutable in Python, so equal strings may share one value: dict keys then compare by pointer
        // (a memoised key reused a million times costs nothing extra, in memory or in time).
        if (kind == Kind::String) {
            const auto found = m_strings.find(text);
            if (found != m_strings.end())
                return found->second;
        }
        charge(text.size() + (kind == Kind::String ? kHashNodeCost : 0));
        Value* value = make(kind);
        value->text = std::move(text);
        if (kind == Kind::String)
            m_strings.emplace(value->text, value);
        return value;
    }
    void push(Value* value)
    {
        if (m_stack.size() >= kMaxValues)
            fail("the pickle stack grows past " + std::to_string(kMaxValues) + " entries; not a plausible checkpoint");
        m_stack.push_back(value);
    }
    Value* pop()
    {
        if (m_stack.empty() || (!m_marks.empty() && m_marks.back() == m_stack.size()))
            fail("malformed: pops from an empty stack");
        Value* value = m_stack.back();
        m_stack.pop_back();
        return value;
    }
    Value* top()
    {
        if (m_stack.empty() || (!m_marks.empty() && m_marks.back() == m_stack.size()))
            fail("malformed: reads an empty stack");
        return m_stack.back();
    }
    void pushMark()
    {
        if (m_marks.size() >= kMaxPickleNesting)
            fail("nests more than " + std::to_string(kMaxPickleNesting) + " MARKs; not a plausible checkpoint");
        m_marks.push_back(m_stack.size());
    }
    std::vector<Value*> popToMark()
    {
        if (m_marks.empty())
            fail("malformed: no MARK on the stack");
        const size_t mark = m_marks.back();
        m_marks.pop_back();
        std::vector<Value*> items(m_stack.begin() + static_cast<std::ptrdiff_t>(mark), m_stack.end());
        m_stack.resize(mark);
        return items;
    }
    Value* makeSequence(Kind kind, std::vector<Value*> items)
    {
        charge(kSlotCost * items.size());
        Value* value = make(kind);
        value->items = std::move(items);
        return value;
    }
    void memoPut(uint64_t index)
    {
        if (m_memo.size() >= kMaxValues)
            fail("the pickle memo grows past " + std::to_string(kMaxValues) + " entries; not a plausible checkpoint");
        Value* value = top();
        const auto [slot, inserted] = m_memo.try_emplace(index, value);
        if (inserted)
            charge(kHashNodeCost);
        else
            slot->second = value;
    }
    void memoGet(uint64_t index)
    {
        const auto found = m_memo.find(index);
        if (found == m_memo.end())
            fail("malformed: memo entry " + std::to_string(index) + " was never stored");
        push(found->second);
    }

    // ---- containers ----
    Value* expect(Value* value, Kind kind, const char* opcodeName)
    {
        if (value->kind != kind)
            fail(std::string("malformed: ") + opcodeName + " on a " + kindName(value->kind) + ", expected a " +
                 kindName(kind));
        return value;
    }
    void setItem(Value* dict, Value* key, Value* value)
    {
        // Python dicts keep the last value of a repeated key; keep that for string keys (the only ones a
        // state_dict has) so a file cannot list one tensor name twice.
        // String values are interned (makeText), so the index holds pointers, never copies of the keys.
        if (key->kind == Kind::String) {
            auto& index = m_dictIndex[dict];
            const auto found = index.find(key);
            if (found != index.end()) {
                dict->entries[found->second].second = value;
                return;
            }
            charge(kHashNodeCost);
            index.emplace(key, dict->entries.size());
        }
        charge(kEntryCost);
        dict->entries.emplace_back(key, value);
    }
    void setItems(Value* dict, const std::vector<Value*>& items)
    {
        if (items.size() % 2 != 0)
            fail("malformed: SETITEMS with an odd number of keys and values");
        for (size_t i = 0; i < items.size(); i += 2)
            setItem(dict, items[i], items[i + 1]);
    }
    void appendItems(Value* list, const std::vector<Value*>& items, Kind kind, const char* opcodeName)
    {
        expect(list, kind, opcodeName);
        charge(kSlotCost * items.size());
        list->items.insert(list->items.end(), items.begin(), items.end());
    }

    // ---- integers ----
    Value* makeLong(uint64_t byteCount)
    {
        if (byteCount > kMaxLongBytes)
            fail("malformed: an integer of " + std::to_string(byteCount) + " bytes");
        const uint8_t* bytes = readBytes(byteCount);
        if (byteCount > sizeof(int64_t))
            return makeText(Kind::BigInt, std::string(reinterpret_cast<const char*>(bytes), byteCount));
        uint64_t raw = 0;
        for (size_t i = byteCount; i-- > 0;)
            raw = (raw << 8) | bytes[i];
        const bool negative = byteCount > 0 && (bytes[byteCount - 1] & 0x80);
        if (negative && byteCount < sizeof(int64_t))
            raw |= ~uint64_t{0} << (8 * byteCount);   // sign-extend
        int64_t number = 0;
        std::memcpy(&number, &raw, sizeof(number));
        return makeInt(number);
    }
    double readBigEndianDouble()
    {
        const uint8_t* bytes = readBytes(sizeof(double));
        uint64_t raw = 0;
        for (size_t i = 0; i < sizeof(double); ++i)
            raw = (raw << 8) | bytes[i];
        double number = 0;
        std::memcpy(&number, &raw, sizeof(number));
        return number;
    }

    // ---- globals and calls: the security boundary ----
    Value* loadGlobal(const std::string& module, const std::string& name)
    {
        const std::string qualified = module + "." + name;
        if (!findAllowed(qualified))
            fail("refuses to load: the pickle references " + displayName(module, name) +
                 ", which is not a tensor or container type; loading it could execute code. Only tensors and "
                 "containers are read; if you trust the file, re-save its state_dict in Python "
                 "(torch.save(model.state_dict(), path)) or convert it to safetensors");
        return makeText(Kind::Global, qualified);
    }
    const AllowedGlobal& callable(const Value* value, const char* opcodeName)
    {
        if (value->kind != Kind::Global)
            fail(std::string("malformed: ") + opcodeName + " calls a " + kindName(value->kind));
        return *findAllowed(value->text);
    }
    Value* call(const Value* function, const Value* args, const char* opcodeName)
    {
        const AllowedGlobal& allowed = callable(function, opcodeName);
        if (args->kind != Kind::Tuple)
            fail(std::string("malformed: ") + opcodeName + " with " + kindName(args->kind) + " arguments");
        switch (allowed.role) {
        case Role::OrderedDict: return orderedDict(args->items);
        case Role::RebuildTensor: return rebuildTensor(args->items);
        case Role::RebuildParameter: return rebuildParameter(args->items);
        default:
            fail("refuses to call " + function->text + ": it is allowed as a name, not as a function");
        }
    }
    Value* orderedDict(const std::vector<Value*>& args)
    {
        Value* dict = make(Kind::Dict);
        if (args.empty())
            return dict;
        if (args.size() != 1 || args[0]->kind != Kind::List)
            fail("malformed: OrderedDict() with arguments other than a list of pairs");
        for (const Value* pair : args[0]->items) {
            if (pair->kind != Kind::Tuple || pair->items.size() != 2)
                fail("malformed: OrderedDict() with an item that is not a (key, value) pair");
            setItem(dict, pair->items[0], pair->items[1]);
        }
        return dict;
    }
    std::vector<int64_t> intTuple(const Value* value, const char* what)
    {
        if (value->kind != Kind::Tuple || value->items.size() > kMaxTensorDims)
            fail(std::string("malformed tensor: ") + what + " is not a tuple of at most " +
                 std::to_string(kMaxTensorDims) + " integers");
        std::vector<int64_t> numbers;
        for (const Value* item : value->items) {
            if (item->kind != Kind::Int)
                fail(std::string("malformed tensor: ") + what + " holds a " + kindName(item->kind));
            numbers.push_back(item->integer);
        }
        return numbers;
    }
    Value* rebuildTensor(const std::vector<Value*>& args)
    {
        constexpr size_t kStorage = 0, kOffset = 1, kSize = 2, kStride = 3, kMinArgs = 4;
        if (args.size() < kMinArgs || args[kStorage]->kind != Kind::Storage || args[kOffset]->kind != Kind::Int)
            fail("malformed tensor: _rebuild_tensor_v2 needs (storage, offset, size, stride, ...)");
        auto ref = std::make_unique<TensorRef>();
        ref->storage = args[kStorage];
        ref->offset = args[kOffset]->integer;
        ref->sizes = intTuple(args[kSize], "size");
        ref->strides = intTuple(args[kStride], "stride");
        if (ref->sizes.size() != ref->strides.size())
            fail("malformed tensor: size and stride have different lengths");
        Value* tensor = make(Kind::Tensor);
        tensor->tensor = std::move(ref);
        return tensor;
    }
    Value* rebuildParameter(const std::vector<Value*>& args)
    {
        // nn.Parameter(data, requires_grad): the data is the tensor; gradients and hooks do not matter for weights.
        if (args.empty() || args[0]->kind != Kind::Tensor)
            fail("malformed: _rebuild_parameter without a tensor");
        return args[0];
    }

    // ('storage', torch.FloatStorage, key, location, numel[, view_metadata]): torch/serialization.py persistent_id.
    Value* persistentStorage(const Value* pid)
    {
        constexpr size_t kTypeName = 0, kStorageType = 1, kKey = 2, kNumel = 4, kView = 5, kZipFields = 5;
        const auto& f = pid->items;
        if (pid->kind != Kind::Tuple || f.size() < kZipFields || f[kTypeName]->kind != Kind::String ||
            f[kTypeName]->text != "storage")
            fail("unsupported persistent id: expected ('storage', type, key, location, numel)");
        if (f[kStorageType]->kind != Kind::Global || findAllowed(f[kStorageType]->text)->role != Role::StorageType)
            fail("unsupported persistent id: the storage type is not a torch.*Storage");
        if (f[kKey]->kind != Kind::String || f[kNumel]->kind != Kind::Int || f[kNumel]->integer < 0)
            fail("malformed persistent id: the key is not a string or numel not a non-negative integer");
        auto ref = std::make_unique<StorageRef>();
        ref->key = f[kKey]->text;
        ref->dtype = findAllowed(f[kStorageType]->text)->dtype;
        ref->numel = f[kNumel]->integer;
        ref->viewNumel = ref->numel;
        if (f.size() > kView && f[kView]->kind != Kind::None)
            applyLegacyView(*ref, f[kView]);
        Value* storage = make(Kind::Storage);
        storage->storage = std::move(ref);
        return storage;
    }
    // Legacy files could pickle a view of a storage: (view_key, offset, view_size), in elements.
    void applyLegacyView(StorageRef& ref, const Value* view)
    {
        if (view->kind != Kind::Tuple || view->items.size() != 3 || view->items[1]->kind != Kind::Int ||
            view->items[2]->kind != Kind::Int)
            fail("malformed persistent id: storage view metadata is not (key, offset, size)");
        const int64_t offset = view->items[1]->integer;
        const int64_t count = view->items[2]->integer;
        if (offset < 0 || count < 0 || offset > ref.numel || count > ref.numel - offset)
            fail("malformed persistent id: a storage view reaches past its storage");
        ref.viewOffset = offset;
        ref.viewNumel = count;
    }

    void build()
    {
        pop();   // the state: OrderedDict._metadata, a Parameter's __dict__; nothing a weight needs
        const Value* object = top();
        if (object->kind != Kind::Dict && object->kind != Kind::Tensor)
            fail("malformed: BUILD on a " + kindName(object->kind));
    }

    // Executes one opcode; false at STOP.
    bool step(uint8_t opcode)
    {
        switch (opcode) {
        case op::PROTO: {
            const uint8_t protocol = readByte();
            if (protocol > kHighestProtocol)
                fail("pickle protocol " + std::to_string(protocol) + " is newer than this reader (up to 5)");
            return true;
        }
        case op::FRAME: {
            const uint64_t frameLength = readUnsigned(8);   // framing is only a read-ahead hint
            if (frameLength > m_size - m_pos)
                fail("truncated: a pickle frame of " + std::to_string(frameLength) + " bytes reaches past the end");
            return true;
        }
        case op::STOP: return false;
        case op::MARK: pushMark(); return true;
        case op::POP:
            if (!m_marks.empty() && m_marks.back() == m_stack.size())
                m_marks.pop_back();   // Python's POP discards a MARK on top of the stack
            else
                pop();
            return true;
        case op::POP_MARK: popToMark(); return true;
        case op::DUP: push(top()); return true;
        case op::NONE: push(make(Kind::None)); return true;
        case op::NEWTRUE:
        case op::NEWFALSE: {
            Value* value = make(Kind::Bool);
            value->boolean = opcode == op::NEWTRUE;
            push(value);
            return true;
        }
        case op::BININT: {
            const auto raw = static_cast<uint32_t>(readUnsigned(4));
            int32_t number = 0;
            std::memcpy(&number, &raw, sizeof(number));
            push(makeInt(number));
            return true;
        }
        case op::BININT1: push(makeInt(static_cast<int64_t>(readUnsigned(1)))); return true;
        case op::BININT2: push(makeInt(static_cast<int64_t>(readUnsigned(2)))); return true;
        case op::LONG1: push(makeLong(readUnsigned(1))); return true;
        case op::LONG4: {
            const auto length = static_cast<int32_t>(static_cast<uint32_t>(readUnsigned(4)));
            if (length < 0)
                fail("malformed: LONG4 with a negative length");
            push(makeLong(static_cast<uint64_t>(length)));
            return true;
        }
        case op::BINFLOAT: {
            Value* value = make(Kind::Float);
            value->real = readBigEndianDouble();
            push(value);
            return true;
        }
        case op::SHORT_BINUNICODE: push(makeText(Kind::String, readString(readUnsigned(1)))); return true;
        case op::BINUNICODE: push(makeText(Kind::String, readString(readUnsigned(4)))); return true;
        case op::BINUNICODE8: push(makeText(Kind::String, readString(readUnsigned(8)))); return true;
        case op::SHORT_BINSTRING: push(makeText(Kind::String, readString(readUnsigned(1)))); return true;
        case op::BINSTRING: {
            const auto length = static_cast<int32_t>(static_cast<uint32_t>(readUnsigned(4)));
            if (length < 0)
                fail("malformed: BINSTRING with a negative length");
            push(makeText(Kind::String, readString(static_cast<uint64_t>(length))));
            return true;
        }
        case op::SHORT_BINBYTES: push(makeText(Kind::Bytes, readString(readUnsigned(1)))); return true;
        case op::BINBYTES: push(makeText(Kind::Bytes, readString(readUnsigned(4)))); return true;
        case op::BINBYTES8: push(makeText(Kind::Bytes, readString(readUnsigned(8)))); return true;
        case op::EMPTY_DICT: push(make(Kind::Dict)); return true;
        case op::EMPTY_LIST: push(make(Kind::List)); return true;
        case op::EMPTY_TUPLE: push(make(Kind::Tuple)); return true;
        case op::EMPTY_SET: push(make(Kind::Set)); return true;
        case op::TUPLE: push(makeSequence(Kind::Tuple, popToMark())); return true;
        case op::TUPLE1:
        case op::TUPLE2:
        case op::TUPLE3: {
            std::vector<Value*> items(static_cast<size_t>(opcode - op::TUPLE1 + 1));
            for (size_t i = items.size(); i-- > 0;)
                items[i] = pop();
            push(makeSequence(Kind::Tuple, std::move(items)));
            return true;
        }
        case op::LIST: push(makeSequence(Kind::List, popToMark())); return true;
        case op::FROZENSET: push(makeSequence(Kind::Set, popToMark())); return true;
        case op::DICT: {
            Value* dict = make(Kind::Dict);
            setItems(dict, popToMark());
            push(dict);
            return true;
        }
        case op::APPEND: {
            Value* item = pop();
            appendItems(top(), {item}, Kind::List, "APPEND");
            return true;
        }
        case op::APPENDS: {
            const auto items = popToMark();
            appendItems(top(), items, Kind::List, "APPENDS");
            return true;
        }
        case op::ADDITEMS: {
            const auto items = popToMark();
            appendItems(top(), items, Kind::Set, "ADDITEMS");
            return true;
        }
        case op::SETITEM: {
            Value* value = pop();
            Value* key = pop();
            setItem(expect(top(), Kind::Dict, "SETITEM"), key, value);
            return true;
        }
        case op::SETITEMS: {
            const auto items = popToMark();
            setItems(expect(top(), Kind::Dict, "SETITEMS"), items);
            return true;
        }
        case op::BINPUT: memoPut(readUnsigned(1)); return true;
        case op::LONG_BINPUT: memoPut(readUnsigned(4)); return true;
        case op::MEMOIZE: memoPut(m_memo.size()); return true;
        case op::BINGET: memoGet(readUnsigned(1)); return true;
        case op::LONG_BINGET: memoGet(readUnsigned(4)); return true;
        case op::GLOBAL: {
            const std::string module = readLine();
            const std::string name = readLine();
            push(loadGlobal(module, name));
            return true;
        }
        case op::STACK_GLOBAL: {
            const Value* name = pop();
            const Value* module = pop();
            if (module->kind != Kind::String || name->kind != Kind::String)
                fail("malformed: STACK_GLOBAL without a module and a name");
            push(loadGlobal(module->text, name->text));
            return true;
        }
        case op::REDUCE:
        case op::NEWOBJ: {
            const char* opcodeName = opcode == op::REDUCE ? "REDUCE" : "NEWOBJ";
            const Value* args = pop();
            const Value* function = pop();
            push(call(function, args, opcodeName));
            return true;
        }
        case op::BUILD: build(); return true;
        case op::BINPERSID: push(persistentStorage(pop())); return true;
        default:
            fail("unsupported pickle opcode " + hexByte(opcode) +
                 " — the file is corrupt or not written by torch.save");
        }
    }

    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
    size_t m_opcodeOffset = 0;
    const std::string& m_path;
    const std::string& m_part;
    std::vector<std::unique_ptr<Value>> m_values;
    std::vector<Value*> m_stack;
    std::vector<size_t> m_marks;   // stack heights at each MARK
    std::unordered_map<uint64_t, Value*> m_memo;
    std::unordered_map<const Value*, std::unordered_map<const Value*, size_t>> m_dictIndex;   // string key -> entry
    std::unordered_map<std::string_view, Value*> m_strings;   // interned String values, viewing their own text
    uint64_t m_charged = 0;                                   // bytes charged against the budget
};

} // namespace

Pickle unpickle(const uint8_t* data, size_t size, const std::string& path, const std::string& part)
{
    return Unpickler(data, size, path, part).run();
}

std::string kindName(Kind kind)
{
    switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "big int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Set: return "set";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
    }
    return "value";
}

const Value* dictFind(const Value& dict, const std::string& key)
{
    for (const auto& [entryKey, value] : dict.entries)
        if (entryKey->kind == Kind::String && entryKey->text == key)
            return value;
    return nullptr;
}

} // namespace efficientnet::pickle
