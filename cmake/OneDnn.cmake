# Whether the CPU engine runs oneDNN directly (core/src/engine/cpu/onednn_network.cpp), setting EFFICIENTNET_ONEDNN
# to TRUE or FALSE. Needs Torch found first.
#
# AUTO takes oneDNN when its CMake package is found (Debian: libdnnl-dev; Windows: vcpkg's onednn) and it cannot
# meet another oneDNN in the same process. On ELF systems a process holds one definition of each exported symbol:
# Debian's LibTorch links the system's libdnnl.so.2 (the same library, so nothing clashes); pip's and the official
# LibTorch carry their own oneDNN inside libtorch_cpu.so, which is safe only if it keeps those symbols hidden (else
# one oneDNN's calls would land in the other's code). So on Linux AUTO requires libtorch_cpu to list libdnnl as a
# dependency or to export no dnnl_ symbol. Windows DLLs keep their own symbols, so there a found oneDNN is enough.
set(EFFICIENTNET_ONEDNN FALSE)
if(NOT EFFICIENTNET_WITH_ONEDNN STREQUAL "OFF")
  find_package(dnnl CONFIG QUIET)
  set(_onednn_reason "")
  if(NOT dnnl_FOUND)
    set(_onednn_reason "oneDNN's CMake package (libdnnl-dev) not found")
  elseif(NOT WIN32)
    get_filename_component(_torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
    set(_torch_cpu "${_torch_lib_dir}/${CMAKE_SHARED_LIBRARY_PREFIX}torch_cpu${CMAKE_SHARED_LIBRARY_SUFFIX}")
    set(_needed "")
    set(_exported "unknown")
    if(EXISTS "${_torch_cpu}" AND CMAKE_OBJDUMP AND CMAKE_NM)
      execute_process(COMMAND "${CMAKE_OBJDUMP}" -p "${_torch_cpu}" OUTPUT_VARIABLE _needed ERROR_QUIET)
      if(NOT _needed MATCHES "NEEDED +libdnnl")
        execute_process(COMMAND "${CMAKE_NM}" -D --defined-only "${_torch_cpu}" OUTPUT_VARIABLE _symbols
                        ERROR_QUIET RESULT_VARIABLE _nm_result)
        if(_nm_result EQUAL 0)
          string(REGEX MATCH " [TW] dnnl_[a-z_]+" _exported "${_symbols}")
        endif()
      endif()
    endif()
    if(NOT _needed MATCHES "NEEDED +libdnnl" AND NOT _exported STREQUAL "")
      set(_onednn_reason "${_torch_cpu} carries its own oneDNN and exports its symbols (${_exported}), which would clash")
    endif()
  endif()
  if(_onednn_reason STREQUAL "")
    set(EFFICIENTNET_ONEDNN TRUE)
    message(STATUS "CPU engine: oneDNN ${dnnl_VERSION} directly")
  elseif(EFFICIENTNET_WITH_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "EFFICIENTNET_WITH_ONEDNN=ON: ${_onednn_reason}")
  else()
    message(STATUS "CPU engine: through LibTorch (${_onednn_reason})")
  endif()
endif()
