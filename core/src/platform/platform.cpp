// The platform layer (efficientnet/platform.h): the only translation unit with POSIX or Win32 calls. Each function
// has its two halves next to each other, so that the one compiled on Linux and the one checked with MinGW
// (tests/windows_check.cmake) and built with MSVC by .github/workflows/windows.yml stay in step.
#include "efficientnet/platform.h"

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <system_error>

#include "efficientnet/errors.h"

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <io.h>
#include <shellapi.h>   // CommandLineToArgvW
#include <shlobj.h>     // SHGetKnownFolderPath
#else
#include <pwd.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>   // mallopt
#endif
#endif

namespace efficientnet::platform {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTorchHomeVariable = "TORCH_HOME";
constexpr const char* kXdgCacheVariable = "XDG_CACHE_HOME";

// "~" and "~/x" as Python's os.path.expanduser reads them (torch.hub passes $TORCH_HOME through it).
fs::path expandUser(const std::string& text)
{
    if (text == "~")
        return homeDir();
    if (text.size() > 1 && text[0] == '~' && (text[1] == '/' || text[1] == '\\'))
        return homeDir() / pathFromUtf8(text.substr(2));
    return pathFromUtf8(text);
}

#ifdef _WIN32

constexpr DWORD kLongestPath = 32768;   // the longest path Windows' wide APIs take ("\\?\" form, UNICODE_STRING)
[[maybe_unused]] constexpr const wchar_t* kTorchCudaDll = L"torch_cuda.dll";

std::wstring widen(const std::string& utf8)
{
    if (utf8.empty())
        return {};
    // Without MB_ERR_INVALID_CHARS, bytes that are not UTF-8 become U+FFFD instead of failing the whole call.
    const int length = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    std::wstring wide(static_cast<size_t>(length), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), wide.data(), length);
    return wide;
}

std::string narrow(const std::wstring& wide)
{
    if (wide.empty())
        return {};
    // NTFS names may hold unpaired surrogates; they become U+FFFD (the name is then shown, not reopened, exactly).
    const int length = WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr, 0,
                                           nullptr, nullptr);
    std::string utf8(static_cast<size_t>(length), '\0');
    WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), utf8.data(), length, nullptr, nullptr);
    return utf8;
}

std::string windowsErrorText(DWORD code)
{
    wchar_t* text = nullptr;
    const DWORD length = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                            FORMAT_MESSAGE_IGNORE_INSERTS,
                                        nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
    std::wstring message = length ? std::wstring(text, length) : L"";
    LocalFree(text);
    while (!message.empty() && (message.back() == L'\n' || message.back() == L'\r' || message.back() == L' '))
        message.pop_back();
    return "Windows error " + std::to_string(code) + (message.empty() ? "" : ": " + narrow(message));
}

fs::path knownFolder(REFKNOWNFOLDERID id, const char* what)
{
    PWSTR folder = nullptr;
    const HRESULT result = SHGetKnownFolderPath(id, KF_FLAG_DEFAULT, nullptr, &folder);
    const fs::path path = SUCCEEDED(result) ? fs::path(folder) : fs::path();
    CoTaskMemFree(folder);   // also when the call failed (the documented contract)
    if (path.empty())
        throw Error(std::string("Windows does not say where the ") + what + " folder is (SHGetKnownFolderPath failed)");
    return path;
}

#endif

} // namespace

#ifdef _WIN32

fs::path pathFromUtf8(const std::string& utf8) { return fs::path(widen(utf8)); }
std::string utf8FromPath(const fs::path& path) { return narrow(path.native()); }

std::optional<std::string> environment(const char* name)
{
    const std::wstring wideName = widen(name);
    const DWORD size = GetEnvironmentVariableW(wideName.c_str(), nullptr, 0);
    if (size <= 1)
        return std::nullopt;   // unset (0) or empty (1: just the terminator)
    std::wstring value(size, L'\0');
    const DWORD length = GetEnvironmentVariableW(wideName.c_str(), value.data(), size);
    value.resize(length);
    return narrow(value);
}

bool setEnvironment(const char* name, const std::string& value)
{
    const std::wstring wideValue = widen(value);
    return SetEnvironmentVariableW(widen(name).c_str(), value.empty() ? nullptr : wideValue.c_str()) != 0;
}

std::vector<std::string> programArguments(int argc, char** argv)
{
    int count = 0;
    LPWSTR* wide = CommandLineToArgvW(GetCommandLineW(), &count);
    if (!wide)   // out of memory: the C runtime's argv, in the ANSI code page (UTF-8 under the manifest)
        return std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc);
    std::vector<std::string> arguments;
    for (int i = 1; i < count; ++i)
        arguments.push_back(narrow(wide[i]));
    LocalFree(wide);
    return arguments;
}

