# Whether the CPU engine runs oneDNN directly (core/src/engine/cpu/onednn_network.cpp), setting EFFICIENTNET_ONEDNN
# to TRUE or FALSE. Needs Torch found first.
#
# AUTO takes oneDNN when its CMake package is found (Debian: libdnnl-dev; Windows: vcpkg's onednn) and it cannot
# meet another oneDNN in the same process. On ELF systems a process holds one definition of each symbol: Debian's
# LibTorch links the system's libdnnl.so.2 (the same library, so nothing clashes), while pip's and the official
# LibTorch carry their own oneDNN inside libtorch_cpu.so, whose symbols would then answer some of our calls with
# another version's code. So on Linux AUTO requires libtorch_cpu to list libdnnl as a dependency. Windows DLLs keep
# their own symbols, so there a found oneDNN is enough.
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
    if(EXISTS "${_torch_cpu}" AND CMAKE_OBJDUMP)
      execute_process(COMMAND "${CMAKE_OBJDUMP}" -p "${_torch_cpu}" OUTPUT_VARIABLE _needed ERROR_QUIET)
    endif()
    if(NOT _needed MATCHES "NEEDED +libdnnl")
      set(_onednn_reason "${_torch_cpu} does not link libdnnl (it carries its own oneDNN, which would clash)")
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
