#include "importer/client.h"

#include <algorithm>
#include <cctype>

#include "common/secrets.h"

namespace mirror::importer {

namespace {

std::string upper_snake(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_env_name(std::string_view n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::string escape_dollars(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '$') out += '$';
  }
  return out;
}

// A ${provider:[path:]key} reference as Kafka's ConfigTransformer reads it.
struct ProviderRef {
  size_t begin = 0, end = 0;  // [begin, end) in the value
  std::string provider, path, key;
};

std::vector<ProviderRef> provider_refs(std::string_view v, const Providers& providers) {
  std::vector<ProviderRef> refs;
  for (size_t i = v.find("${"); i != std::string_view::npos; i = v.find("${", i + 1)) {
    const size_t close = v.find('}', i);
    if (close == std::string_view::npos) break;
    const std::string_view body = v.substr(i + 2, close - i - 2);
    const size_t c1 = body.find(':');
    if (c1 == std::string_view::npos) continue;
    ProviderRef r{i, close + 1, std::string(body.substr(0, c1)), "", ""};
    if (!providers.count(r.provider)) continue;  // Kafka leaves unknown providers alone, so do we
    const std::string_view rest = body.substr(c1 + 1);
    const size_t c2 = rest.find(':');
    if (c2 == std::string_view::npos) {
      r.key = std::string(rest);
    } else {
      r.path = std::string(rest.substr(0, c2));
      r.key = std::string(rest.substr(c2 + 1));
    }
    refs.push_back(std::move(r));
    i = close;
  }
  return refs;
}

// sasl.jaas.config: "<LoginModule> <flag> name=value ... ;", values bare words or "quoted".
struct Jaas {
  std::string module;  // the class's simple name, e.g. ScramLoginModule
  std::vector<std::pair<std::string, std::string>> options;
  const std::string* option(std::string_view name) const {
    for (const auto& [k, v] : options) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

std::optional<Jaas> parse_jaas(std::string_view s) {
  size_t i = 0;
  auto skip = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  auto word = [&]() -> std::optional<std::string> {
    skip();
    if (i >= s.size()) return std::nullopt;
    if (s[i] == '"') {
      std::string out;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          const char c = s[++i];
          out += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        } else {
          out += s[i];
        }
      }
      if (i >= s.size()) return std::nullopt;  // unterminated
      ++i;
      return out;
    }
    const size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '=' && s[i] != ';' &&
           s[i] != '"')
      ++i;
    if (i == start) return std::nullopt;
    return std::string(s.substr(start, i - start));
  };
  Jaas j;
  auto module = word();
  auto flag = word();
  if (!module || !flag) return std::nullopt;
  const std::string f = lower(*flag);
  if (f != "required" && f != "requisite" && f != "sufficient" && f != "optional") return std::nullopt;
  j.module = module->substr(module->rfind('.') == std::string::npos ? 0 : module->rfind('.') + 1);
  for (;;) {
    skip();
    if (i >= s.size()) return std::nullopt;  // the terminating ';' is required
    if (s[i] == ';') break;
    auto name = word();
    skip();
    if (!name || i >= s.size() || s[i] != '=') return std::nullopt;
    ++i;
    auto value = word();
    if (!value) return std::nullopt;
    j.options.emplace_back(*name, *value);
  }
  ++i;
  skip();
  if (i != s.size()) return std::nullopt;  // Kafka clients take exactly one login module
  return j;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && lower(s.substr(s.size() - suffix.size())) == suffix;
}

}  // namespace

bool is_java_security_setting(std::string_view name) {
  return name == "security.protocol" || name.starts_with("ssl.") || name.starts_with("sasl.");
}

