#pragma once
// Helpers shared by the Qt Test executables: where the generated reference data lives, and reading its raw arrays.
#include <string>
#include <vector>

namespace efficientnet::test {

// Directory the reference_data fixture writes into (tests/reference/make_reference.py).
std::string referencePath(const std::string& name);
std::string resourcesPath(const std::string& name);

// Reads a raw little-endian float32 file written by the reference generator (numpy .tofile()).
std::vector<float> readFloats(const std::string& path);

} // namespace efficientnet::test
