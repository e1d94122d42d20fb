// Plans are built from names read from clusters and specs, and saved plans come back from files a pull
// request may have edited: every rendering must show hostile names as inert text, and parse_json must
// refuse anything that is not exactly a plan mirror writes, without crashing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "planner/render.h"
#include "planner/tests/builders.h"

namespace mirror::planner {
namespace {

using namespace mirror::planner::testing;

// ---------------------------------------------------------------------------------------------------
// Escaping helpers

TEST(EscapeText, ControlCharactersBecomeVisibleEscapes) {
  EXPECT_EQ(escape_text("orders"), "orders");
  EXPECT_EQ(escape_text("\x1b[2Jcleared"), "\\x1b[2Jcleared");
  EXPECT_EQ(escape_text("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escape_text(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(escape_text("del\x7f"), "del\\x7f");
  EXPECT_EQ(escape_text("\x07\x08"), "\\x07\\x08");
}

TEST(EscapeText, C1ControlsBidiControlsAndBrokenUtf8AreEscapedOtherUnicodeIsKept) {
  EXPECT_EQ(escape_text("csi\xc2\x9b"
                        "2J"),
            "csi\\u009b2J");                      // U+009B, a CSI on some terminals
  EXPECT_EQ(escape_text("raw\x9b"), "raw\\x9b");  // not UTF-8: a lone byte
  EXPECT_EQ(escape_text("admin\xe2\x80\xaetxt.exe"), "admin\\u202etxt.exe");  // right-to-left override
  EXPECT_EQ(escape_text("a\xe2\x80\xa8"
                        "b"),
            "a\\u2028b");                                     // line separator
  EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf");           // overlong "/"
  EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(escape_text("cut\xe2\x82"), "cut\\xe2\\x82");     // truncated
  EXPECT_EQ(escape_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80");
}

TEST(MarkdownCode, NamesBecomeCodeSpansThatNothingInsideCanEnd) {
  EXPECT_EQ(markdown_code("orders"), "`orders`");
  EXPECT_EQ(markdown_code(""), "");
  EXPECT_EQ(markdown_code("<!--"), "`<!--`");
  EXPECT_EQ(markdown_code("a`b"), "``a`b``");
  EXPECT_EQ(markdown_code("``x"), "``` ``x ```");  // starts with a backtick: padded
  EXPECT_EQ(markdown_code(" x "), "`  x  `");      // CommonMark strips one space each side
  EXPECT_EQ(markdown_code("   "), "`   `");
  EXPECT_EQ(markdown_code("a|b"), "`a|b`");
  EXPECT_EQ(markdown_code("a|b", /*in_table=*/true), "`a\\|b`");
  EXPECT_EQ(markdown_code("line\n| x |"), "`line\\n| x |`");
  EXPECT_EQ(markdown_code("\x1b[2J"), "`\\x1b[2J`");
}

// ---------------------------------------------------------------------------------------------------
// A plan whose every name is hostile

Plan hostile_plan() {
  Plan p;
  p.spec.source = "specs\x1b[2J<!--";
  p.spec.commit = "abc`def\n<!--";
  p.spec.path = "prod|x</details>";
  p.spec.content_hash = "0123";
  p.actions.push_back({ActionKind::create_topic, "flow\n# flow injected", "B", "A.t|x</details>", nullptr,
                       Json{{"partitions", 3},
                            {"replication_factor", 1},
                            {"configs", {{"cleanup\x1b[2J.policy", "v<!--\r\n</details>"}}},
                            {"source_topic", "t"}},
                       "reason @everyone [x](http://e)"});
  p.actions.push_back({ActionKind::create_acl, "flow\n# flow injected", "B", "ALLOW User:* ALL on CLUSTER",
                       nullptr,
                       acl_json({"CLUSTER", "kafka-cluster\n| x |", "LITERAL", "User:@everyone<!--",
                                 "*\x1b]0;title\x07", "ALL", "ALLOW"}),
                       "r"});
  p.actions.push_back({ActionKind::sync_group_offsets, "f`", "B", "grp<!--",
                       Json{{"state", "Empty"}, {"members", 0}, {"offsets", Json::array()}},
                       Json{{"offsets", Json::array({Json{{"topic", "t|`x`"},
                                                          {"partition", 0},
                                                          {"offset", 5},
                                                          {"source_topic", "s\n```\n| | |"},
                                                          {"source_offset", 3}}})}},
                       "</details><!--"});
  p.summary = {2, 1, 0, 0};
  GroupReport g{"f\r", "<!--", "A", "B", "Empty</details>", 0, GroupStatus::sync, "reason\n|x @everyone", {}};
  g.partitions.push_back(
      {"t<!--", 0, 1, 2, "A.t", 1, GroupDecision::write, "detail ![img](http://x) \x1b[31mred"});
  p.groups.push_back(g);
  p.diagnostics.push_back({Severity::warning, "fl`ow", "B", "res|<!--",
                           "message\n- injected @everyone <img src=x onerror=alert(1)> [l](javascript:x)"});
  p.policy_results.push_back({"rule|x", "advisory", "res\n|", "msg <!-- ![i](u)", false, false, ""});
  p.policy_results.push_back({"r2", "soft-mandatory", "", "m", false, true, "because </details> @everyone"});
  p.fingerprint = plan_fingerprint(p);
  return p;
}

// The markdown outside code: fenced blocks and code spans removed (CommonMark: a run of n backticks
// opens a span that the next run of exactly n closes).
std::string outside_code(const std::string& md) {
  std::string text;
  bool fenced = false;
  std::stringstream ss(md);
  for (std::string line; std::getline(ss, line);) {
    if (line.starts_with("```")) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) text += line + "\n";
  }
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '`') {
      out += text[i++];
      continue;
    }
    size_t n = 0;
    while (i + n < text.size() && text[i + n] == '`') ++n;
    size_t j = i + n, close = std::string::npos;
    while (j < text.size()) {
      if (text[j] != '`') {
        ++j;
        continue;
      }
      size_t m = 0;
      while (j + m < text.size() && text[j + m] == '`') ++m;
      if (m == n) {
        close = j;
        break;
      }
      j += m;
    }
    if (close == std::string::npos) {
      out += text.substr(i, n);
      i += n;
    } else {
      i = close + n;
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

int unescaped_pipes(const std::string& row) {
  int n = 0;
  for (size_t i = 0; i < row.size(); ++i) n += row[i] == '|' && (i == 0 || row[i - 1] != '\\');
  return n;
}

TEST(Hostile, MarkdownShowsEveryNameAsInertCode) {
  const std::string md = render_markdown(hostile_plan());
  const std::string rest = outside_code(md);
  for (const char* bad : {"<!--", "@everyone", "![", "](", "\x1b", "\r", "<img", "javascript"}) {
    EXPECT_EQ(rest.find(bad), std::string::npos) << "\"" << bad << "\" outside code in:\n" << md;
  }
  // Only mirror's own tags remain outside code.
  std::string tags = rest;
  for (const char* ours : {"<details>", "</details>", "<summary>", "</summary>", "<br>", "<sub>", "</sub>"}) {
    for (size_t at; (at = tags.find(ours)) != std::string::npos;) tags.erase(at, std::string(ours).size());
  }
  EXPECT_EQ(tags.find('<'), std::string::npos) << tags;
  // Every table row keeps its cells: 4 in the policy table, 8 in the groups table.
  for (const auto& line : lines_of(md)) {
    if (!line.starts_with("|")) continue;
    const int pipes = unescaped_pipes(line);
    EXPECT_TRUE(pipes == 5 || pipes == 9) << line;
  }
  // In the diff block every line is mirror's: a symbol and the action or detail, or a "#" comment line.
  bool in_diff = false;
  for (const auto& line : lines_of(md)) {
    if (line == "```diff") {
      in_diff = true;
      continue;
    }
    if (line == "```") in_diff = false;
    if (!in_diff || line.empty()) continue;
    EXPECT_TRUE(line[0] == '+' || line[0] == '!' || line[0] == '-' || line.starts_with("# ")) << line;
    EXPECT_FALSE(line.starts_with("# flow injected")) << md;
  }
  // Only the fences start with ```.
  int fences = 0;
  for (const auto& line : lines_of(md)) fences += line.starts_with("```");
  EXPECT_EQ(fences, 2) << md;
}

TEST(Hostile, MarkdownStillShowsTheNames) {
  const std::string md = render_markdown(hostile_plan());
  EXPECT_NE(md.find("| `<!--` |"), std::string::npos) << md;
  EXPECT_NE(md.find("`Empty</details>`"), std::string::npos) << md;
  EXPECT_NE(md.find("`rule\\|x`"), std::string::npos) << md;
  EXPECT_NE(md.find("`because </details> @everyone`"), std::string::npos) << md;
  EXPECT_NE(md.find("principal: User:@everyone<!--"), std::string::npos) << md;  // in the diff block
  EXPECT_NE(md.find("host: *\\x1b]0;title\\x07"), std::string::npos) << md;
  EXPECT_NE(md.find("# flow flow\\n# flow injected"), std::string::npos) << md;
}

TEST(Hostile, TextHasNoControlCharactersButNewlines) {
  for (std::string t : {render_text(hostile_plan()), render_text(hostile_plan(), {.color = true})}) {
    // mirror's own colours are the only escape sequences.
    for (const char* ours : {"\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1;33m", "\x1b[0m"}) {
      for (size_t at; (at = t.find(ours)) != std::string::npos;) t.erase(at, std::string(ours).size());
    }
    for (size_t i = 0; i < t.size(); ++i) {
      const auto c = static_cast<unsigned char>(t[i]);
      ASSERT_TRUE(c == '\n' || (c >= 0x20 && c != 0x7f)) << "byte " << int(c) << " at " << i << " in:\n" << t;
      if (c == 0xc2) {
        EXPECT_GE(static_cast<unsigned char>(t[i + 1]), 0xa0) << "a C1 control in:\n" << t;
      }
    }
    EXPECT_NE(t.find("\\x1b[2J"), std::string::npos) << t;
    EXPECT_NE(t.find("# flow flow\\n# flow injected"), std::string::npos) << t;
    for (const auto& line : lines_of(t)) EXPECT_FALSE(line.starts_with("# flow injected")) << t;
  }
}

TEST(Hostile, AclActionsShowTheWholeBinding) {
  const std::string t = render_text(hostile_plan());
  EXPECT_NE(t.find("      principal: User:@everyone<!--\n"
                   "      host: *\\x1b]0;title\\x07\n"
                   "      operation: ALL\n"
                   "      permission: ALLOW\n"
                   "      resource_type: CLUSTER\n"
                   "      resource_name: kafka-cluster\\n| x |\n"
                   "      pattern_type: LITERAL\n"),
            std::string::npos)
      << t;
}

TEST(Hostile, JsonRoundTrips) {
  const Plan p = hostile_plan();
  const std::string json = render_json(p);
  auto back = parse_json(json);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(render_json(*back), json);
  EXPECT_EQ(render_markdown(*back), render_markdown(p));
  EXPECT_EQ(plan_fingerprint(*back), p.fingerprint);
}

TEST(Hostile, NamesThatAreNotUtf8DoNotMakeRenderingThrow) {
  Plan p = hostile_plan();
  p.actions[0].resource = "bad\xff\xfe";
  p.actions[0].after["configs"]["k"] = "v\xc3";
  p.groups[0].group = "\x80group";
  EXPECT_NO_THROW((void)render_json(p));
  EXPECT_NO_THROW((void)render_text(p));
  EXPECT_NO_THROW((void)render_markdown(p));
  EXPECT_NO_THROW((void)plan_fingerprint(p));
  EXPECT_NE(render_text(p).find("bad\\xff\\xfe"), std::string::npos);
  auto back = parse_json(render_json(p));  // U+FFFD in place of the bad bytes
  ASSERT_TRUE(back.ok()) << back.error();
}

// ---------------------------------------------------------------------------------------------------
// parse_json: strict, bounded

std::string parse_error(const std::string& text) {
  auto r = parse_json(text);
  return r.ok() ? "(parsed)" : r.error();
}

Json good_plan() { return Json::parse(render_json(hostile_plan())); }

std::string nested(const std::string& open, const std::string& close, size_t depth) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += open;
  s += "1";
  for (size_t i = 0; i < depth; ++i) s += close;
  return s;
}

TEST(ParseLimits, DeepNestingIsRefusedWithoutACrash) {
  const std::string deep = nested("[", "]", 100000);
  EXPECT_NE(parse_error(deep).find("deeper than 64 levels"), std::string::npos) << parse_error(deep);
  const std::string deep_objects = nested("{\"a\":", "}", 100000);
  EXPECT_NE(parse_error(deep_objects).find("deeper than 64 levels"), std::string::npos);
  // Inside a real plan: the plan itself is 3 levels deep where an action's before is.
  std::string text = good_plan().dump();
  const std::string marker = "\"before\":null";
  ASSERT_NE(text.find(marker), std::string::npos);
  auto with_before = [&](size_t depth) {
    std::string t = text;
    t.replace(t.find(marker), marker.size(), "\"before\":" + nested("[", "]", depth));
    return parse_error(t);
  };
  EXPECT_EQ(with_before(61), "(parsed)");
  EXPECT_NE(with_before(62).find("deeper than 64 levels"), std::string::npos) << with_before(62);
  // An unbalanced document is no crash either.
  EXPECT_NE(parse_error(std::string(200000, '[')).find("deeper"), std::string::npos);
}

TEST(ParseLimits, LargeFilesAreRefusedBeforeParsing) {
  std::string big = good_plan().dump();
  big.append(kMaxPlanBytes + 1 - big.size(), ' ');
  EXPECT_NE(parse_error(big).find("more than a saved plan may have"), std::string::npos);
  big.pop_back();
  EXPECT_EQ(parse_error(big), "(parsed)");  // trailing whitespace up to the limit is fine
}

TEST(ParseStrict, DuplicateKeysNonFiniteNumbersAndUnknownFieldsAreRefused) {
  EXPECT_EQ(parse_error(R"({"format_version": "1", "format_version": "1"})"),
            "the plan has the key \"format_version\" twice in one object");
  Json j = good_plan();
  std::string text = j.dump();
  text.replace(text.find("\"partitions\":3"), 14, "\"partitions\":1e999");
  EXPECT_NE(parse_error(text), "(parsed)");  // nlohmann refuses it already; the guard would too
  auto edited = [](const std::function<void(Json&)>& edit) {
    Json e = good_plan();
    edit(e);
    return parse_error(e.dump());
  };
  EXPECT_EQ(edited([](Json& e) { e["actions"][1]["execute"] = "now"; }),
            "malformed plan: actions[1] has an unknown field \"execute\"");
  EXPECT_EQ(edited([](Json& e) { e["extra\x1b"] = 1; }),
            "malformed plan: plan has an unknown field \"extra\\x1b\"");
  EXPECT_EQ(edited([](Json& e) { e["spec"]["commit"] = 7; }),
            "malformed plan: spec.commit must be a string, not an integer");
  EXPECT_EQ(edited([](Json& e) { e["actions"][0]["reason"] = nullptr; }),
            "malformed plan: actions[0].reason must be a string, not null");
  EXPECT_EQ(edited([](Json& e) { e["actions"][0].erase("flow"); }),
            "malformed plan: actions[0].flow is missing");
  EXPECT_EQ(edited([](Json& e) { e["actions"][0]["kind"] = "drop\nall"; }),
            "unknown action kind \"drop\\nall\"");
}

TEST(ParseStrict, IntegersAreCheckedForTypeAndRange) {
  auto edited = [](const std::function<void(Json&)>& edit) {
    Json e = good_plan();
    edit(e);
    return parse_error(e.dump());
  };
  EXPECT_EQ(edited([](Json& e) { e["summary"]["no_op"] = -1; }),
            "malformed plan: summary.no_op is out of range: -1 (0 to 2147483647)");
  EXPECT_EQ(edited([](Json& e) { e["summary"]["no_op"] = 1.5; }),
            "malformed plan: summary.no_op must be an integer, not a fractional number");
  EXPECT_EQ(edited([](Json& e) { e["summary"]["no_op"] = 4294967296; }),
            "malformed plan: summary.no_op is out of range: 4294967296 (0 to 2147483647)");
  EXPECT_EQ(edited([](Json& e) { e["group_offsets"][0]["partitions"][0]["partition"] = 2147483648LL; }),
            "malformed plan: group_offsets[0].partitions[0].partition is out of range: 2147483648 (0 to "
            "2147483647)");
  EXPECT_EQ(
      edited(
          [](Json& e) { e["group_offsets"][0]["partitions"][0]["source_offset"] = 18446744073709551615ULL; }),
      "malformed plan: group_offsets[0].partitions[0].source_offset is out of range: 18446744073709551615 "
      "(-1 to 9223372036854775807)");
  EXPECT_EQ(edited([](Json& e) { e["group_offsets"][0]["target_members"] = true; }),
            "malformed plan: group_offsets[0].target_members must be an integer, not a boolean");
}

TEST(ParseStrict, TheSummaryMustMatchTheActionsAndLevelsMustBeKnown) {
  auto edited = [](const std::function<void(Json&)>& edit) {
    Json e = good_plan();
    edit(e);
    return parse_error(e.dump());
  };
  // A summary that hides an action from a reviewer who reads only the first line.
  EXPECT_EQ(
      edited([](Json& e) { e["summary"]["create"] = 1; }),
      "malformed plan: summary says 1 to add, 1 to change, 0 to destroy, but the actions are 2, 1 and 0");
  EXPECT_EQ(edited([](Json& e) { e["policy_results"][0]["level"] = "ignore"; }),
            "malformed plan: policy_results[0].level must be advisory, soft-mandatory or hard-mandatory, not "
            "\"ignore\"");
}

// Every value of a real plan replaced by every JSON type: parse_json answers (a plan or an error, never a
// throw); what it accepts renders in every format and round-trips.
TEST(ParseStrict, AnyValueOfAnyTypeAnywhereNeverCrashes) {
  const Json base = good_plan();
  const std::vector<Json> replacements = {nullptr,
                                          true,
                                          -1,
                                          0,
                                          4294967296LL,
                                          1.5,
                                          "x",
                                          "\x1b<!--",
                                          Json::array(),
                                          Json::object(),
                                          Json::array({1, "a"})};
  std::vector<Json::json_pointer> paths;
  std::function<void(const Json&, const Json::json_pointer&)> walk = [&](const Json& v,
                                                                         const Json::json_pointer& at) {
    paths.push_back(at);
    if (v.is_object()) {
      for (const auto& [k, c] : v.items()) walk(c, at / k);
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) walk(v[i], at / i);
    }
  };
  walk(base, Json::json_pointer());
  size_t accepted = 0;
  for (const auto& path : paths) {
    for (const auto& r : replacements) {
      Json e = base;
      e[path] = r;
      Result<Plan, std::string> parsed = Plan{};
      ASSERT_NO_THROW(parsed = parse_json(e.dump())) << path.to_string();
      if (!parsed) continue;
      ++accepted;
      ASSERT_NO_THROW((void)render_text(*parsed)) << path.to_string() << " = " << r.dump();
      ASSERT_NO_THROW((void)render_markdown(*parsed)) << path.to_string() << " = " << r.dump();
      const std::string json = render_json(*parsed);
      auto again = parse_json(json);
      ASSERT_TRUE(again.ok()) << again.error();
      EXPECT_EQ(render_json(*again), json);
    }
  }
  EXPECT_GT(accepted, 0u);  // before and after values may be anything
}

// ---------------------------------------------------------------------------------------------------
// Inputs kept from fuzzing (testdata/fuzz/plan-regressions)

TEST(PlanFuzzRegressions, EveryKeptInputIsRefusedOrRoundTrips) {
  namespace fs = std::filesystem;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(MIRROR_PLAN_FUZZ_REGRESSIONS_DIR)) {
    if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    ++n;
    auto p = parse_json(ss.str());
    if (!p) continue;
    (void)render_text(*p);
    (void)render_markdown(*p);
    const std::string json = render_json(*p);
    auto again = parse_json(json);
    ASSERT_TRUE(again.ok()) << e.path() << ": " << again.error();
    EXPECT_EQ(render_json(*again), json) << e.path();
  }
  EXPECT_GT(n, 0u) << "no inputs in " << MIRROR_PLAN_FUZZ_REGRESSIONS_DIR;
}

}  // namespace
}  // namespace mirror::planner
