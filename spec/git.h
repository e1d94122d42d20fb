// Reading a spec from a git commit (libgit2), never from a working tree: what was reviewed is what
// is planned.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "spec/load.h"

namespace mirror::spec {

struct GitSource {
  std::string repo;  // a local repository (bare or not) or a URL (cloned into cache_dir)
  std::string ref;   // branch, tag, full or short SHA, or an expression such as HEAD~1
  std::string path;  // a file or folder inside the commit; "" = the repository root
  // Where remote repositories are cloned. Default: $MIRROR_GIT_CACHE, else $XDG_CACHE_HOME/mirror/git,
  // else ~/.cache/mirror/git. Created with mode 0700; refused (an error saying what to do) when it, or
  // the mirror/ folder of a default, belongs to another user or others may write it; made private (0700)
  // when others may read it.
  std::filesystem::path cache_dir;
};

// Credentials are never at rest. For a URL with user info (https://user:password@host/repo, or a token
// as the user: https://TOKEN@host/repo), libgit2 gets the URL without it — that is what the cached
// clone's config records — and the credentials only through its credentials callback, in memory, for
// that URL's host alone (not after a redirect to another) and once (wrong ones fail, never loop).
// Without credentials in an https URL, $MIRROR_GIT_TOKEN (if set) is the password, with the URL's user
// or "x-access-token" (GitHub, GitLab and Gitea accept a token so): CI can keep the token out of
// every command line. ssh URLs keep their user (ssh://git@host) and use ssh's own keys and agent.
// A cached clone whose config still holds credentials (made by an earlier version) has its URL
// rewritten, or is refused if anything else there holds them; caches of earlier versions named after
// a URL with credentials are removed.
struct UrlCredentials {
  std::string url;             // without user info (ssh: without a password)
  std::string user, password;  // percent-decoded
  bool had_credentials = false;
};
UrlCredentials split_url_credentials(std::string_view url);

// Resolves the ref to a commit, reads the spec files at `path` in that commit's tree and parses them.
// The resolved commit SHA, the ref and the path are recorded in Spec::origin.
LoadResult load_git(const GitSource& source);

}  // namespace mirror::spec
