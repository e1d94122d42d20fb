# Run at build time (cmake -P) by the mirror_git_commit target: writes OUTPUT, a header with the git
# commit the binary is built from, for `mirror --version`. The short SHA, "-dirty" when tracked files
# differ from it, "unknown" outside a git checkout (a release tarball) or without git. COMMIT, when set
# (-DMIRROR_GIT_COMMIT=...), wins: for builds from an exported tree that know their commit.
# The file is rewritten only when its content changes, so an unchanged commit rebuilds nothing.
set(commit "${COMMIT}")
if(commit STREQUAL "")
  set(commit unknown)
  find_program(GIT git)
  if(GIT AND EXISTS "${SOURCE_DIR}/.git")
    # GIT_OPTIONAL_LOCKS=0: only read, never refresh the index (other builds may share the checkout).
    set(ENV{GIT_OPTIONAL_LOCKS} 0)
    execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" rev-parse --short HEAD
                    OUTPUT_VARIABLE sha OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0 AND NOT sha STREQUAL "")
      set(commit "${sha}")
      execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                      OUTPUT_VARIABLE changes RESULT_VARIABLE rc ERROR_QUIET)
      if(NOT rc EQUAL 0 OR NOT changes STREQUAL "")
        string(APPEND commit "-dirty")
      endif()
    endif()
  endif()
endif()
string(REGEX REPLACE "[^0-9A-Za-z._-]" "" commit "${commit}")
set(content "#pragma once\n// Generated at build time by cmake/GitCommit.cmake.\nnamespace mirror {\ninline constexpr const char* kGitCommit = \"${commit}\";\n}  // namespace mirror\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
