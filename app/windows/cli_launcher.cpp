// efficientnet-cli.exe in bin\cli\: the one folder the Windows installer puts on PATH. It runs the real
// ..\efficientnet-cli.exe with the same command line, console and standard handles, and returns its exit status.
//
// Why a launcher: bin\ holds some sixty DLLs (Qt6*, torch_cpu, libiomp5md, zlib1, opencv_world, ...); on PATH they
// would be found by every other program that looks for a DLL of the same name, and a different version of it breaks
// that program (issue 12, finding 7). This folder holds only this file, built with the static C runtime so that it
// needs no DLL beside it. Scoop's shim (ScoopInstaller/Shim) is the same idea: CreateProcessW with the caller's
// startup information and inherited handles, Ctrl+C left to the child, the child in a job object that is killed
// with the launcher.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cwchar>
#include <string>

namespace {

constexpr DWORD kLongestPath = 32768;
constexpr const wchar_t* kTarget = L"efficientnet-cli.exe";
constexpr int kLaunchFailed = 1;   // efficientnet-cli's own status for "could not run" (usage or setup errors)

// The command line after the program name, as CommandLineToArgvW splits argv[0]: up to the closing quote when it
// starts with one, else up to the first space or tab. What follows is passed on untouched, quoting included.
const wchar_t* argumentsAfterProgramName(const wchar_t* line)
{
    if (*line == L'"') {
        ++line;
        while (*line && *line != L'"')
            ++line;
        if (*line)
            ++line;
    } else {
        while (*line && *line != L' ' && *line != L'\t')
            ++line;
    }
    return line;
}

int fail(const std::wstring& what)
{
    wchar_t* text = nullptr;
    const DWORD code = GetLastError();
    const DWORD length = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                            FORMAT_MESSAGE_IGNORE_INSERTS,
                                        nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
    std::wstring message(text ? text : L"", length);
    LocalFree(text);
    while (!message.empty() && (message.back() == L'\n' || message.back() == L'\r' || message.back() == L' '))
        message.pop_back();   // FormatMessage ends its text with a line break
    std::fwprintf(stderr, L"efficientnet-cli: %ls (Windows error %lu: %ls)\n", what.c_str(), code, message.c_str());
    return kLaunchFailed;
}

} // namespace

int wmain()
{
    std::wstring self(kLongestPath, L'\0');
    const DWORD length = GetModuleFileNameW(nullptr, self.data(), static_cast<DWORD>(self.size()));
    if (length == 0 || length == self.size())
        return fail(L"cannot find the launcher's own path");
    self.resize(length);
    // ...\bin\cli\efficientnet-cli.exe -> ...\bin\efficientnet-cli.exe
    const std::wstring cliFolder = self.substr(0, self.find_last_of(L'\\'));
    const std::wstring target = cliFolder.substr(0, cliFolder.find_last_of(L'\\') + 1) + kTarget;
    std::wstring commandLine = L"\"" + target + L"\"" + argumentsAfterProgramName(GetCommandLineW());

    // The child dies with the launcher (a CI timeout or Task Manager ending the launcher must not leave it running).
    const HANDLE job = CreateJobObjectW(nullptr, nullptr);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (job)
        SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof(limits));
    // Ctrl+C and Ctrl+Break reach every process on the console: the child handles them, the launcher waits for it.
    SetConsoleCtrlHandler(nullptr, TRUE);

    STARTUPINFOW startup{};
    GetStartupInfoW(&startup);   // the caller's standard handles (redirections) and window settings, as they are
    PROCESS_INFORMATION process{};
    if (!CreateProcessW(target.c_str(), commandLine.data(), nullptr, nullptr, TRUE, CREATE_SUSPENDED, nullptr, nullptr,
                        &startup, &process))
        return fail(L"cannot run " + target);
    if (job)
        AssignProcessToJobObject(job, process.hProcess);
    ResumeThread(process.hThread);
    CloseHandle(process.hThread);
    WaitForSingleObject(process.hProcess, INFINITE);
    DWORD status = kLaunchFailed;
    GetExitCodeProcess(process.hProcess, &status);
    CloseHandle(process.hProcess);
    return static_cast<int>(status);
}
