// Force-included (-include) into every translation unit the Windows build check compiles with MinGW
// (tests/windows/windows_check.cmake). MinGW-w64 is more forgiving than MSVC, the compiler the Windows packages are
// built with: it ships <unistd.h>, <dirent.h> and <sys/time.h> and declares isatty, ftruncate, fsync, popen and
// friends, so POSIX-only code compiles with it and then fails on the Windows workflow (issue 12, finding 2). Here
// those names are poisoned (GCC's `#pragma GCC poison`): using one, or including a POSIX header that declares one,
// is an error naming it. The standard headers that mention them are included first, so that their own
// declarations do not trip the poison.
//
// Use efficientnet/platform.h instead: stderrIsTerminal, openFile (Unicode names), seekToEnd (64-bit: ftell and
// fseek are 32-bit on Windows, where long is), truncateToEmpty, flushToDisk, environment, homeDir.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <io.h>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

// <unistd.h>: isatty fileno ftruncate fsync STD*_FILENO; <dirent.h>: opendir readdir closedir; <sys/time.h>:
// gettimeofday; <stdio.h> POSIX extensions: popen pclose fseeko ftello; process control: fork vfork exec* waitpid;
// users and libraries: getuid getpwuid dlopen dlsym mmap; <strings.h>: strcasecmp. fopen/freopen: a narrow name is
// the ANSI code page on Windows (platform::openFile takes a path). pthread_*: MSVC has no pthreads.
#pragma GCC poison isatty fileno ftruncate fsync fdatasync STDIN_FILENO STDOUT_FILENO STDERR_FILENO
#pragma GCC poison opendir readdir closedir gettimeofday popen pclose fseeko ftello ftell fseek fopen freopen
#pragma GCC poison fork vfork execv execvp waitpid getuid geteuid getpwuid getpwnam readlink realpath
#pragma GCC poison mkstemp mkdtemp setenv unsetenv dlopen dlsym mmap munmap sysconf strcasecmp strncasecmp
#pragma GCC poison pthread_create pthread_join pthread_detach
