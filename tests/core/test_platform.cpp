// The platform layer (efficientnet/platform.h) on the platform it runs on: Linux in CI, Windows in the Windows
// workflow (where it is the test that proves the Win32 halves). A plain executable (no Qt, no torch): CTest runs it as
//   test_platform --captured "José 日本 📷"
// so that it can check the arguments arrive as UTF-8 (Windows: from the wide command line) and that stderr, which
// CTest captures, is not taken for a terminal.
//  - UTF-8 names round-trip through pathFromUtf8/utf8FromPath, name real files and are listed back (Windows: as
//    UTF-16, not the ANSI code page);
//  - openFile/seekToEnd/truncateToEmpty/flushToDisk, with an offset past 2 GiB (Windows' 32-bit ftell could not);
//  - the caches: %LOCALAPPDATA%\efficientnet-libtorch and %USERPROFILE%\.cache\torch on Windows, $XDG_CACHE_HOME /
//    ~/.cache on Linux, $EFFICIENTNET_CACHE_DIR and $TORCH_HOME first; findCachedWeights in a non-ASCII folder;
//  - Windows: a path longer than MAX_PATH (the manifest's longPathAware);
//  - glibc: after retainFreedMemory, a block the size of the CPU engine's activations that is freed and asked for
//    again comes back without page faults.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "efficientnet/classifier.h"
#include "efficientnet/platform.h"

#ifdef __GLIBC__
#include <sys/resource.h>   // getrusage
#endif

