#include "engine/metrics.h"

#include "common/redact.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <system_error>
#include <type_traits>

#include <httplib.h>

namespace mirror::engine {
namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";
constexpr std::size_t kWorkerThreads = 4;  // Prometheus scrapes one at a time; probes come alongside
constexpr time_t kKeepAliveSeconds = 1;    // bounds how long stop() waits for an idle keep-alive client

// Prometheus's float syntax: integers without a fraction, +Inf/-Inf/NaN, otherwise the shortest
// representation that reads back to the same double.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {  // 2^53: exact as an integer
    out += std::to_string(static_cast<std::int64_t>(v));
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

std::string number(double v) {
  std::string s;
  append_number(s, v);
  return s;
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void append_help(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

std::string join(const std::vector<std::string>& names) {
  std::string s = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) s += ", ";
    s += names[i];
  }
  return s + "}";
}

std::string names_of(const Labels& labels) {
  std::vector<std::string> names;
  for (const auto& label : labels) names.push_back(label.first);
  return join(names);
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

template <class Metric>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<Metric, Counter>) {
    return "counter";
  } else if constexpr (std::is_same_v<Metric, Gauge>) {
    return "gauge";
  } else {
    return "histogram";
  }
}

// The sample names a family exposes; two families may not share one.
std::vector<std::string> sample_names(const std::string& name, std::string_view type) {
  if (type == "histogram") return {name + "_bucket", name + "_sum", name + "_count"};
  return {name};
}

}  // namespace

// ---- series ----

void Counter::add(double v) {
  if (!(v >= 0)) throw std::invalid_argument("Counter::add: a counter only goes up, got " + number(v));
  if (v > 0) fraction_.fetch_add(v, std::memory_order_relaxed);
}

double Counter::value() const {
  return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
         fraction_.load(std::memory_order_relaxed);
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_->size() + 1, 0) {}

void Histogram::observe(double v) {
  // Upper bounds are inclusive (le); NaN, like anything above the last bound, lands in +Inf.
  std::size_t i = std::isnan(v)
                      ? bounds_->size()
                      : static_cast<std::size_t>(std::lower_bound(bounds_->begin(), bounds_->end(), v) -
                                                 bounds_->begin());
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += v;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.reserve(counts_.size());
  std::lock_guard lock(mu_);
  for (std::uint64_t c : counts_) {
    s.count += c;
    s.cumulative.push_back(s.count);
  }
  s.sum = sum_;
  return s;
}

std::vector<double> linear_buckets(double start, double width, std::size_t count) {
  if (count == 0 || !(width > 0) || !std::isfinite(start) || !std::isfinite(width)) {
    throw std::invalid_argument("linear_buckets: need count >= 1 and a finite start and width > 0");
  }
  std::vector<double> b;
  for (std::size_t i = 0; i < count; ++i) b.push_back(start + width * static_cast<double>(i));
  return b;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (count == 0 || !(start > 0) || !(factor > 1) || !std::isfinite(start) || !std::isfinite(factor)) {
    throw std::invalid_argument("exponential_buckets: need count >= 1, a finite start > 0 and factor > 1");
  }
  std::vector<double> b;
  double v = start;
  for (std::size_t i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

// ---- families ----

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

std::vector<std::string> FamilyBase::values_of(const Labels& labels) const {
  std::vector<std::string> values(label_names_.size());
  std::vector<bool> seen(label_names_.size(), false);
  bool ok = labels.size() == label_names_.size();
  for (std::size_t j = 0; ok && j < labels.size(); ++j) {
    auto it = std::find(label_names_.begin(), label_names_.end(), labels[j].first);
    auto i = static_cast<std::size_t>(it - label_names_.begin());
    ok = it != label_names_.end() && !seen[i];
    if (ok) {
      seen[i] = true;
      values[i] = labels[j].second;
    }
  }
  if (!ok) {
    throw std::invalid_argument("metric " + name_ + ": labels " + names_of(labels) +
                                " do not match its label names " + join(label_names_));
  }
  return values;
}

void FamilyBase::render_header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_help(out, help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type();
  out += '\n';
}

void FamilyBase::render_series_name(std::string& out, std::string_view suffix,
                                    const std::vector<std::string>& values, std::string_view extra_name,
                                    std::string_view extra_value) const {
  out += name_;
  out += suffix;
  if (label_names_.empty() && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i];
    out += "=\"";
    append_label_value(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!label_names_.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    append_label_value(out, extra_value);
    out += '"';
  }
  out += '}';
}

template <class Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::shared_ptr<const std::vector<double>> bounds)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)), bounds_(std::move(bounds)) {
  // A metric without labels is exposed (at zero) from its registration on.
  if (this->label_names().empty()) series_.emplace(std::vector<std::string>{}, make());
}

