#include "config/broker_config_store.h"

#include <gtest/gtest.h>

namespace samsa::config {
namespace {

using enum dynamic_scope;

config_failure error_of(const config_result<void>& r)
{
    EXPECT_FALSE(r);
    return r ? config_failure{} : r.error();
}

TEST(broker_dynamic, set_per_broker_updates_snapshot_and_source)
{
    broker_config_store store(property_map{{"log.retention.hours", "24"}});
    ASSERT_TRUE(store.set_dynamic(broker, "log.retention.ms", "5000"));
    EXPECT_EQ(store.current().log_retention_ms, 5000);
    EXPECT_EQ(store.dynamic_overrides(broker), (property_map{{"log.retention.ms", "5000"}}));
    auto e = store.describe({"log.retention.ms"}, describe_options{true, false}).at(0);
    EXPECT_EQ(e.value, "5000");
    EXPECT_EQ(e.source, config_source::dynamic_broker_config);
    EXPECT_EQ(e.synonyms,
              (std::vector<config_synonym>{{"log.retention.ms", "5000", config_source::dynamic_broker_config},
                                           {"log.retention.hours", "24", config_source::static_broker_config},
                                           {"log.retention.hours", "168", config_source::default_config}}));
}

TEST(broker_dynamic, unset_ids_describe_as_the_effective_node_id)
{
    broker_config_store unset(property_map{});
    for (auto& e : unset.describe({"broker.id", "node.id"}, {})) EXPECT_EQ(e.value, "0") << e.name;
    broker_config_store set(property_map{{"broker.id", "7"}});
    auto d = set.describe({"broker.id", "node.id"}, {});
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].value, "7");
    EXPECT_EQ(d[1].value, "7");
}

TEST(broker_dynamic, per_broker_wins_over_cluster_default_over_static)
{
    broker_config_store store(property_map{{"message.max.bytes", "1000"}});
    ASSERT_TRUE(store.set_dynamic(cluster_default, "message.max.bytes", "2000"));
    EXPECT_EQ(store.current().message_max_bytes, 2000);
    EXPECT_EQ(store.source("message.max.bytes"), config_source::dynamic_default_broker_config);
    ASSERT_TRUE(store.set_dynamic(broker, "message.max.bytes", "3000"));
    EXPECT_EQ(store.current().message_max_bytes, 3000);
    auto syn = store.synonyms("message.max.bytes");
    ASSERT_EQ(syn.size(), 4u);
    EXPECT_EQ(syn[0].source, config_source::dynamic_broker_config);
    EXPECT_EQ(syn[1].source, config_source::dynamic_default_broker_config);
    EXPECT_EQ(syn[2].source, config_source::static_broker_config);
    EXPECT_EQ(syn[3], (config_synonym{"message.max.bytes", "1048588", config_source::default_config}));

    ASSERT_TRUE(store.delete_dynamic(broker, "message.max.bytes"));
    EXPECT_EQ(store.current().message_max_bytes, 2000);
    ASSERT_TRUE(store.delete_dynamic(cluster_default, "message.max.bytes"));
    EXPECT_EQ(store.current().message_max_bytes, 1000);
    EXPECT_EQ(store.source("message.max.bytes"), config_source::static_broker_config);
}

TEST(broker_dynamic, read_only_configs_are_rejected)
{
    broker_config_store store({});
    auto err = error_of(store.set_dynamic(broker, "num.partitions", "3"));
    EXPECT_EQ(err.code, make_error_code(errc::read_only));
    EXPECT_EQ(kafka_error_code(errc::read_only), 42);
    EXPECT_NE(err.message.find("num.partitions"), std::string::npos);
    EXPECT_EQ(store.current().num_partitions, 1);
    EXPECT_TRUE(store.dynamic_overrides(broker).empty());
}

TEST(broker_dynamic, per_broker_configs_cannot_be_cluster_defaults)
{
    broker_config_store store({});
    auto err = error_of(store.set_dynamic(cluster_default, "listeners", "PLAINTEXT://:9093"));
    EXPECT_EQ(err.code, make_error_code(errc::per_broker_only));
    ASSERT_TRUE(store.set_dynamic(broker, "listeners", "PLAINTEXT://:9093"));
    EXPECT_EQ(store.current().listeners.at(0).port, 9093);
    EXPECT_EQ(store.current().advertised_listeners.at(0).port, 9093);
}

TEST(broker_dynamic, unknown_and_invalid_values)
{
    broker_config_store store({});
    EXPECT_EQ(error_of(store.set_dynamic(broker, "no.such.config", "1")).code, make_error_code(errc::unknown_config));
    auto bad = error_of(store.set_dynamic(broker, "log.segment.bytes", "abc"));
    EXPECT_EQ(bad.code, make_error_code(errc::invalid_value));
    EXPECT_EQ(bad.message, "Invalid value abc for configuration log.segment.bytes: Not a number of type INT");
    auto listeners = error_of(store.set_dynamic(broker, "listeners", "PLAINTEXT://:9092,X://:1"));
    EXPECT_EQ(listeners.code, make_error_code(errc::invalid_value));
    EXPECT_EQ(store.current().log_segment_bytes, 1073741824);
}

