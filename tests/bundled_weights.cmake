# Bundled weights (installer/weights.cmake), without the internet: STEP=fetch runs installer/fetch_weights.cmake on a
# file:// URL with the right SHA-256 (the file must arrive) and with a wrong one (it must fail and leave no file);
# STEP=found installs the build into a prefix, puts a checkpoint where a package bundles it, and the installed
# efficientnet-cli must pick it without --weights while the user's caches are empty.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${WORK})
if(STEP STREQUAL "fetch")
  set(source ${SOURCE_DIR}/resources/samples/cat.jpg)   # any file stands in for a checkpoint
  file(SHA256 ${source} sha256)
  if(source MATCHES "^/")
    set(url file://${source})
  else()
    set(url file:///${source})   # C:/... on Windows
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -DEFFICIENTNET_WEIGHTS_URL=${url}
                          -DEFFICIENTNET_WEIGHTS_SHA256=${sha256} -DEFFICIENTNET_WEIGHTS_FILE=${WORK}/good.pth
                          -P ${SOURCE_DIR}/installer/fetch_weights.cmake RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${WORK}/good.pth)
    message(FATAL_ERROR "fetch_weights.cmake did not fetch ${source} with its own SHA-256 (${rc}): ${err}")
  endif()
  file(SHA256 ${WORK}/good.pth got)
  if(NOT got STREQUAL sha256)
    message(FATAL_ERROR "fetched file's SHA-256 ${got} is not ${sha256}")
  endif()
  string(REPEAT 0 64 wrong)
  execute_process(COMMAND ${CMAKE_COMMAND} -DEFFICIENTNET_WEIGHTS_URL=${url}
                          -DEFFICIENTNET_WEIGHTS_SHA256=${wrong} -DEFFICIENTNET_WEIGHTS_FILE=${WORK}/bad.pth
                          -P ${SOURCE_DIR}/installer/fetch_weights.cmake RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0 OR EXISTS ${WORK}/bad.pth OR NOT err MATCHES "HASH mismatch")
    message(FATAL_ERROR "fetch_weights.cmake accepted a file whose SHA-256 does not match (${rc}): ${err}")
  endif()
  message(STATUS "fetch_weights.cmake fetched the matching file and refused the mismatching one")
elseif(STEP STREQUAL "found")
  set(prefix ${WORK}/prefix)
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
  set(bundled ${prefix}/share/efficientnet-libtorch/weights/efficientnet_b0_bundled.pth)
  file(MAKE_DIRECTORY ${prefix}/share/efficientnet-libtorch/weights)
  file(COPY_FILE ${CHECKPOINT} ${bundled})
  file(MAKE_DIRECTORY ${WORK}/home)
  set(cli_env ${CMAKE_COMMAND} -E env EFFICIENTNET_RESOURCES_DIR= HOME=${WORK}/home EFFICIENTNET_CACHE_DIR=${WORK}/home/cache
              TORCH_HOME=${WORK}/home/torch XDG_CACHE_HOME=)
  set(classify ${prefix}/bin/efficientnet-cli${EXE_SUFFIX} classify --json --topk 1 --model efficientnet_b0
               ${prefix}/share/efficientnet-libtorch/samples/cat.jpg)
  execute_process(COMMAND ${cli_env} ${classify} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "installed efficientnet-cli found no bundled weights (${rc}): ${err}")
  endif()
  string(JSON weights GET "${out}" weights)   # "<path> (torchvision keys)"
  string(FIND "${weights}" "${bundled}" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "installed efficientnet-cli used '${weights}', not the bundled ${bundled}")
  endif()
  # And it was the bundled file that made the difference: without it the same command has no weights.
  file(REMOVE ${bundled})
  execute_process(COMMAND ${cli_env} ${classify} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "no weights for efficientnet_b0")
    message(FATAL_ERROR "without the bundled file efficientnet-cli still found weights (${rc}): ${err}")
  endif()
  message(STATUS "installed efficientnet-cli classified with the bundled ${bundled}")
else()
  message(FATAL_ERROR "bundled_weights.cmake: unknown STEP '${STEP}'")
endif()
