#include "config/topic_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace samsa::config {
namespace {

constexpr int64_t hour_ms = 3'600'000;

config_failure error_of(const config_result<void>& r)
{
    EXPECT_FALSE(r);
    return r ? config_failure{} : r.error();
}

config_entry describe_one(const property_map& overrides, const broker_config_store& b, std::string name)
{
    auto r = describe_topic_config(overrides, b, {std::move(name)}, describe_options{true, true});
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? config_entry{} : r[0];
}

TEST(topic_config, defaults_come_from_the_broker)
{
    broker_config_store b(property_map{{"log.retention.hours", "24"},
                                       {"message.max.bytes", "2000"},
                                       {"log.roll.ms", "60000"},
                                       {"log.cleanup.policy", "compact"},
                                       {"compression.type", "lz4"}});
    auto t = resolve_topic_config({}, b.current());
    EXPECT_EQ(t.retention_ms, 24 * hour_ms);
    EXPECT_EQ(t.max_message_bytes, 2000);
    EXPECT_EQ(t.segment_ms, 60000);
    EXPECT_EQ(t.cleanup, (cleanup_policy{false, true}));
    EXPECT_EQ(t.compression_type, broker_compression::lz4);
    EXPECT_EQ(t.segment_bytes, 1073741824);
    EXPECT_EQ(t.segment_index_bytes, 10485760);
    EXPECT_EQ(t.flush_ms, std::numeric_limits<int64_t>::max());
    EXPECT_EQ(t.file_delete_delay_ms, 60000);
    EXPECT_EQ(t.delete_retention_ms, 86400000);
    EXPECT_DOUBLE_EQ(t.min_cleanable_dirty_ratio, 0.5);
    EXPECT_EQ(t.min_insync_replicas, 1);
    EXPECT_FALSE(t.unclean_leader_election_enable);
}

TEST(topic_config, overrides_win)
{
    broker_config_store b({});
    property_map o{{"retention.ms", "-1"},
                   {"cleanup.policy", "compact,delete"},
                   {"max.message.bytes", "64000"},
                   {"message.timestamp.type", "LogAppendTime"},
                   {"min.insync.replicas", "2"},
                   {"segment.bytes", "1048576"},
                   {"flush.messages", "1"},
                   {"preallocate", "true"},
                   {"min.cleanable.dirty.ratio", "0.1"}};
    ASSERT_TRUE(validate_topic_overrides(o));
    auto t = resolve_topic_config(o, b.current());
    EXPECT_EQ(t.retention_ms, -1);
    EXPECT_EQ(t.cleanup, (cleanup_policy{true, true}));
    EXPECT_EQ(t.max_message_bytes, 64000);
    EXPECT_EQ(t.message_timestamp, message_timestamp_type::log_append_time);
    EXPECT_EQ(t.min_insync_replicas, 2);
    EXPECT_EQ(t.segment_bytes, 1048576);
    EXPECT_EQ(t.flush_messages, 1);
    EXPECT_TRUE(t.preallocate);
    EXPECT_DOUBLE_EQ(t.min_cleanable_dirty_ratio, 0.1);
}

TEST(topic_config, validation_errors)
{
    auto unknown = error_of(validate_topic_overrides({{"retention.hours", "1"}}));
    EXPECT_EQ(unknown.code, make_error_code(errc::unknown_config));
    EXPECT_EQ(unknown.message, "Unknown topic config name: retention.hours");
    EXPECT_EQ(kafka_error_code(errc::unknown_config), 40);

    EXPECT_EQ(error_of(validate_topic_overrides({{"cleanup.policy", "compact,remove"}})).message,
              "Invalid value remove for configuration cleanup.policy: String must be one of: compact, delete");
    EXPECT_EQ(error_of(validate_topic_overrides({{"retention.ms", "-2"}})).message,
              "Invalid value -2 for configuration retention.ms: Value must be at least -1");
    EXPECT_EQ(error_of(validate_topic_overrides({{"segment.bytes", "13"}})).message,
              "Invalid value 13 for configuration segment.bytes: Value must be at least 14");
    EXPECT_EQ(error_of(validate_topic_overrides({{"min.cleanable.dirty.ratio", "2"}})).message,
              "Invalid value 2 for configuration min.cleanable.dirty.ratio: Value must be no more than 1");
    EXPECT_EQ(error_of(validate_topic_overrides({{"compression.type", "lzma"}})).code,
              make_error_code(errc::invalid_value));
    EXPECT_EQ(error_of(validate_topic_overrides({{"preallocate", "1"}})).code, make_error_code(errc::invalid_value));
    EXPECT_EQ(error_of(validate_topic_overrides({{"segment.ms", "0"}})).code, make_error_code(errc::invalid_value));
}

TEST(topic_config, deprecated_message_format_version_is_accepted_and_ignored)
{
    // Kafka 3.x accepts it (deprecated, without effect); clients and tools still send it.
    EXPECT_TRUE(validate_topic_overrides({{"message.format.version", "0.10.2"}}));
    broker_config_store b({});
    auto d = describe_topic_config({}, b, {"message.format.version"}, {true, false});
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].value, "3.0-IV1");
    ASSERT_FALSE(d[0].synonyms.empty());
    EXPECT_EQ(d[0].synonyms[0].name, "log.message.format.version");
}

