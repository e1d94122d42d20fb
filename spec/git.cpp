#include "spec/git.h"

#include "common/hash.h"
#include "common/secrets.h"

#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

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

// The cache root and, for the defaults, its mirror/ parent (checked too): $MIRROR_GIT_CACHE, else
// $XDG_CACHE_HOME/mirror/git, else ~/.cache/mirror/git.
struct CacheRoot {
  std::filesystem::path dir;
  std::optional<std::filesystem::path> mirror_parent;
};

CacheRoot default_cache() {
  if (const char* c = std::getenv("MIRROR_GIT_CACHE"); c && *c) return {c, std::nullopt};
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    base = x;
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    base = std::filesystem::path(h) / ".cache";
  } else {
    base = std::filesystem::temp_directory_path() / ("mirror-" + std::to_string(::getuid()));
  }
  return {base / "mirror" / "git", base / "mirror"};
}

std::string cache_name(const std::string& url) { return sha256_hex(url).substr(0, 16); }

LoadResult failure(const std::string& where, std::string message, std::string hint) {
  LoadResult r;
  r.diagnostics.error(Location{where, 0, 0}, std::move(message), std::move(hint));
  return r;
}

std::string octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Creates `dir` (mode 0700) if missing, then refuses it unless it is a directory of this user that no
// one else may write; a directory of this user that others may read is made private (0700).
std::optional<std::string> private_dir(const std::filesystem::path& dir, bool create) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) return "cannot use " + dir.string() + ": " + std::strerror(errno);
    std::error_code ec;
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create " + dir.string() + ": " + std::strerror(errno);
    }
    if (::stat(dir.c_str(), &st) != 0) return "cannot use " + dir.string() + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) return dir.string() + " is not a directory";
  if (st.st_uid != ::geteuid()) {
    return dir.string() + " belongs to another user (uid " + std::to_string(st.st_uid) + ", not " +
           std::to_string(::geteuid()) + "): they could read the specs cached there or plant others";
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return dir.string() + " may be written by other users (mode " + octal(st.st_mode) +
           "): they could plant the repositories mirror reads specs from";
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return "cannot make " + dir.string() + " private (chmod 700): " + std::strerror(errno);
  }
  return std::nullopt;
}

