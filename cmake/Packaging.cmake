# Installing and packaging mirror (docs/install.md).
#
#   cmake --install build --prefix /opt/mirror   # bin/mirror, share/doc/mirror/{README.md,docs,examples}
#   (cd build && cpack)                          # build/mirror_<version>_<arch>.deb and
#                                                # build/mirror-<version>-linux-<arch>.tar.gz
#
# The binary is relocatable: librdkafka is linked statically, every other library is a Debian runtime
# package found by the system's loader (no RPATH/RUNPATH), and it reads no file relative to its prefix.
include(GNUInstallDirs)

# ---- mirror --version: the git commit, computed at build time (cmake/GitCommit.cmake) ----------------
set(MIRROR_GIT_COMMIT "" CACHE STRING
    "Commit that `mirror --version` names; empty: ask git at build time (\"unknown\" outside a checkout)")
set(mirror_git_commit_h "${PROJECT_BINARY_DIR}/generated/common/git_commit.h")
add_custom_target(mirror_git_commit
  COMMAND "${CMAKE_COMMAND}" -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${mirror_git_commit_h}
          "-DCOMMIT=${MIRROR_GIT_COMMIT}" -P "${PROJECT_SOURCE_DIR}/cmake/GitCommit.cmake"
  BYPRODUCTS "${mirror_git_commit_h}"
  COMMENT "Reading the git commit for mirror --version"
  VERBATIM)
add_dependencies(mirror mirror_git_commit)

# ---- cmake --install ----------------------------------------------------------------------------------
set_target_properties(mirror PROPERTIES SKIP_BUILD_RPATH FALSE INSTALL_RPATH "")
install(TARGETS mirror RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
set(mirror_doc_dir "${CMAKE_INSTALL_DATADIR}/doc/mirror")
install(FILES README.md DESTINATION "${mirror_doc_dir}")
install(DIRECTORY docs/ DESTINATION "${mirror_doc_dir}/docs" FILES_MATCHING PATTERN "*.md")
install(DIRECTORY examples/ DESTINATION "${mirror_doc_dir}/examples" PATTERN "CMakeLists.txt" EXCLUDE)

# ---- cpack: a .deb for Debian 12 and a .tar.gz of the same tree -------------------------------------
set(CPACK_PACKAGE_NAME mirror)
set(CPACK_PACKAGE_VENDOR "the mirror maintainers")
set(CPACK_PACKAGE_CONTACT "mirror maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Kafka cluster mirroring, the GitOps way (plan, apply, replicate)")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "mirror keeps Apache Kafka clusters in sync from a replication spec kept in git: plan shows the\n"
       "difference with the live clusters, apply reconciles it, and the replication engine copies records.")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_CHECKSUM SHA256)
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
execute_process(COMMAND uname -m OUTPUT_VARIABLE mirror_machine OUTPUT_STRIP_TRAILING_WHITESPACE)
set(CPACK_PACKAGE_FILE_NAME "mirror-${PROJECT_VERSION}-linux-${mirror_machine}")
# The tarball unpacks into mirror-<version>-linux-<arch>/{bin,share}: relocatable, run it from anywhere.
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Runtime Depends derived from the binary by dpkg-shlibdeps (dpkg-dev and file, from scripts/install-deps),
# never written by hand: every shared library it links, with the Debian 12 package that provides it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)

# ---- the clean-room check (scripts/clean-room, docs/install.md) -------------------------------------
# A brand-new Debian 12 root gets only the README's prerequisites, runs scripts/install-deps and the build,
# then the .deb is installed in a second fresh root and run there (plan against the local clusters, hence
# the kafka fixture). Exit 77 = cannot run here (not root, no passwordless sudo): reported as skipped.
# Not in sanitizer or fuzz builds: it builds its own, and one run per scripts/test is enough.
if(MIRROR_BUILD_TESTS AND NOT MIRROR_SANITIZE AND NOT MIRROR_FUZZ)
  add_test(NAME cleanroom COMMAND "${PROJECT_SOURCE_DIR}/scripts/clean-room")
  set_tests_properties(cleanroom PROPERTIES LABELS cleanroom TIMEOUT 5400 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
                       FIXTURES_REQUIRED kafka)
endif()
