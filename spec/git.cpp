#include "spec/git.h"

#include "common/hash.h"
#include "common/secrets.h"

#include <git2.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace mirror::spec {

namespace {

// libgit2 must be initialised before use; reference-counted, so nesting is fine.
struct Libgit2 {
  Libgit2() { git_libgit2_init(); }
  ~Libgit2() { git_libgit2_shutdown(); }
};

template <class T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const noexcept { Free(p); }
};
using Repo = std::unique_ptr<git_repository, GitFree<git_repository, git_repository_free>>;
using Object = std::unique_ptr<git_object, GitFree<git_object, git_object_free>>;
using Tree = std::unique_ptr<git_tree, GitFree<git_tree, git_tree_free>>;
using TreeEntry = std::unique_ptr<git_tree_entry, GitFree<git_tree_entry, git_tree_entry_free>>;
using Blob = std::unique_ptr<git_blob, GitFree<git_blob, git_blob_free>>;
using Remote = std::unique_ptr<git_remote, GitFree<git_remote, git_remote_free>>;

std::string last_error() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

// libgit2's messages may quote the URL it was given; show the redacted one instead.
std::string scrub(std::string message, const std::string& real, const std::string& shown) {
  if (real == shown) return message;
  for (size_t pos = message.find(real); pos != std::string::npos;
       pos = message.find(real, pos + shown.size())) {
    message.replace(pos, real.size(), shown);
  }
  return message;
}

bool is_url(const std::string& repo) {
  return repo.find("://") != std::string::npos ||
         (repo.find('@') != std::string::npos && repo.find(':') != std::string::npos &&
          !std::filesystem::exists(repo));
}

