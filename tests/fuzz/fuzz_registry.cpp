// The weights registry (resources/weights_registry.json or --registry FILE): bounded JSON, then the schema checks.
#include <cstddef>
#include <cstdint>

#include "efficientnet/download.h"
#include "efficientnet/errors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const std::string path = efficientnet::fuzz::writeInput(data, size, ".json");
    try {
        (void)efficientnet::readWeightsRegistry(path);
    } catch (const efficientnet::ConfigError&) {
    }
    return 0;
}
