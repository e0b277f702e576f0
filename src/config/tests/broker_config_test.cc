#include "config/broker_config_store.h"
#include "config/broker_definitions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace samsa::config {
namespace {

constexpr int64_t hour_ms = 3'600'000;
constexpr int64_t long_max = std::numeric_limits<int64_t>::max();

broker_config build(const property_map& props) { return build_broker_config(props).value(); }

config_failure build_error(const property_map& props)
{
    auto r = build_broker_config(props);
    EXPECT_FALSE(r);
    return r ? config_failure{} : r.error();
}

std::string fixture(std::string_view name) { return std::string(SAMSA_CONFIG_FIXTURES) + "/" + std::string(name); }

TEST(broker_config, defaults_follow_kafka)
{
    auto c = build({});
    EXPECT_EQ(c.node_id, 0);
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0], (listener{"PLAINTEXT", "", 9092, "PLAINTEXT"}));
    EXPECT_EQ(c.advertised_listeners, c.listeners);
    EXPECT_EQ(c.log_dirs, (std::vector<std::string>{"/tmp/kafka-logs"}));
    EXPECT_EQ(c.num_partitions, 1);
    EXPECT_EQ(c.default_replication_factor, 1);
    EXPECT_TRUE(c.auto_create_topics_enable);
    EXPECT_TRUE(c.delete_topic_enable);
    EXPECT_EQ(c.message_max_bytes, 1048588);
    EXPECT_EQ(c.socket_request_max_bytes, 104857600);
    EXPECT_EQ(c.connections_max_idle_ms, 600000);
    EXPECT_EQ(c.log_segment_bytes, 1073741824);
    EXPECT_EQ(c.log_roll_ms, 168 * hour_ms);
    EXPECT_EQ(c.log_roll_jitter_ms, 0);
    EXPECT_EQ(c.log_retention_ms, 168 * hour_ms);
    EXPECT_EQ(c.log_retention_bytes, -1);
    EXPECT_EQ(c.log_retention_check_interval_ms, 300000);
    EXPECT_EQ(c.log_index_interval_bytes, 4096);
    EXPECT_EQ(c.log_index_size_max_bytes, 10485760);
    EXPECT_EQ(c.log_flush_interval_messages, long_max);
    EXPECT_EQ(c.log_flush_interval_ms, long_max);
    EXPECT_EQ(c.log_flush_offset_checkpoint_interval_ms, 60000);
    EXPECT_EQ(c.log_segment_delete_delay_ms, 60000);
    EXPECT_EQ(c.log_cleanup_policy, (cleanup_policy{true, false}));
    EXPECT_EQ(c.min_insync_replicas, 1);
    EXPECT_EQ(c.log_message_timestamp_type, message_timestamp_type::create_time);
    EXPECT_EQ(c.compression_type, broker_compression::producer);
    EXPECT_EQ(c.offsets_topic_num_partitions, 50);
    EXPECT_EQ(c.offsets_topic_replication_factor, 3);
    EXPECT_EQ(c.offsets_retention_ms, 10080LL * 60'000);
    EXPECT_EQ(c.group_initial_rebalance_delay_ms, 3000);
    EXPECT_EQ(c.group_min_session_timeout_ms, 6000);
    EXPECT_EQ(c.group_max_session_timeout_ms, 1800000);
    EXPECT_EQ(c.fetch_max_bytes, 57671680);
    EXPECT_FALSE(c.zookeeper_connect);
    EXPECT_EQ(c.zookeeper_connection_timeout_ms, 18000);
    EXPECT_DOUBLE_EQ(c.log_cleaner_io_max_bytes_per_second, std::numeric_limits<double>::max());
}

TEST(broker_config, stock_zookeeper_file_loads_cleanly)
{
    auto loaded = load_broker_config(load_properties_file(fixture("server.properties")));
    EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings.front();
    const auto& c = loaded.config;
    EXPECT_EQ(c.node_id, 0);
    EXPECT_EQ(c.log_dirs, (std::vector<std::string>{"/tmp/kafka-logs"}));
    EXPECT_EQ(c.offsets_topic_replication_factor, 1);
    EXPECT_EQ(c.transaction_state_log_min_isr, 1);
    EXPECT_EQ(c.group_initial_rebalance_delay_ms, 0);
    EXPECT_EQ(c.zookeeper_connect, "localhost:2181");
    EXPECT_EQ(c.zookeeper_connection_timeout_ms, 18000);
    EXPECT_EQ(c.log_retention_ms, 168 * hour_ms);
}