std::filesystem::path default_cache() {
  if (const char* c = std::getenv("MIRROR_GIT_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::filesystem::path(x) / "mirror" / "git";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::filesystem::path(h) / ".cache" / "mirror" / "git";
  return std::filesystem::temp_directory_path() / "mirror-git";
}

std::string cache_name(const std::string& url) { return sha256_hex(url).substr(0, 16); }

LoadResult failure(const std::string& where, std::string message, std::string hint) {
  LoadResult r;
  r.diagnostics.error(Location{where, 0, 0}, std::move(message), std::move(hint));
  return r;
}

// Opens a local repository, or clones/fetches a remote one into the cache.
std::variant<Repo, LoadResult> open_repo(const GitSource& real, const std::string& shown) {
  GitSource src = real;  // src.repo is what libgit2 gets; `shown` is what people see
  git_repository* raw = nullptr;
  if (!is_url(src.repo)) {
    if (git_repository_open_ext(&raw, src.repo.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
      return failure(shown,
                     "not a git repository: " + shown + " (" + scrub(last_error(), real.repo, shown) + ")",
                     "pass --git the path of a repository (bare or with a working tree) or a URL");
    }
    return Repo(raw);
  }
  const auto dir = (src.cache_dir.empty() ? default_cache() : src.cache_dir) / cache_name(src.repo);
  if (git_repository_open_bare(&raw, dir.c_str()) == 0) {
    Repo repo(raw);
    git_remote* remote_raw = nullptr;
    if (git_remote_lookup(&remote_raw, repo.get(), "origin") != 0) {
      return failure(shown, "the cached clone in " + dir.string() + " has no origin remote",
                     "delete " + dir.string() + " and run again");
    }
    Remote remote(remote_raw);
    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
    if (git_remote_fetch(remote.get(), nullptr, &opts, "mirror: fetch spec") != 0) {
      return failure(shown, "cannot fetch " + shown + ": " + scrub(last_error(), real.repo, shown),
                     "check the URL, the network and the credentials git uses for this host");
    }
    return repo;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir.parent_path(), ec);
  git_clone_options opts = GIT_CLONE_OPTIONS_INIT;
  opts.bare = 1;
  if (git_clone(&raw, src.repo.c_str(), dir.c_str(), &opts) != 0) {
    std::string why = scrub(last_error(), real.repo, shown);
    std::filesystem::remove_all(dir, ec);
    return failure(shown, "cannot clone " + shown + ": " + why,
                   "check the URL, the network and the credentials git uses for this host");
  }
  return Repo(raw);
}

// Resolves a ref. In our cached clone of a remote, fetched branches live under origin/ (the local
// branch made at clone time is never updated), so those are tried first.
std::variant<Object, LoadResult> resolve_commit(git_repository* repo, const GitSource& src) {
  git_object* raw = nullptr;
  int rc = -1;
  if (is_url(src.repo)) rc = git_revparse_single(&raw, repo, ("origin/" + src.ref).c_str());
  if (rc != 0) rc = git_revparse_single(&raw, repo, src.ref.c_str());
  if (rc != 0) {
    return failure(
        src.repo, "unknown ref \"" + src.ref + "\" in " + src.repo,
        "use a branch, tag, commit SHA or an expression such as HEAD~1 that exists in the repository");
  }
  Object obj(raw);
  git_object* commit = nullptr;
  if (git_object_peel(&commit, obj.get(), GIT_OBJECT_COMMIT) != 0) {
    return failure(src.repo, "ref \"" + src.ref + "\" does not name a commit",
                   "use a branch, tag or commit SHA");
  }
  return Object(commit);
}

std::string oid_hex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(buf, sizeof buf, oid);
  return buf;
}

}  // namespace

LoadResult load_git(const GitSource& given) {
  Libgit2 lib;
  // Messages and the recorded origin name the repository without any credentials in its URL; only
  // libgit2 sees the real one.
  GitSource src = given;
  src.repo = redact_url_credentials(given.repo);
  auto opened = open_repo(given, src.repo);
  if (auto* r = std::get_if<LoadResult>(&opened)) return std::move(*r);
  Repo repo = std::get<Repo>(std::move(opened));

  auto resolved = resolve_commit(repo.get(), src);
  if (auto* r = std::get_if<LoadResult>(&resolved)) return std::move(*r);
  Object commit = std::get<Object>(std::move(resolved));
  const std::string sha = oid_hex(git_object_id(commit.get()));

  git_tree* tree_raw = nullptr;
  if (git_commit_tree(&tree_raw, reinterpret_cast<git_commit*>(commit.get())) != 0) {
    return failure(src.repo, "cannot read the tree of commit " + sha + ": " + last_error(), "");
  }
  Tree root(tree_raw);

  std::string path = src.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  while (path.starts_with("./")) path.erase(0, 2);

  // (path in repository, blob id) of each spec file, in name order.
  std::vector<std::pair<std::string, git_oid>> blobs;
  Tree sub;
  const git_tree* dir = root.get();
  std::string prefix;
  if (!path.empty()) {
    git_tree_entry* e = nullptr;
    if (git_tree_entry_bypath(&e, root.get(), path.c_str()) != 0) {
      return failure(
          src.repo,
          "path \"" + path + "\" does not exist in commit " + sha.substr(0, 12) + " (" + src.ref + ")",
          "check --path: it is relative to the repository root");
    }
    TreeEntry entry(e);
    if (git_tree_entry_type(entry.get()) == GIT_OBJECT_BLOB) {
      blobs.emplace_back(path, *git_tree_entry_id(entry.get()));
      dir = nullptr;
    } else {
      git_tree* t = nullptr;
      if (git_tree_lookup(&t, repo.get(), git_tree_entry_id(entry.get())) != 0) {
        return failure(src.repo, "cannot read folder " + path + ": " + last_error(), "");
      }
      sub.reset(t);
      dir = sub.get();
      prefix = path + "/";
    }
  }
  if (dir) {
    for (size_t i = 0; i < git_tree_entrycount(dir); ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(dir, i);
      std::string name = git_tree_entry_name(e);
      if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && (name.ends_with(".yaml") || name.ends_with(".yml"))) {
        blobs.emplace_back(prefix + name, *git_tree_entry_id(e));
      }
    }
    std::sort(blobs.begin(), blobs.end(), [](auto& a, auto& b) { return a.first < b.first; });
  }

  std::vector<SourceFile> files;
  for (const auto& [name, oid] : blobs) {
    git_blob* b = nullptr;
    if (git_blob_lookup(&b, repo.get(), &oid) != 0) {
      return failure(src.repo, "cannot read " + name + " in commit " + sha + ": " + last_error(), "");
    }
    Blob blob(b);
    files.push_back({name, std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                       static_cast<size_t>(git_blob_rawsize(blob.get())))});
  }
  if (files.empty()) {
    return failure(src.repo,
                   "no .yaml files in \"" + (path.empty() ? std::string("/") : path) + "\" at commit " +
                       sha.substr(0, 12) + " (" + src.ref + ")",
                   "check --path, or that the spec was committed");
  }
  return parse_files(files, Origin{src.repo, sha, src.ref, path});
}

}  // namespace mirror::spec
