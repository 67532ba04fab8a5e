#pragma once
// Shared by the fuzz targets: the readers under test take paths (as the product calls them), so each input is
// written to one file per process in a RAM-backed folder and read back from there.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

namespace efficientnet::fuzz {

inline std::string inputPath(const char* extension)
{
    const char* dir = std::getenv("FUZZ_TMPDIR");
    static const std::string folder = dir && *dir ? dir : (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    return folder + "/efficientnet-fuzz-" + std::to_string(getpid()) + extension;
}

inline std::string writeInput(const uint8_t* data, std::size_t size, const char* extension)
{
    const std::string path = inputPath(extension);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path;
}

} // namespace efficientnet::fuzz
