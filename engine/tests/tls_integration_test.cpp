// plan, apply and run over the local clusters' TLS listeners (scripts/kafka-local: SASL_SSL with SCRAM,
// SSL with client certificates), ACLs of a certificate principal, and certificates that must be
// refused: each refusal names the cluster and the cause, at once, and nothing is copied.
#include <cstdlib>

#include "engine/tests/e2e.h"

namespace mirror::e2e {
namespace {

// Where scripts/kafka-local put the CA and the client certificates.
fs::path tls_dir() {
  const char* state = std::getenv("MIRROR_KAFKA_DIR");
  return (state && *state ? fs::path(state) : fs::path(MIRROR_SOURCE_DIR) / ".kafka-local") / "tls";
}
std::string tls(const std::string& file) { return (tls_dir() / file).string(); }

// librdkafka properties of the admin principal on cluster `alias` over `how` ("sasl_ssl" or "mtls").
std::map<std::string, std::string> tls_properties(const std::string& how, const std::string& user = "admin") {
  if (how == "sasl_ssl") {
    return {{"security.protocol", "SASL_SSL"},
            {"sasl.mechanism", "SCRAM-SHA-512"},
            {"sasl.username", user},
            {"sasl.password", user + "-secret"},
            {"ssl.ca.location", tls("ca.pem")}};
  }
  return {{"security.protocol", "SSL"},
          {"ssl.ca.location", tls("ca.pem")},
          {"ssl.certificate.location", tls("client-" + user + ".pem")},
          {"ssl.key.location", tls("client-" + user + ".key")}};
}

std::string port_of(const std::string& alias, const std::string& how) {
  const int base = alias == "A" ? 19000 : 29000;
  return std::to_string(base + (how == "sasl_ssl" ? 95 : how == "mtls" ? 96 : how == "expired" ? 97 : 98));
}

// The spec's cluster section for `alias` over `how`; the password comes from the environment, as an
// operator would pass it.
std::string cluster_yaml(const std::string& alias, const std::string& how,
                         const std::map<std::string, std::string>& overrides = {}) {
  if (how == "plaintext") {
    return "  " + alias + ": {bootstrap: \"127.0.0.1:" + (alias == "A" ? "19092" : "29092") + "\"}\n";
  }
  auto props = tls_properties(how == "sasl_ssl" ? "sasl_ssl" : "mtls");
  if (how == "sasl_ssl") props["sasl.password"] = "${env:MIRROR_TEST_TLS_PASSWORD}";
  for (const auto& [k, v] : overrides) {
    if (v.empty()) {
      props.erase(k);
    } else {
      props[k] = v;
    }
  }
  std::string y = "  " + alias + ":\n    bootstrap: \"127.0.0.1:" + port_of(alias, how) + "\"\n    client:\n";
  for (const auto& [k, v] : props) y += "      " + k + ": \"" + v + "\"\n";
  return y;
}

struct CliRun {
  int code = -1;
  std::string out;
  std::chrono::milliseconds took{};
};

class TlsE2E : public EngineE2E {
 protected:
  void SetUp() override {
    EngineE2E::SetUp();
    ::setenv("MIRROR_TEST_TLS_PASSWORD", "admin-secret", 1);
    ASSERT_TRUE(fs::exists(tls_dir() / "ca.pem")) << "no " << tls_dir() << ": run scripts/kafka-local up";
  }

  std::string spec(const std::string& a_how, const std::string& b_how,
                   const std::map<std::string, std::string>& b_overrides = {}) {
    const std::string path = (dir_ / ("mirror-" + a_how + "-" + b_how + ".yaml")).string();
    std::ofstream(path)
        << "version: 1\nclusters:\n"
        << cluster_yaml("A", a_how) << cluster_yaml("B", b_how, b_overrides)
        << "flows:\n  - name: " << prefix_
        << "\n    source: A\n    target: B\n    replication_factor: 1\n    topics: {include: [\"" << prefix_
        << "\\\\..*\"]}\n";
    return path;
  }

  // Runs mirror to completion (at most `limit`, then it is killed: a hang fails the test).
  CliRun cli(const std::vector<std::string>& args, std::chrono::seconds limit = 120s) {
    static int n = 0;
    const fs::path log = dir_ / ("cli" + std::to_string(++n) + ".log");
    const auto start = Clock::now();
    Proc p(args, log);
    CliRun r;
    r.code = p.stop(0, limit);
    r.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    r.out = p.output();
    return r;
  }