void prepareConsole()
{
    static UINT previous = 0;
    static std::once_flag once;
    std::call_once(once, [] {
        previous = GetConsoleOutputCP();   // 0 without a console
        if (previous != 0 && SetConsoleOutputCP(CP_UTF8))
            std::atexit([] { SetConsoleOutputCP(previous); });   // cmd.exe keeps the code page after we exit
        for (const DWORD stream : {STD_OUTPUT_HANDLE, STD_ERROR_HANDLE}) {
            const HANDLE handle = GetStdHandle(stream);
            DWORD mode = 0;
            if (handle != INVALID_HANDLE_VALUE && GetConsoleMode(handle, &mode))
                SetConsoleMode(handle, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);   // Windows 10 1511+
        }
    });
}

bool stderrIsTerminal()
{
    // _isatty() is also true for NUL and other character devices; only a console has a console mode.
    DWORD mode = 0;
    return GetConsoleMode(GetStdHandle(STD_ERROR_HANDLE), &mode) != 0;
}

fs::path executablePath()
{
    std::wstring buffer(kLongestPath, L'\0');
    const DWORD length = GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
    if (length == 0 || length == buffer.size())
        throw Error("cannot find this program's own path: " + windowsErrorText(GetLastError()));
    buffer.resize(length);
    return fs::path(buffer);
}

fs::path homeDir()
{
    if (const auto profile = environment("USERPROFILE"))   // what Python's expanduser reads first (3.8+)
        return pathFromUtf8(*profile);
    return knownFolder(FOLDERID_Profile, "user profile");
}

fs::path userCacheDir() { return knownFolder(FOLDERID_LocalAppData, "local application data"); }

std::FILE* openFile(const fs::path& path, const char* mode)
{
    return _wfopen(path.c_str(), widen(mode).c_str());
}

std::optional<std::uint64_t> seekToEnd(std::FILE* file)
{
    if (_fseeki64(file, 0, SEEK_END) != 0)
        return std::nullopt;
    const __int64 end = _ftelli64(file);
    if (end < 0)
        return std::nullopt;
    return static_cast<std::uint64_t>(end);
}

bool truncateToEmpty(std::FILE* file)
{
    if (std::fflush(file) != 0)
        return false;
    const errno_t error = _chsize_s(_fileno(file), 0);
    if (error != 0)
        errno = error;
    return error == 0;
}

bool flushToDisk(std::FILE* file)
{
    return std::fflush(file) == 0 && _commit(_fileno(file)) == 0;   // _commit: FlushFileBuffers
}

// Windows' heap also gives large blocks back (VirtualFree) when they are freed; not measured yet, so left alone.
void retainFreedMemory() {}

#else

fs::path pathFromUtf8(const std::string& utf8) { return fs::path(utf8); }
std::string utf8FromPath(const fs::path& path) { return path.string(); }

std::optional<std::string> environment(const char* name)
{
    const char* value = std::getenv(name);
    if (!value || !*value)
        return std::nullopt;
    return std::string(value);
}

bool setEnvironment(const char* name, const std::string& value)
{
    return (value.empty() ? unsetenv(name) : setenv(name, value.c_str(), 1)) == 0;
}

std::vector<std::string> programArguments(int argc, char** argv)
{
    return std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc);
}

void prepareConsole() {}

bool stderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

fs::path executablePath()
{
    std::error_code error;
    fs::path path = fs::read_symlink("/proc/self/exe", error);
    if (error)
        throw Error("cannot find this program's own path (/proc/self/exe): " + error.message());
    return path;
}

fs::path homeDir()
{
    if (const auto home = environment("HOME"))
        return pathFromUtf8(*home);
    // No $HOME (a service, `env -i`): the password database, as Python's os.path.expanduser does.
    constexpr std::size_t kPasswdBufferBytes = 16384;
    std::vector<char> buffer(kPasswdBufferBytes);
    passwd entry{};
    passwd* found = nullptr;
    if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_dir &&
        *found->pw_dir)
        return fs::path(found->pw_dir);
    throw Error("there is no home folder ($HOME is unset and the user has none in the password database); "
                "set HOME, or EFFICIENTNET_CACHE_DIR for the weights cache");
}

fs::path userCacheDir()
{
    // XDG Base Directory specification: a relative value is invalid and must be ignored.
    if (const auto cache = environment(kXdgCacheVariable); cache && pathFromUtf8(*cache).is_absolute())
        return pathFromUtf8(*cache);
    return homeDir() / ".cache";
}

