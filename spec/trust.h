// What a spec may make mirror do, and what only the operator of a runner may allow.
//
// In pull-request CI the spec is written by whoever opens the pull request, while the runner's
// environment is not: a pull request cannot change it. So every capability that could harm the runner
// or leak its secrets is off unless the operator turns it on with an environment variable:
//
//   MIRROR_ALLOW_CLIENT_PROPERTIES=name,name  librdkafka properties beyond the built-in allowlist
//                                             (e.g. sasl.kerberos.kinit.cmd, debug)
//   MIRROR_ALLOW_ENV=NAME,PREFIX_*           the variables ${env:NAME} may read; unset: none
//   MIRROR_ALLOW_FILES=/dir,/dir             the directories ${file:PATH} may read below (comma or colon
//                                             separated); unset: none
//   MIRROR_ALLOW_BOOTSTRAP=host:port,*.corp:9093  the brokers a cluster may name (* matches any run of
//                                             characters, case-insensitively; a scheme such as SSL:// is
//                                             ignored); unset: any
//   MIRROR_ALLOW_URLS=https://login.corp/,...  prefixes the URL-valued properties (*.url, e.g. the OIDC
//                                             token endpoint, which receives the client secret) must
//                                             start with; unset: any
// A variable set to an empty value counts as unset.
//
// The functions below are pure apart from check_file_reference and check_location (which look at the
// file system): they take the settings as a parameter, so tests need no real environment.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "spec/diagnostics.h"

namespace mirror::spec {

struct Spec;

struct OperatorSettings {
  std::set<std::string> allow_client_properties;  // MIRROR_ALLOW_CLIENT_PROPERTIES
  std::vector<std::string> allow_env;             // MIRROR_ALLOW_ENV: names, or prefixes ending in *
  std::vector<std::string> allow_files;           // MIRROR_ALLOW_FILES: directories
  // MIRROR_ALLOW_BOOTSTRAP: host:port patterns; nullopt when unset (any broker).
  std::optional<std::vector<std::string>> allow_bootstrap;
  // MIRROR_ALLOW_URLS: URL prefixes; nullopt when unset (any URL).
  std::optional<std::vector<std::string>> allow_urls;

  // Reads the four variables through `getenv` (injectable for tests).
  static OperatorSettings from(const std::function<std::optional<std::string>(const char* name)>& getenv);
  static OperatorSettings from_environment();
};

// Largest file ${file:PATH} reads, and largest spec file the loader reads.
inline constexpr size_t kMaxReferencedFileBytes = 1 << 20;

// ---------------------------------------------------------------------------------------------------
// Client properties.

struct PropertyCheck {
  enum class Verdict {
    allowed,    // on the built-in allowlist, or allowed by the operator
    dangerous,  // runs commands or loads code (reason says which)
    debug,      // "debug": operators use MIRROR_KAFKA_DEBUG
    unknown,    // not on the allowlist
  } verdict = Verdict::allowed;
  std::string reason;  // for dangerous: what the property does, e.g. "runs a shell command"
};

PropertyCheck check_client_property(std::string_view name, const OperatorSettings& settings);

// The built-in allowlist, sorted (for "did you mean" hints).
std::span<const std::string_view> allowed_client_properties();

// A value the spec may not give an allowed property without the operator: one that turns off TLS
// verification (enable.ssl.certificate.verification other than true, ssl.endpoint.identification.algorithm
// none) unless the operator lists the property in MIRROR_ALLOW_CLIENT_PROPERTIES, or a URL property (*.url)
// outside MIRROR_ALLOW_URLS. The message names the property, never the value; nullopt when fine.
std::optional<std::string> check_property_value(std::string_view name, std::string_view value,
                                                const OperatorSettings& settings);

// Properties whose value names where a secret is (a file or a URL: *.location, *.keytab, *.url), not the
// secret itself: a literal value is no secret to warn about or to cut out of output.
bool names_a_place(std::string_view property);

// Properties that name a file librdkafka reads: *.location, sasl.kerberos.keytab.
bool is_file_location_property(std::string_view name);

// Whether a client property may hold ${env:}/${file:} references: secrets (common/secrets.h) and the
// other credentials, sasl.username and sasl.oauthbearer.client.id.
bool references_allowed_in(std::string_view property);

// True when the path (made absolute against the working directory and normalized) is /proc, /sys or
// /dev or below them.
bool is_system_path(std::string_view path);

// A file-location value (or a comma list of them): an error message when it points under /proc, /sys or
// /dev, lexically or (`follow_links`, when the file exists) after following symbolic links. The message
// names the property, never the value.
std::optional<std::string> check_location(std::string_view property, std::string_view path,
                                          bool follow_links = true);

// ---------------------------------------------------------------------------------------------------
// References and brokers.

// Whether ${env:NAME} may read NAME: it is listed in MIRROR_ALLOW_ENV, or matches an entry ending in *.
bool env_allowed(std::string_view name, const OperatorSettings& settings);

// Why a ${file:PATH} is not read: the message names the reference as written, never the file's contents.
struct FileRefusal {
  std::string message;  // e.g. "${file:../x} contains a \"..\" component"
  std::string hint;     // what to do
};

// A ${file:PATH}: the canonical path to read, or why not (".." components, outside every directory of
// MIRROR_ALLOW_FILES after following symbolic links, under /proc, /sys or /dev, not a regular file, larger
// than kMaxReferencedFileBytes).
Result<std::filesystem::path, FileRefusal> check_file_reference(std::string_view path,
                                                                const OperatorSettings& settings);

// Whether one bootstrap entry (host:port, optionally with a scheme such as SSL://) matches
// MIRROR_ALLOW_BOOTSTRAP (always true when it is unset).
bool bootstrap_allowed(std::string_view entry, const OperatorSettings& settings);

// Every entry of a comma-separated bootstrap string that MIRROR_ALLOW_BOOTSTRAP does not allow.
std::vector<std::string> refused_bootstrap_entries(std::string_view bootstrap,
                                                   const OperatorSettings& settings);

// Checks of a loaded spec against the operator's reference and broker allowlists, each with the place the
// value was written: a ${env:X} whose X is not allowed, a ${file:P} that could not be read under
// MIRROR_ALLOW_FILES, a bootstrap broker outside MIRROR_ALLOW_BOOTSTRAP. `mirror validate` (and every
// command that loads a spec) reports them; they are checked again when a client connects.
Diagnostics check_operator_allowlists(const Spec& spec, const OperatorSettings& settings);

}  // namespace mirror::spec
