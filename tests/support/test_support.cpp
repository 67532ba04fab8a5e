#include "test_support.h"

#include <fstream>
#include <stdexcept>

#include <QProcess>

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

CliRun runCli(const QStringList& args, const QProcessEnvironment& env)
{
    constexpr int kTimeoutMs = 300000;
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(EFFICIENTNET_CLI), args);
    if (!process.waitForFinished(kTimeoutMs))
        throw std::runtime_error("efficientnet-cli did not finish within 5 minutes");
    CliRun run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

} // namespace efficientnet::test