std::FILE* openFile(const fs::path& path, const char* mode) { return std::fopen(path.c_str(), mode); }

std::optional<std::uint64_t> seekToEnd(std::FILE* file)
{
    if (fseeko(file, 0, SEEK_END) != 0)
        return std::nullopt;
    const off_t end = ftello(file);
    if (end < 0)
        return std::nullopt;
    return static_cast<std::uint64_t>(end);
}

bool truncateToEmpty(std::FILE* file) { return std::fflush(file) == 0 && ftruncate(fileno(file), 0) == 0; }

bool flushToDisk(std::FILE* file) { return std::fflush(file) == 0 && fsync(fileno(file)) == 0; }

void retainFreedMemory()
{
#ifdef __GLIBC__
    // mallopt(3): DEFAULT_MMAP_THRESHOLD_MAX on 64-bit, the highest the adaptive mmap threshold goes, so blocks up
    // to 32 MiB come from the heap and are reused; the trim threshold is twice that, as the adaptive rule sets it
    // (setting either turns the adaptation off). Larger blocks (B7's activations at 600x600) are still mapped and
    // unmapped per use.
    constexpr int kLargestMmapThreshold = 4 * 1024 * 1024 * static_cast<int>(sizeof(long));
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_THRESHOLD, kLargestMmapThreshold);
        mallopt(M_TRIM_THRESHOLD, 2 * kLargestMmapThreshold);
    });
#endif
}

#endif

fs::path torchHome()
{
    if (const auto home = environment(kTorchHomeVariable))
        return expandUser(*home);
    if (const auto cache = environment(kXdgCacheVariable))
        return expandUser(*cache) / "torch";
    return homeDir() / ".cache" / "torch";
}

const GpuRuntime& loadGpuRuntime()
{
    static GpuRuntime runtime;
    static std::once_flag once;
    std::call_once(once, [] {
#if defined(_WIN32) && defined(EFFICIENTNET_GPU_RUNTIME_DIR)
        std::error_code error;
        wchar_t system[MAX_PATH] = {};
        const UINT systemLength = GetSystemDirectoryW(system, MAX_PATH);
        runtime.nvidiaDriver = systemLength > 0 && fs::exists(fs::path(system) / "nvcuda.dll", error);
        // torch_cuda.dll must come from the LibTorch whose torch_cpu.dll is loaded: first beside that one (a build
        // tree, a LibTorch on PATH, a ZIP), then in the installed GPU runtime folder. Never anywhere else on PATH,
        // where another LibTorch's copy may be.
        struct Candidate {
            fs::path library;
            bool ownFolder;   // the installed gpu-runtime folder, which is on no search path
        };
        std::vector<Candidate> candidates;
        if (const HMODULE cpu = GetModuleHandleW(L"torch_cpu.dll")) {
            std::wstring name(kLongestPath, L'\0');
            const DWORD length = GetModuleFileNameW(cpu, name.data(), static_cast<DWORD>(name.size()));
            if (length > 0 && length < name.size())
                candidates.push_back({fs::path(name.substr(0, length)).parent_path() / kTorchCudaDll, false});
        }
        fs::path folder;
        try {
            folder = (executablePath().parent_path() / EFFICIENTNET_GPU_RUNTIME_DIR).lexically_normal();
            candidates.push_back({folder / kTorchCudaDll, true});
            runtime.detail = utf8FromPath(folder);
        } catch (const Error& e) {   // no own path: only the LibTorch folder can hold it
            runtime.detail = e.what();
        }
        for (const auto& [library, ownFolder] : candidates) {
            if (!fs::exists(library, error))
                continue;
            // The installed folder joins the DLL search (AddDllDirectory), as PyTorch's torch/__init__.py does on
            // Windows, so that what cuDNN and NVRTC load by name at run time is found there too; the process then
            // searches the default folders (this program's, System32, added ones), no longer the working directory
            // or PATH. torch_cuda.dll's own dependencies are looked up beside it first.
            if (ownFolder && AddDllDirectory(library.parent_path().c_str()))
                SetDefaultDllDirectories(LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
            if (!LoadLibraryExW(library.c_str(), nullptr, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS)) {
                runtime.state = GpuRuntimeState::LoadFailed;
                runtime.detail = utf8FromPath(library) + ": " + windowsErrorText(GetLastError());
                return;
            }
            runtime.state = GpuRuntimeState::Loaded;
            runtime.detail = utf8FromPath(library.parent_path());
            return;
        }
        runtime.state = GpuRuntimeState::NotInstalled;
#endif
    });
    return runtime;
}

} // namespace efficientnet::platform
