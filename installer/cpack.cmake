# Packages: DEB + TGZ on Linux, NSIS (+ ZIP) on Windows. `cpack -G <generator>` in the build folder.
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
  set(CPACK_GENERATOR NSIS ZIP)
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

# NSIS: licence page, install-folder choice, Start-menu folder with the app and the uninstaller, and an "Install
# Options" page (CPACK_NSIS_MODIFY_PATH) offering bin\ on PATH for efficientnet-cli and an optional desktop icon.
set(CPACK_NSIS_PACKAGE_NAME "EfficientNet LibTorch${efficientnet_display_suffix}")
set(CPACK_NSIS_DISPLAY_NAME "EfficientNet LibTorch${efficientnet_display_suffix}")
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MODIFY_PATH ON)
set(CPACK_NSIS_MUI_ICON ${EFFICIENTNET_ICON})     # made at build time from the SVG (app/windows)
set(CPACK_NSIS_MUI_UNIICON ${EFFICIENTNET_ICON})
set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\efficientnet-demo.exe")
set(CPACK_NSIS_URL_INFO_ABOUT ${CPACK_PACKAGE_HOMEPAGE_URL})
if(TARGET efficientnet-demo)
  set(CPACK_PACKAGE_EXECUTABLES efficientnet-demo "EfficientNet Demo")
  set(CPACK_CREATE_DESKTOP_LINKS efficientnet-demo)   # only when the desktop-icon box is ticked
  # "Open with" for image types: register the app under HKCR\Applications and list it in each type's OpenWithList.
  # The uninstaller removes exactly these keys.
  set(efficientnet_open_with_install "")
  set(efficientnet_open_with_uninstall "")
  set(efficientnet_app_key "Applications\\efficientnet-demo.exe")
  string(APPEND efficientnet_open_with_install
    "WriteRegStr HKCR '${efficientnet_app_key}' 'FriendlyAppName' 'EfficientNet Demo'\n"
    "WriteRegStr HKCR '${efficientnet_app_key}\\shell\\open\\command' '' '\"$INSTDIR\\bin\\efficientnet-demo.exe\" \"%1\"'\n")
  string(APPEND efficientnet_open_with_uninstall "DeleteRegKey HKCR '${efficientnet_app_key}'\n")
  foreach(ext .jpg .jpeg .png .bmp .tif .tiff .webp)
    string(APPEND efficientnet_open_with_install
      "WriteRegStr HKCR '${efficientnet_app_key}\\SupportedTypes' '${ext}' ''\n"
      "WriteRegStr HKCR '${ext}\\OpenWithList\\efficientnet-demo.exe' '' ''\n")
    string(APPEND efficientnet_open_with_uninstall "DeleteRegKey HKCR '${ext}\\OpenWithList\\efficientnet-demo.exe'\n")
  endforeach()
  set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS "${efficientnet_open_with_install}")
  set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS "${efficientnet_open_with_uninstall}")
endif()

# NSIS installers cannot exceed 2 GB, and the CUDA flavour's DLLs (cudnn, cublas, torch_cuda) come close to or past
# that. check_package_size.cmake measures the staged files before makensis runs and stops with a clear message
# (see README, "Packages"). The limit is a CPack variable so that `cpack -D` can lower it (the size test does).
set(CPACK_EFFICIENTNET_NSIS_LIMIT_BYTES 2147483648)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/check_package_size.cmake)

include(CPack)
