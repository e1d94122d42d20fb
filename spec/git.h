// Reading a spec from a git commit (libgit2), never from a working tree: what was reviewed is what
// is planned.
#pragma once

#include <filesystem>
#include <string>

#include "spec/load.h"

namespace mirror::spec {

struct GitSource {
  std::string repo;  // a local repository (bare or not) or a URL (cloned into cache_dir)
  std::string ref;   // branch, tag, full or short SHA, or an expression such as HEAD~1
  std::string path;  // a file or folder inside the commit; "" = the repository root
  // Where remote repositories are cloned. Default: $MIRROR_GIT_CACHE, else $XDG_CACHE_HOME/mirror/git,
  // else ~/.cache/mirror/git.
  std::filesystem::path cache_dir;
};

// Resolves the ref to a commit, reads the spec files at `path` in that commit's tree and parses them.
// The resolved commit SHA, the ref and the path are recorded in Spec::origin.
LoadResult load_git(const GitSource& source);

}  // namespace mirror::spec
