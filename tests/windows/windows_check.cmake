# The Windows build check (issue 12): Debian's MinGW-w64 compiles every translation unit of this build that can be
# compiled for Windows, in syntax-only mode (_WIN32 set by the compiler, so the Windows halves of #ifdefs are the
# ones compiled), with POSIX-only names poisoned (posix_poison.h). POSIX-only code then fails here, on Linux, in CI,
# instead of on the Windows workflow. Run by CTest (tests/CMakeLists.txt, label `windows`):
#
#   cmake -DSOURCE_DIR=... -DBUILD_DIR=... -DMANIFESTS=<dir> -DWORK=<dir> -DCXX=<x86_64-w64-mingw32-g++> \
#         [-DWINDRES=<x86_64-w64-mingw32-windres>] -P windows_check.cmake
#
# What it compiles: the sources of every target of the build, each with that target's include folders and
# definitions (MANIFESTS holds one file per target, written at generate time from its transitive usage
# requirements), plus the Windows-only sources below. Every .cpp under core/, app/, ui/ and tests/ must be one of
# them or excluded here with its reason, so a new file cannot escape the check.
#
# What it cannot compile: translation units that include LibTorch. Its headers do not parse with MinGW (PyTorch
# supports MSVC only on Windows): c10/macros/Macros.h calls glibc's __assert_fail when the compiler is not MSVC,
# and torch/csrc/jit/ir/ir.h defines dllimport-marked functions, which only MSVC accepts; each such TU would also
# cost ~20 s and 1 GB. LibTorch's include folders are therefore left out, a TU whose first error is a missing
# torch/ATen/c10 header counts as torch-bound, and torch-bound TUs must be listed in kTorchBound below: a new one
# fails the check until someone decides it must need LibTorch (the core keeps torch out of the files that can do
# without, so that this check covers them). Everything torch-free is checked in full.
#
# Also here: the resource script (icon, version information, manifest) is compiled with windres when there is one,
# the manifest must hold its settings, and a few spellings that are wrong on Windows are refused by text.
cmake_minimum_required(VERSION 3.25)

foreach(variable SOURCE_DIR BUILD_DIR MANIFESTS WORK)
  if(NOT ${variable})
    message(FATAL_ERROR "windows_check.cmake: -D${variable}=... is required")
  endif()
endforeach()
if(NOT CXX OR NOT EXISTS "${CXX}")
  message(STATUS "SKIP: no MinGW-w64 C++ compiler (Debian: apt-get install g++-mingw-w64-x86-64-posix, which "
                 "scripts/bootstrap.sh installs); the Windows build check did not run")
  return()
endif()

# Translation units that need LibTorch (see above). Paths relative to SOURCE_DIR.
set(kTorchBound
  app/bench/main.cpp
  core/src/checkpoint/pickle.cpp
  core/src/checkpoint/safetensors.cpp
  core/src/checkpoint/torch_save.cpp
  core/src/engine/classifier.cpp
  core/src/engine/cpu/onednn_network.cpp
  core/src/engine/cuda_support.cpp
  core/src/engine/inference.cpp
  core/src/engine/preprocess.cpp
  core/src/model/model.cpp
  core/src/model/resolve.cpp
  core/src/model/swish.cpp
  core/src/model/weights.cpp
  core/src/training/optimizer.cpp
  core/src/training/step.cpp
  core/src/training/trainer.cpp
  python/src/classifier.cpp   # the Python package's extension: pybind11 over torch's Python bindings
  python/src/model.cpp
  python/src/module.cpp
  tests/core/test_checkpoint.cpp
  tests/core/test_cpu_engine.cpp
  tests/core/test_hostile_files.cpp
  tests/core/test_imaging.cpp
  tests/core/test_parity.cpp
  tests/core/test_swish.cpp
  tests/core/test_training.cpp
  tests/core/test_training_parity.cpp
  tests/core/test_training_step.cpp
  tests/core/test_variants.cpp
  tests/cli/test_sources.cpp
  tests/cuda/test_cuda.cpp)
