# Helpers in the manner of abseil's AbseilHelpers.cmake: one call per target, with the
# project's include root and warnings applied the same way everywhere.
#
#   pathway_cc_library(NAME case_id SRCS case_id.cc HDRS case_id.h DEPS absl::status)
#   pathway_cc_test(NAME case_id_test SRCS case_id_test.cc DEPS pathway::case_id)
#   pathway_cc_binary(NAME registry_server SRCS main.cc DEPS ...)
#
# Libraries are named pathway_<NAME> with the alias pathway::<NAME>.

function(pathway_cc_library)
  cmake_parse_arguments(P "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  set(target pathway_${P_NAME})
  if(P_SRCS)
    add_library(${target} STATIC ${P_SRCS} ${P_HDRS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/protos)
    target_link_libraries(${target} PUBLIC ${P_DEPS})
    target_compile_options(${target} PRIVATE ${PATHWAY_WARNINGS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/protos)
    target_link_libraries(${target} INTERFACE ${P_DEPS})
  endif()
  add_library(pathway::${P_NAME} ALIAS ${target})
endfunction()

function(pathway_cc_binary)
  cmake_parse_arguments(P "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${P_NAME} ${P_SRCS})
  target_include_directories(${P_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/protos)
  target_link_libraries(${P_NAME} PRIVATE ${P_DEPS})
  target_compile_options(${P_NAME} PRIVATE ${PATHWAY_WARNINGS})
endfunction()

# Tests get the label given by LABELS (default "unit") so tests/run.sh can group them.
function(pathway_cc_test)
  if(NOT PATHWAY_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(P "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${P_NAME} ${P_SRCS})
  target_include_directories(${P_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/protos)
  target_link_libraries(${P_NAME} PRIVATE ${P_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_options(${P_NAME} PRIVATE ${PATHWAY_WARNINGS})
  add_test(NAME ${P_NAME} COMMAND ${P_NAME})
  if(NOT P_LABELS)
    set(P_LABELS unit)
  endif()
  if(NOT P_TIMEOUT)
    set(P_TIMEOUT 300)
  endif()
  set_tests_properties(${P_NAME} PROPERTIES LABELS "${P_LABELS}" TIMEOUT ${P_TIMEOUT})
endfunction()

# Generates C++ (and, with GRPC, gRPC service) code for .proto files under protos/.
#   pathway_proto_library(NAME registry_proto PROTOS pathway/registry/v1/registry.proto
#                         DEPS pathway::common_proto GRPC)
#
# The generated objects are linked whole: a .pb.cc registers its descriptors in a static
# initialiser, and a plain static archive would drop a file nothing references by name
# (a service proto whose RPCs use only common messages), hiding it from reflection.
function(pathway_proto_library)
  cmake_parse_arguments(P "GRPC" "NAME" "PROTOS;DEPS" ${ARGN})
  set(impl pathway_${P_NAME}_objects)
  set(target pathway_${P_NAME})
  set(abs_protos)
  foreach(p ${P_PROTOS})
    list(APPEND abs_protos ${PROJECT_SOURCE_DIR}/protos/${p})
  endforeach()
  add_library(${impl} STATIC ${abs_protos})
  target_link_libraries(${impl} PUBLIC protobuf::libprotobuf ${P_DEPS})
  if(P_GRPC)
    target_link_libraries(${impl} PUBLIC gRPC::grpc++)
  endif()
  target_include_directories(${impl} PUBLIC ${PROJECT_BINARY_DIR}/protos)
  protobuf_generate(TARGET ${impl} LANGUAGE cpp
    IMPORT_DIRS ${PROJECT_SOURCE_DIR}/protos
    PROTOC_OUT_DIR ${PROJECT_BINARY_DIR}/protos)
  if(P_GRPC)
    protobuf_generate(TARGET ${impl} LANGUAGE grpc
      GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
      PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
      IMPORT_DIRS ${PROJECT_SOURCE_DIR}/protos
      PROTOC_OUT_DIR ${PROJECT_BINARY_DIR}/protos)
  endif()
  add_library(${target} INTERFACE)
  target_link_libraries(${target} INTERFACE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${impl}>")
  add_library(pathway::${P_NAME} ALIAS ${target})
endfunction()
