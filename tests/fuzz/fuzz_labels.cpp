// Class-name files (--labels, sidecars): text, a JSON list, {"0": ...}, or label_names / id2label objects.
#include <cstddef>
#include <cstdint>

#include "efficientnet/checkpoint_info.h"
#include "efficientnet/errors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const std::string path = efficientnet::fuzz::writeInput(data, size, ".labels");
    try {
        (void)efficientnet::readLabelsFile(path);
    } catch (const efficientnet::ConfigError&) {
    }
    return 0;
}
