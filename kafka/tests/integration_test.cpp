// Every Kafka API mirror needs, through the adapter, against the two real local clusters started by
// scripts/kafka-local (ctest's "kafka" fixture). Names are unique per run, so a rerun against clusters
// left up (MIRROR_KEEP_CLUSTERS=1) does not collide with old state.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace mirror::kafka {
namespace {

using namespace std::chrono_literals;

ClientConfig plaintext(const std::string& alias) {
  return ClientConfig{
      .alias = alias, .bootstrap = alias == "A" ? "127.0.0.1:19092" : "127.0.0.1:29092", .timeout = 30s};
}

ClientConfig scram(const std::string& alias, const std::string& user, const std::string& password) {
  return ClientConfig{.alias = alias,
                      .bootstrap = alias == "A" ? "127.0.0.1:19094" : "127.0.0.1:29094",
                      .properties = {{"security.protocol", "SASL_PLAINTEXT"},
                                     {"sasl.mechanism", "SCRAM-SHA-512"},
                                     {"sasl.username", user},
                                     {"sasl.password", password}},
                      .timeout = 30s};
}

std::string unique(const std::string& base) {
  static const std::string run =
      std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000);
  static int n = 0;
  return "it." + base + "." + run + "." + std::to_string(++n);
}

Admin connect(const ClientConfig& cfg) {
  auto a = Admin::connect(cfg);
  if (!a.ok()) throw std::runtime_error(a.error().describe());
  return std::move(a).value();
}

const TopicInfo* find_topic(const std::vector<TopicInfo>& topics, const std::string& name) {
  auto it = std::find_if(topics.begin(), topics.end(), [&](const auto& t) { return t.name == name; });
  return it == topics.end() ? nullptr : &*it;
}

// The controller acknowledges a change before every broker's metadata cache has it: wait until the
// topic is visible with `partitions` partitions (at most 10 s).
void wait_for_partitions(Admin& admin, const std::string& name, size_t partitions) {
  for (int i = 0; i < 100; ++i) {
    auto topics = admin.list_topics();
    ASSERT_TRUE(topics.ok()) << topics.error().describe();
    const TopicInfo* t = find_topic(*topics, name);
    if (t && t->partitions.size() == partitions) return;
    std::this_thread::sleep_for(100ms);
  }
  FAIL() << "topic " << name << " did not show " << partitions << " partitions within 10 s";
}

void create_topic(Admin& admin, const NewTopic& t) {
  auto r = admin.create_topics({t});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 1u);
  ASSERT_TRUE((*r)[0].ok()) << (*r)[0].error->describe();
  wait_for_partitions(admin, t.name, static_cast<size_t>(t.partitions));
}

const ConfigEntry* find_entry(const TopicConfig& tc, const std::string& name) {
  auto it = std::find_if(tc.entries.begin(), tc.entries.end(), [&](const auto& e) { return e.name == name; });
  return it == tc.entries.end() ? nullptr : &*it;
}

struct Produced {
  std::vector<Delivery> deliveries;
  std::vector<std::string> topics;  // Delivery::topic is only valid during the callback
};

// Reads everything from the assigned partitions until `expected` records arrived or 20 s passed.
std::vector<Message> read_all(Consumer& c, size_t expected) {
  std::vector<Message> out;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    auto m = c.poll(200ms);
    EXPECT_TRUE(m.ok()) << m.error().describe();
    if (!m.ok()) break;
    if (*m && !(*m)->eof()) out.push_back(std::move(**m));
  }
  return out;
}

TEST(Cluster, BothClustersAreDistinctSingleBrokerClusters) {
  auto a = connect(plaintext("A"));
  auto b = connect(plaintext("B"));
  auto ia = a.describe_cluster();
  auto ib = b.describe_cluster();
  ASSERT_TRUE(ia.ok()) << ia.error().describe();
  ASSERT_TRUE(ib.ok()) << ib.error().describe();
  EXPECT_FALSE(ia->cluster_id.empty());
  EXPECT_NE(ia->cluster_id, ib->cluster_id);
  ASSERT_EQ(ia->brokers.size(), 1u);
  EXPECT_EQ(ia->brokers[0].port, 19092);
  EXPECT_EQ(ib->brokers[0].port, 29092);
}