TEST(broker_dynamic, thread_pools_change_within_half_and_double)
{
    broker_config_store store(property_map{{"num.io.threads", "8"}});
    auto low = error_of(store.set_dynamic(cluster_default, "num.io.threads", "3"));
    EXPECT_EQ(low.code, make_error_code(errc::invalid_value));
    EXPECT_NE(low.message.find("current value 8"), std::string::npos);
    EXPECT_FALSE(store.set_dynamic(cluster_default, "num.io.threads", "17"));
    ASSERT_TRUE(store.set_dynamic(cluster_default, "num.io.threads", "16"));
    EXPECT_EQ(store.current().num_io_threads, 16);
    ASSERT_TRUE(store.set_dynamic(cluster_default, "num.io.threads", "8"));
    EXPECT_FALSE(store.set_dynamic(broker, "log.cleaner.threads", "0"));
    ASSERT_TRUE(store.set_dynamic(broker, "log.cleaner.threads", "2"));
    EXPECT_EQ(store.current().log_cleaner_threads, 2);
}

TEST(broker_dynamic, incremental_ops_apply_together_or_not_at_all)
{
    broker_config_store store({});
    std::vector<alter_op> ops = {{"log.retention.bytes", alter_op_type::set, "1000"},
                                 {"log.segment.bytes", alter_op_type::set, "1"}};
    auto err = error_of(store.incremental_alter(broker, ops));
    EXPECT_EQ(err.message, "Invalid value 1 for configuration log.segment.bytes: Value must be at least 14");
    EXPECT_EQ(store.current().log_retention_bytes, -1);

    ops[1].value = "4096";
    ASSERT_TRUE(store.incremental_alter(broker, ops));
    EXPECT_EQ(store.current().log_retention_bytes, 1000);
    EXPECT_EQ(store.current().log_segment_bytes, 4096);
}

TEST(broker_dynamic, plan_does_not_apply)
{
    broker_config_store store({});
    std::vector<alter_op> ops = {{"log.cleanup.policy", alter_op_type::append, "compact"}};
    auto plan = store.plan_incremental_alter(cluster_default, ops).value();
    EXPECT_EQ(plan, (property_map{{"log.cleanup.policy", "delete,compact"}}));
    EXPECT_TRUE(store.dynamic_overrides(cluster_default).empty());
    EXPECT_EQ(store.current().log_cleanup_policy, (cleanup_policy{true, false}));
}

TEST(broker_dynamic, list_ops_on_broker_configs)
{
    broker_config_store store(property_map{{"log.cleanup.policy", "compact"}});
    std::vector<alter_op> append = {{"log.cleanup.policy", alter_op_type::append, "delete"}};
    ASSERT_TRUE(store.incremental_alter(broker, append));
    EXPECT_EQ(store.dynamic_overrides(broker).at("log.cleanup.policy"), "compact,delete");
    std::vector<alter_op> subtract = {{"log.cleanup.policy", alter_op_type::subtract, "compact"}};
    ASSERT_TRUE(store.incremental_alter(broker, subtract));
    EXPECT_EQ(store.current().log_cleanup_policy, (cleanup_policy{true, false}));
    std::vector<alter_op> not_list = {{"message.max.bytes", alter_op_type::append, "1"}};
    EXPECT_EQ(error_of(store.incremental_alter(broker, not_list)).code, make_error_code(errc::not_a_list));
}

TEST(broker_dynamic, replace_dynamic_swaps_the_whole_layer)
{
    broker_config_store store({});
    ASSERT_TRUE(store.set_dynamic(broker, "log.retention.bytes", "10"));
    ASSERT_TRUE(store.replace_dynamic(broker, {{"min.insync.replicas", "2"}}));
    EXPECT_EQ(store.dynamic_overrides(broker), (property_map{{"min.insync.replicas", "2"}}));
    EXPECT_EQ(store.current().log_retention_bytes, -1);
    EXPECT_EQ(store.current().min_insync_replicas, 2);
    EXPECT_EQ(error_of(store.replace_dynamic(broker, {{"broker.id", "1"}})).code, make_error_code(errc::read_only));
    EXPECT_EQ(store.current().min_insync_replicas, 2);
}

TEST(broker_dynamic, validate_only_leaves_state_alone)
{
    broker_config_store store({});
    EXPECT_TRUE(store.validate_dynamic(broker, {{"log.retention.ms", "100"}}));
    EXPECT_FALSE(store.validate_dynamic(broker, {{"log.retention.ms", "x"}}));
    EXPECT_EQ(store.current().log_retention_ms, 168LL * 3'600'000);
}

TEST(broker_dynamic, passwords_are_per_broker_and_hidden)
{
    broker_config_store store({});
    EXPECT_EQ(error_of(store.set_dynamic(cluster_default, "ssl.key.password", "x")).code,
              make_error_code(errc::per_broker_only));
    ASSERT_TRUE(store.set_dynamic(broker, "ssl.key.password", "x"));
    auto e = store.describe({"ssl.key.password"}, describe_options{true, false}).at(0);
    EXPECT_EQ(e.source, config_source::dynamic_broker_config);
    EXPECT_EQ(e.value, std::nullopt);
}

} // namespace
} // namespace samsa::config
