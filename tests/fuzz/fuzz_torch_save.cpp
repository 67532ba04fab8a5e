// torch.save files (zip and legacy; the seed corpus decides which one a run explores) through readTorchSave, the
// product's path: format detection, zip directory checks, LibTorch's reader, the unpickler, tensors from storages.
#include <cstddef>
#include <cstdint>

#include "efficientnet/checkpoint.h"
#include "efficientnet/errors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const std::string path = efficientnet::fuzz::writeInput(data, size, ".pth");
    try {
        (void)efficientnet::readTorchSave(path);
    } catch (const efficientnet::CheckpointError&) {
    }
    return 0;
}
