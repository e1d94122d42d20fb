// Java Kafka client settings (what MM2 passes to its clients: security.protocol, ssl.*, sasl.*) as
// librdkafka properties for a spec's `clusters.<alias>.client`. Pure. Secrets are never copied: they
// become ${env:...} references, and the variables are listed so the operator knows what to export.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mirror::importer {

// One MM2 setting as found in the file.
struct Setting {
  std::string key;  // the full key as written, e.g. "B.sasl.jaas.config"
  std::string value;
  int line = 0;
  bool dropped_backslash = false;
  std::string where() const { return key + " (line " + std::to_string(line) + ")"; }
};

// An environment variable the generated spec reads, and what the operator must put in it.
struct EnvVar {
  std::string name;         // e.g. MIRROR_B_SASL_PASSWORD
  std::string description;  // e.g. "the password in B.sasl.jaas.config (line 12)"
  auto operator<=>(const EnvVar&) const = default;
};

// MM2's ConfigProviders (config.providers=NAME, config.providers.NAME.class=...), by name.
enum class ProviderKind { env, file, directory, other };
using Providers = std::map<std::string, ProviderKind>;

// Hands out MIRROR_<ALIAS>_<PROPERTY> names, unique within one import.
class EnvNamer {
 public:
  std::string name(std::string_view alias, std::string_view property);

 private:
  std::set<std::string> used_;
};

// A value for the spec (a raw spec string: literal `$` written `$$`, or ${env:}/${file:} references).
struct SpecValue {
  std::string raw;
  std::optional<EnvVar> env;  // set when the value is a variable the operator must export
  std::string note;           // how the value was obtained, when that is worth a comment
};

// Translates a value MM2 read (possibly with ${provider:path:key} references) for the spec. Secrets,
// and references mirror cannot express, become a new ${env:...} variable; literals are escaped.
SpecValue spec_value(std::string_view alias, std::string_view property, const Setting& from,
                     std::string_view value, bool secret, std::string_view description,
                     const Providers& providers, EnvNamer& namer);

struct ClientProperty {
  std::string name;  // librdkafka property
  std::string raw;   // the spec value (see SpecValue::raw)
  std::string comment;
};

struct ClientTranslation {
  std::map<std::string, ClientProperty> properties;  // by librdkafka name
  std::vector<std::string> notes;                    // settings without an exact equivalent, and why
  std::vector<EnvVar> env;
};

// `java` holds one cluster's effective Java client settings, keyed by the property name without any
// prefix ("sasl.jaas.config"); `Setting::key` says where each came from. Returns librdkafka properties
// and a note for everything that has no librdkafka equivalent.
ClientTranslation translate_client(std::string_view alias, const std::map<std::string, Setting>& java,
                                   const Providers& providers, EnvNamer& namer);

// True for the Java client settings MM2 hands to every client of a cluster (its CLIENT_CONFIG_DEF:
// security.protocol and the ssl.* and sasl.* families).
bool is_java_security_setting(std::string_view name);

// True when a setting's value must not be shown (its name says password, secret, key, token or jaas,
// and it is not a path, URL, type or algorithm).
bool hides_value(std::string_view key);

// `key = value (line N)` for comments, the value replaced when it is a secret.
std::string shown(const Setting& s);

// Secrets are never copied into the spec's comments or into messages: a setting whose name looks secret
// (hides_value) or whose value does (value_looks_secret: a JAAS password=, a token=, a URL with user info,
// a PEM block, ...) is shown by name only, saying its value was withheld and how to pass it
// (${env:...}). quoted_value: the value in quotes for messages, or that it was withheld.
bool value_looks_secret(std::string_view value);
bool withheld(const Setting& s);
std::string quoted_value(const Setting& s);

}  // namespace mirror::importer
