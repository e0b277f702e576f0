# Wire primitives, headers, error codes and the request/response codecs generated from
# schemas/ by tools/codegen into ${CMAKE_CURRENT_BINARY_DIR}/generated/protocol/messages/.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

set(SAMSA_SCHEMA_DIR ${PROJECT_SOURCE_DIR}/schemas)
set(SAMSA_CODEGEN ${PROJECT_SOURCE_DIR}/tools/codegen/generate.py)
set(_gen_root ${CMAKE_CURRENT_BINARY_DIR}/generated)
set(_gen_dir ${_gen_root}/protocol/messages)

file(GLOB _schemas CONFIGURE_DEPENDS ${SAMSA_SCHEMA_DIR}/*.json ${SAMSA_SCHEMA_DIR}/test/*.json)
file(GLOB _codegen_py CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tools/codegen/*.py)
# The list of generated files depends on the schema set (globbed above) and the generator.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_codegen_py})

execute_process(
  COMMAND ${Python3_EXECUTABLE} ${SAMSA_CODEGEN} --schemas ${SAMSA_SCHEMA_DIR} --list
  OUTPUT_VARIABLE _gen_list
  ERROR_VARIABLE _gen_error
  RESULT_VARIABLE _gen_result
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _gen_result EQUAL 0)
  message(FATAL_ERROR "protocol codegen failed:\n${_gen_error}")
endif()
string(REGEX MATCH "^[^\n]*" _gen_lib_names "${_gen_list}")
string(REGEX REPLACE "^[^\n]*\n" "" _gen_test_names "${_gen_list}")
list(TRANSFORM _gen_lib_names PREPEND ${_gen_dir}/ OUTPUT_VARIABLE _gen_lib)
list(TRANSFORM _gen_test_names PREPEND ${_gen_dir}/ OUTPUT_VARIABLE _gen_test)

add_custom_command(
  OUTPUT ${_gen_lib} ${_gen_test}
  COMMAND ${Python3_EXECUTABLE} ${SAMSA_CODEGEN} --schemas ${SAMSA_SCHEMA_DIR} --out ${_gen_dir}
  DEPENDS ${_schemas} ${_codegen_py}
  COMMENT "Generating Kafka message codecs from schemas/"
  VERBATIM)
add_custom_target(samsa_protocol_codegen DEPENDS ${_gen_lib} ${_gen_test})

target_sources(samsa_protocol PRIVATE
  wire.cc
  headers.cc
  error_code.cc
  records_payload.cc
  ${_gen_lib})
target_include_directories(samsa_protocol PUBLIC ${_gen_root})
add_dependencies(samsa_protocol samsa_protocol_codegen)

if(SAMSA_BUILD_TESTS)
  target_sources(protocol_tests PRIVATE
    ${_gen_test}
    tests/wire_test.cc
    tests/messages_test.cc
    tests/golden_test.cc)
  add_dependencies(protocol_tests samsa_protocol_codegen)
endif()