namespace {

namespace fs = std::filesystem;
using namespace efficientnet;

constexpr const char* kCapturedFlag = "--captured";
constexpr const char* kExpectedArgument = "Jos\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xb7";   // José 日本 📷
constexpr std::uint64_t kPastTwoGiB = (std::uint64_t(1) << 31) + 4096;
constexpr std::size_t kLongPathCharacters = 300;   // past MAX_PATH (260)

int g_passed = 0;
int g_failed = 0;

void check(bool ok, const std::string& what)
{
    std::printf("%s: %s\n", ok ? "PASS" : "FAIL", what.c_str());
    std::fflush(stdout);
    ++(ok ? g_passed : g_failed);
}

using File = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

// A fresh folder under the system's temporary folder (named by the clock, so that a run killed before its cleanup
// does not stand in the next one's way), removed at exit.
class Scratch {
public:
    Scratch()
        : m_dir(fs::temp_directory_path() /
                ("efficientnet-test-platform-" +
                 std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
    {
        fs::create_directories(m_dir);
    }
    ~Scratch()
    {
        std::error_code ec;
        fs::remove_all(m_dir, ec);
    }
    const fs::path& dir() const { return m_dir; }

private:
    fs::path m_dir;
};

void touch(const fs::path& path) { File(platform::openFile(path, "wb"), &std::fclose).reset(); }

std::string readAll(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void utf8NamesRoundTrip(const Scratch& scratch)
{
    std::vector<std::string> names{"Jos\xc3\xa9.txt", "\xe6\x97\xa5\xe6\x9c\xac \xe5\x86\x99\xe7\x9c\x9f.jpg",
                                   "camera \xf0\x9f\x93\xb7.png"};
#ifndef _WIN32
    names.push_back("not-utf8-\xff\xfe.bin");   // any byte string is a Linux name; it must survive as bytes
#endif
    for (const auto& name : names) {
        const fs::path file = scratch.dir() / platform::pathFromUtf8(name);
        check(platform::utf8FromPath(platform::pathFromUtf8(name)) == name, "'" + name + "' round-trips as a path");
        File out(platform::openFile(file, "wb"), &std::fclose);
        check(out != nullptr, "openFile creates '" + name + "'");
        if (out)
            std::fputs(name.c_str(), out.get());
        out.reset();
        check(readAll(platform::pathFromUtf8(platform::utf8FromPath(file))) == name, "'" + name + "' reads back");
        bool listed = false;
        for (const auto& entry : fs::directory_iterator(scratch.dir()))
            listed = listed || platform::utf8FromPath(entry.path().filename()) == name;
        check(listed, "'" + name + "' is listed back under the same UTF-8 name");
    }
#ifdef _WIN32
    check(platform::pathFromUtf8("Jos\xc3\xa9").wstring() == L"Jos\u00e9", "UTF-8 becomes UTF-16, not the ANSI code page");
#endif
}

void fileOperations(const Scratch& scratch)
{
    const fs::path file = scratch.dir() / platform::pathFromUtf8("part \xc3\xa9.part");
    {
        File out(platform::openFile(file, "wb"), &std::fclose);
        std::fputs("12345", out.get());
        check(platform::flushToDisk(out.get()), "flushToDisk succeeds");
    }
    {
        File append(platform::openFile(file, "ab"), &std::fclose);
        const auto end = platform::seekToEnd(append.get());
        check(end && *end == 5, "seekToEnd gives the size of a file opened for appending");
        std::fputs("678", append.get());
        check(platform::truncateToEmpty(append.get()), "truncateToEmpty succeeds");
        const auto empty = platform::seekToEnd(append.get());
        check(empty && *empty == 0, "after truncateToEmpty the file is empty");
        std::fputs("xy", append.get());
    }
    check(readAll(file) == "xy", "appending after truncateToEmpty writes at the start");
    // A partial download may pass 2 GiB: the offset is 64-bit (a sparse file: no 2 GiB are written).
    fs::resize_file(file, kPastTwoGiB);
    {
        File big(platform::openFile(file, "ab"), &std::fclose);
        const auto end = platform::seekToEnd(big.get());
        check(end && *end == kPastTwoGiB, "seekToEnd counts past 2 GiB (" + std::to_string(end ? *end : 0) + ")");
    }
    errno = 0;
    File missing(platform::openFile(scratch.dir() / "missing" / "file", "rb"), &std::fclose);
    check(!missing && errno == ENOENT, "openFile of a missing file fails with ENOENT");
}

void environmentAndCaches(const Scratch& scratch)
{
    const std::string value = "caf\xc3\xa9";
    check(platform::setEnvironment("EFFICIENTNET_TEST_VARIABLE", value) &&
              platform::environment("EFFICIENTNET_TEST_VARIABLE") == value,
          "an environment variable holds UTF-8");
    platform::setEnvironment("EFFICIENTNET_TEST_VARIABLE", "");
    check(!platform::environment("EFFICIENTNET_TEST_VARIABLE"), "an empty value unsets it");

    const fs::path home = platform::homeDir();
    check(home.is_absolute(), "the home folder is absolute: " + platform::utf8FromPath(home));
    platform::setEnvironment("EFFICIENTNET_CACHE_DIR", "");
    platform::setEnvironment("TORCH_HOME", "");
    platform::setEnvironment("XDG_CACHE_HOME", "");
#ifdef _WIN32
    const auto localAppData = platform::environment("LOCALAPPDATA");
    check(localAppData && platform::userCacheDir() == platform::pathFromUtf8(*localAppData),
          "the cache folder is %LOCALAPPDATA%: " + platform::utf8FromPath(platform::userCacheDir()));
    check(platform::pathFromUtf8(weightsCacheDir()) == platform::pathFromUtf8(*localAppData) / "efficientnet-libtorch",
          "the weights cache is %LOCALAPPDATA%\\efficientnet-libtorch: " + weightsCacheDir());
    const auto profile = platform::environment("USERPROFILE");
    check(profile && home == platform::pathFromUtf8(*profile), "the home folder is %USERPROFILE%");
#else
    check(platform::userCacheDir() == home / ".cache", "without XDG_CACHE_HOME the cache folder is ~/.cache");
    check(platform::pathFromUtf8(weightsCacheDir()) == home / ".cache" / "efficientnet-libtorch",
          "the weights cache is ~/.cache/efficientnet-libtorch: " + weightsCacheDir());
    platform::setEnvironment("XDG_CACHE_HOME", "relative/cache");
    check(platform::userCacheDir() == home / ".cache", "a relative XDG_CACHE_HOME is ignored, as the spec says");
    platform::setEnvironment("XDG_CACHE_HOME", platform::utf8FromPath(scratch.dir()));
    check(platform::userCacheDir() == scratch.dir(), "XDG_CACHE_HOME is the cache folder");
    platform::setEnvironment("XDG_CACHE_HOME", "");
    const auto savedHome = platform::environment("HOME");
    platform::setEnvironment("HOME", "");
    check(platform::homeDir().is_absolute(), "without HOME the home folder comes from the password database");
    platform::setEnvironment("HOME", savedHome.value_or(""));
#endif
    // torch.hub's folder, as torch/hub.py's _get_torch_home computes it.
    check(platform::torchHome() == home / ".cache" / "torch", "torch.hub's folder is ~/.cache/torch");
    platform::setEnvironment("XDG_CACHE_HOME", platform::utf8FromPath(scratch.dir()));
    check(platform::torchHome() == scratch.dir() / "torch", "XDG_CACHE_HOME moves torch.hub's folder, as in torch");
    platform::setEnvironment("TORCH_HOME", "~/th");
    check(platform::torchHome() == home / "th", "TORCH_HOME wins, with ~ expanded as Python does");
    platform::setEnvironment("TORCH_HOME", "");
    platform::setEnvironment("XDG_CACHE_HOME", "");

    // The weights cache in a folder with a non-ASCII name (C:\Users\José\...).
    const fs::path cache = scratch.dir() / platform::pathFromUtf8("cach\xc3\xa9");
    fs::create_directories(cache);
    touch(cache / "efficientnet_b0_rwightman-7f5810bc.pth");
    touch(cache / "efficientnet_b0x-00000000.pth");   // another model's: not to be taken
    platform::setEnvironment("EFFICIENTNET_CACHE_DIR", platform::utf8FromPath(cache));
    check(weightsCacheDir() == platform::utf8FromPath(cache), "EFFICIENTNET_CACHE_DIR is the weights cache");
    check(findCachedWeights("efficientnet_b0") == platform::utf8FromPath(cache / "efficientnet_b0_rwightman-7f5810bc.pth"),
          "findCachedWeights finds the checkpoint in a non-ASCII folder: " + findCachedWeights("efficientnet_b0"));
    platform::setEnvironment("EFFICIENTNET_CACHE_DIR", "");
}

void longPath(const Scratch& scratch)
{
#ifdef _WIN32
    fs::path dir = scratch.dir();
    while (dir.native().size() < kLongPathCharacters)
        dir /= platform::pathFromUtf8("a-folder-name-of-forty-characters-\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    std::error_code ec;
    fs::create_directories(dir, ec);
    const fs::path file = dir / "long.txt";
    File out(platform::openFile(file, "wb"), &std::fclose);
    if (out)
        std::fputs("long", out.get());
    out.reset();
    check(!ec && readAll(file) == "long",
          "a " + std::to_string(file.native().size()) + "-character path works (manifest longPathAware; needs "
          "LongPathsEnabled=1 in HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem)");
#else
    (void)scratch;
    std::printf("skipped: long paths are a Windows limit (MAX_PATH); Linux has none to test\n");
#endif
}

void freedMemoryIsRetained()
{
#ifdef __GLIBC__
    // Larger than what B0's forward frees and allocates again per call (9 MiB: 2320 page faults, BENCHMARKS.md).
    constexpr std::size_t kActivationBytes = std::size_t(16) << 20;
    constexpr std::size_t kPageBytes = 4096;
    constexpr long kAllowedFaults = 16;   // the allocator's own bookkeeping, not the block's 4096 pages
    const auto minorFaults = [] {
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        return usage.ru_minflt;
    };
    // Writes through a volatile pointer, so that the compiler keeps the block and touches every page.
    const auto useBlock = [] {
        auto* block = static_cast<volatile char*>(std::malloc(kActivationBytes));
        for (std::size_t i = 0; block && i < kActivationBytes; i += kPageBytes)
            block[i] = 1;
        std::free(const_cast<char*>(block));
    };
    platform::retainFreedMemory();
    useBlock();
    const long before = minorFaults();
    useBlock();
    const long faults = minorFaults() - before;
    check(faults <= kAllowedFaults, "a freed 16 MiB block comes back without page faults after retainFreedMemory (" +
                                        std::to_string(faults) + " faults)");
#else
    std::printf("skipped: retainFreedMemory sets glibc's malloc thresholds; this C library has none to test\n");
#endif
}

} // namespace

int main(int argc, char** argv)
{
    const auto args = platform::programArguments(argc, argv);
    const bool captured = !args.empty() && args.front() == kCapturedFlag;
    if (captured) {
        check(args.size() == 2 && args[1] == kExpectedArgument,
              "the arguments arrive as UTF-8: '" + (args.size() > 1 ? args[1] : std::string()) + "'");
        check(!platform::stderrIsTerminal(), "stderr captured by CTest is not a terminal");
    }
    check(platform::executablePath().stem() == "test_platform",
          "executablePath names this program: " + platform::utf8FromPath(platform::executablePath()));
    const Scratch scratch;
    utf8NamesRoundTrip(scratch);
    fileOperations(scratch);
    environmentAndCaches(scratch);
    longPath(scratch);
    freedMemoryIsRetained();
    check(platform::loadGpuRuntime().state == platform::GpuRuntimeState::NotSeparate ||
              platform::loadGpuRuntime().state == platform::GpuRuntimeState::NotInstalled,
          "this test program finds no GPU runtime (none is installed beside it)");
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
