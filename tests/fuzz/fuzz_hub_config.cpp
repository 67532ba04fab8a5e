// A Hugging Face model folder's config.json (architecture, num_classes, pretrained_cfg, label_names), and the same
// bytes as the "preprocessing" JSON that convert stores in safetensors metadata.
#include <cstddef>
#include <cstdint>
#include <string>

#include "efficientnet/errors.h"
#include "efficientnet/transforms.h"
#include "fuzz_support.h"
#include "model/checkpoint_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    const std::string path = efficientnet::fuzz::writeInput(data, size, ".config.json");
    try {
        (void)efficientnet::readHubConfig(path);
    } catch (const efficientnet::CheckpointError&) {
    } catch (const efficientnet::ConfigError&) {   // a model name the config gives that does not exist
    }
    std::string problem;
    (void)efficientnet::preprocessingFromJson(std::string(reinterpret_cast<const char*>(data), size), problem);
    return 0;
}