# Sources no Linux target builds, with what they need.
set(kWindowsOnly app/windows/cli_launcher.cpp)
# Source folders (and files) that are not Windows code, and why.
set(kExcludedFolders
  tests/fuzz/    # libFuzzer harnesses: clang on Linux only
  core/src/engine/cuda/jpeg_decoder.cpp   # nvJPEG: Linux CUDA builds only (core/CMakeLists.txt says why)
  core/src/engine/cuda/pointwise_gemm.cpp)   # cuBLASLt: CUDA builds only (efficientnet_cuda_kernels)
# Programs compiled and linked whole (not only parsed), so that every Win32 function they call is proved to exist in
# the Windows import libraries: name|sources|link flags, lists separated by commas. test_platform is the platform
# layer's own test, which the Windows workflow runs; the launcher is what the installer puts on PATH.
set(kLinked
  "test_platform.exe|core/src/platform/platform.cpp,core/src/model/weights_cache.cpp,tests/core/test_platform.cpp|-static,-lshell32,-lole32,-luuid"
  "efficientnet-cli.exe (bin/cli launcher)|app/windows/cli_launcher.cpp|-static,-municode")
# Extra compilations of one source with other definitions: the Windows CUDA flavour's platform layer.
set(kVariants "core/src/platform/platform.cpp|EFFICIENTNET_GPU_RUNTIME_DIR=\"../gpu-runtime\"")
# Headers of the project's dependencies that may be taken from a system folder such as /usr/include. Nothing else
# there is visible to MinGW: that folder also holds glibc's headers (unistd.h, ...), which must not stand in for
# Windows'.
set(kDependencyHeaders nlohmann opencv2 curl openssl)
# Spellings that are wrong on Windows whatever compiles: regex|why. Not applied to the platform layer.
set(kRefusedText
  "getenv\\(\"HOME\"\\)|Windows sets no HOME: use platform::homeDir() or platform::userCacheDir()"
  "\"/proc/self|/proc does not exist on Windows: use platform::executablePath()"
  "QFile::encodeName|the ANSI code page on Windows: use toCorePath() (app/desktop/core_paths.h)")

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/moc ${WORK}/stage)
set(failures "")

