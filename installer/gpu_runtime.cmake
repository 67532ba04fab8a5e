# The CUDA flavour's GPU runtime on Windows: which of LibTorch's DLLs it holds, and where the installer gets them.
#
# Why: NSIS installers cannot exceed 2 GB, and a CUDA LibTorch's DLLs are well past that (torch_cuda, cuDNN, cuBLAS,
# cuFFT, cuSPARSE, cuSOLVER, NVRTC). So the CUDA installer carries everything else (the CPU part of LibTorch, Qt,
# OpenCV: well under the limit) and gets these at install time, as a component the user may decline: the installer
# downloads the very LibTorch archive the package was built from, from download.pytorch.org, checks its SHA-256
# (fixed here, at configure time, from the copy the build used) and unpacks only these DLLs into gpu-runtime\
# beside bin\ (installer/windows/gpu_runtime.ps1). The programs delay-load torch_cuda.dll and load it from there
# (core/src/platform/platform.cpp); without it they run on the CPU and say why. Nothing else is hosted anywhere.
#
# Inputs (the Windows workflow passes them; one place for the versions is its env block):
#   EFFICIENTNET_GPU_RUNTIME_URL      where the installer downloads the LibTorch archive from
#   EFFICIENTNET_GPU_RUNTIME_ARCHIVE  the local copy the build used: its SHA-256 and size are taken here
# Outputs: efficientnet_gpu_runtime_dlls (full paths), efficientnet_gpu_runtime_sha256, efficientnet_gpu_runtime_mb,
# efficientnet_gpu_runtime_download_mb.

# The one list of what the GPU runtime holds: torch_cuda and the CUDA libraries only it loads. Small CUDA DLLs that
# the always-loaded part imports (c10_cuda, cudart) stay in bin\; the Windows workflow's dumpbin step proves that
# bin\ resolves without gpu-runtime\ (and gpu-runtime\ with bin\).
set(EFFICIENTNET_GPU_RUNTIME_PATTERNS
    torch_cuda*.dll caffe2_nvrtc.dll cublas*.dll cudnn*.dll cufft*.dll curand*.dll cusolver*.dll cusparse*.dll
    nvrtc*.dll nvJitLink*.dll)

# The same list as a regular expression on a DLL's path, for $<FILTER:...> over $<TARGET_RUNTIME_DLLS:...>.
set(efficientnet_gpu_runtime_regex "")
foreach(pattern IN LISTS EFFICIENTNET_GPU_RUNTIME_PATTERNS)
  string(REPLACE "." "\\." regex "${pattern}")
  string(REPLACE "*" "[^/]*" regex "${regex}")
  list(APPEND efficientnet_gpu_runtime_regex "${regex}")
endforeach()
list(JOIN efficientnet_gpu_runtime_regex "|" efficientnet_gpu_runtime_regex)
set(EFFICIENTNET_GPU_RUNTIME_REGEX "(^|/)(${efficientnet_gpu_runtime_regex})$")

# Splits LibTorch's DLLs into what bin\ gets and what the GPU runtime gets.
function(efficientnet_split_torch_dlls dlls core_out gpu_out)
  set(core "")
  set(gpu "")
  foreach(dll IN LISTS dlls)
    if(dll MATCHES "${EFFICIENTNET_GPU_RUNTIME_REGEX}")
      list(APPEND gpu ${dll})
    else()
      list(APPEND core ${dll})
    endif()
  endforeach()
  set(${core_out} ${core} PARENT_SCOPE)
  set(${gpu_out} ${gpu} PARENT_SCOPE)
endfunction()

# The archive's hash and the sizes the installer quotes to the user.
function(efficientnet_describe_gpu_runtime gpu_dlls)
  set(EFFICIENTNET_GPU_RUNTIME_URL "" CACHE STRING "URL of the LibTorch archive the Windows CUDA installer downloads")
  set(EFFICIENTNET_GPU_RUNTIME_ARCHIVE "" CACHE FILEPATH "Local copy of that archive (its SHA-256 is fixed from it)")
  if(NOT EFFICIENTNET_GPU_RUNTIME_URL OR NOT EXISTS "${EFFICIENTNET_GPU_RUNTIME_ARCHIVE}")
    message(WARNING "The CUDA flavour's Windows installer needs -DEFFICIENTNET_GPU_RUNTIME_URL=<LibTorch archive URL> "
                    "and -DEFFICIENTNET_GPU_RUNTIME_ARCHIVE=<the same archive, as downloaded>: packaging it will stop "
                    "until both are given (installer/gpu_runtime.cmake)")
    set(efficientnet_gpu_runtime_sha256 "" PARENT_SCOPE)
    return()
  endif()
  message(STATUS "Hashing ${EFFICIENTNET_GPU_RUNTIME_ARCHIVE} for the GPU runtime download")
  file(SHA256 "${EFFICIENTNET_GPU_RUNTIME_ARCHIVE}" sha256)
  file(SIZE "${EFFICIENTNET_GPU_RUNTIME_ARCHIVE}" archive_bytes)
  set(total 0)
  foreach(dll IN LISTS gpu_dlls)
    file(SIZE ${dll} size)
    math(EXPR total "${total} + ${size} / 1048576")
  endforeach()
  math(EXPR download_mb "${archive_bytes} / 1048576")
  set(efficientnet_gpu_runtime_sha256 ${sha256} PARENT_SCOPE)
  set(efficientnet_gpu_runtime_mb ${total} PARENT_SCOPE)
  set(efficientnet_gpu_runtime_download_mb ${download_mb} PARENT_SCOPE)
endfunction()
