# mirror_module(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#   One static library per top-level folder, named mirror_<NAME>, with the repository root as its
#   include root (so code says #include "kafka/admin.h").
function(mirror_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(mirror_${name} STATIC ${M_SOURCES})
  target_include_directories(mirror_${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_link_libraries(mirror_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  mirror_warnings(mirror_${name})
endfunction()

function(mirror_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    # Designated initializers leave the other members at their defaults on purpose; gcc 12 warns anyway.
    -Wno-missing-field-initializers)
  if(MIRROR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(MIRROR_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # gcc 12's -Wmaybe-uninitialized misfires inside libstdc++ (std::regex, std::function) when the
    # sanitizers instrument the code; the normal build keeps the warning.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()

# mirror_test(NAME SOURCES ... DEPS ... [LABELS ...] [FIXTURES ...] [RESOURCE_LOCK ...] [RUN_SERIAL])
#   A GoogleTest binary beside the code it tests. Integration tests carry the label "integration" and
#   require the "kafka" fixture, which starts the local clusters (scripts/kafka-local) once per ctest run.
function(mirror_test name)
  if(NOT MIRROR_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "RUN_SERIAL" "" "SOURCES;DEPS;LABELS;FIXTURES;RESOURCE_LOCK;ENVIRONMENT" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  mirror_warnings(${name})
  set(props LABELS "${T_LABELS}" TIMEOUT 300)
  if(T_FIXTURES)
    list(APPEND props FIXTURES_REQUIRED "${T_FIXTURES}")
  endif()
  if(T_RUN_SERIAL)
    list(APPEND props RUN_SERIAL TRUE)
  endif()
  if(T_RESOURCE_LOCK)
    list(APPEND props RESOURCE_LOCK "${T_RESOURCE_LOCK}")
  endif()
  if(T_ENVIRONMENT)  # one VAR=value (e.g. an operator setting such as MIRROR_ALLOW_ENV)
    list(APPEND props ENVIRONMENT "${T_ENVIRONMENT}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES ${props})
endfunction()
