# Finds every third-party library mirror uses. A missing one stops configuration with a message that
# names the Debian package to install (scripts/install-deps installs all of them).
find_package(PkgConfig QUIET)

function(mirror_missing what package)
  message(FATAL_ERROR
    "mirror: ${what} was not found.\n"
    "  Install it with:   apt-get install ${package}\n"
    "  or install everything mirror needs with:   scripts/install-deps")
endfunction()

if(NOT PkgConfig_FOUND)
  mirror_missing("pkg-config" "pkg-config")
endif()

# librdkafka: a release >= 2.11.1 built by scripts/build-librdkafka (Debian's 2.0.2 is too old for
# Kafka 4, see docs/compatibility.md).
set(MIRROR_LIBRDKAFKA_VERSION 2.12.1)
set(MIRROR_LIBRDKAFKA_ROOT "${PROJECT_SOURCE_DIR}/.cache/librdkafka-${MIRROR_LIBRDKAFKA_VERSION}"
    CACHE PATH "Install prefix of the librdkafka that mirror links against")
if(EXISTS "${MIRROR_LIBRDKAFKA_ROOT}/lib/cmake/RdKafka")
  list(APPEND CMAKE_MODULE_PATH "${MIRROR_LIBRDKAFKA_ROOT}/lib/cmake/RdKafka") # its FindLZ4.cmake
endif()
find_package(RdKafka ${MIRROR_LIBRDKAFKA_VERSION} EXACT CONFIG QUIET
             PATHS "${MIRROR_LIBRDKAFKA_ROOT}" NO_DEFAULT_PATH)
if(NOT RdKafka_FOUND)
  message(FATAL_ERROR
    "mirror: librdkafka ${MIRROR_LIBRDKAFKA_VERSION} was not found in ${MIRROR_LIBRDKAFKA_ROOT}.\n"
    "  Build it with:   scripts/build-librdkafka\n"
    "  (Debian's librdkafka-dev 2.0.2 is not used: Kafka 4 removed protocol versions it depends on;\n"
    "  see docs/compatibility.md.) It needs: apt-get install libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev")
endif()

# OpenSSL: librdkafka's TLS; kafka/tls.cpp reads the certificates it refuses, to say why.
find_package(OpenSSL QUIET)
if(NOT OpenSSL_FOUND)
  mirror_missing("OpenSSL" "libssl-dev")
endif()

find_package(yaml-cpp QUIET)
if(NOT yaml-cpp_FOUND)
  mirror_missing("yaml-cpp" "libyaml-cpp-dev")
endif()

find_package(CLI11 QUIET)
if(NOT CLI11_FOUND)
  mirror_missing("CLI11" "libcli11-dev")
endif()

find_package(nlohmann_json 3 QUIET)
if(NOT nlohmann_json_FOUND)
  mirror_missing("nlohmann-json" "nlohmann-json3-dev")
endif()

pkg_check_modules(GIT2 QUIET IMPORTED_TARGET libgit2)
if(NOT GIT2_FOUND)
  mirror_missing("libgit2" "libgit2-dev")
endif()

pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
if(NOT HTTPLIB_FOUND)
  mirror_missing("cpp-httplib" "libcpp-httplib-dev")
endif()

find_path(DTL_INCLUDE_DIR dtl/dtl.hpp)
if(NOT DTL_INCLUDE_DIR)
  mirror_missing("dtl (diff template library)" "libdtl-dev")
endif()
add_library(dtl::dtl INTERFACE IMPORTED)
target_include_directories(dtl::dtl INTERFACE "${DTL_INCLUDE_DIR}")

if(MIRROR_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    mirror_missing("GoogleTest" "libgtest-dev libgmock-dev")
  endif()
endif()