TEST(topic_config, compaction_lags_must_be_ordered)
{
    auto err = error_of(validate_topic_overrides({{"min.compaction.lag.ms", "100"}, {"max.compaction.lag.ms", "10"}}));
    EXPECT_EQ(err.code, make_error_code(errc::conflicting_values));
    EXPECT_TRUE(validate_topic_overrides({{"min.compaction.lag.ms", "10"}, {"max.compaction.lag.ms", "100"}}));
}

TEST(topic_describe, default_value_sources_follow_the_broker)
{
    broker_config_store b(property_map{{"log.retention.hours", "24"}});
    auto e = describe_one({}, b, "retention.ms");
    EXPECT_EQ(e.value, std::to_string(24 * hour_ms));
    EXPECT_EQ(e.source, config_source::static_broker_config);
    EXPECT_FALSE(e.read_only);
    EXPECT_FALSE(e.sensitive);
    EXPECT_EQ(e.type, config_type::int64);
    EXPECT_TRUE(e.documentation);
    EXPECT_EQ(e.synonyms,
              (std::vector<config_synonym>{{"log.retention.hours", "24", config_source::static_broker_config},
                                           {"log.retention.hours", "168", config_source::default_config}}));

    auto mm = describe_one({}, b, "max.message.bytes");
    EXPECT_EQ(mm.value, "1048588");
    EXPECT_EQ(mm.source, config_source::default_config);
    EXPECT_EQ(mm.synonyms,
              (std::vector<config_synonym>{{"message.max.bytes", "1048588", config_source::default_config}}));
}

TEST(topic_describe, override_comes_first)
{
    broker_config_store b(property_map{{"log.retention.ms", "1000"}});
    auto e = describe_one({{"retention.ms", "5000"}}, b, "retention.ms");
    EXPECT_EQ(e.value, "5000");
    EXPECT_EQ(e.source, config_source::dynamic_topic_config);
    EXPECT_EQ(e.synonyms,
              (std::vector<config_synonym>{{"retention.ms", "5000", config_source::dynamic_topic_config},
                                           {"log.retention.ms", "1000", config_source::static_broker_config},
                                           {"log.retention.hours", "168", config_source::default_config}}));
}

TEST(topic_describe, dynamic_broker_values_show_their_source)
{
    broker_config_store b({});
    ASSERT_TRUE(b.set_dynamic(dynamic_scope::cluster_default, "log.segment.bytes", "5000"));
    auto e = describe_one({}, b, "segment.bytes");
    EXPECT_EQ(e.value, "5000");
    EXPECT_EQ(e.source, config_source::dynamic_default_broker_config);
}

TEST(topic_describe, flush_ms_and_segment_ms_synonyms)
{
    broker_config_store b({});
    auto f = describe_one({}, b, "flush.ms");
    EXPECT_EQ(f.value, "9223372036854775807");
    EXPECT_EQ(f.synonyms, (std::vector<config_synonym>{{"log.flush.scheduler.interval.ms", "9223372036854775807",
                                                        config_source::default_config}}));
    auto s = describe_one({}, b, "segment.ms");
    EXPECT_EQ(s.value, std::to_string(168 * hour_ms));
    EXPECT_EQ(s.synonyms, (std::vector<config_synonym>{{"log.roll.hours", "168", config_source::default_config}}));
}

TEST(topic_describe, all_configs_without_synonyms)
{
    broker_config_store b({});
    auto all = describe_topic_config({{"cleanup.policy", "compact"}}, b, {}, {});
    EXPECT_EQ(all.size(), topic_config_definitions().keys().size());
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](auto& x, auto& y) { return x.name < y.name; }));
    for (const auto& e : all) {
        EXPECT_TRUE(e.synonyms.empty());
        EXPECT_FALSE(e.documentation);
        EXPECT_TRUE(e.value) << e.name;
    }
    EXPECT_EQ(all.front().name, "cleanup.policy");
    EXPECT_EQ(all.front().value, "compact");
    EXPECT_EQ(all.front().type, config_type::list);
    EXPECT_EQ(describe_topic_config({}, b, {"nope"}, {}).size(), 0u);
}