TEST(broker_config, stock_kraft_file_loads_cleanly)
{
    auto loaded = load_broker_config(load_properties_file(fixture("kraft-server.properties")));
    EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings.front();
    const auto& c = loaded.config;
    EXPECT_EQ(c.node_id, 1);
    EXPECT_EQ(c.process_roles, (std::vector<std::string>{"broker", "controller"}));
    ASSERT_EQ(c.listeners.size(), 2u);
    EXPECT_EQ(c.listeners[1], (listener{"CONTROLLER", "", 9093, "PLAINTEXT"}));
    ASSERT_EQ(c.advertised_listeners.size(), 1u);
    EXPECT_EQ(c.advertised_listeners[0].host, "localhost");
    EXPECT_EQ(c.inter_broker_listener_name, "PLAINTEXT");
    EXPECT_EQ(c.log_dirs, (std::vector<std::string>{"/tmp/kraft-combined-logs"}));
}

TEST(broker_config, unknown_keys_warn_once_each_and_are_ignored)
{
    broker_config_store store(property_map{{"num.partitions", "2"}, {"cluster.id", "abc"}, {"made.up", "1"}});
    EXPECT_EQ(store.warnings(),
              (std::vector<std::string>{"The configuration 'cluster.id' was supplied but isn't a known config.",
                                        "The configuration 'made.up' was supplied but isn't a known config."}));
    EXPECT_EQ(store.current().num_partitions, 2);
}

TEST(broker_config, invalid_static_value_throws_one_line_message)
{
    try {
        broker_config_store store(property_map{{"num.partitions", "abc"}});
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "Invalid value abc for configuration num.partitions: Not a number of type INT");
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_value));
    }
    EXPECT_EQ(build_error({{"log.message.timestamp.type", "Foo"}}).message,
              "Invalid value Foo for configuration log.message.timestamp.type: String must be one of: CreateTime, "
              "LogAppendTime");
    EXPECT_EQ(build_error({{"log.segment.bytes", "10"}}).message,
              "Invalid value 10 for configuration log.segment.bytes: Value must be at least 14");
    EXPECT_EQ(build_error({{"compression.type", "brotli"}}).message,
              "Invalid value brotli for configuration compression.type: String must be one of: producer, "
              "uncompressed, gzip, snappy, lz4, zstd");
    EXPECT_EQ(build_error({{"auto.create.topics.enable", "maybe"}}).message,
              "Invalid value maybe for configuration auto.create.topics.enable: Expected value to be either true or "
              "false");
}

