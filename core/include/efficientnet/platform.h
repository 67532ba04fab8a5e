#pragma once
// The one place that knows which operating system the code runs on: everything POSIX- or Windows-specific (terminals,
// file syncing, per-user folders, Unicode file names and arguments, the CUDA flavour's GPU runtime) lives behind
// these functions, in core/src/platform/platform.cpp. No torch and no Qt here, so the console tool, the app and the
// Windows build check (tests/windows_check.cmake) all include it cheaply.
//
// Paths as strings: the project passes file names around as std::string holding UTF-8 on Windows and the file
// name's own bytes on Linux (any byte string is a valid Linux name). pathFromUtf8/utf8FromPath are the only
// conversions between those strings and std::filesystem::path. On Windows a path's value_type is wchar_t and a narrow
// string means the ANSI code page, so `fs::path(std::string)`, `path.string()` and `fopen(path.c_str())` are wrong
// there (or do not compile); the functions below are right on both.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace efficientnet::platform {

std::filesystem::path pathFromUtf8(const std::string& utf8);
std::string utf8FromPath(const std::filesystem::path& path);

// An environment variable's value (UTF-8 on Windows, whatever the code page); nullopt when unset or empty.
std::optional<std::string> environment(const char* name);
// Sets it for this process (and the programs it starts); an empty value unsets it. Returns false on failure.
bool setEnvironment(const char* name, const std::string& value);

// The program's arguments without argv[0]. Windows: read from the wide command line (GetCommandLineW), so that
// C:\Users\José\photo.jpg arrives as UTF-8 whatever the console's code page; elsewhere argv as it is.
std::vector<std::string> programArguments(int argc, char** argv);

// Windows: the console shows what the program writes as UTF-8 (SetConsoleOutputCP, restored at exit) and
// interprets the escape sequences progress lines use (ENABLE_VIRTUAL_TERMINAL_PROCESSING). Nothing elsewhere.
void prepareConsole();

// Whether stderr is an interactive terminal (progress bars are drawn only there).
bool stderrIsTerminal();

// This executable's full path (Linux: /proc/self/exe; Windows: GetModuleFileNameW). Throws Error if unknown.
std::filesystem::path executablePath();

// The user's home folder: $HOME on Linux; on Windows the profile folder (%USERPROFILE%, FOLDERID_Profile), which is
// also what Python's os.path.expanduser("~") gives there. Throws Error when there is none.
std::filesystem::path homeDir();

// Where per-user caches go: Windows %LOCALAPPDATA% (SHGetKnownFolderPath(FOLDERID_LocalAppData)); elsewhere
// $XDG_CACHE_HOME, else ~/.cache (XDG Base Directory specification).
std::filesystem::path userCacheDir();

// torch.hub's cache, exactly as torch/hub.py's _get_torch_home() computes it on every platform:
// $TORCH_HOME, else $XDG_CACHE_HOME/torch, else ~/.cache/torch (on Windows ~ is %USERPROFILE%).
std::filesystem::path torchHome();

// C stdio on a std::filesystem::path with 64-bit offsets: _wfopen/_fseeki64/_chsize_s/_commit on Windows,
// fopen/fseeko/ftruncate/fsync elsewhere. Each returns false (or nullptr) with errno set on failure.
std::FILE* openFile(const std::filesystem::path& path, const char* mode);
std::optional<std::uint64_t> seekToEnd(std::FILE* file);   // the file's size, now the position
bool truncateToEmpty(std::FILE* file);                     // flushes first
bool flushToDisk(std::FILE* file);                         // fflush, then the OS writes it to the disk

// Keeps memory the process frees for its next use instead of handing it back to the operating system, for the CPU
// engine, whose every forward frees and allocates the same tens of MiB of activations. glibc's malloc returns freed
// memory past two thresholds (trimming the heap's top, unmapping large blocks) that it adapts to the blocks the
// process freed before, so whether a forward page-faults its activations back in depended on the process's history:
// B0 took 40 ms in one process and 12 ms in another, 2320 minor page faults per forward against none (BENCHMARKS.md,
// "The CPU engine's batches"). glibc: both thresholds fixed at glibc's own ceiling, process-wide, once (later calls
// do nothing). Other C libraries and Windows: nothing.
void retainFreedMemory();

// The CUDA flavour's GPU runtime on Windows: the CUDA libraries (torch_cuda.dll, cuDNN, cuBLAS, ...) are too big for
// one NSIS installer (2 GB), so the installer puts them into a folder of their own, downloaded on request
// (installer/windows/gpu_runtime.ps1), and the executables delay-load torch_cuda.dll. loadGpuRuntime() loads that
// folder's torch_cuda.dll before LibTorch is first asked about CUDA, so that its CUDA backend registers; the engine
// calls it in cuda::available() (it runs once; later calls return the first answer).
enum class GpuRuntimeState {
    NotSeparate,   // this build has no separate GPU runtime (Linux, the CPU flavour, a CUDA build linked normally)
    Loaded,        // found and loaded: CUDA works where there is an NVIDIA GPU and driver
    NotInstalled,  // the folder or its torch_cuda.dll is missing: the installer was told not to download it
    LoadFailed,    // present but Windows would not load it (detail says why)
};
struct GpuRuntime {
    GpuRuntimeState state = GpuRuntimeState::NotSeparate;
    std::string detail;            // for messages: the folder, and the Windows error when loading failed
    bool nvidiaDriver = false;     // Windows: nvcuda.dll, the NVIDIA driver's CUDA library, is in System32
};
const GpuRuntime& loadGpuRuntime();

} // namespace efficientnet::platform