bool hides_value(std::string_view key) {
  const std::string k = lower(key);
  const bool secret_name = is_secret_property(k) || k.find("user.info") != std::string::npos ||
                           k.find("userinfo") != std::string::npos ||
                           k.find("credential") != std::string::npos || k.find("auth") != std::string::npos;
  if (!secret_name) return false;
  // Names of places, kinds and algorithms: their values say where a secret is or how it is used.
  for (std::string_view place :
       {".location", ".keytab", ".url", ".type", ".algorithm", ".class", ".mechanism", ".source"}) {
    if (k.ends_with(place)) return false;
  }
  return true;
}

bool value_looks_secret(std::string_view value) {
  const std::string v = lower(value);
  for (std::string_view telltale : {"password", "passwd", "secret=", "secret\"", "token=", "-----begin"}) {
    if (v.find(telltale) != std::string::npos) return true;
  }
  // A URL with user info (scheme://user:password@host, or a token as the user), anywhere in the value.
  for (size_t at = v.find("://"); at != std::string::npos; at = v.find("://", at + 3)) {
    size_t start = at;
    while (start > 0 && (std::isalnum(static_cast<unsigned char>(v[start - 1])) || v[start - 1] == '+' ||
                         v[start - 1] == '-' || v[start - 1] == '.'))
      --start;
    const size_t end = v.find_first_of(" \t,;\"'", at);
    const std::string url(value.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (redact_url_credentials(url) != url) return true;
  }
  return false;
}

bool withheld(const Setting& s) {
  // Places (ssl.keystore.location) are shown unless the value itself looks secret.
  return hides_value(s.key) || value_looks_secret(s.value);
}

std::string withheld_text(const Setting& s) {
  return "<value withheld: it may be a secret; if mirror needs it, write ${env:" + upper_snake(s.key) +
         "} in the spec and export " + upper_snake(s.key) + ">";
}

std::string shown(const Setting& s) {
  // Values that embed credentials are withheld even under an innocent name.
  const std::string value = withheld(s) ? withheld_text(s) : s.value.empty() ? "\"\"" : s.value;
  return s.key + " = " + value + " (line " + std::to_string(s.line) + ")";
}

static std::string location(const Setting& s) {
  return withheld(s) ? "<location withheld: may hold a secret>" : s.value;
}

std::string quoted_value(const Setting& s) {
  return withheld(s) ? "a value withheld because it may be a secret" : "\"" + s.value + "\"";
}

std::string EnvNamer::name(std::string_view alias, std::string_view property) {
  const std::string base = "MIRROR_" + upper_snake(alias) + "_" + upper_snake(property);
  std::string n = base;
  for (int i = 2; used_.count(n); ++i) n = base + "_" + std::to_string(i);
  used_.insert(n);
  return n;
}

SpecValue spec_value(std::string_view alias, std::string_view property, const Setting& from,
                     std::string_view value, bool secret, std::string_view description,
                     const Providers& providers, EnvNamer& namer) {
  const std::vector<ProviderRef> refs = provider_refs(value, providers);
  if (refs.size() == 1 && refs[0].begin == 0 && refs[0].end == value.size()) {
    const ProviderRef& r = refs[0];
    const ProviderKind kind = providers.at(r.provider);
    if (kind == ProviderKind::env && valid_env_name(r.key)) {
      return {"${env:" + r.key + "}",
              EnvVar{r.key, std::string(description) + "; MM2 read the same variable"},
              "MM2 read ${" + r.provider + ":" + r.key + "} (EnvVarConfigProvider)"};
    }
    if (kind == ProviderKind::directory && !r.path.empty() && !r.key.empty()) {
      const std::string path = r.path.ends_with('/') ? r.path + r.key : r.path + "/" + r.key;
      return {"${file:" + path + "}", std::nullopt,
              "MM2 read the file through DirectoryConfigProvider " + r.provider};
    }
  }
  if (!refs.empty()) {
    const std::string n = namer.name(alias, property);
    std::string how = "MM2 resolved it with config provider " + refs[0].provider;
    if (!refs[0].path.empty()) how += " from " + refs[0].path;
    if (!refs[0].key.empty() && !secret) how += " (key " + refs[0].key + ")";
    return {"${env:" + n + "}", EnvVar{n, std::string(description) + "; " + how}, how};
  }
  if (secret && !value.empty()) {
    const std::string n = namer.name(alias, property);
    return {"${env:" + n + "}", EnvVar{n, std::string(description)}, ""};
  }
  (void)from;
  return {escape_dollars(value), std::nullopt, ""};
}

ClientTranslation translate_client(std::string_view alias, const std::map<std::string, Setting>& java,
                                   const Providers& providers, EnvNamer& namer) {
  ClientTranslation out;
  std::map<std::string, Setting> rest = java;
  auto take = [&](const std::string& name) -> std::optional<Setting> {
    auto it = rest.find(name);
    if (it == rest.end()) return std::nullopt;
    Setting s = it->second;
    rest.erase(it);
    return s;
  };
  auto set = [&](const std::string& name, const Setting& from, std::string_view value, bool secret,
                 const std::string& description, std::string comment = "") {
    // A value that looks secret under a property that is not one (a URL with user info, a private key
    // in a certificate chain) is not copied at all: it belongs in a credential property, as ${env:...}.
    const bool certificates = name == "ssl.ca.pem" || name == "ssl.certificate.pem";
    if (!secret && value_looks_secret(value) &&
        (!certificates || lower(value).find("private key") != std::string::npos ||
         lower(value).find("password") != std::string::npos)) {
      out.notes.push_back(from.where() + ": value withheld: it looks like it holds a secret (" + name +
                          " is not a credential property); set " + name +
                          " under client by hand, with any secret in a credential property as ${env:...}");
      return;
    }
    SpecValue v = spec_value(alias, name, from, value, secret,
                             description.empty() ? from.where() : description, providers, namer);
    if (comment.empty()) comment = from.where();
    if (!v.note.empty()) comment += "; " + v.note;
    if (v.env) {
      comment += "; export " + v.env->name;
      out.env.push_back(*v.env);
    }
    out.properties[name] = {name, v.raw, comment};
  };
  auto note = [&](std::string text) { out.notes.push_back(std::move(text)); };

  // Same name and meaning in both clients.
  for (const char* same : {"security.protocol", "sasl.mechanism", "sasl.kerberos.service.name",
                           "sasl.kerberos.min.time.before.relogin", "sasl.oauthbearer.token.endpoint.url"}) {
    if (auto s = take(same)) set(same, *s, s->value, false, s->where());
  }

  // SASL credentials live in sasl.jaas.config for Java, in plain properties for librdkafka.
  if (auto s = take("sasl.jaas.config")) {
    auto jaas = parse_jaas(s->value);
    if (!jaas) {
      note(s->where() +
           ": not a JAAS configuration Kafka clients accept (expected `<LoginModule> required name=\"value\" "
           "... ;`); set sasl.username / sasl.password (or sasl.oauthbearer.*) under client by hand");
    } else if (jaas->module == "ScramLoginModule" || jaas->module == "PlainLoginModule") {
      for (const auto& [k, v] : jaas->options) {
        if (k == "username") {
          set("sasl.username", *s, v, false, "the username in " + s->where(), "from " + s->where());
        } else if (k == "password") {
          set("sasl.password", *s, v, true, "the password in " + s->where(), "from " + s->where());
        } else {
          note(s->where() + ": login option " + k +
               " has no librdkafka equivalent (tokenauth=true means delegation tokens, which librdkafka "
               "does not support for SCRAM)");
        }
      }
    } else if (jaas->module == "OAuthBearerLoginModule") {
      for (const auto& [k, v] : jaas->options) {
        if (k == "clientId") {
          set("sasl.oauthbearer.client.id", *s, v, false, "", "from " + s->where());
        } else if (k == "clientSecret") {
          set("sasl.oauthbearer.client.secret", *s, v, true, "the clientSecret in " + s->where(),
              "from " + s->where());
        } else if (k == "scope") {
          set("sasl.oauthbearer.scope", *s, v, false, "", "from " + s->where());
        } else if (k == "unsecuredLoginStringClaim_sub") {
          set("enable.sasl.oauthbearer.unsecure.jwt", *s, "true", false, "", "from " + s->where());
          set("sasl.oauthbearer.config", *s, "principal=" + v, false, "", "from " + s->where());
        } else {
          note(s->where() + ": OAUTHBEARER login option " + k +
               " has no librdkafka equivalent; see librdkafka's sasl.oauthbearer.* properties");
        }
      }
      if (java.count("sasl.oauthbearer.token.endpoint.url")) {
        set("sasl.oauthbearer.method", *s, "oidc", false, "",
            "sasl.oauthbearer.token.endpoint.url is set: librdkafka's built-in OIDC client");
      }
    } else if (jaas->module == "Krb5LoginModule") {
      for (const auto& [k, v] : jaas->options) {
        if (k == "keyTab") {
          set("sasl.kerberos.keytab", *s, v, false, "", "from " + s->where());
        } else if (k == "principal") {
          set("sasl.kerberos.principal", *s, v, false, "", "from " + s->where());
        }
      }
      note(s->where() +
           ": librdkafka logs in to Kerberos by running kinit with sasl.kerberos.keytab and "
           "sasl.kerberos.principal; the other Krb5LoginModule options (useKeyTab, storeKey, ...) do not "
           "apply");
    } else {
      note(s->where() + ": login module " + jaas->module +
           " has no librdkafka equivalent; configure SASL for librdkafka by hand");
    }
  }
  if (auto s = take("sasl.kerberos.kinit.cmd")) {
    note(shown(*s) +
         ": for Java this is the kinit binary, for librdkafka the whole kinit command line (its default uses "
         "sasl.kerberos.keytab and sasl.kerberos.principal); set sasl.kerberos.kinit.cmd by hand if needed");
  }
  if (auto s = take("sasl.login.callback.handler.class")) {
    if (s->value.find("OAuthBearerLoginCallbackHandler") != std::string::npos)
      note(shown(*s) + ": librdkafka's built-in OIDC client (sasl.oauthbearer.method: oidc) does this");
    else
      note(shown(*s) + ": Java callback classes have no librdkafka equivalent");
  }

  // Trust: librdkafka reads PEM CA certificates, not Java key stores.
  const std::optional<Setting> ts_type = take("ssl.truststore.type");
  const std::string truststore_type = ts_type ? lower(ts_type->value) : "jks";
  const std::optional<Setting> ts_password = take("ssl.truststore.password");
  if (auto s = take("ssl.truststore.location")) {
    if (truststore_type == "pem") {
      set("ssl.ca.location", *s, s->value, false, "");
    } else {
      note(s->where() + ": a " + (ts_type ? ts_type->value : std::string("JKS")) + " truststore (" +
           location(*s) +
           "), which librdkafka cannot read. Convert it to PEM (keytool -exportcert -rfc -keystore " +
           location(*s) + " -alias <ca> -file ca.pem, or openssl pkcs12 -in " + location(*s) +
           " -nokeys -out ca.pem) and set ssl.ca.location: ca.pem under client. Until then librdkafka trusts "
           "the system's CA certificates");
    }
    if (ts_password)
      note(ts_password->where() + ": librdkafka's PEM CA file needs no password (value not copied)");
  } else if (ts_password) {
    note(ts_password->where() + ": no truststore location is set; nothing to translate (value not copied)");
  }
  if (auto s = take("ssl.truststore.certificates")) set("ssl.ca.pem", *s, s->value, false, "");

  // Identity: PKCS#12 and PEM key stores translate; JKS must be converted first.
  const std::optional<Setting> ks_type = take("ssl.keystore.type");
  const std::optional<Setting> ks_password = take("ssl.keystore.password");
  std::optional<Setting> key_password = take("ssl.key.password");
  if (auto s = take("ssl.keystore.location")) {
    std::string type = ks_type ? lower(ks_type->value) : "jks";
    if (type == "jks" && (ends_with_ci(s->value, ".p12") || ends_with_ci(s->value, ".pfx"))) type = "pkcs12";
    if (type == "pkcs12") {
      set("ssl.keystore.location", *s, s->value, false, "");
      if (ks_password)
        set("ssl.keystore.password", *ks_password, ks_password->value, true, ks_password->where());
      if (key_password) {
        note(key_password->where() +
             ": librdkafka reads the key with ssl.keystore.password; a separate key password is not used "
             "(value not copied)");
        key_password.reset();
      }
    } else if (type == "pem") {
      set("ssl.certificate.location", *s, s->value, false, "",
          s->where() + ": certificate chain of the PEM key store");
      set("ssl.key.location", *s, s->value, false, "", s->where() + ": private key of the PEM key store");
      if (ks_password) note(ks_password->where() + ": not used with a PEM key store (value not copied)");
    } else {
      note(s->where() + ": a " + (ks_type ? ks_type->value : std::string("JKS")) + " key store (" +
           location(*s) +
           "), which librdkafka cannot read. Convert it to PKCS#12 (keytool -importkeystore -srckeystore " +
           location(*s) +
           " -destkeystore keystore.p12 -deststoretype PKCS12) and set ssl.keystore.location and "
           "ssl.keystore.password (as ${env:...}) under client");
      if (ks_password) note(ks_password->where() + ": value not copied (see the key store above)");
      if (key_password) {
        note(key_password->where() + ": value not copied (see the key store above)");
        key_password.reset();
      }
    }
  } else if (ks_password) {
    note(ks_password->where() + ": no key store location is set; nothing to translate (value not copied)");
  }
  if (key_password) set("ssl.key.password", *key_password, key_password->value, true, key_password->where());
  if (auto s = take("ssl.keystore.key")) set("ssl.key.pem", *s, s->value, true, s->where());
  if (auto s = take("ssl.keystore.certificate.chain")) set("ssl.certificate.pem", *s, s->value, false, "");

  if (auto s = take("ssl.endpoint.identification.algorithm")) {
    const std::string v = lower(s->value);
    if (v.empty())
      // Turning the check off is the operator's decision for mirror (spec/trust.h), not the spec's.
      note(s->where() +
           " is empty: MM2 did not check that a broker's certificate names its host; mirror does (https). "
           "Only the operator can turn the check off (MIRROR_ALLOW_CLIENT_PROPERTIES="
           "ssl.endpoint.identification.algorithm, then ssl.endpoint.identification.algorithm: none under "
           "client)");
    else if (v == "https")
      set("ssl.endpoint.identification.algorithm", *s, "https", false, "");
    else
      note(shown(*s) + ": librdkafka knows only https and none");
  }
  if (auto s = take("ssl.cipher.suites")) {
    note(shown(*s) +
         ": Java names cipher suites the IANA way, librdkafka the OpenSSL way; set ssl.cipher.suites with "
         "OpenSSL names if you need to restrict them");
  }
  if (auto s = take("ssl.enabled.protocols")) {
    note(shown(*s) + ": librdkafka negotiates the TLS version with OpenSSL's defaults; no equivalent");
  }
  if (auto s = take("ssl.protocol")) {
    note(shown(*s) + ": librdkafka negotiates the TLS version with OpenSSL's defaults; no equivalent");
  }

  for (const auto& [name, s] : rest) {
    if (name.starts_with("ssl."))
      note(shown(s) + ": a Java TLS setting without a librdkafka equivalent (librdkafka uses OpenSSL)");
    else if (name.starts_with("sasl."))
      note(shown(s) +
           ": a Java SASL setting without a librdkafka equivalent; check librdkafka's sasl.* "
           "properties if the cluster needs it");
    else
      note(shown(s) + ": no librdkafka equivalent known to the importer");
  }
  return out;
}

}  // namespace mirror::importer
