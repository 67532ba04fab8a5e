// efficientnet-cli download NAME: fetches a model's pretrained weights from the registry into the weights cache.
#include "commands.h"

#include "efficientnet/errors.h"

#ifdef EFFICIENTNET_HAVE_DOWNLOAD

#include <chrono>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "arguments.h"
#include "efficientnet/classifier.h"
#include "efficientnet/download.h"
#include "efficientnet/platform.h"
#include "efficientnet/printable.h"

namespace efficientnet::cli {
namespace {

constexpr const char* kRegistryFile = "weights_registry.json";
constexpr std::size_t kShownBytes = 1000;
constexpr auto kTerminalRefresh = std::chrono::milliseconds(200);   // often enough to look alive, not to flicker
constexpr int kLogPercentStep = 10;                                 // without a terminal: a line per 10 %...
constexpr std::uint64_t kLogBytesStep = std::uint64_t(32) << 20;    // ...or per 32 MiB while the size is unknown
constexpr double kBytesPerMiB = 1024.0 * 1024.0;

// Progress on stderr: one line updated in place on a terminal; occasional whole lines in logs, where carriage
// returns would pile up.
class ProgressReporter {
public:
    explicit ProgressReporter(std::string name)
        : m_name(std::move(name)), m_terminal(platform::stderrIsTerminal()) {}
    ~ProgressReporter() { finish(); }
    ProgressReporter(const ProgressReporter&) = delete;
    ProgressReporter& operator=(const ProgressReporter&) = delete;

    void update(std::uint64_t done, std::uint64_t total)
    {
        if (m_terminal)
            updateLine(done, total);
        else
            logStep(done, total);
    }

    // Ends the in-place line, so that what follows (an error included) starts on its own line.
    void finish()
    {
        if (m_lineOpen)
            std::cerr << "\n";
        m_lineOpen = false;
    }

private:
    std::string describe(std::uint64_t done, std::uint64_t total) const
    {
        std::ostringstream text;
        text << m_name << "  " << std::fixed << std::setprecision(1) << done / kBytesPerMiB;
        if (total > 0)
            text << " / " << total / kBytesPerMiB << " MiB  " << std::setw(3) << done * 100 / total << "%";
        else
            text << " MiB";
        return text.str();
    }

    void updateLine(std::uint64_t done, std::uint64_t total)
    {
        const auto now = std::chrono::steady_clock::now();
        const bool due = now - m_lastDraw >= kTerminalRefresh || done == total;   // the last state always shows
        if (m_lineOpen && (done == m_lastDone || !due))
            return;
        m_lastDraw = now;
        m_lastDone = done;
        std::cerr << "\r" << describe(done, total) << "\x1b[K" << std::flush;   // \x1b[K: clear the line's rest
        m_lineOpen = true;
    }

    void logStep(std::uint64_t done, std::uint64_t total)
    {
        const std::uint64_t step = total > 0 ? done * 100 / total / kLogPercentStep : done / kLogBytesStep;
        if (step == m_lastStep)
            return;
        m_lastStep = step;
        std::cerr << describe(done, total) << "\n";
    }

    std::string m_name;
    bool m_terminal;
    bool m_lineOpen = false;
    std::chrono::steady_clock::time_point m_lastDraw;
    std::uint64_t m_lastDone = 0;
    std::uint64_t m_lastStep = 0;
};

void reportUnverified(const WeightsDownload& entry, const DownloadResult& result)
{
    std::cerr << "WARNING: " << result.path << " is NOT VERIFIED: the registry has no SHA-256 for it ("
              << printable(entry.note, kShownBytes) << ").\nWARNING: its SHA-256 is " << result.sha256
              << "; compare it with a source you trust. Loading it is still safe (checkpoints are read without "
                 "running code from them), but it may not be the file you expect.\n";
}

void reportDone(const std::string& name, const WeightsDownload& entry, const DownloadResult& result,
                const std::string& cacheDir)
{
    if (result.alreadyPresent)
        std::cerr << "already in the cache; not downloaded again\n";
    else if (result.resumed)
        std::cerr << "resumed an earlier partial download\n";
    if (result.verified)
        std::cerr << "SHA-256 verified" << (entry.sha256IsPrefix ? " (against torch.hub's prefix " + entry.sha256 + ")" : "")
                  << "\n";
    else
        reportUnverified(entry, result);
    if (entry.model != name)
        std::cerr << "these are " << toString(entry.source) << " weights: classify with --model " << entry.model << "\n";
    if (cacheDir != weightsCacheDir())
        std::cerr << "classify looks in " << weightsCacheDir() << "; give --weights " << result.path
                  << " or set EFFICIENTNET_CACHE_DIR=" << cacheDir << "\n";
}

} // namespace

int runDownload(const std::vector<std::string>& argv)
{
    const Arguments args(argv, {"registry", "cache-dir", "source"}, {});
    if (args.positional().size() != 1)
        throw UsageError("download needs exactly one model NAME, e.g. efficientnet_b0");
    const std::string name = args.positional().front();
    const auto source = parseSourceOption(args.value("source"));
    const auto registry = readWeightsRegistry(args.value("registry", resourcesDir() + "/" + kRegistryFile));
    const WeightsDownload& entry = findDownload(registry, name, source);
    const std::string cacheDir = args.value("cache-dir", weightsCacheDir());

    std::cerr << name << ": " << entry.file << " (" << toString(entry.source) << " weights) from "
              << printable(entry.url, kShownBytes) << "\n";   // the registry's text, escaped
    ProgressReporter progress(entry.file);
    const auto result = downloadWeights(entry, cacheDir, [&progress](std::uint64_t done, std::uint64_t total) {
        progress.update(done, total);
    });
    progress.finish();
    reportDone(name, entry, result, cacheDir);
    std::cout << result.path << "\n";
    return kExitOk;
}

} // namespace efficientnet::cli

#else

namespace efficientnet::cli {

int runDownload(const std::vector<std::string>&)
{
    throw ConfigError("this efficientnet-cli was built without the download (libcurl or OpenSSL was missing); "
                      "fetch the file from its URL in resources/weights_registry.json into the weights cache, or "
                      "give it to classify with --weights FILE");
}

} // namespace efficientnet::cli

#endif