TEST(topic_alter, set_and_delete)
{
    broker_config_store b({});
    std::vector<alter_op> ops = {{"retention.ms", alter_op_type::set, "100"},
                                 {"segment.bytes", alter_op_type::remove, std::nullopt}};
    auto next = alter_topic_overrides({{"segment.bytes", "1000"}, {"flush.ms", "5"}}, ops, b.current()).value();
    EXPECT_EQ(next, (property_map{{"flush.ms", "5"}, {"retention.ms", "100"}}));
}

TEST(topic_alter, append_and_subtract_on_lists)
{
    broker_config_store b({});
    std::vector<alter_op> append = {{"cleanup.policy", alter_op_type::append, "compact"}};
    auto next = alter_topic_overrides({}, append, b.current()).value();
    EXPECT_EQ(next.at("cleanup.policy"), "delete,compact"); // starts from the broker's "delete"
    auto again = alter_topic_overrides(next, append, b.current()).value();
    EXPECT_EQ(again.at("cleanup.policy"), "delete,compact"); // no duplicates
    std::vector<alter_op> subtract = {{"cleanup.policy", alter_op_type::subtract, "delete"}};
    EXPECT_EQ(alter_topic_overrides(next, subtract, b.current()).value().at("cleanup.policy"), "compact");
    // Removing every policy leaves an empty list, which validation refuses.
    std::vector<alter_op> all = {{"cleanup.policy", alter_op_type::subtract, "compact,delete"}};
    auto empty = alter_topic_overrides(next, all, b.current());
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, make_error_code(errc::invalid_value));
}

TEST(topic_alter, list_ops_only_on_lists)
{
    broker_config_store b({});
    std::vector<alter_op> ops = {{"retention.ms", alter_op_type::append, "5"}};
    auto r = alter_topic_overrides({}, ops, b.current());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::not_a_list));
    EXPECT_EQ(kafka_error_code(errc::not_a_list), 40);
    EXPECT_EQ(r.error().message, "APPEND is only allowed on LIST configs; retention.ms is of type LONG");
}

TEST(topic_alter, request_level_errors)
{
    broker_config_store b({});
    std::vector<alter_op> dup = {{"retention.ms", alter_op_type::set, "1"},
                                 {"retention.ms", alter_op_type::remove, {}}};
    EXPECT_EQ(alter_topic_overrides({}, dup, b.current()).error().code, make_error_code(errc::duplicate_config));
    std::vector<alter_op> null = {{"retention.ms", alter_op_type::set, std::nullopt}};
    EXPECT_EQ(alter_topic_overrides({}, null, b.current()).error().code, make_error_code(errc::null_value));
    std::vector<alter_op> unknown = {{"retention.weeks", alter_op_type::remove, std::nullopt}};
    EXPECT_EQ(alter_topic_overrides({}, unknown, b.current()).error().message,
              "Unknown topic config name: retention.weeks");
    std::vector<alter_op> bad = {{"retention.ms", alter_op_type::set, "soon"}};
    EXPECT_EQ(alter_topic_overrides({}, bad, b.current()).error().code, make_error_code(errc::invalid_value));
    EXPECT_EQ(alter_op_from_code(3).value(), alter_op_type::subtract);
    EXPECT_EQ(alter_op_from_code(4).error().code, make_error_code(errc::invalid_operation));
    EXPECT_FALSE(alter_op_from_code(-1));
}

TEST(topic_overrides_text, round_trip)
{
    property_map o{{"cleanup.policy", "compact,delete"},
                   {"retention.ms", "-1"},
                   {"compression.type", "zstd"},
                   {"message.timestamp.type", "LogAppendTime"}};
    auto text = serialize_topic_overrides(o);
    EXPECT_EQ(text, "cleanup.policy=compact,delete\ncompression.type=zstd\nmessage.timestamp.type=LogAppendTime\n"
                    "retention.ms=-1\n");
    EXPECT_EQ(parse_topic_overrides(text).value(), o);
    EXPECT_EQ(parse_topic_overrides("").value(), property_map{});
    auto bad = parse_topic_overrides("retention.ms=\\u00");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, make_error_code(errc::malformed_text));
}

} // namespace
} // namespace samsa::config
