// The allow-listed unpickler on raw bytes (a torch.save data.pkl or a legacy stream's pickles): any input ends in a
// CheckpointError or a value tree, within the memory budget of limits.h; nothing else may escape.
#include <cstddef>
#include <cstdint>

#include "checkpoint/pickle.h"
#include "efficientnet/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    try {
        const auto pickled = efficientnet::pickle::unpickle(data, size, "fuzz-input", "data.pkl");
        (void)pickled.root();
        (void)pickled.storages();
    } catch (const efficientnet::CheckpointError&) {
    }
    return 0;
}
