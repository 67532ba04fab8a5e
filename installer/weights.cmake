# Optional: bundle the default weights (B0, torchvision) in the packages. They are fetched when the package is made
# (cpack's staging install, or cmake --install) with CMake's hash-checked download, from the URL and SHA-256 that
# resources/weights_registry.json lists, and installed into share/efficientnet-libtorch/weights/, where the console
# tool and the desktop app look after the user's weights cache. Off by default: without it the installed app runs
# `efficientnet-cli download efficientnet_b0` (or the user's own checkpoint) on first use.
option(EFFICIENTNET_BUNDLE_WEIGHTS "Bundle the default B0 weights in the packages (downloaded at packaging time)" OFF)
set(EFFICIENTNET_BUNDLED_MODEL efficientnet_b0 CACHE STRING "Registry variant whose torchvision weights are bundled")
if(NOT EFFICIENTNET_BUNDLE_WEIGHTS)
  return()
endif()

file(READ ${PROJECT_SOURCE_DIR}/resources/weights_registry.json registry)
string(JSON count LENGTH "${registry}" variants ${EFFICIENTNET_BUNDLED_MODEL})
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON source GET "${registry}" variants ${EFFICIENTNET_BUNDLED_MODEL} ${i} source)
  if(source STREQUAL "torchvision")
    string(JSON url GET "${registry}" variants ${EFFICIENTNET_BUNDLED_MODEL} ${i} url)
    string(JSON file GET "${registry}" variants ${EFFICIENTNET_BUNDLED_MODEL} ${i} file)
    string(JSON sha256 GET "${registry}" variants ${EFFICIENTNET_BUNDLED_MODEL} ${i} sha256)
  endif()
endforeach()
# Only a full SHA-256 can be checked by file(DOWNLOAD EXPECTED_HASH); a registry prefix is not enough to ship.
string(LENGTH "${sha256}" sha256_length)
if(NOT sha256 MATCHES "^[0-9a-f]+$" OR NOT sha256_length EQUAL 64)
  message(FATAL_ERROR "EFFICIENTNET_BUNDLE_WEIGHTS: the registry has no full SHA-256 for ${EFFICIENTNET_BUNDLED_MODEL}'s "
                      "torchvision weights (it has '${sha256}'): pick another EFFICIENTNET_BUNDLED_MODEL")
endif()
message(STATUS "Packages bundle ${file} (fetched from ${url} when packaging)")
install(CODE "
  set(EFFICIENTNET_WEIGHTS_URL \"${url}\")
  set(EFFICIENTNET_WEIGHTS_SHA256 \"${sha256}\")
  set(EFFICIENTNET_WEIGHTS_FILE \"${PROJECT_BINARY_DIR}/bundled-weights/${file}\")
  include(\"${CMAKE_CURRENT_SOURCE_DIR}/fetch_weights.cmake\")
  file(INSTALL \"\${EFFICIENTNET_WEIGHTS_FILE}\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${EFFICIENTNET_SHARE_DIR}/weights\")")
