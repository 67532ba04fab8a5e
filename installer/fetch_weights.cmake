# Fetches EFFICIENTNET_WEIGHTS_URL into EFFICIENTNET_WEIGHTS_FILE unless a file with EFFICIENTNET_WEIGHTS_SHA256 is
# already there. The download goes to a .part file that gets its final name only once its SHA-256 matched, so a
# failed or tampered download never lands in a package. Used by weights.cmake at install time, and by the
# bundled_weights_fetch test with a file:// URL (cmake -D... -P fetch_weights.cmake).
foreach(var EFFICIENTNET_WEIGHTS_URL EFFICIENTNET_WEIGHTS_SHA256 EFFICIENTNET_WEIGHTS_FILE)
  if(NOT ${var})
    message(FATAL_ERROR "fetch_weights.cmake: ${var} is not set")
  endif()
endforeach()
if(EXISTS "${EFFICIENTNET_WEIGHTS_FILE}")
  file(SHA256 "${EFFICIENTNET_WEIGHTS_FILE}" have)
  if(have STREQUAL EFFICIENTNET_WEIGHTS_SHA256)
    return()
  endif()
  file(REMOVE "${EFFICIENTNET_WEIGHTS_FILE}")
endif()
message(STATUS "Fetching ${EFFICIENTNET_WEIGHTS_URL}")
file(DOWNLOAD "${EFFICIENTNET_WEIGHTS_URL}" "${EFFICIENTNET_WEIGHTS_FILE}.part"
     EXPECTED_HASH SHA256=${EFFICIENTNET_WEIGHTS_SHA256} STATUS status TLS_VERIFY ON)
list(GET status 0 code)
if(NOT code EQUAL 0)
  list(GET status 1 why)
  file(REMOVE "${EFFICIENTNET_WEIGHTS_FILE}.part")
  message(FATAL_ERROR "Could not fetch the bundled weights from ${EFFICIENTNET_WEIGHTS_URL}: ${why}. "
                      "Package without them (-DEFFICIENTNET_BUNDLE_WEIGHTS=OFF) or put the file, with SHA-256 "
                      "${EFFICIENTNET_WEIGHTS_SHA256}, at ${EFFICIENTNET_WEIGHTS_FILE}.")
endif()
file(RENAME "${EFFICIENTNET_WEIGHTS_FILE}.part" "${EFFICIENTNET_WEIGHTS_FILE}")