  // Copies `topic` (produced on A over PLAINTEXT) through plan, apply and run over the given listeners.
  void copy_over(const std::string& a_how, const std::string& b_how) {
    const std::string topic = prefix_ + ".data";
    create_topic(topic, 3);
    std::vector<Rec> recs;
    std::vector<int32_t> parts;
    for (int i = 0; i < 3000; ++i) {
      Rec r;
      r.key = "k" + std::to_string(i);
      r.value = std::string(static_cast<size_t>(100 + i % 200), static_cast<char>('a' + i % 26));
      if (i % 5 == 0) r.headers = {{"h", "v" + std::to_string(i)}};
      r.ts = 1'700'000'000'000 + i;
      recs.push_back(std::move(r));
      parts.push_back(i % 3);
    }
    produce(topic, recs, parts);
    const std::string s = spec(a_how, b_how);

    CliRun plan = cli({"plan", "-c", s, "--detailed-exitcode"});
    ASSERT_EQ(plan.code, 2) << plan.out;
    EXPECT_NE(plan.out.find("+ create_topic B:A." + topic), std::string::npos) << plan.out;
    CliRun apply = cli({"apply", "-c", s, "--auto-approve", "--detach", "--lock-timeout", "120"});
    ASSERT_EQ(apply.code, 0) << apply.out;
    CliRun again = cli({"plan", "-c", s, "--detailed-exitcode"});
    EXPECT_EQ(again.code, 0) << again.out;
    EXPECT_EQ(plan.out.find("admin-secret") + apply.out.find("admin-secret"), 2 * std::string::npos)
        << "the password was printed";

    auto engine = run(s, "run-" + a_how + "-" + b_how);
    ASSERT_TRUE(wait_for("A." + topic, 3, 3000, 120s)) << engine->output();
    EXPECT_EQ(engine->stop(SIGTERM, 30s), 0) << engine->output();
    auto src = read_all(kA, topic, 3);
    auto dst = read_all(kB, "A." + topic, 3);
    for (int p = 0; p < 3; ++p) {
      ASSERT_EQ(dst[p].size(), src[p].size()) << "partition " << p;
      for (size_t i = 0; i < src[p].size(); ++i)
        ASSERT_EQ(dst[p][i], src[p][i]) << "partition " << p << " #" << i;
    }
  }
};

TEST_F(TlsE2E, PlanApplyRunFromSaslSslToMutualTls) { copy_over("sasl_ssl", "mtls"); }

TEST_F(TlsE2E, PlanApplyRunFromMutualTlsToSaslSsl) { copy_over("mtls", "sasl_ssl"); }

// A source ACL whose principal is a certificate subject (commas, equals signs) is copied exactly, and it
// works on the target: alice's certificate may read the mirrored topic and nothing else.
TEST_F(TlsE2E, CertificatePrincipalAclsAreMirroredAndWork) {
  const std::string topic = prefix_ + ".orders";
  const std::string other = prefix_ + ".payments";
  create_topic(topic, 1);
  create_topic(other, 1);
  std::vector<int32_t> parts;
  produce(topic, numbered(10, 1, parts), parts);
  produce(other, numbered(10, 1, parts), parts);
  const std::string alice = "User:CN=alice,OU=clients,O=kafka-local";
  {
    auto a = admin(kA);
    auto r = a.create_acls({{kafka::AclResourceType::topic, topic, kafka::AclPatternType::literal, alice, "*",
                             kafka::AclOperation::read, kafka::AclPermission::allow}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  std::this_thread::sleep_for(2s);  // ACLs reach the authorizer

  const std::string s = spec("mtls", "mtls");
  CliRun plan = cli({"plan", "-c", s, "--detailed-exitcode"});
  ASSERT_EQ(plan.code, 2) << plan.out;
  EXPECT_NE(plan.out.find("create_acl B:"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("CN=alice,OU=clients,O=kafka-local"), std::string::npos) << plan.out;
  CliRun apply = cli({"apply", "-c", s, "--auto-approve", "--detach", "--lock-timeout", "120"});
  ASSERT_EQ(apply.code, 0) << apply.out;
  EXPECT_EQ(cli({"plan", "-c", s, "--detailed-exitcode"}).code, 0);

  auto b = admin(kB);
  auto acls = b.describe_acls({.resource_name = "A." + topic});
  ASSERT_TRUE(acls.ok()) << acls.error().describe();
  ASSERT_EQ(acls->size(), 1u);
  EXPECT_EQ((*acls)[0].principal, alice);
  EXPECT_EQ((*acls)[0].operation, kafka::AclOperation::read);
  EXPECT_EQ((*acls)[0].permission, kafka::AclPermission::allow);
  EXPECT_EQ((*acls)[0].pattern_type, kafka::AclPatternType::literal);

  auto engine = run(s, "run");
  ASSERT_TRUE(wait_for("A." + topic, 1, 10, 120s)) << engine->output();
  ASSERT_TRUE(wait_for("A." + other, 1, 10, 120s)) << engine->output();
  EXPECT_EQ(engine->stop(SIGTERM, 30s), 0) << engine->output();

  // alice, by her certificate alone, on the target.
  const kafka::ClientConfig alice_b{
      .alias = "B", .bootstrap = "127.0.0.1:29096", .properties = tls_properties("mtls", "alice")};
  auto mine = read_all(alice_b, "A." + topic, 1);
  EXPECT_EQ(mine[0].size(), 10u);
  auto alice_admin = kafka::Admin::connect(alice_b);
  ASSERT_TRUE(alice_admin.ok()) << alice_admin.error().describe();
  auto denied = alice_admin->list_offsets({{{"A." + other, 0}, kafka::OffsetSpec::latest}});
  bool refused =
      !denied.ok() || ((*denied)[0].error && (*denied)[0].error->code == kafka::Errc::authorization);
  EXPECT_TRUE(refused) << "alice read a topic she has no ACL for";
}

// Each broken certificate setup: mirror refuses (never copies, never weakens the check), names the
// cluster and the cause, and says so at once rather than after its 30 s timeout.
TEST_F(TlsE2E, RefusedCertificatesNameTheClusterAndTheCause) {
  struct Case {
    std::string name, how;
    std::map<std::string, std::string> overrides;
    std::string port;
    std::vector<std::string> phrases;
  };
  const std::vector<Case> cases = {
      {"wrong CA",
       "mtls",
       {{"ssl.ca.location", tls("other-ca.pem")}},
       "29096",
       {"which is not a CA this client trusts (ssl.ca.location " + tls("other-ca.pem") + ")",
        "ssl.ca.location"}},
      {"expired",
       "expired",
       {},
       "29097",
       {"the broker's certificate (subject CN=localhost,O=kafka-local)", "expired on 2020-01-02 00:00:00 UTC",
        "renew the broker's certificate"}},
      {"wrong host",
       "wrong-host",
       {},
       "29098",
       {"presented a certificate for DNS:wrong-host.invalid, which does not name the host '127.0.0.1'"}},
      {"no client certificate",
       "mtls",
       {{"ssl.certificate.location", ""}, {"ssl.key.location", ""}},
       "29096",
       {"the broker requires a client certificate (mutual TLS)", "ssl.certificate.location"}},
      {"TLS to a plaintext port", "mtls", {}, "29092", {"did not answer with TLS", "PLAINTEXT"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string s = spec("plaintext", c.how, c.overrides);
    if (c.port == "29092") {  // the same client settings, pointed at the PLAINTEXT listener
      std::ifstream in(s);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = std::regex_replace(ss.str(), std::regex("127\\.0\\.0\\.1:29096"), "127.0.0.1:29092");
      std::ofstream(s) << text;
    }
    CliRun plan = cli({"plan", "-c", s}, 60s);
    EXPECT_EQ(plan.code, 1) << plan.out;
    EXPECT_EQ(plan.out.find("Plan:"), std::string::npos) << plan.out;
    EXPECT_NE(plan.out.find("cluster B (127.0.0.1:" + c.port + ")"), std::string::npos) << plan.out;
    EXPECT_NE(plan.out.find("TLS: "), std::string::npos) << plan.out;
    for (const auto& p : c.phrases) EXPECT_NE(plan.out.find(p), std::string::npos) << p << "\n" << plan.out;
    // Well inside the client's 30 s timeout: the refusal itself ended the plan.
    EXPECT_LT(plan.took, 20s) << plan.out;
  }

  // apply refuses the same way and changes nothing; the engine, which cannot even read what was applied,
  // exits at once saying why (a supervisor restarts it; a fixed certificate is then picked up).
  const std::string topic = prefix_ + ".never";
  create_topic(topic, 1);
  const std::string expired = spec("plaintext", "expired");
  CliRun apply = cli({"apply", "-c", expired, "--auto-approve", "--detach"}, 60s);
  EXPECT_EQ(apply.code, 1) << apply.out;
  EXPECT_NE(apply.out.find("expired on 2020-01-02"), std::string::npos) << apply.out;
  EXPECT_LT(apply.took, 20s);
  EXPECT_EQ(end_offsets(kB, "A." + topic, 1), -1) << "apply created the target topic anyway";

  auto engine = run(expired, "run-expired");
  EXPECT_EQ(engine->stop(0, 30s), 1) << engine->output();
  const std::string out = engine->output();
  EXPECT_NE(out.find("cluster B (127.0.0.1:29097)"), std::string::npos) << out;
  EXPECT_NE(out.find("expired on 2020-01-02"), std::string::npos) << out;
  EXPECT_NE(out.find("nothing was copied"), std::string::npos) << out;
}

}  // namespace
}  // namespace mirror::e2e
