#include "spec/trust.h"

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "common/secrets.h"
#include "spec/spec.h"
#include "spec/value.h"

namespace mirror::spec {

namespace fs = std::filesystem;

namespace {

// What a replication job legitimately sets: how to reach and authenticate to the brokers, and tuning.
// Nothing here runs a command, loads code, or changes what mirror replicates or how it commits.
constexpr std::string_view kAllowed[] = {
    // Security protocol and SASL.
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "sasl.kerberos.service.name",
    "sasl.kerberos.principal",
    "sasl.kerberos.keytab",
    "sasl.kerberos.min.time.before.relogin",
    "sasl.oauthbearer.method",
    "sasl.oauthbearer.client.id",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.scope",
    "sasl.oauthbearer.extensions",
    "sasl.oauthbearer.token.endpoint.url",
    "sasl.oauthbearer.config",
    "enable.sasl.oauthbearer.unsecure.jwt",
    // TLS.
    "ssl.ca.location",
    "ssl.ca.pem",
    "ssl.certificate.location",
    "ssl.certificate.pem",
    "ssl.key.location",
    "ssl.key.pem",
    "ssl.key.password",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.endpoint.identification.algorithm",
    "enable.ssl.certificate.verification",
    "ssl.cipher.suites",
    "ssl.curves.list",
    "ssl.sigalgs.list",
    "ssl.crl.location",
    "https.ca.location",
    "https.ca.pem",
    // Identity, addressing and connections.
    "client.id",
    "client.rack",
    "client.dns.lookup",
    "broker.address.family",
    "broker.address.ttl",
    "socket.timeout.ms",
    "socket.connection.setup.timeout.ms",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "socket.keepalive.enable",
    "socket.nagle.disable",
    "socket.max.fails",
    "connections.max.idle.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "retry.backoff.ms",
    "retry.backoff.max.ms",
    "request.timeout.ms",
    "metadata.max.age.ms",
    "topic.metadata.refresh.interval.ms",
    "topic.metadata.refresh.fast.interval.ms",
    "topic.metadata.refresh.sparse",
    "topic.metadata.propagation.max.ms",
    "metadata.recovery.strategy",
    "api.version.request",
    "api.version.request.timeout.ms",
    "api.version.fallback.ms",
    "broker.version.fallback",
    "max.in.flight.requests.per.connection",
    "max.in.flight",
    "log.connection.close",
    // Producing.
    "message.timeout.ms",
    "delivery.timeout.ms",
    "transaction.timeout.ms",
    "linger.ms",
    "queue.buffering.max.ms",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
    "queue.buffering.backpressure.threshold",
    "batch.size",
    "batch.num.messages",
    "compression.type",
    "compression.codec",
    "compression.level",
    "message.max.bytes",
    "message.copy.max.bytes",
    "receive.message.max.bytes",
    "message.send.max.retries",
    "retries",
    "sticky.partitioning.linger.ms",
    // Consuming.
    "fetch.wait.max.ms",
    "fetch.min.bytes",
    "fetch.max.bytes",
    "fetch.message.max.bytes",
    "fetch.error.backoff.ms",
    "fetch.queue.backoff.ms",
    "max.partition.fetch.bytes",
    "queued.min.messages",
    "queued.max.messages.kbytes",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "coordinator.query.interval.ms",
    "check.crcs",
};

const std::vector<std::string_view>& sorted_allowed() {
  static const std::vector<std::string_view> v = [] {
    std::vector<std::string_view> out(std::begin(kAllowed), std::end(kAllowed));
    std::sort(out.begin(), out.end());
    return out;
  }();
  return v;
}

std::vector<std::string> split(std::string_view s, std::string_view separators) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= s.size()) {
    size_t end = std::min(s.find_first_of(separators, begin), s.size());
    std::string item(s.substr(begin, end - begin));
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(std::move(item));
    begin = end + 1;
  }
  return out;
}

// Glob match where * matches any run of characters (iterative, linear in practice).
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && std::tolower(static_cast<unsigned char>(pattern[p])) ==
                                         std::tolower(static_cast<unsigned char>(text[t]))) {
      ++p, ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool under(const fs::path& path, const fs::path& dir) {
  auto d = dir.begin();
  auto p = path.begin();
  for (; d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // a trailing "/" of the directory
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

bool is_system(const fs::path& absolute) {
  for (const char* sys : {"/proc", "/sys", "/dev"}) {
    if (under(absolute, sys)) return true;
  }
  return false;
}

fs::path absolute_normal(std::string_view path) {
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(path), ec);
  if (ec) p = fs::path(path);
  return p.lexically_normal();
}

}  // namespace

OperatorSettings OperatorSettings::from(
    const std::function<std::optional<std::string>(const char* name)>& getenv) {
  OperatorSettings s;
  // An empty value is the same as none (a CI variable that is not defined often expands to "").
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto v = getenv(name);
    if (!v || v->find_first_not_of(" \t") == std::string::npos) return std::nullopt;
    return v;
  };
  if (auto v = get("MIRROR_ALLOW_CLIENT_PROPERTIES")) {
    for (auto& name : split(*v, ",")) s.allow_client_properties.insert(std::move(name));
  }
  if (auto v = get("MIRROR_ALLOW_ENV")) s.allow_env = split(*v, ",");
  if (auto v = get("MIRROR_ALLOW_FILES")) s.allow_files = split(*v, ",:");
  if (auto v = get("MIRROR_ALLOW_BOOTSTRAP")) s.allow_bootstrap = split(*v, ",");
  if (auto v = get("MIRROR_ALLOW_URLS")) s.allow_urls = split(*v, ",");
  return s;
}