template <class Metric>
std::shared_ptr<Metric> Family<Metric>::make() const {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return std::make_shared<Histogram>(bounds_);
  } else {
    return std::make_shared<Metric>();
  }
}

template <class Metric>
std::shared_ptr<Metric> Family<Metric>::with(const Labels& labels) {
  std::vector<std::string> values = values_of(labels);
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) it = series_.emplace(std::move(values), make()).first;
  return it->second;
}

template <class Metric>
bool Family<Metric>::remove(const Labels& labels) {
  std::vector<std::string> values = values_of(labels);
  std::lock_guard lock(mu_);
  return series_.erase(values) > 0;
}

template <class Metric>
std::size_t Family<Metric>::remove_matching(const Labels& subset) {
  std::vector<std::pair<std::size_t, std::string>> wanted;  // (label index, value)
  for (const auto& [label, value] : subset) {
    auto it = std::find(label_names().begin(), label_names().end(), label);
    auto i = static_cast<std::size_t>(it - label_names().begin());
    bool repeated = std::any_of(wanted.begin(), wanted.end(), [&](const auto& w) { return w.first == i; });
    if (it == label_names().end() || repeated) {
      throw std::invalid_argument("metric " + name() + ": labels " + names_of(subset) +
                                  " are not a subset of its label names " + join(label_names()));
    }
    wanted.emplace_back(i, value);
  }
  std::lock_guard lock(mu_);
  std::size_t removed = 0;
  for (auto it = series_.begin(); it != series_.end();) {
    const auto& values = it->first;
    bool match =
        std::all_of(wanted.begin(), wanted.end(), [&](const auto& w) { return values[w.first] == w.second; });
    if (match) {
      it = series_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

template <class Metric>
std::size_t Family<Metric>::size() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

template <class Metric>
const char* Family<Metric>::type() const {
  return type_name<Metric>();
}

template <class Metric>
void Family<Metric>::render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (series_.empty()) return;
  render_header(out);
  for (const auto& [values, series] : series_) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      Histogram::Snapshot s = series->snapshot();
      const std::vector<double>& bounds = series->bounds();
      for (std::size_t i = 0; i < bounds.size(); ++i) {
        render_series_name(out, "_bucket", values, "le", number(bounds[i]));
        out += ' ';
        out += std::to_string(s.cumulative[i]);
        out += '\n';
      }
      render_series_name(out, "_bucket", values, "le", "+Inf");
      out += ' ';
      out += std::to_string(s.count);
      out += '\n';
      render_series_name(out, "_sum", values);
      out += ' ';
      append_number(out, s.sum);
      out += '\n';
      render_series_name(out, "_count", values);
      out += ' ';
      out += std::to_string(s.count);
      out += '\n';
    } else {
      render_series_name(out, "", values);
      out += ' ';
      if constexpr (std::is_same_v<Metric, Counter>) {
        // Read the fraction first: a concurrent inc() then at worst shows up early, never lost.
        double fraction = series->fraction_.load(std::memory_order_relaxed);
        std::uint64_t whole = series->whole_.load(std::memory_order_relaxed);
        if (fraction == 0) {
          out += std::to_string(whole);
        } else {
          append_number(out, static_cast<double>(whole) + fraction);
        }
      } else {
        append_number(out, series->value());
      }
      out += '\n';
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- registry ----

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(is_letter(c) || c == '_' || c == ':' || (i > 0 && is_digit(c)))) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(is_letter(c) || c == '_' || (i > 0 && is_digit(c)))) return false;
  }
  return true;
}

