# EFFICIENTNET_SANITIZE: the whole build under AddressSanitizer and UndefinedBehaviorSanitizer (scripts/sanitize.sh
# builds the readers, the console tool and their tests this way, in a build folder of its own).
# EFFICIENTNET_FUZZ: the libFuzzer targets in tests/fuzz (Clang only); implies the sanitizers, and instruments the
# project's code for coverage (LibTorch, OpenCV and Qt are system libraries, uninstrumented).
option(EFFICIENTNET_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(EFFICIENTNET_FUZZ "Build the libFuzzer targets in tests/fuzz (needs Clang; implies EFFICIENTNET_SANITIZE)" OFF)

if(EFFICIENTNET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EFFICIENTNET_FUZZ needs Clang (libFuzzer): configure with CXX=clang++")
  endif()
  set(EFFICIENTNET_SANITIZE ON)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(EFFICIENTNET_SANITIZE)
  # vptr is left out: LibTorch's classes come from a library built without it, and its type checks across that
  # boundary report false positives. Everything else in -fsanitize=undefined stays, and stops the program.
  set(efficientnet_sanitizers -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined)
  add_compile_options(${efficientnet_sanitizers} -fno-omit-frame-pointer -g)
  add_link_options(${efficientnet_sanitizers})
  message(STATUS "Sanitizers: address, undefined")
endif()
