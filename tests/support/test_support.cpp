#include "test_support.h"

#include <fstream>
#include <stdexcept>

namespace efficientnet::test {

std::string referencePath(const std::string& name) { return std::string(EFFICIENTNET_REFERENCE_DIR) + "/" + name; }
std::string resourcesPath(const std::string& name) { return std::string(EFFICIENTNET_RESOURCES_DIR) + "/" + name; }

std::vector<float> readFloats(const std::string& path)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in)
        throw std::runtime_error("cannot open reference file " + path + " (did the reference_data fixture run?)");
    const auto bytes = static_cast<size_t>(in.tellg());
    std::vector<float> values(bytes / sizeof(float));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
    return values;
}

} // namespace efficientnet::test
