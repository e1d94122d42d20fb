// MM2's default filters, so that users migrating from MirrorMaker 2 see the same selection.
// Sources: apache/kafka connect/mirror DefaultTopicFilter, DefaultGroupFilter, DefaultConfigPropertyFilter.
#pragma once

#include <array>
#include <string_view>
#include <utility>

namespace mirror::spec::defaults {

// Topic excludes every flow starts with; the user's excludes are added, never replace them. These are
// MM2 3.x's topics.exclude default (as design.md fixes them); MM2 4.x narrowed the first entry to
// "mm2.*\.internal", which would start copying other tools' *.internal topics.
inline constexpr std::array<std::string_view, 3> kTopicExcludes{".*[\\-\\.]internal", ".*\\.replica", "__.*"};
inline constexpr std::array<std::string_view, 3> kGroupExcludes{"console-consumer-.*", "connect-.*", "__.*"};
// Topic configs MM2 does not copy to the target.
inline constexpr std::array<std::string_view, 6> kConfigExcludes{
    "follower\\.replication\\.throttled\\.replicas", "leader\\.replication\\.throttled\\.replicas",
    "message\\.timestamp\\.difference\\.max\\.ms",   "message\\.timestamp\\.type",
    "unclean\\.leader\\.election\\.enable",          "min\\.insync\\.replicas",
};

// Built-in policy rules (evaluated by policies/); the spec may only name these.
inline constexpr std::array<std::string_view, 12> kPolicyRules{
    "no-topic-deletion",    "no-acl-deletion",     "no-group-offset-deletion",
    "protected-topics",     "max-partitions",      "min-replication-factor",
    "min-insync-replicas",  "target-topic-naming", "max-retention",
    "require-exactly-once", "max-actions",         "no-foreign-write-acl",
};
inline constexpr std::array<std::string_view, 3> kPolicyLevels{"advisory", "soft-mandatory",
                                                               "hard-mandatory"};
// Short spellings accepted in specs (design.md's example uses "deny"); stored as the full level.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kPolicyLevelAliases{
    std::pair<std::string_view, std::string_view>{"deny", "hard-mandatory"},
    std::pair<std::string_view, std::string_view>{"warn", "advisory"}};

}  // namespace mirror::spec::defaults
