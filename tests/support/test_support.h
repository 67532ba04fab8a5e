#pragma once
// Helpers shared by the Qt Test executables: where the generated reference data lives, and reading its raw arrays.
#include <string>
#include <vector>

#include <QByteArray>
#include <QProcessEnvironment>
#include <QStringList>

namespace efficientnet::test {

// Directory the reference_data fixture writes into (tests/reference/make_reference.py).
std::string referencePath(const std::string& name);
std::string resourcesPath(const std::string& name);

// Reads a raw little-endian float32 file written by the reference generator (numpy .tofile()).
std::vector<float> readFloats(const std::string& path);

// Runs efficientnet-cli to completion (5 minutes at most). exitCode is -1 when it crashed.
struct CliRun {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};
CliRun runCli(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());

} // namespace efficientnet::test