TEST(broker_config, retention_precedence_ms_over_minutes_over_hours)
{
    EXPECT_EQ(build({{"log.retention.hours", "24"}}).log_retention_ms, 24 * hour_ms);
    EXPECT_EQ(build({{"log.retention.hours", "24"}, {"log.retention.minutes", "30"}}).log_retention_ms, 30 * 60'000);
    EXPECT_EQ(build({{"log.retention.hours", "24"}, {"log.retention.minutes", "30"}, {"log.retention.ms", "1234"}})
                  .log_retention_ms,
              1234);
    EXPECT_EQ(build({{"log.retention.ms", "-1"}}).log_retention_ms, -1);
    EXPECT_EQ(build({{"log.retention.hours", "-5"}}).log_retention_ms, -1);
    EXPECT_EQ(build({{"log.retention.minutes", "-1"}, {"log.retention.hours", "1"}}).log_retention_ms, -1);
}

TEST(broker_config, roll_precedence_ms_over_hours)
{
    EXPECT_EQ(build({{"log.roll.hours", "2"}}).log_roll_ms, 2 * hour_ms);
    EXPECT_EQ(build({{"log.roll.hours", "2"}, {"log.roll.ms", "5000"}}).log_roll_ms, 5000);
    EXPECT_EQ(build({{"log.roll.jitter.hours", "1"}}).log_roll_jitter_ms, hour_ms);
    EXPECT_EQ(build({{"log.roll.jitter.hours", "1"}, {"log.roll.jitter.ms", "10"}}).log_roll_jitter_ms, 10);
    EXPECT_FALSE(build_broker_config({{"log.roll.hours", "0"}}));
}

TEST(broker_config, node_id_and_broker_id)
{
    EXPECT_EQ(build({{"broker.id", "3"}}).node_id, 3);
    EXPECT_EQ(build({{"node.id", "4"}}).node_id, 4);
    EXPECT_EQ(build({{"node.id", "5"}, {"broker.id", "5"}}).node_id, 5);
    EXPECT_EQ(build({{"node.id", "-1"}, {"broker.id", "-1"}}).node_id, 0);
    EXPECT_EQ(build({{"node.id", "7"}, {"broker.id", "-1"}}).node_id, 7);
    auto err = build_error({{"node.id", "1"}, {"broker.id", "2"}});
    EXPECT_EQ(err.code, make_error_code(errc::conflicting_values));
    EXPECT_EQ(err.message, "Configurations node.id (1) and broker.id (2) must be equal when both are set");
    EXPECT_EQ(build_error({{"node.id", "-2"}}).message,
              "Invalid value -2 for configuration node.id: Value must be at least -1");
}

TEST(broker_config, log_dirs_over_log_dir)
{
    EXPECT_EQ(build({{"log.dir", "/one"}}).log_dirs, (std::vector<std::string>{"/one"}));
    EXPECT_EQ(build({{"log.dir", "/one"}, {"log.dirs", "/a, /b"}}).log_dirs, (std::vector<std::string>{"/a", "/b"}));
    EXPECT_FALSE(build_broker_config({{"log.dirs", ""}}));
}

TEST(broker_config, flush_interval_falls_back_to_scheduler_interval)
{
    EXPECT_EQ(build({{"log.flush.scheduler.interval.ms", "2000"}}).log_flush_interval_ms, 2000);
    EXPECT_EQ(
        build({{"log.flush.scheduler.interval.ms", "2000"}, {"log.flush.interval.ms", "300"}}).log_flush_interval_ms,
        300);
}

TEST(broker_config, zookeeper_connection_timeout_falls_back_to_session_timeout)
{
    EXPECT_EQ(build({{"zookeeper.session.timeout.ms", "9000"}}).zookeeper_connection_timeout_ms, 9000);
    EXPECT_EQ(build({{"zookeeper.connection.timeout.ms", "100"}}).zookeeper_connection_timeout_ms, 100);
}

TEST(broker_config, zookeeper_mode_identity)
{
    auto c = build({{"zookeeper.connect", "localhost:2181/samsa"}, {"broker.rack", "r1"}});
    EXPECT_EQ(c.configured_node_id, -1);
    EXPECT_TRUE(c.broker_id_generation_enable);
    EXPECT_EQ(c.reserved_broker_max_id, 1000);
    EXPECT_EQ(c.broker_rack, "r1");
    EXPECT_EQ(build({{"broker.id", "7"}}).configured_node_id, 7);
    EXPECT_FALSE(build({{"broker.id.generation.enable", "false"}}).broker_id_generation_enable);
    EXPECT_EQ(build_error({{"control.plane.listener.name", "NOPE"}}).code, make_error_code(errc::conflicting_values));
}

TEST(broker_config, cleanup_policy_and_enums)
{
    auto c = build({{"log.cleanup.policy", "compact,delete"},
                    {"log.message.timestamp.type", "LogAppendTime"},
                    {"compression.type", "zstd"}});
    EXPECT_EQ(c.log_cleanup_policy, (cleanup_policy{true, true}));
    EXPECT_EQ(c.log_message_timestamp_type, message_timestamp_type::log_append_time);
    EXPECT_EQ(c.compression_type, broker_compression::zstd);
    EXPECT_EQ(build({{"log.cleanup.policy", "compact"}}).log_cleanup_policy, (cleanup_policy{false, true}));
}

TEST(broker_config, advertised_listeners)
{
    auto c = build({{"listeners", "PLAINTEXT://0.0.0.0:9092"}, {"advertised.listeners", "PLAINTEXT://kafka:19092"}});
    EXPECT_EQ(c.listeners[0].host, "0.0.0.0");
    EXPECT_EQ(c.advertised_listeners[0], (listener{"PLAINTEXT", "kafka", 19092, "PLAINTEXT"}));
    auto routable = build_error({{"advertised.listeners", "PLAINTEXT://0.0.0.0:9092"}});
    EXPECT_EQ(routable.code, make_error_code(errc::invalid_value));
    EXPECT_NE(routable.message.find("advertised.listeners"), std::string::npos);
    auto unknown = build_error({{"advertised.listeners", "SSL://h:9093"}});
    EXPECT_EQ(unknown.code, make_error_code(errc::conflicting_values));
}

TEST(broker_config, controller_listeners_are_not_advertised_by_default)
{
    auto c = build({{"listeners", "PLAINTEXT://:9092,CONTROLLER://:9093"},
                    {"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"},
                    {"controller.listener.names", "controller"}});
    ASSERT_EQ(c.advertised_listeners.size(), 1u);
    EXPECT_EQ(c.advertised_listeners[0].name, "PLAINTEXT");
}

TEST(broker_config, listener_errors_name_the_key)
{
    EXPECT_EQ(build_error({{"listeners", "PLAINTEXT://:9092,OTHER://:9093"}}).message,
              "Invalid value PLAINTEXT://:9092,OTHER://:9093 for configuration listeners: No security protocol "
              "defined for listener OTHER");
    EXPECT_EQ(build_error({{"listeners", ""}}).code, make_error_code(errc::invalid_value));
    EXPECT_EQ(build_error({{"inter.broker.listener.name", "NOPE"}}).code, make_error_code(errc::conflicting_values));
    EXPECT_EQ(
        build_error({{"inter.broker.listener.name", "PLAINTEXT"}, {"security.inter.broker.protocol", "SSL"}}).code,
        make_error_code(errc::conflicting_values));
}

const config_entry& find_entry(const std::vector<config_entry>& entries, std::string_view name)
{
    for (const auto& e : entries) {
        if (e.name == name) return e;
    }
    static config_entry missing;
    ADD_FAILURE() << "no entry " << name;
    return missing;
}

TEST(broker_describe, static_and_default_sources)
{
    broker_config_store store(property_map{{"num.partitions", "3"}, {"log.retention.hours", "24"}});
    auto all = store.describe({}, describe_options{true, true});
    EXPECT_GT(all.size(), 100u);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.name < b.name; }));

    const auto& np = find_entry(all, "num.partitions");
    EXPECT_EQ(np.value, "3");
    EXPECT_EQ(np.source, config_source::static_broker_config);
    EXPECT_TRUE(np.read_only);
    EXPECT_EQ(np.type, config_type::int32);
    EXPECT_TRUE(np.documentation && !np.documentation->empty());
    EXPECT_EQ(np.synonyms, (std::vector<config_synonym>{{"num.partitions", "3", config_source::static_broker_config},
                                                        {"num.partitions", "1", config_source::default_config}}));

    const auto& mmb = find_entry(all, "message.max.bytes");
    EXPECT_EQ(mmb.value, "1048588");
    EXPECT_EQ(mmb.source, config_source::default_config);
    EXPECT_FALSE(mmb.read_only);
}

