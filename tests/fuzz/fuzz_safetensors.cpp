// safetensors files through readSafetensors: header length, bounded JSON, entries against the data section.
#include <cstddef>
#include <cstdint>

#include "efficientnet/checkpoint.h"
#include "efficientnet/errors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const std::string path = efficientnet::fuzz::writeInput(data, size, ".safetensors");
    try {
        (void)efficientnet::readSafetensors(path);
    } catch (const efficientnet::CheckpointError&) {
    }
    return 0;
}