# --- The targets' sources and flags -------------------------------------------------------------------------------
file(GLOB manifests ${MANIFESTS}/*.cmake)
set(units "")
foreach(manifest IN LISTS manifests)
  include(${manifest})   # sets target_name, source_dir, sources, includes, definitions
  foreach(source IN LISTS sources)
    if(NOT source MATCHES "\\.cpp$")
      continue()
    endif()
    if(NOT IS_ABSOLUTE "${source}")
      set(source "${source_dir}/${source}")
    endif()
    string(FIND "${source}" "${BUILD_DIR}/" in_build)
    file(RELATIVE_PATH relative ${SOURCE_DIR} ${source})
    if(in_build EQUAL 0 OR relative MATCHES "^\\.\\./" OR DEFINED unit_${relative})
      continue()   # generated (moc) files in the build tree; a source shared by two targets is checked once
    endif()
    set(unit_${relative} ${target_name})
    set(includes_${relative} "${includes}")
    set(definitions_${relative} "${definitions}")
    list(APPEND units ${relative})
  endforeach()
endforeach()
foreach(relative IN LISTS kWindowsOnly)
  set(unit_${relative} "(Windows only)")
  list(APPEND units ${relative})
endforeach()
list(LENGTH units unit_count)
if(unit_count EQUAL 0)
  message(FATAL_ERROR "no targets in ${MANIFESTS}: was the build configured with this CMake?")
endif()

# Every .cpp of the project is checked, torch-bound, or in an excluded folder.
file(GLOB_RECURSE all_sources RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/core/*.cpp ${SOURCE_DIR}/app/*.cpp
     ${SOURCE_DIR}/ui/*.cpp ${SOURCE_DIR}/tests/*.cpp)
foreach(relative IN LISTS all_sources)
  set(excluded FALSE)
  foreach(folder IN LISTS kExcludedFolders)
    string(FIND "${relative}" "${folder}" at)
    if(at EQUAL 0)
      set(excluded TRUE)
    endif()
  endforeach()
  if(NOT excluded AND NOT DEFINED unit_${relative})
    list(APPEND failures "${relative}: in no target of this build, so the Windows check cannot compile it (if it is \
Windows-only, add it to kWindowsOnly in tests/windows/windows_check.cmake)")
  endif()
endforeach()

# --- This shard's part ------------------------------------------------------------------------------------------
# CTest runs the check as SHARDS tests (-DSHARD=0..SHARDS-1) so that they run side by side and none comes near its
# time limit on a busy 2-core machine: shard k compiles every SHARDS-th unit from the k-th; shard 0 also does the
# checks of the whole tree (the source inventory above is cheap and done by all, its failures reported by shard 0),
# the variants, the linked programs, the text rules and the resources.
if(NOT DEFINED SHARDS)
  set(SHARDS 1)
  set(SHARD 0)
endif()
set(shard_units "")
set(index 0)
foreach(relative IN LISTS units)
  math(EXPR owner "${index} % ${SHARDS}")
  if(owner EQUAL SHARD)
    list(APPEND shard_units ${relative})
  endif()
  math(EXPR index "${index} + 1")
endforeach()
set(units ${shard_units})
set(whole_tree_checks FALSE)
if(SHARD EQUAL 0)
  set(whole_tree_checks TRUE)
else()
  set(failures "")
endif()

# --- Include folders MinGW may see ---------------------------------------------------------------------------------
# A folder holding the C library's headers is replaced by a folder of links to the dependency headers in it.
function(visible_include_dirs dirs out)
  set(result "")
  foreach(dir IN LISTS dirs)
    if(NOT IS_DIRECTORY "${dir}")
      continue()
    endif()
    file(REAL_PATH "${dir}" dir)   # /usr/lib/../include is /usr/include
    if(EXISTS ${dir}/stdio.h OR IS_DIRECTORY ${dir}/bits OR IS_DIRECTORY ${dir}/sys)
      string(MD5 key "${dir}")
      set(stage ${WORK}/stage/${key})
      if(NOT IS_DIRECTORY ${stage})
        file(MAKE_DIRECTORY ${stage})
        foreach(name IN LISTS kDependencyHeaders)
          if(EXISTS ${dir}/${name})
            file(CREATE_LINK ${dir}/${name} ${stage}/${name} SYMBOLIC)
          endif()
        endforeach()
      endif()
      list(APPEND result ${stage})
    elseif(NOT (EXISTS ${dir}/torch OR EXISTS ${dir}/ATen OR EXISTS ${dir}/c10))   # LibTorch: see the top
      list(APPEND result ${dir})
    endif()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# --- Compile ------------------------------------------------------------------------------------------------------
set(common_flags -std=c++17 -fsyntax-only -Wno-attributes -include ${CMAKE_CURRENT_LIST_DIR}/posix_poison.h -I${WORK}/moc)
set(checked 0)
set(torch_bound_found "")
string(TIMESTAMP started "%s")

function(compile_unit relative extra_definitions label)
  file(READ ${SOURCE_DIR}/${relative} text)
  string(REGEX MATCHALL "#include \"[^\"]+\\.moc\"" mocs "${text}")
  foreach(moc IN LISTS mocs)   # AUTOMOC's output, included at the end of Qt Test files: not needed to parse them
    string(REGEX REPLACE "#include \"([^\"]+)\"" "\\1" moc "${moc}")
    file(TOUCH ${WORK}/moc/${moc})
  endforeach()
  visible_include_dirs("${includes_${relative}}" dirs)
  set(flags "")
  foreach(dir IN LISTS dirs)
    list(APPEND flags -I${dir})
  endforeach()
  foreach(definition IN LISTS definitions_${relative} extra_definitions)
    if(NOT definition STREQUAL "")
      list(APPEND flags -D${definition})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES flags)
  execute_process(COMMAND ${CXX} ${common_flags} ${flags} ${SOURCE_DIR}/${relative}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(result ok)
  if(NOT rc EQUAL 0)
    if(out MATCHES "fatal error: (torch|ATen|c10|caffe2)/[^:]*: No such file or directory")
      set(result torch)
    else()
      set(result failed)
      string(REGEX MATCHALL "[^\n]*(error|poisoned)[^\n]*" errors "${out}")
      list(SUBLIST errors 0 20 errors)
      string(REPLACE ";" "\n    " errors "${errors}")
      set(log "${relative}${label}: does not compile for Windows:\n    ${errors}")
      if(out MATCHES "poisoned")
        string(APPEND log "\n    (a poisoned name is POSIX-only or wrong on Windows: see tests/windows/posix_poison.h)")
      endif()
      set(failure_log "${log}" PARENT_SCOPE)
    endif()
  endif()
  set(unit_result ${result} PARENT_SCOPE)
endfunction()

foreach(relative IN LISTS units)
  compile_unit(${relative} "" "")
  list(FIND kTorchBound ${relative} listed)
  if(unit_result STREQUAL "ok")
    math(EXPR checked "${checked} + 1")
    if(NOT listed EQUAL -1)
      message(STATUS "${relative} compiles without LibTorch now: remove it from kTorchBound")
    endif()
  elseif(unit_result STREQUAL "torch")
    list(APPEND torch_bound_found ${relative})
    if(listed EQUAL -1)
      list(APPEND failures "${relative}: now needs LibTorch, whose headers MinGW cannot parse, so Windows-only \
mistakes in it would go unseen. Keep torch out of it (the core's torch-free headers), or list it in kTorchBound in \
tests/windows/windows_check.cmake")
    endif()
  else()
    list(APPEND failures "${failure_log}")
  endif()
endforeach()
if(NOT whole_tree_checks)
  set(kVariants "")
  set(kLinked "")
endif()
foreach(variant IN LISTS kVariants)
  string(REPLACE "|" ";" parts "${variant}")
  list(GET parts 0 relative)
  list(GET parts 1 definition)
  compile_unit(${relative} "${definition}" " (with ${definition})")
  if(unit_result STREQUAL "ok")
    math(EXPR checked "${checked} + 1")
  else()
    list(APPEND failures "${failure_log}")
  endif()
endforeach()

# --- Whole programs: compiled and linked -----------------------------------------------------------------------------
set(linked "")
foreach(program IN LISTS kLinked)
  string(REPLACE "|" ";" parts "${program}")
  list(GET parts 0 name)
  list(GET parts 1 sources)
  list(GET parts 2 link_flags)
  string(REPLACE "," ";" sources "${sources}")
  set(paths "")
  foreach(source IN LISTS sources)
    list(APPEND paths ${SOURCE_DIR}/${source})
  endforeach()
  string(REGEX REPLACE " .*" "" file_name "${name}")
  string(REPLACE "," ";" link_flags "${link_flags}")
  execute_process(COMMAND ${CXX} -std=c++17 -include ${CMAKE_CURRENT_LIST_DIR}/posix_poison.h -I${SOURCE_DIR}/core/include
                          ${paths} ${link_flags} -o ${WORK}/${file_name}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc EQUAL 0)
    list(APPEND linked "${name}")
  else()
    list(APPEND failures "${name}: does not compile and link for Windows:\n${out}")
  endif()
endforeach()
string(REPLACE ";" ", " linked "${linked}")

# --- Text that is wrong on Windows ---------------------------------------------------------------------------------
set(texts "")
if(whole_tree_checks)
file(GLOB_RECURSE texts RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/core/*.cpp ${SOURCE_DIR}/core/*.h ${SOURCE_DIR}/app/*.cpp
     ${SOURCE_DIR}/app/*.h ${SOURCE_DIR}/ui/*.cpp ${SOURCE_DIR}/ui/*.h)
endif()
foreach(relative IN LISTS texts)
  if(relative MATCHES "^core/src/platform/|^app/desktop/core_paths\\.h$")
    continue()
  endif()
  file(STRINGS ${SOURCE_DIR}/${relative} lines)
  foreach(rule IN LISTS kRefusedText)
    string(REPLACE "|" ";" rule "${rule}")
    list(GET rule 0 pattern)
    list(GET rule 1 why)
    foreach(line IN LISTS lines)
      if(line MATCHES "${pattern}")
        list(APPEND failures "${relative}: '${CMAKE_MATCH_0}': ${why}")
      endif()
    endforeach()
  endforeach()
endforeach()

# --- Resources: the manifest's settings, and the resource script through windres -----------------------------------
set(resources "checked by shard 0")
if(whole_tree_checks)
set(manifest ${SOURCE_DIR}/app/windows/efficientnet.manifest)
file(READ ${manifest} manifest_text)
foreach(setting "<activeCodePage[^>]*>UTF-8</activeCodePage>" "<longPathAware[^>]*>true</longPathAware>"
                "<dpiAwareness[^>]*>PerMonitorV2</dpiAwareness>")
  if(NOT manifest_text MATCHES "${setting}")
    list(APPEND failures "${manifest}: lacks ${setting} (issue 12: UTF-8 code page, long paths, per-monitor DPI)")
  endif()
endforeach()
set(resources "not compiled (no windres)")
if(WINDRES)
  set(icon ${BUILD_DIR}/efficientnet-libtorch.ico)
  if(NOT EXISTS ${icon})
    list(APPEND failures "${icon} is missing: build the efficientnet_icon target (the build makes it) before this test")
  else()
    # As efficientnet_windows_resources() configures it for a MinGW build (the manifest as resource 1, type 24).
    set(efficientnet_rc_name efficientnet-demo)
    set(efficientnet_rc_icon ${icon})
    set(efficientnet_rc_manifest "1 24 \"${manifest}\"")
    set(efficientnet_rc_description "EfficientNet Demo (CUDA)")
    set(efficientnet_display_suffix " (CUDA)")
    set(efficientnet_vendor "EfficientNet LibTorch authors")
    set(PROJECT_VERSION 1.2.3)
    set(PROJECT_VERSION_MAJOR 1)
    set(PROJECT_VERSION_MINOR 2)
    set(PROJECT_VERSION_PATCH 3)
    configure_file(${SOURCE_DIR}/app/windows/resources.rc.in ${WORK}/check.rc @ONLY)
    execute_process(COMMAND ${WINDRES} -O coff -i ${WORK}/check.rc -o ${WORK}/check.res
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
      list(APPEND failures "app/windows/resources.rc.in: windres cannot compile it:\n${out}")
    else()
      file(SIZE ${WORK}/check.res res_size)
      set(resources "compiled by windres (${res_size} bytes: icon, version, manifest)")
    endif()
  endif()
endif()
endif()   # whole_tree_checks

string(TIMESTAMP finished "%s")
math(EXPR seconds "${finished} - ${started}")
list(LENGTH torch_bound_found torch_count)
if(failures)
  list(LENGTH failures failure_count)
  string(REPLACE ";" "\n\n" failures "${failures}")
  message(FATAL_ERROR "Windows build check: ${failure_count} problem(s):\n\n${failures}\n")
endif()
message(STATUS "Windows build check, shard ${SHARD} of ${SHARDS}: ${checked} translation units compiled for Windows by ${CXX} (syntax only, "
               "POSIX names poisoned) in ${seconds} s; ${torch_count} need LibTorch and were not (MinGW cannot parse "
               "its headers); linked: ${linked}; resource script ${resources}")