TEST(broker_describe, retention_ms_lists_hours_as_synonym)
{
    broker_config_store store(property_map{{"log.retention.hours", "24"}});
    auto e = store.describe({"log.retention.ms"}, describe_options{true, false}).at(0);
    EXPECT_EQ(e.value, std::nullopt); // its own value is null, as in Kafka
    EXPECT_EQ(e.source, config_source::default_config);
    EXPECT_FALSE(e.documentation);
    EXPECT_EQ(e.synonyms,
              (std::vector<config_synonym>{{"log.retention.hours", "24", config_source::static_broker_config},
                                           {"log.retention.hours", "168", config_source::default_config}}));
}

TEST(broker_describe, requested_names_keep_order_and_skip_unknown)
{
    broker_config_store store({});
    auto r = store.describe({"num.io.threads", "nope", "broker.id"}, {});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].name, "num.io.threads");
    EXPECT_EQ(r[1].name, "broker.id");
    EXPECT_TRUE(r[0].synonyms.empty());
}

TEST(broker_describe, values_are_normalised_like_kafka)
{
    broker_config_store store(property_map{{"auto.create.topics.enable", "TRUE"}, {"log.dirs", " /a , /b "}});
    auto r = store.describe({"auto.create.topics.enable", "log.dirs", "log.cleaner.io.max.bytes.per.second"}, {});
    EXPECT_EQ(r[0].value, "true");
    EXPECT_EQ(r[1].value, "/a,/b");
    EXPECT_EQ(r[2].value, "1.7976931348623157E308");
    EXPECT_EQ(r[2].type, config_type::float64);
}

TEST(broker_describe, passwords_are_hidden)
{
    broker_config_store store(property_map{{"ssl.keystore.password", "hunter2"}});
    auto e = store.describe({"ssl.keystore.password"}, describe_options{true, false}).at(0);
    EXPECT_TRUE(e.sensitive);
    EXPECT_EQ(e.value, std::nullopt);
    EXPECT_EQ(e.type, config_type::password);
    EXPECT_EQ(e.source, config_source::static_broker_config);
    ASSERT_EQ(e.synonyms.size(), 1u);
    EXPECT_EQ(e.synonyms[0].value, std::nullopt);
    EXPECT_EQ(store.effective_values().at("ssl.keystore.password"), "hunter2");
}

TEST(broker_describe, effective_values_snapshot)
{
    broker_config_store store(property_map{{"log.segment.bytes", "2048"}});
    auto v = store.effective_values();
    EXPECT_EQ(v.at("log.segment.bytes"), "2048");
    EXPECT_EQ(v.at("num.partitions"), "1");
    EXPECT_EQ(v.at("log.retention.ms"), std::nullopt);
    EXPECT_EQ(v.size(), broker_config_definitions().keys().size());
}

} // namespace
} // namespace samsa::config