int percent_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && percent_value(s[i + 1]) >= 0 && percent_value(s[i + 2]) >= 0) {
      out += static_cast<char>(percent_value(s[i + 1]) * 16 + percent_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "https://host:443/x" -> "https://host:443"; "" when not a URL.
std::string origin_of(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  const size_t end = std::min(url.find_first_of("/?#", scheme + 3), url.size());
  std::string_view authority = url.substr(scheme + 3, end - scheme - 3);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string out(url.substr(0, scheme + 3));
  for (char c : authority) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// What the credentials callback hands libgit2, for the one origin (scheme, host, port) of the URL.
struct Credentials {
  std::string origin;
  std::string user, password;
  int asked = 0;
};

int give_credentials(git_credential** out, const char* url, const char*, unsigned int allowed,
                     void* payload) {
  auto* c = static_cast<Credentials*>(payload);
  // Never to another host (a redirect), never twice (wrong credentials: fail, do not loop).
  if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) || !url || origin_of(url) != c->origin)
    return GIT_PASSTHROUGH;
  if (c->asked++ > 0) return GIT_EAUTH;
  return git_credential_userpass_plaintext_new(out, c->user.c_str(), c->password.c_str());
}

// True when a cached clone's config names a URL with credentials in it.
bool config_holds_credentials(const std::filesystem::path& config) {
  std::ifstream in(config);
  std::string line;
  while (std::getline(in, line)) {
    for (size_t at = line.find("://"); at != std::string::npos; at = line.find("://", at + 3)) {
      size_t start = at;
      while (start > 0 && !std::isspace(static_cast<unsigned char>(line[start - 1])) &&
             line[start - 1] != '=' && line[start - 1] != '"')
        --start;
      const size_t end = std::min(line.find_first_of(" \t\"", at), line.size());
      if (split_url_credentials(line.substr(start, end - start)).had_credentials) return true;
    }
  }
  return false;
}

// Opens a local repository, or clones/fetches a remote one into the cache.
std::variant<Repo, LoadResult> open_repo(const GitSource& real, const std::string& shown) {
  git_repository* raw = nullptr;
  if (!is_url(real.repo)) {
    if (git_repository_open_ext(&raw, real.repo.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
      return failure(shown,
                     "not a git repository: " + shown + " (" + scrub(last_error(), real.repo, shown) + ")",
                     "pass --git the path of a repository (bare or with a working tree) or a URL");
    }
    return Repo(raw);
  }
  // libgit2 gets the URL without credentials (that is what the clone's config records); they reach it
  // only through the credentials callback, in memory.
  const UrlCredentials url = split_url_credentials(real.repo);
  Credentials creds{origin_of(url.url), url.user, url.password};
  const char* token = std::getenv("MIRROR_GIT_TOKEN");
  const bool use_token = !url.had_credentials && token && *token && url.url.starts_with("https://");
  if (use_token) {
    creds.user = url.user.empty() ? "x-access-token" : url.user;
    creds.password = token;
  }
  const bool give = url.had_credentials || use_token;
  git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
  if (give) {
    callbacks.credentials = give_credentials;
    callbacks.payload = &creds;
  }

  const CacheRoot root = real.cache_dir.empty() ? default_cache() : CacheRoot{real.cache_dir, std::nullopt};
  const std::string fix =
      "use a cache directory of your own that only you may write: set MIRROR_GIT_CACHE (it is created "
      "with mode 0700), or fix the ownership and mode (chmod 700)";
  if (root.mirror_parent) {
    if (auto refused = private_dir(*root.mirror_parent, true)) {
      return failure(shown, "refusing the git cache: " + *refused, fix);
    }
  }
  if (auto refused = private_dir(root.dir, true))
    return failure(shown, "refusing the git cache: " + *refused, fix);
  // Caches of earlier versions were named after the URL with its credentials and kept them in their
  // config: removed (a cache; cloned again below).
  if (url.had_credentials) {
    std::error_code ec;
    std::filesystem::remove_all(root.dir / cache_name(real.repo), ec);
  }
  const auto dir = root.dir / cache_name(url.url);
  if (git_repository_open_bare(&raw, dir.c_str()) == 0) {
    Repo repo(raw);
    git_remote* remote_raw = nullptr;
    if (git_remote_lookup(&remote_raw, repo.get(), "origin") != 0) {
      return failure(shown, "the cached clone in " + dir.string() + " has no origin remote",
                     "delete " + dir.string() + " and run again");
    }
    Remote remote(remote_raw);
    const char* stored = git_remote_url(remote.get());
    if (!stored || std::string(stored) != url.url) {
      // A clone made with the credentials in its URL: rewrite the URL without them.
      if (!stored || split_url_credentials(stored).url != url.url ||
          git_remote_set_url(repo.get(), "origin", url.url.c_str()) != 0) {
        return failure(shown, "the cached clone in " + dir.string() + " is of another URL",
                       "delete " + dir.string() + " and run again");
      }
      remote_raw = nullptr;
      if (git_remote_lookup(&remote_raw, repo.get(), "origin") != 0) {
        return failure(shown, "cannot read the origin of the cached clone in " + dir.string(),
                       "delete " + dir.string() + " and run again");
      }
      remote.reset(remote_raw);
    }
    if (config_holds_credentials(dir / "config")) {
      return failure(shown, "the cached clone in " + dir.string() + " keeps credentials in its config",
                     "delete " + dir.string() + " and run again (mirror never stores credentials there)");
    }
    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
    opts.callbacks = callbacks;
    if (git_remote_fetch(remote.get(), nullptr, &opts, "mirror: fetch spec") != 0) {
      return failure(shown, "cannot fetch " + shown + ": " + scrub(last_error(), real.repo, shown),
                     "check the URL, the network and the credentials git uses for this host");
    }
    return repo;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // a broken earlier clone
  git_clone_options opts = GIT_CLONE_OPTIONS_INIT;
  opts.bare = 1;
  opts.fetch_opts.callbacks = callbacks;
  if (git_clone(&raw, url.url.c_str(), dir.c_str(), &opts) != 0) {
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

UrlCredentials split_url_credentials(std::string_view url) {
  UrlCredentials out{std::string(url), "", "", false};
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return out;  // a path, or scp-like user@host:path (no password)
  const size_t start = scheme + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.rfind('@', end);
  if (at == std::string_view::npos || at < start) return out;
  const std::string_view info = url.substr(start, at - start);
  const size_t colon = info.find(':');
  const bool ssh =
      url.starts_with("ssh://") || url.starts_with("git+ssh://") || url.starts_with("ssh+git://");
  // ssh://git@host: the user name is no secret, and ssh needs it in the URL.
  if (ssh && colon == std::string_view::npos) return out;
  out.user = percent_decode(info.substr(0, colon));
  out.password = colon == std::string_view::npos ? "" : percent_decode(info.substr(colon + 1));
  out.url = std::string(url.substr(0, start)) + std::string(url.substr(at + 1));
  out.had_credentials = true;
  return out;
}

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