OperatorSettings OperatorSettings::from_environment() {
  return from([](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
  });
}

std::span<const std::string_view> allowed_client_properties() { return sorted_allowed(); }

std::optional<std::string> check_property_value(std::string_view name, std::string_view value,
                                                const OperatorSettings& settings) {
  auto lower = [](std::string_view v) {
    std::string s(v);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const bool operator_allowed = settings.allow_client_properties.count(std::string(name)) > 0;
  if (!operator_allowed) {
    if (name == "enable.ssl.certificate.verification" && lower(value) != "true") {
      return "client property " + std::string(name) +
             " turns off the verification of the brokers' TLS certificates, which only the operator may "
             "allow (MIRROR_ALLOW_CLIENT_PROPERTIES=" +
             std::string(name) + ")";
    }
    if (name == "ssl.endpoint.identification.algorithm" && lower(value) == "none") {
      return "client property " + std::string(name) +
             " turns off the check that a broker's certificate names its host, which only the operator may "
             "allow (MIRROR_ALLOW_CLIENT_PROPERTIES=" +
             std::string(name) + ")";
    }
  }
  if (name.ends_with(".url") && settings.allow_urls) {
    const bool ok = std::any_of(settings.allow_urls->begin(), settings.allow_urls->end(),
                                [&](const std::string& prefix) { return value.starts_with(prefix); });
    if (!ok) {
      return "client property " + std::string(name) +
             " names a URL this runner's MIRROR_ALLOW_URLS does not allow (it would receive credentials)";
    }
  }
  return std::nullopt;
}

PropertyCheck check_client_property(std::string_view name, const OperatorSettings& settings) {
  using V = PropertyCheck::Verdict;
  if (settings.allow_client_properties.count(std::string(name))) return {V::allowed, ""};
  if (std::binary_search(sorted_allowed().begin(), sorted_allowed().end(), name)) return {V::allowed, ""};
  if (name == "debug") return {V::debug, ""};
  if (name == "sasl.kerberos.kinit.cmd")
    return {V::dangerous, "runs a shell command on the machine running mirror"};
  if (name.starts_with("plugin.") || name.find("interceptor") != std::string_view::npos)
    return {V::dangerous, "loads plugin code into mirror"};
  if (name.starts_with("ssl.engine") || name.starts_with("ssl_engine"))
    return {V::dangerous, "loads an OpenSSL engine (code) into mirror"};
  if (name == "ssl.providers") return {V::dangerous, "loads OpenSSL providers (code) into mirror"};
  if (name.ends_with("_cb") || name.ends_with("_cb_data"))
    return {V::dangerous, "is a callback: code, which a spec cannot provide"};
  return {V::unknown, ""};
}

bool names_a_place(std::string_view property) {
  return property.ends_with(".location") || property.ends_with(".keytab") || property.ends_with(".url");
}

bool is_file_location_property(std::string_view name) {
  return name.ends_with(".location") || name == "sasl.kerberos.keytab";
}

bool references_allowed_in(std::string_view property) {
  return is_secret_property(property) || property == "sasl.username" ||
         property == "sasl.oauthbearer.client.id";
}

bool is_system_path(std::string_view path) { return is_system(absolute_normal(path)); }

std::optional<std::string> check_location(std::string_view property, std::string_view path,
                                          bool follow_links) {
  const std::string refused = "client property " + std::string(property) +
                              " points into /proc, /sys or /dev (the runner's process state and devices, "
                              "not certificates or keys)";
  // "probe" and comma lists (ssl.ca.location accepts a directory or "probe") are checked item by item.
  for (const auto& item : split(path, ",")) {
    if (is_system_path(item)) return refused;
    if (!follow_links) continue;
    std::error_code ec;
    const fs::path canonical = fs::canonical(fs::path(item), ec);
    if (!ec && is_system(canonical)) return refused;
  }
  return std::nullopt;
}

bool env_allowed(std::string_view name, const OperatorSettings& settings) {
  for (const auto& entry : settings.allow_env) {
    if (entry.ends_with('*')) {
      if (name.starts_with(std::string_view(entry).substr(0, entry.size() - 1))) return true;
    } else if (entry == name) {
      return true;
    }
  }
  return false;
}

namespace {

// `offline`: for validate, which may run where the file is not: a missing file is checked by its path.
Result<fs::path, FileRefusal> check_file(std::string_view path, const OperatorSettings& settings,
                                         bool offline) {
  const std::string shown = "${file:" + std::string(path) + "}";
  auto refuse = [&](std::string what, std::string hint) {
    return fail(FileRefusal{shown + " " + std::move(what), std::move(hint)});
  };
  const std::string system = "points into /proc, /sys or /dev, which mirror never reads";
  const std::string own_file = "point it at the file that holds the secret itself";
  const fs::path written(path);
  for (const auto& part : written) {
    if (part == "..") {
      return refuse("contains a \"..\" component",
                    "write the path without \"..\", below a directory listed in MIRROR_ALLOW_FILES");
    }
  }
  if (settings.allow_files.empty()) {
    return refuse("is not allowed: this runner's operator allows no ${file:} references",
                  "the operator allows files below a directory with MIRROR_ALLOW_FILES=/that/dir in "
                  "mirror's environment (not in the spec)");
  }
  if (is_system_path(path)) return refuse(system, own_file);
  std::error_code ec;
  fs::path canonical = fs::canonical(written, ec);
  const bool missing = static_cast<bool>(ec);
  if (missing && offline) {
    canonical = absolute_normal(path);
  } else if (missing) {
    return refuse("cannot be read: " + ec.message(),
                  "check that the file exists and is readable by the user running mirror");
  }
  if (is_system(canonical)) return refuse(system, own_file);
  bool inside = false;
  for (const auto& dir : settings.allow_files) {
    std::error_code dec;
    const fs::path cdir = fs::canonical(fs::path(dir), dec);
    if ((!dec && under(canonical, cdir)) || (missing && under(canonical, absolute_normal(dir)))) {
      inside = true;
      break;
    }
  }
  if (!inside) {
    std::string dirs;
    for (const auto& d : settings.allow_files) dirs += (dirs.empty() ? "" : ", ") + d;
    return refuse(
        "is outside the directories MIRROR_ALLOW_FILES allows (" + dirs + "), after following symbolic links",
        "put the file below one of them, or have the operator add its directory to "
        "MIRROR_ALLOW_FILES (in mirror's environment, not in the spec)");
  }
  if (missing) return canonical;
  const auto status = fs::status(canonical, ec);
  if (ec || !fs::is_regular_file(status)) return refuse("is not a regular file", own_file);
  const auto size = fs::file_size(canonical, ec);
  if (ec || size > kMaxReferencedFileBytes) {
    return refuse("is larger than 1 MiB", own_file + " (a password, a key or a certificate)");
  }
  return canonical;
}

}  // namespace

Result<fs::path, FileRefusal> check_file_reference(std::string_view path, const OperatorSettings& settings) {
  return check_file(path, settings, false);
}

bool bootstrap_allowed(std::string_view entry, const OperatorSettings& settings) {
  if (!settings.allow_bootstrap) return true;
  if (auto scheme = entry.find("://"); scheme != std::string_view::npos) entry.remove_prefix(scheme + 3);
  return std::any_of(settings.allow_bootstrap->begin(), settings.allow_bootstrap->end(),
                     [&](const std::string& pattern) { return glob_match(pattern, entry); });
}

std::vector<std::string> refused_bootstrap_entries(std::string_view bootstrap,
                                                   const OperatorSettings& settings) {
  std::vector<std::string> out;
  for (auto& entry : split(bootstrap, ",")) {
    if (!bootstrap_allowed(entry, settings)) out.push_back(std::move(entry));
  }
  return out;
}

Diagnostics check_operator_allowlists(const Spec& spec, const OperatorSettings& settings) {
  Diagnostics d;
  for (const auto& [alias, cluster] : spec.clusters) {
    if (!cluster.bootstrap.has_references()) {
      for (const auto& entry : refused_bootstrap_entries(cluster.bootstrap.raw, settings)) {
        d.error(cluster.bootstrap.where,
                "bootstrap broker " + entry + " of cluster " + alias +
                    " is not allowed by this runner's MIRROR_ALLOW_BOOTSTRAP",
                "use one of the brokers the operator allows, or have the operator add it to "
                "MIRROR_ALLOW_BOOTSTRAP (in mirror's environment, not in the spec)");
      }
    }
    for (const auto& [prop, value] : cluster.client) {
      auto parsed = parse_references(value.raw);
      auto* refs = std::get_if<std::vector<Reference>>(&parsed);
      if (!refs) continue;  // the loader reports syntax errors
      for (const auto& r : *refs) {
        if (r.kind == Reference::Kind::env) {
          if (!env_allowed(r.name, settings)) {
            d.error(value.where,
                    "environment variable " + r.name + " (" + r.text + " in client property " + prop +
                        " of cluster " + alias + ") is not allowed by this runner",
                    "the operator allows variables with MIRROR_ALLOW_ENV=" + r.name +
                        " (or a prefix such as MIRROR_SECRET_*) in mirror's environment, not in the spec");
          }
        } else if (auto checked = check_file(r.name, settings, true); !checked) {
          d.error(value.where,
                  "client property " + prop + " of cluster " + alias + ": " + checked.error().message,
                  checked.error().hint);
        }
      }
    }
  }
  return d;
}

}  // namespace mirror::spec
