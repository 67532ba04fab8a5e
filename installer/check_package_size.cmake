# CPack pre-build script: runs after the files are staged and before the generator packs them. NSIS cannot build an
# installer over 2 GB; the staged (uncompressed) size is checked against CPACK_EFFICIENTNET_NSIS_LIMIT_BYTES, which
# errs on the safe side (compression only shrinks the payload), so that the failure comes here, with the way out,
# rather than from makensis deep into a CUDA build.
if(NOT CPACK_GENERATOR STREQUAL "NSIS")
  return()
endif()
if(CPACK_EFFICIENTNET_GPU_RUNTIME_MISSING)
  message(FATAL_ERROR
    "The CUDA flavour's installer downloads its GPU runtime (installer/gpu_runtime.cmake), and this build does not say "
    "from where: configure with -DEFFICIENTNET_GPU_RUNTIME_URL=<URL of the LibTorch archive> and "
    "-DEFFICIENTNET_GPU_RUNTIME_ARCHIVE=<that archive, as downloaded> (its SHA-256 is fixed from it).")
endif()
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_DIRECTORY}/*")
set(total 0)
set(largest_size 0)
foreach(f IN LISTS staged)
  file(SIZE "${f}" size)
  math(EXPR total "${total} + ${size}")
  if(size GREATER largest_size)
    set(largest_size ${size})
    set(largest "${f}")
  endif()
endforeach()
math(EXPR total_mib "${total} / 1048576")
math(EXPR limit_mib "${CPACK_EFFICIENTNET_NSIS_LIMIT_BYTES} / 1048576")
if(total GREATER CPACK_EFFICIENTNET_NSIS_LIMIT_BYTES)
  file(RELATIVE_PATH largest_rel "${CPACK_TEMPORARY_DIRECTORY}" "${largest}")
  message(FATAL_ERROR
    "The NSIS payload is ${total} bytes (${total_mib} MiB), over the ${CPACK_EFFICIENTNET_NSIS_LIMIT_BYTES}-byte "
    "(${limit_mib} MiB) limit: NSIS installers cannot exceed 2 GB. Largest file: ${largest_rel} (${largest_size} bytes). "
    "Move the largest DLLs into the GPU runtime (EFFICIENTNET_GPU_RUNTIME_PATTERNS in installer/gpu_runtime.cmake), "
    "or build against a LibTorch with fewer CUDA architectures; see README.md, \"Packages\".")
endif()
message(STATUS "NSIS payload: ${total} bytes (${total_mib} MiB), under the ${limit_mib} MiB limit")
