# Packages: DEB + TGZ on Linux, NSIS on Windows. `cpack -G <generator>` in the build folder.
#
# The flavour (cpu or cuda) and the names that follow from it: installer/flavour.cmake, included by the top level.
set(CPACK_VERBATIM_VARIABLES ON)   # backslashes in the NSIS commands below are written as they are
set(CPACK_PACKAGE_NAME ${efficientnet_package_name})
set(CPACK_PACKAGE_VENDOR "${efficientnet_vendor}")
set(CPACK_PACKAGE_CONTACT "EfficientNet LibTorch maintainers <maintainers@efficientnet-libtorch.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "EfficientNet B0-B7 and V2-S/M/L in C++ on LibTorch, loading torchvision, timm and lukemelas checkpoints.\n"
    "efficientnet-demo classifies photos, folders and live video; efficientnet-cli classifies in scripts and batches.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/efficientnet-libtorch/efficientnet-libtorch")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGE_INSTALL_DIRECTORY "EfficientNet LibTorch${efficientnet_display_suffix}")
set(CPACK_PACKAGE_FILE_NAME ${efficientnet_package_name}-${PROJECT_VERSION}-${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR})
set(CPACK_STRIP_FILES ON)
if(WIN32)
  set(CPACK_GENERATOR NSIS)
else()
  set(CPACK_GENERATOR DEB TGZ)
endif()

# DEB: dependencies computed by dpkg-shlibdeps from the executables (libtorch, OpenCV, Qt and the rest).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_CONFLICTS ${efficientnet_other_package})
# Qt Multimedia (Qt 6.4: the GStreamer backend) finds cameras through GStreamer's V4L2 device provider, which is in
# plugins-good; without it the app's camera box lists none (typed indices still work).
if(TARGET Qt6::Multimedia)
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS gstreamer1.0-plugins-good)
endif()

# NSIS: licence page, install-folder choice, an "Install Options" page (CPACK_NSIS_MODIFY_PATH: PATH for
# efficientnet-cli, a desktop icon), a Start-menu folder with the app and the uninstaller. What CPack's template does
# not do, or does wrong for us, is in installer/windows/efficientnet.nsh.in: "Open with" per flavour, bin\cli (not
# bin\) on PATH without CPack's 1024-character PATH limit, and the CUDA flavour's GPU runtime.
set(CPACK_NSIS_PACKAGE_NAME "EfficientNet LibTorch${efficientnet_display_suffix}")
set(CPACK_NSIS_DISPLAY_NAME "EfficientNet LibTorch${efficientnet_display_suffix}")
# Without a version in it, so that installing a newer version finds and removes the older one.
set(CPACK_PACKAGE_INSTALL_REGISTRY_KEY ${efficientnet_package_name})
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MODIFY_PATH ON)
set(CPACK_NSIS_MUI_ICON ${EFFICIENTNET_ICON})     # made at build time from the SVG (app/windows)
set(CPACK_NSIS_MUI_UNIICON ${EFFICIENTNET_ICON})
set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\efficientnet-demo.exe")
set(CPACK_NSIS_URL_INFO_ABOUT ${CPACK_PACKAGE_HOMEPAGE_URL})
if(TARGET efficientnet-demo)
  set(CPACK_PACKAGE_EXECUTABLES efficientnet-demo "EfficientNet Demo${efficientnet_display_suffix}")
  set(CPACK_CREATE_DESKTOP_LINKS efficientnet-demo)   # only when the desktop-icon box is ticked
endif()