Registry::Registry() = default;
Registry::~Registry() = default;

template <class Metric>
Family<Metric>& Registry::add(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names,
                              std::shared_ptr<const std::vector<double>> bounds) {
  const std::string type = type_name<Metric>();
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("invalid metric name \"" + name +
                                "\": Prometheus metric names match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  if (std::is_same_v<Metric, Counter> && !name.ends_with("_total")) {
    throw std::invalid_argument("counter " + name + ": counter names end in _total, e.g. " + name + "_total");
  }
  if (help.empty())
    throw std::invalid_argument("metric " + name + ": the help text is empty; say what it measures");
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!valid_label_name(label)) {
      throw std::invalid_argument("metric " + name + ": invalid label name \"" + label +
                                  "\": label names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with __");
    }
    if (std::is_same_v<Metric, Histogram> && label == "le") {
      throw std::invalid_argument("histogram " + name + ": the label name \"le\" is reserved for buckets");
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        label_names.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("metric " + name + ": label name \"" + label + "\" is listed twice");
    }
  }

  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<Family<Metric>*>(it->second.get());
    bool same_bounds = existing && (existing->bounds_ == nullptr ? bounds == nullptr
                                                                 : bounds && *existing->bounds_ == *bounds);
    if (existing && existing->help() == help && existing->label_names() == label_names && same_bounds) {
      return *existing;
    }
    throw std::invalid_argument("metric " + name + " is already registered (as a " + it->second->type() +
                                " with labels " + join(it->second->label_names()) +
                                "); registering it again as a " + type + " with labels " + join(label_names) +
                                " needs the same type, help, labels and buckets");
  }
  for (const std::string& sample : sample_names(name, type)) {
    for (const auto& [other_name, other] : families_) {
      std::vector<std::string> taken = sample_names(other_name, other->type());
      if (std::find(taken.begin(), taken.end(), sample) != taken.end()) {
        throw std::invalid_argument("metric " + name + " would expose " + sample + ", which the " +
                                    other->type() + " " + other_name + " already exposes");
      }
    }
  }
  auto family = std::unique_ptr<Family<Metric>>(
      new Family<Metric>(name, help, std::move(label_names), std::move(bounds)));
  Family<Metric>& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return add<Counter>(name, help, std::move(label_names), nullptr);
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names) {
  return add<Gauge>(name, help, std::move(label_names), nullptr);
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<double> buckets, std::vector<std::string> label_names) {
  if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i])) {
      throw std::invalid_argument("histogram " + name + ": bucket bound " + number(buckets[i]) +
                                  " is not finite (+Inf is added by itself)");
    }
    if (i > 0 && !(buckets[i - 1] < buckets[i])) {
      throw std::invalid_argument("histogram " + name + ": bucket bounds must be strictly increasing, but " +
                                  number(buckets[i]) + " follows " + number(buckets[i - 1]));
    }
  }
  return add<Histogram>(name, help, std::move(label_names),
                        std::make_shared<const std::vector<double>>(std::move(buckets)));
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& entry : families_) entry.second->render(out);
  return out;
}

// ---- listen addresses ----

namespace {

bool valid_host_name(std::string_view host) {
  if (host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == '.' || c == '-' || c == '_'; });
}

std::string join_host_port(std::string_view host, std::uint16_t port) {
  std::string s =
      host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]" : std::string(host);
  return s + ":" + std::to_string(port);
}

std::string lowercase_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

