# Run at build time (cmake -P) by common/metrics/CMakeLists.txt: writes OUT from IN
# with the checkout's version and commit. configure_file leaves OUT untouched when
# nothing changed, so an unchanged checkout recompiles nothing.
#   -DGIT=<git or empty> -DSOURCE_DIR=<checkout> -DIN=<template> -DOUT=<file>
set(PATHWAY_BUILD_VERSION "unknown")
set(PATHWAY_BUILD_COMMIT "unknown")
if(GIT)
  execute_process(COMMAND ${GIT} describe --tags --always --dirty
    WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE version RESULT_VARIABLE version_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(version_rc EQUAL 0 AND NOT version STREQUAL "")
    set(PATHWAY_BUILD_VERSION "${version}")
  endif()
  execute_process(COMMAND ${GIT} rev-parse HEAD
    WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE commit RESULT_VARIABLE commit_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(commit_rc EQUAL 0 AND NOT commit STREQUAL "")
    set(PATHWAY_BUILD_COMMIT "${commit}")
  endif()
endif()
configure_file(${IN} ${OUT} @ONLY)