TEST(Topics, CreateListGrowAndDelete) {
  auto admin = connect(plaintext("A"));
  const std::string name = unique("topics");
  create_topic(
      admin,
      {.name = name, .partitions = 3, .replication_factor = 1, .configs = {{"retention.ms", "3600000"}}});

  auto topics = admin.list_topics();
  ASSERT_TRUE(topics.ok()) << topics.error().describe();
  const TopicInfo* t = find_topic(*topics, name);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->partitions.size(), 3u);
  EXPECT_EQ(t->replication_factor(), 1);

  auto again = admin.create_topics({{.name = name, .partitions = 3}});
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)[0].error.has_value());
  EXPECT_EQ((*again)[0].error->code, Errc::already_exists);
  EXPECT_EQ((*again)[0].error->kafka_code, "TOPIC_ALREADY_EXISTS");

  auto grow = admin.create_partitions({{.topic = name, .total_count = 5}});
  ASSERT_TRUE(grow.ok()) << grow.error().describe();
  ASSERT_TRUE((*grow)[0].ok()) << (*grow)[0].error->describe();
  auto shrink = admin.create_partitions({{.topic = name, .total_count = 2}});
  ASSERT_TRUE(shrink.ok());
  ASSERT_TRUE((*shrink)[0].error.has_value());
  EXPECT_EQ((*shrink)[0].error->code, Errc::invalid);

  wait_for_partitions(admin, name, 5);

  auto del = admin.delete_topics({name});
  ASSERT_TRUE(del.ok()) << del.error().describe();
  EXPECT_TRUE((*del)[0].ok());
  auto gone = admin.delete_topics({name});
  ASSERT_TRUE(gone.ok());
  ASSERT_TRUE((*gone)[0].error.has_value());
  EXPECT_EQ((*gone)[0].error->code, Errc::not_found);
}