struct AddrInfo {
  addrinfo* list = nullptr;
  ~AddrInfo() {
    if (list) freeaddrinfo(list);
  }
};

// Resolves the address as the server will; "" on success, else why not.
std::string resolve(const ListenAddress& a, AddrInfo& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  std::string port = std::to_string(a.port);
  int rc = getaddrinfo(a.host.c_str(), port.c_str(), &hints, &out.list);
  if (rc == 0) return "";
  if (rc == EAI_SYSTEM) return "cannot resolve " + a.host + ": " + std::generic_category().message(errno);
  return "cannot resolve " + a.host + ": " + lowercase_first(gai_strerror(rc));
}

// Why binding failed: tries the bind again with the server's socket options and returns the errno, or
// 0 when it now succeeds (the port was busy for a moment).
int probe_bind(const addrinfo* list) {
  int err = 0;
  for (const addrinfo* rp = list; rp != nullptr; rp = rp->ai_next) {
    int fd = ::socket(rp->ai_family, rp->ai_socktype | SOCK_CLOEXEC, rp->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    bool ok = ::bind(fd, rp->ai_addr, rp->ai_addrlen) == 0 && ::listen(fd, 1) == 0;
    err = ok ? 0 : errno;
    ::close(fd);
    if (ok) return 0;
  }
  return err;
}

}  // namespace

Result<ListenAddress, std::string> parse_listen_address(std::string_view address) {
  const std::string examples = "e.g. 127.0.0.1:9464, [::1]:9464 or 0.0.0.0:9464";
  if (address.empty()) return fail("the address is empty; expected HOST:PORT, " + examples);
  std::string_view host;
  std::string_view port;
  if (address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos) return fail(std::string("missing ']' after the IPv6 address"));
    host = address.substr(1, close - 1);
    std::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return fail(std::string("expected :PORT after the IPv6 address, as in [::1]:9464"));
    }
    port = rest.substr(1);
    in6_addr ip6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &ip6) != 1) {
      return fail("\"" + std::string(host) + "\" is not an IPv6 address");
    }
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return fail("expected HOST:PORT, " + examples);
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail(std::string("an IPv6 address needs brackets, as in [::1]:9464"));
    }
    if (host.empty()) {
      return fail(
          std::string("the host is missing; write 0.0.0.0:PORT for all interfaces or 127.0.0.1:PORT for this "
                      "machine only"));
    }
    if (!valid_host_name(host))
      return fail("\"" + std::string(host) + "\" is not a host name or an IP address");
  }
  if (port.empty()) return fail(std::string("the port is missing; expected HOST:PORT, ") + examples);
  if (!std::all_of(port.begin(), port.end(), is_digit)) {
    return fail("the port \"" + std::string(port) + "\" is not a number");
  }
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return fail("port " + std::string(port) + " is out of range (0-65535)");
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

// ---- server ----

MetricsServer::MetricsServer(const Registry& registry, MetricsServerOptions options)
    : registry_(registry), options_(std::move(options)) {}

MetricsServer::~MetricsServer() { stop(); }

