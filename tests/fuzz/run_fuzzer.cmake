# One fuzz smoke test (tests/fuzz/CMakeLists.txt): replay the saved crashers and the matching hostile files, then
# fuzz from the seed corpus for SECONDS. Any crash, sanitizer report, leak, timeout or memory-limit breach fails it;
# the input that did it is kept in WORK/ and named in the output.
cmake_minimum_required(VERSION 3.25)
set(limits -rss_limit_mb=${RSS_LIMIT_MB} -malloc_limit_mb=${MALLOC_LIMIT_MB} -timeout=30)

set(replay "")
file(GLOB saved LIST_DIRECTORIES false "${REGRESSIONS}/*")
list(APPEND replay ${saved})
foreach(pattern IN LISTS HOSTILE)
  file(GLOB matched LIST_DIRECTORIES false "${HOSTILE_DIR}/${pattern}")
  list(APPEND replay ${matched})
endforeach()
if(replay)
  list(LENGTH replay count)
  message(STATUS "replaying ${count} saved crashers and hostile files")
  execute_process(COMMAND ${FUZZER} ${limits} ${replay} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "a saved crasher or hostile file fails again (exit ${status}); see the report above")
  endif()
endif()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus)
execute_process(COMMAND ${FUZZER} ${limits} -max_total_time=${SECONDS} -dict=${DICT} -print_final_stats=1
                        -artifact_prefix=${WORK}/ ${WORK}/corpus ${SEEDS}
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(GLOB artifacts "${WORK}/crash-*" "${WORK}/leak-*" "${WORK}/oom-*" "${WORK}/timeout-*" "${WORK}/slow-unit-*")
  message(FATAL_ERROR "the fuzzer found a failing input (exit ${status}): ${artifacts}\n"
                      "Fix the cause, then add the input to tests/fuzz/regressions/<target>/ so it is replayed.")
endif()