// A topic deleted and created again under the same name is a new topic: Kafka gives it a new id.
TEST(Topics, IdsTellARecreatedTopicApart) {
  auto admin = connect(plaintext("A"));
  const std::string name = unique("ids" + std::to_string(::getpid()));
  const std::string missing = unique("ids-missing");
  create_topic(admin, {.name = name, .partitions = 2, .replication_factor = 1});

  auto first = admin.topic_ids({name, missing, name});
  ASSERT_TRUE(first.ok()) << first.error().describe();
  ASSERT_EQ(first->size(), 1u) << "an unknown topic is absent, not an error";
  ASSERT_TRUE(first->count(name));
  const std::string old_id = first->at(name);
  EXPECT_EQ(old_id.size(), 22u);
  EXPECT_EQ(old_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos)
      << old_id;
  auto again = admin.topic_ids({name});
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->at(name), old_id) << "the id is stable while the topic lives";

  auto del = admin.delete_topics({name});
  ASSERT_TRUE(del.ok()) << del.error().describe();
  ASSERT_TRUE((*del)[0].ok()) << (*del)[0].error->describe();
  // Deletion completes asynchronously: create again until the broker accepts it (at most 20 s).
  bool created = false;
  for (int i = 0; i < 100 && !created; ++i) {
    auto r = admin.create_topics({{.name = name, .partitions = 2, .replication_factor = 1}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    created = (*r)[0].ok();
    if (!created) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(created) << "could not create " << name << " again within 20 s";
  wait_for_partitions(admin, name, 2);

  std::string new_id;
  for (int i = 0; i < 100 && (new_id.empty() || new_id == old_id); ++i) {
    auto ids = admin.topic_ids({name});
    ASSERT_TRUE(ids.ok()) << ids.error().describe();
    new_id = ids->count(name) ? ids->at(name) : "";
    if (new_id.empty() || new_id == old_id) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(new_id.size(), 22u);
  EXPECT_NE(new_id, old_id);

  auto none = admin.topic_ids({});
  ASSERT_TRUE(none.ok()) << none.error().describe();
  EXPECT_TRUE(none->empty());
  auto only_missing = admin.topic_ids({missing});
  ASSERT_TRUE(only_missing.ok()) << only_missing.error().describe();
  EXPECT_TRUE(only_missing->empty());
  ASSERT_TRUE(admin.delete_topics({name}).ok());
}

TEST(Configs, DescribeManyTopicsInOneCallWithSources) {
  auto admin = connect(plaintext("B"));
  const std::string t1 = unique("cfg"), t2 = unique("cfg");
  create_topic(admin, {.name = t1, .partitions = 1, .configs = {{"retention.ms", "7200000"}}});
  create_topic(admin, {.name = t2, .partitions = 1});
  auto cfgs = admin.describe_topic_configs({t1, t2});
  ASSERT_TRUE(cfgs.ok()) << cfgs.error().describe();
  ASSERT_EQ(cfgs->size(), 2u);
  const TopicConfig& c1 = (*cfgs)[0].topic == t1 ? (*cfgs)[0] : (*cfgs)[1];
  const TopicConfig& c2 = (*cfgs)[0].topic == t1 ? (*cfgs)[1] : (*cfgs)[0];
  ASSERT_FALSE(c1.error) << c1.error->describe();
  const ConfigEntry* r1 = find_entry(c1, "retention.ms");
  ASSERT_NE(r1, nullptr);
  EXPECT_EQ(r1->value, "7200000");
  EXPECT_EQ(r1->source, ConfigSource::dynamic_topic);
  EXPECT_FALSE(r1->is_default);
  const ConfigEntry* r2 = find_entry(c2, "retention.ms");
  ASSERT_NE(r2, nullptr);
  EXPECT_NE(r2->source, ConfigSource::dynamic_topic);
  EXPECT_TRUE(r2->is_default);

  auto missing = admin.describe_topic_configs({unique("nope")});
  ASSERT_TRUE(missing.ok()) << missing.error().describe();
  ASSERT_TRUE((*missing)[0].error.has_value());
  EXPECT_EQ((*missing)[0].error->code, Errc::not_found);
  (void)admin.delete_topics({t1, t2});
}

TEST(Configs, IncrementalAlterKeepsUnrelatedOverrides) {
  auto admin = connect(plaintext("B"));
  const std::string name = unique("alter");
  // An override that mirror does not own (as a rebalancer's throttle list would be).
  create_topic(
      admin, {.name = name, .partitions = 1, .configs = {{"leader.replication.throttled.replicas", "0:1"}}});
  auto r = admin.alter_topic_configs({{name, {{ConfigOp::set, "retention.ms", "600000"}}}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE((*r)[0].ok()) << (*r)[0].error->describe();

  // Config changes reach the broker through the metadata log: read until the change shows (≤ 10 s).
  auto wait_for = [&](auto&& done) {
    for (int i = 0; i < 100; ++i) {
      auto cfgs = admin.describe_topic_configs({name});
      EXPECT_TRUE(cfgs.ok()) << cfgs.error().describe();
      if (cfgs.ok() && done((*cfgs)[0])) return (*cfgs)[0];
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "config change on " << name << " not visible within 10 s";
    return TopicConfig{};
  };
  TopicConfig tc =
      wait_for([](const TopicConfig& c) { return find_entry(c, "retention.ms")->value == "600000"; });
  EXPECT_EQ(find_entry(tc, "leader.replication.throttled.replicas")->value, "0:1");

  r = admin.alter_topic_configs({{name, {{ConfigOp::remove, "retention.ms", ""}}}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  tc = wait_for([](const TopicConfig& c) { return find_entry(c, "retention.ms")->is_default; });
  EXPECT_EQ(find_entry(tc, "leader.replication.throttled.replicas")->value, "0:1");

  auto bad = admin.alter_topic_configs({{name, {{ConfigOp::set, "retention.ms", "not-a-number"}}}});
  ASSERT_TRUE(bad.ok()) << bad.error().describe();
  ASSERT_TRUE((*bad)[0].error.has_value());
  EXPECT_EQ((*bad)[0].error->code, Errc::invalid) << (*bad)[0].error->describe();
  (void)admin.delete_topics({name});
}

TEST(Acls, CreateDescribeEnforceAndDelete) {
  // ACLs are managed as the SCRAM super user `admin` and enforced on `alice` (PLAINTEXT is a super user).
  auto admin = connect(scram("A", "admin", "admin-secret"));
  const std::string topic = unique("acl");
  create_topic(admin, {.name = topic, .partitions = 1});

  auto alice = connect(scram("A", "alice", "alice-secret"));
  auto denied = alice.describe_topic_configs({topic});
  ASSERT_TRUE(denied.ok()) << denied.error().describe();
  ASSERT_TRUE((*denied)[0].error.has_value());
  EXPECT_EQ((*denied)[0].error->code, Errc::authorization) << (*denied)[0].error->describe();

  AclBinding read{AclResourceType::topic, topic, AclPatternType::literal,
                  "User:alice",           "*",   AclOperation::describe_configs,
                  AclPermission::allow};
  AclBinding deny{AclResourceType::topic, topic, AclPatternType::literal, "User:bob", "*", AclOperation::read,
                  AclPermission::deny};
  auto created = admin.create_acls({read, deny});
  ASSERT_TRUE(created.ok()) << created.error().describe();
  ASSERT_EQ(created->size(), 2u);
  for (const auto& c : *created) EXPECT_TRUE(c.ok()) << c.error->describe();

  AclFilter on_topic{.resource_type = AclResourceType::topic,
                     .resource_name = topic,
                     .pattern_type = AclPatternType::literal};
  auto listed = admin.describe_acls(on_topic);
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  std::set<AclBinding> got(listed->begin(), listed->end());
  EXPECT_EQ(got, (std::set<AclBinding>{read, deny}));

  // ACL changes reach the authorizer through the metadata log: allow a moment.
  std::optional<Error> last;
  for (int i = 0; i < 50; ++i) {
    auto allowed = alice.describe_topic_configs({topic});
    ASSERT_TRUE(allowed.ok()) << allowed.error().describe();
    last = (*allowed)[0].error;
    if (!last) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(last.has_value()) << last->describe();

  auto deleted = admin.delete_acls({on_topic});
  ASSERT_TRUE(deleted.ok()) << deleted.error().describe();
  EXPECT_EQ(std::set<AclBinding>(deleted->begin(), deleted->end()), (std::set<AclBinding>{read, deny}));
  listed = admin.describe_acls(on_topic);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  (void)admin.delete_topics({topic});
}

TEST(Acls, DeniedAdminRequestIsAnAuthorizationError) {
  auto bob = connect(scram("B", "bob", "bob-secret"));
  auto r = bob.create_topics({{.name = unique("denied"), .partitions = 1}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE((*r)[0].error.has_value());
  EXPECT_EQ((*r)[0].error->code, Errc::authorization) << (*r)[0].error->describe();
  EXPECT_NE((*r)[0].error->hint().find("ACL"), std::string::npos);
}

TEST(Offsets, WatermarksAndOffsetsForTimes) {
  auto admin = connect(plaintext("A"));
  const std::string topic = unique("offsets");
  create_topic(admin, {.name = topic, .partitions = 2});
  Produced out;
  auto p = Producer::create(plaintext("A"), {}, [&](const Delivery& d) { out.deliveries.push_back(d); });
  ASSERT_TRUE(p.ok()) << p.error().describe();
  const int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < 10; ++i) {
    std::string v = std::to_string(i);
    ASSERT_TRUE(p->send({.topic = topic, .partition = 0, .value = v, .timestamp_ms = t0 + i * 1000}).ok());
  }
  ASSERT_TRUE(p->flush().ok());
  ASSERT_EQ(out.deliveries.size(), 10u);

  auto r = admin.list_offsets({{{topic, 0}, OffsetSpec::earliest},
                               {{topic, 0}, OffsetSpec::latest},
                               {{topic, 1}, OffsetSpec::latest},
                               {{topic, 0}, OffsetSpec::timestamp, t0 + 5000},
                               {{topic, 0}, OffsetSpec::timestamp, t0 + 4500},
                               {{topic, 0}, OffsetSpec::timestamp, t0 + 99'000}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 6u);
  std::multiset<int64_t> p0;
  for (const auto& lo : *r) {
    ASSERT_FALSE(lo.error) << lo.error->describe();
    if (lo.tp.partition == 1)
      EXPECT_EQ(lo.offset, 0);
    else
      p0.insert(lo.offset);
  }
  // earliest 0, latest 10, ts 5000 -> 5, ts 4500 -> 5 (first record at or after), beyond the end -> -1
  EXPECT_EQ(p0, (std::multiset<int64_t>{0, 10, 5, 5, -1}));
  (void)admin.delete_topics({topic});
}

TEST(Records, IdempotentProducerAndManualAssignmentKeepRecordsByteForByte) {
  auto admin = connect(plaintext("B"));
  const std::string topic = unique("records");
  create_topic(admin, {.name = topic, .partitions = 1});
  std::vector<Delivery> deliveries;
  auto p = Producer::create(plaintext("B"), {.idempotent = true},
                            [&](const Delivery& d) { deliveries.push_back(d); });
  ASSERT_TRUE(p.ok()) << p.error().describe();
  const std::string binary("\0\x01\xff k", 5);
  const std::vector<Header> headers{{"h1", "v1"}, {"h-null", std::nullopt}, {"h1", binary}};
  ASSERT_TRUE(p->send({.topic = topic,
                       .partition = 0,
                       .key = "k1",
                       .value = binary,
                       .headers = headers,
                       .timestamp_ms = 1'600'000'000'123,
                       .tag = 1})
                  .ok());
  ASSERT_TRUE(
      p->send({.topic = topic, .partition = 0, .key = std::nullopt, .value = "no key", .tag = 2}).ok());
  ASSERT_TRUE(p->send({.topic = topic, .partition = 0, .key = "k1", .value = std::nullopt, .tag = 3}).ok());
  ASSERT_TRUE(p->send({.topic = topic, .partition = 0, .key = "", .value = "", .tag = 4}).ok());
  ASSERT_TRUE(p->flush().ok());
  ASSERT_EQ(deliveries.size(), 4u);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    EXPECT_FALSE(deliveries[i].error) << deliveries[i].error->describe();
    EXPECT_EQ(deliveries[i].tag, i + 1);
    EXPECT_EQ(deliveries[i].offset, static_cast<int64_t>(i));
  }

  auto c = Consumer::create(plaintext("B"), {.isolation = Isolation::read_committed});
  ASSERT_TRUE(c.ok()) << c.error().describe();
  ASSERT_TRUE(c->assign({{topic, 0, 0}}).ok());
  auto msgs = read_all(*c, 4);
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0].key(), "k1");
  EXPECT_EQ(msgs[0].value(), binary);
  EXPECT_EQ(msgs[0].headers(), headers);
  EXPECT_EQ(msgs[0].timestamp_ms(), 1'600'000'000'123);
  EXPECT_EQ(msgs[0].timestamp_type(), TimestampType::create_time);
  EXPECT_EQ(msgs[1].key(), std::nullopt);
  EXPECT_EQ(msgs[2].value(), std::nullopt);  // tombstone
  EXPECT_EQ(msgs[3].key(), "");              // empty is not null
  EXPECT_EQ(msgs[3].value(), "");
  for (size_t i = 0; i < msgs.size(); ++i) EXPECT_EQ(msgs[i].offset(), static_cast<int64_t>(i));
  c->close();
  (void)admin.delete_topics({topic});
}

TEST(Records, TransactionsCommitAndAbortAsSeenByReadCommitted) {
  auto admin = connect(plaintext("B"));
  const std::string topic = unique("txn");
  create_topic(admin, {.name = topic, .partitions = 1});
  int delivered = 0;
  auto p = Producer::create(plaintext("B"), {.transactional_id = unique("txn-id")},
                            [&](const Delivery& d) { delivered += d.error ? 0 : 1; });
  ASSERT_TRUE(p.ok()) << p.error().describe();
  auto ok = p->init_transactions();
  ASSERT_TRUE(ok.ok()) << ok.error().describe();

  auto batch = [&](const std::string& prefix, int n, bool commit) {
    ASSERT_TRUE(p->begin_transaction().ok());
    for (int i = 0; i < n; ++i) {
      std::string v = prefix + std::to_string(i);
      ASSERT_TRUE(p->send({.topic = topic, .partition = 0, .value = v}).ok());
    }
    ASSERT_TRUE(p->flush().ok());
    auto end = commit ? p->commit_transaction() : p->abort_transaction();
    ASSERT_TRUE(end.ok()) << end.error().describe();
  };
  batch("committed-", 3, true);
  // Flush before aborting: librdkafka purges records still queued locally when a transaction aborts, and
  // this test wants aborted records in the log.
  batch("aborted-", 2, false);
  batch("again-", 1, true);

  auto committed =
      Consumer::create(plaintext("B"), {.isolation = Isolation::read_committed, .report_eof = true});
  ASSERT_TRUE(committed.ok());
  ASSERT_TRUE(committed->assign({{topic, 0, -2}}).ok());
  std::vector<std::string> values;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  bool eof = false;
  while (!eof && std::chrono::steady_clock::now() < deadline) {
    auto m = committed->poll(200ms);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    if (!*m) continue;
    if ((*m)->eof())
      eof = true;
    else
      values.emplace_back(*(*m)->value());
  }
  EXPECT_TRUE(eof);
  EXPECT_EQ(values, (std::vector<std::string>{"committed-0", "committed-1", "committed-2", "again-0"}));

  auto uncommitted = Consumer::create(plaintext("B"), {.isolation = Isolation::read_uncommitted});
  ASSERT_TRUE(uncommitted.ok());
  ASSERT_TRUE(uncommitted->assign({{topic, 0, -2}}).ok());
  EXPECT_EQ(read_all(*uncommitted, 6).size(), 6u);  // aborted records are in the log, markers are not records

  // Log end: 6 records + 3 transaction markers.
  auto end = admin.list_offsets({{{topic, 0}, OffsetSpec::latest}}, Isolation::read_committed);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ((*end)[0].offset, 9);
  (void)admin.delete_topics({topic});
}

TEST(Records, ASecondTransactionalProducerFencesTheFirst) {
  auto admin = connect(plaintext("B"));
  const std::string topic = unique("fence");
  create_topic(admin, {.name = topic, .partitions = 1});
  const std::string id = unique("fence-id");
  auto first = Producer::create(plaintext("B"), {.transactional_id = id}, nullptr);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->init_transactions().ok());
  ASSERT_TRUE(first->begin_transaction().ok());
  ASSERT_TRUE(first->send({.topic = topic, .partition = 0, .value = "zombie"}).ok());

  auto second = Producer::create(plaintext("B"), {.transactional_id = id}, nullptr);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->init_transactions().ok());  // bumps the epoch: the first is now a zombie

  auto r = first->commit_transaction();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::fenced) << r.error().describe();
  (void)admin.delete_topics({topic});
}

TEST(Groups, ListDescribeReadAndAlterOffsets) {
  auto admin = connect(plaintext("B"));
  const std::string topic = unique("groups");
  const std::string group = unique("group");
  create_topic(admin, {.name = topic, .partitions = 2});
  {
    auto c = Consumer::create(plaintext("B"), {.group_id = group});
    ASSERT_TRUE(c.ok());
    auto r = c->commit({{topic, 0, 0}, {topic, 1, 0}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    c->close();
  }
  auto groups = admin.list_groups();
  ASSERT_TRUE(groups.ok()) << groups.error().describe();
  auto it = std::find_if(groups->begin(), groups->end(), [&](auto& g) { return g.group_id == group; });
  ASSERT_NE(it, groups->end());
  EXPECT_EQ(it->state, GroupState::empty);

  auto desc = admin.describe_groups({group});
  ASSERT_TRUE(desc.ok()) << desc.error().describe();
  ASSERT_EQ(desc->size(), 1u);
  EXPECT_FALSE((*desc)[0].error);
  EXPECT_EQ((*desc)[0].member_count, 0);
  EXPECT_EQ((*desc)[0].state, GroupState::empty);

  auto altered = admin.alter_group_offsets(group, {{topic, 0, 0, "from mirror"}, {topic, 1, 0}});
  ASSERT_TRUE(altered.ok()) << altered.error().describe();
  for (const auto& pr : *altered) EXPECT_TRUE(pr.ok()) << pr.error->describe();

  auto offsets = admin.list_group_offsets(group);
  ASSERT_TRUE(offsets.ok()) << offsets.error().describe();
  ASSERT_EQ(offsets->size(), 2u);
  EXPECT_EQ((*offsets)[0], (TopicPartitionOffset{topic, 0, 0, "from mirror"}));
  EXPECT_EQ((*offsets)[1].offset, 0);

  auto unknown = admin.list_group_offsets(unique("no-group"));
  ASSERT_TRUE(unknown.ok()) << unknown.error().describe();
  EXPECT_TRUE(unknown->empty());

  auto del = admin.delete_groups({group});
  ASSERT_TRUE(del.ok()) << del.error().describe();
  EXPECT_TRUE((*del)[0].ok());
  (void)admin.delete_topics({topic});
}

TEST(Security, ScramUserAuthenticates) {
  auto alice = connect(scram("B", "alice", "alice-secret"));
  auto topics = alice.list_topics();
  ASSERT_TRUE(topics.ok()) << topics.error().describe();
  auto cluster = alice.describe_cluster();
  ASSERT_TRUE(cluster.ok()) << cluster.error().describe();
}

TEST(Security, WrongPasswordIsAClearAuthenticationErrorNotAHang) {
  auto cfg = scram("A", "alice", "wrong-password");
  cfg.timeout = 60s;  // if this were a hang, the error would be timed_out after a minute
  auto admin = connect(cfg);
  auto r = admin.describe_cluster();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::authentication) << r.error().describe();
  EXPECT_NE(r.error().describe().find("A (127.0.0.1:19094)"), std::string::npos) << r.error().describe();
  EXPECT_EQ(r.error().describe().find("wrong-password"), std::string::npos);
  EXPECT_NE(r.error().hint().find("sasl.password"), std::string::npos);

  // The same when the first request is a metadata request (a blocking call in librdkafka).
  auto fresh = connect(cfg);
  auto topics = fresh.list_topics();
  ASSERT_FALSE(topics.ok());
  EXPECT_EQ(topics.error().code, Errc::authentication) << topics.error().describe();
}

TEST(Security, UnreachableClusterIsATransportErrorNamingTheCause) {
  ClientConfig cfg{.alias = "C", .bootstrap = "127.0.0.1:1", .timeout = 3s};
  auto admin = connect(cfg);
  auto r = admin.describe_cluster();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::transport) << r.error().describe();
  EXPECT_NE(r.error().describe().find("Connection refused"), std::string::npos) << r.error().describe();
  EXPECT_NE(r.error().hint().find("bootstrap"), std::string::npos);
}

}  // namespace
}  // namespace mirror::kafka