Result<void, std::string> MetricsServer::start(std::string_view address) {
  std::lock_guard lock(mu_);
  const std::string where =
      "cannot serve metrics on " + (address.empty() ? std::string("\"\"") : std::string(address)) + ": ";
  const std::string& flag = options_.address_flag;
  if (server_) {
    return fail(where + "this server already serves on " + join_host_port(host_, port_) +
                "; hint: stop it before starting it again");
  }
  auto parsed = parse_listen_address(address);
  if (!parsed) {
    return fail(where + parsed.error() + "; hint: set " + flag +
                " to HOST:PORT, e.g. 127.0.0.1:9464 (this machine only), 0.0.0.0:9464 (all interfaces) or "
                "127.0.0.1:0 (any free port)");
  }
  const ListenAddress& a = *parsed;
  AddrInfo resolved;
  if (std::string why = resolve(a, resolved); !why.empty()) {
    return fail(where + why +
                "; hint: use an IP address, e.g. 127.0.0.1, or a host name this machine resolves");
  }

  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  // httplib's default sets SO_REUSEPORT, which would let a second process share the port silently.
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server->set_keep_alive_timeout(kKeepAliveSeconds);
  server->set_read_timeout(5);
  server->set_write_timeout(5);
  server->set_payload_max_length(64 * 1024);
  const Registry& registry = registry_;
  server->Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(redact(registry.render()), kMetricsContentType);
  });
  server->Get("/healthz", [health = options_.health](const httplib::Request&, httplib::Response& res) {
    Health h;
    try {
      if (health) h = health();
    } catch (const std::exception& e) {
      h = {false, std::string("the health check failed: ") + e.what()};
    } catch (...) {
      h = {false, "the health check failed"};
    }
    if (!h.detail.empty() && h.detail.back() != '\n') h.detail += '\n';
    res.status = h.healthy ? 200 : 503;
    res.set_content(redact(h.healthy ? "ok\n" + h.detail : (h.detail.empty() ? "unhealthy\n" : h.detail)),
                    kTextContentType);
  });
  server->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (res.status != 404 || !res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content("not found; mirror serves /metrics and /healthz\n", kTextContentType);
        return httplib::Server::HandlerResponse::Handled;
      }));

  int port = a.port;
  if (a.port == 0) {
    port = server->bind_to_any_port(a.host);
  } else if (!server->bind_to_port(a.host, a.port)) {
    port = -1;
  }
  if (port < 0) {
    int err = probe_bind(resolved.list);
    std::string any_port = join_host_port(a.host, 0);
    switch (err) {
      case EADDRINUSE:
        return fail(where + "address already in use; hint: pick another port with " + flag +
                    " HOST:PORT, or " + any_port + " for any free port");
      case EADDRNOTAVAIL:
        return fail(where + "no network interface of this machine has the address " + a.host +
                    "; hint: set " + flag +
                    " to one of its addresses, e.g. 127.0.0.1:" + std::to_string(a.port) +
                    " (this machine only) or 0.0.0.0:" + std::to_string(a.port) + " (all interfaces)");
      case EACCES:
        return fail(where + "permission denied" +
                    (a.port < 1024 ? " (ports below 1024 need privileges)" : std::string()) +
                    "; hint: pick a port from 1024 up with " + flag + " HOST:PORT, e.g. " +
                    join_host_port(a.host, 9464));
      case 0:
        return fail(where +
                    "the address could not be bound (it was busy for a moment); hint: try again, or " +
                    "pick another port with " + flag + " HOST:PORT");
      default:
        return fail(where + lowercase_first(std::generic_category().message(err)) + "; hint: pick another " +
                    "address with " + flag + " HOST:PORT, e.g. 127.0.0.1:9464");
    }
  }

  httplib::Server* raw = server.get();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  thread_ = std::thread([raw, finished] {
    raw->listen_after_bind();
    finished->store(true);
  });
  // httplib's stop() does nothing until the accept loop runs, so return only once it does.
  while (!raw->is_running() && !finished->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!raw->is_running()) {
    thread_.join();
    return fail(where + "the HTTP server stopped as soon as it started; hint: try again, or pick another " +
                "address with " + flag + " HOST:PORT");
  }
  server_ = std::move(server);
  host_ = a.host;
  port_ = static_cast<std::uint16_t>(port);
  return {};
}

void MetricsServer::stop() {
  std::lock_guard lock(mu_);
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  host_.clear();
  port_ = 0;
}

bool MetricsServer::running() const {
  std::lock_guard lock(mu_);
  return server_ != nullptr;
}

std::uint16_t MetricsServer::port() const {
  std::lock_guard lock(mu_);
  return port_;
}

std::string MetricsServer::address() const {
  std::lock_guard lock(mu_);
  return server_ ? join_host_port(host_, port_) : std::string();
}

}  // namespace mirror::engine
