# Installs the build into PREFIX and classifies an installed sample photo with the installed console tool, run
# from another folder with no access to the source tree: class names must come from the installed share folder.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env EFFICIENTNET_RESOURCES_DIR= ${PREFIX}/bin/efficientnet-cli${EXE_SUFFIX} --version
                OUTPUT_VARIABLE version)
string(REPLACE "\\" "/" version "${version}")   # Windows prints native separators
file(REAL_PATH ${PREFIX}/share/efficientnet-libtorch share)
string(FIND "${version}" "resources: ${share}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "installed efficientnet-cli does not use its installed resources (${share}): ${version}")
endif()
set(sample ${PREFIX}/share/efficientnet-libtorch/samples/cat.jpg)
execute_process(COMMAND ${CMAKE_COMMAND} -E env EFFICIENTNET_RESOURCES_DIR=
                        ${PREFIX}/bin/efficientnet-cli${EXE_SUFFIX} classify --random-weights --json --topk 1 ${sample}
                WORKING_DIRECTORY ${PREFIX} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installed efficientnet-cli failed (${rc}): ${err}")
endif()
string(JSON label GET "${out}" results 0 predictions 0 label)
if(label MATCHES "^class [0-9]+$" OR label STREQUAL "")
  message(FATAL_ERROR "installed efficientnet-cli did not find its class names: label '${label}'\n${err}")
endif()
message(STATUS "installed efficientnet-cli classified ${sample}: ${label}")