# efficientnet.nsh.in, configured for a flavour: its ProgID and names, and for cuda the GPU runtime's download. Both
# flavours' scripts are made, so that Linux's makensis can check the CUDA one too (tests/packages.cmake, nsis_cuda);
# where this build has no GPU runtime to describe, the CUDA script gets placeholders and cannot be packaged for real.
set(efficientnet_image_types .jpg .jpeg .png .bmp .tif .tiff .webp)
function(efficientnet_configure_nsis flavour out)
  if(flavour STREQUAL "cuda")
    set(suffix " (CUDA)")
    set(efn_progid "EfficientNetLibTorchCUDA.Image.1")
  else()
    set(suffix "")
    set(efn_progid "EfficientNetLibTorch.Image.1")
  endif()
  set(efn_defines "!define EFN_PROGID \"${efn_progid}\"\n"
                  "!define EFN_APP_NAME \"EfficientNet Demo${suffix}\"\n"
                  "!define EFN_TYPE_NAME \"EfficientNet Demo${suffix} image\"\n")
  set(efn_open_with_install "")
  set(efn_open_with_uninstall "")
  if(TARGET efficientnet-demo)
    list(APPEND efn_defines "!define EFN_HAS_DEMO\n")
    foreach(type IN LISTS efficientnet_image_types)
      string(APPEND efn_open_with_install
             "  WriteRegStr SHCTX \"Software\\Classes\\${type}\\OpenWithProgids\" \"\${EFN_PROGID}\" \"\"\n")
      string(APPEND efn_open_with_uninstall
             "  DeleteRegValue SHCTX \"Software\\Classes\\${type}\\OpenWithProgids\" \"\${EFN_PROGID}\"\n")
    endforeach()
  endif()
  if(TARGET efficientnet-cli)
    list(APPEND efn_defines "!define EFN_HAS_CLI\n")
  endif()
  if(flavour STREQUAL "cuda")
    if(efficientnet_gpu_runtime_sha256)
      set(url "${EFFICIENTNET_GPU_RUNTIME_URL}")
      set(sha256 ${efficientnet_gpu_runtime_sha256})
    else()   # script check only: the pre-build check refuses to package this
      set(url "https://download.pytorch.org/libtorch/not-configured.zip")
      string(REPEAT 0 64 sha256)
    endif()
    list(APPEND efn_defines
         "!define EFN_GPU_RUNTIME_URL \"${url}\"\n"
         "!define EFN_GPU_RUNTIME_SHA256 \"${sha256}\"\n"
         "!define EFN_GPU_RUNTIME_MB \"${efficientnet_gpu_runtime_mb}\"\n"
         "!define EFN_GPU_RUNTIME_DOWNLOAD_MB \"${efficientnet_gpu_runtime_download_mb}\"\n"
         "!define EFN_GPU_RUNTIME_FOLDER \"${EFFICIENTNET_GPU_RUNTIME_FOLDER}\"\n")
  endif()
  string(REPLACE ";" "" efn_defines "${efn_defines}")
  set(file ${PROJECT_BINARY_DIR}/installer/efficientnet-${flavour}.nsh)
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/windows/efficientnet.nsh.in ${file} @ONLY)
  set(${out} ${file} PARENT_SCOPE)
endfunction()
if(NOT EFFICIENTNET_GPU_RUNTIME_FOLDER)
  set(EFFICIENTNET_GPU_RUNTIME_FOLDER gpu-runtime)   # core/CMakeLists.txt sets it for a Windows CUDA build
endif()
efficientnet_configure_nsis(cpu efficientnet_nsh_cpu)
efficientnet_configure_nsis(cuda efficientnet_nsh_cuda)
set(CPACK_NSIS_DEFINES "!include \"${efficientnet_nsh_${EFFICIENTNET_PACKAGE_FLAVOUR}}\"")
set(CPACK_EFFICIENTNET_NSIS_DEFINES_CUDA "!include \"${efficientnet_nsh_cuda}\"")
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS "Call EfnAfterInstall")
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS "Call un.EfnBeforeUninstall")
# Packaging the CUDA flavour's installer needs the GPU runtime's URL and hash (installer/gpu_runtime.cmake).
if(WIN32 AND EFFICIENTNET_PACKAGE_FLAVOUR STREQUAL "cuda" AND NOT efficientnet_gpu_runtime_sha256)
  set(CPACK_EFFICIENTNET_GPU_RUNTIME_MISSING ON)
endif()

# NSIS installers cannot exceed 2 GB. The CUDA flavour keeps its largest DLLs out of the installer (the GPU runtime,
# installer/gpu_runtime.cmake); check_package_size.cmake still measures the staged files before makensis runs and
# stops with a clear message if they pass the limit (see README, "Packages"), and stops a CUDA installer that lacks
# its GPU runtime's URL and hash. The limit is a CPack variable so that `cpack -D` can lower it (the size test does).
set(CPACK_EFFICIENTNET_NSIS_LIMIT_BYTES 2147483648)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/check_package_size.cmake)

include(CPack)
