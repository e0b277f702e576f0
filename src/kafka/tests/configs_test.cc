// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs on topics and on the broker.
#include "kafka/tests/broker_fixture.h"

#include <gtest/gtest.h>

namespace samsa::kafka::test {
namespace {

constexpr int8_t topic_type = 2;
constexpr int8_t broker_type = 4;
constexpr int8_t broker_logger_type = 8;

// config_source numbers
constexpr int8_t dynamic_topic = 1;
constexpr int8_t dynamic_broker = 2;
constexpr int8_t dynamic_default = 3;
constexpr int8_t static_broker = 4;
constexpr int8_t default_config = 5;

constexpr int64_t week_ms = 604'800'000;

using describe_result = protocol::describe_configs_response::describe_configs_result;
using described = protocol::describe_configs_response::describe_configs_resource_result;

protocol::describe_configs_request describe_req(int8_t type, const std::string& name,
                                                std::optional<std::vector<std::string>> keys)
{
    protocol::describe_configs_request req;
    req.resources.push_back({type, name, std::move(keys)});
    return req;
}

describe_result describe(broker_fixture& f, const protocol::describe_configs_request& req, int16_t v)
{
    auto resp = f.call(req, v);
    if (resp.results.size() != 1) throw std::runtime_error("unexpected describe configs response shape");
    return resp.results[0];
}

const described* entry(const describe_result& r, const std::string& name)
{
    for (auto& c : r.configs) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

TEST(describe_configs, topic_at_every_version)
{
    broker_fixture f;
    f.create_topic("t", 1, {{"retention.ms", "1000"}});
    for (int16_t v = 0; v <= 4; ++v) {
        auto req = describe_req(topic_type, "t", std::vector<std::string>{"retention.ms", "cleanup.policy"});
        req.include_synonyms = true;
        req.include_documentation = true;
        auto r = describe(f, req, v);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        EXPECT_EQ(r.error_message, std::nullopt);
        EXPECT_EQ(r.resource_type, topic_type);
        EXPECT_EQ(r.resource_name, "t");
        ASSERT_EQ(r.configs.size(), 2u) << "v" << v;
        auto* retention = entry(r, "retention.ms");
        auto* cleanup = entry(r, "cleanup.policy");
        ASSERT_TRUE(retention && cleanup);
        EXPECT_EQ(retention->value, "1000");
        EXPECT_EQ(cleanup->value, "delete");
        EXPECT_FALSE(retention->read_only);
        if (v == 0) {
            EXPECT_FALSE(retention->is_default);
            EXPECT_TRUE(cleanup->is_default);
        } else {
            EXPECT_EQ(retention->config_source, dynamic_topic) << "v" << v;
            EXPECT_EQ(cleanup->config_source, default_config) << "v" << v;
            ASSERT_GE(retention->synonyms.size(), 2u) << "v" << v;
            EXPECT_EQ(retention->synonyms[0].name, "retention.ms");
            EXPECT_EQ(retention->synonyms[0].value, "1000");
            EXPECT_EQ(retention->synonyms[0].source, dynamic_topic);
        }
        if (v >= 3) {
            EXPECT_EQ(retention->config_type, 5); // LONG
            EXPECT_EQ(cleanup->config_type, 7);   // LIST
            EXPECT_TRUE(retention->documentation && !retention->documentation->empty()) << "v" << v;
        }
    }
}

TEST(describe_configs, flags_off_and_all_keys)
{
    broker_fixture f;
    f.create_topic("t");
    for (int16_t v : {1, 3, 4}) {
        auto r = describe(f, describe_req(topic_type, "t", std::nullopt), v);
        EXPECT_EQ(r.error_code, 0);
        EXPECT_GT(r.configs.size(), 20u) << "v" << v;
        auto* retention = entry(r, "retention.ms");
        ASSERT_NE(retention, nullptr);
        EXPECT_EQ(retention->value, std::to_string(week_ms));
        EXPECT_TRUE(retention->synonyms.empty());
        if (v >= 3) {
            EXPECT_EQ(retention->documentation, std::nullopt);
        }
    }
    // An empty key list also means every config.
    EXPECT_GT(describe(f, describe_req(topic_type, "t", std::vector<std::string>{}), 4).configs.size(), 20u);
}

TEST(describe_configs, broker_resource)
{
    broker_fixture f(config::property_map{{"num.partitions", "4"}});
    for (int16_t v : {0, 1, 4}) {
        auto r = describe(f, describe_req(broker_type, "0", std::vector<std::string>{"num.partitions"}), v);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        ASSERT_EQ(r.configs.size(), 1u);
        EXPECT_EQ(r.configs[0].value, "4");
        EXPECT_TRUE(r.configs[0].read_only);
        if (v >= 1) {
            EXPECT_EQ(r.configs[0].config_source, static_broker);
        }
    }
    auto all = describe(f, describe_req(broker_type, "0", std::nullopt), 4);
    EXPECT_GT(all.configs.size(), 50u);
    // The cluster-wide resource lists only the dynamic defaults that are set: none yet.
    auto defaults = describe(f, describe_req(broker_type, "", std::nullopt), 4);
    EXPECT_EQ(defaults.error_code, 0);
    EXPECT_TRUE(defaults.configs.empty());
}

TEST(describe_configs, errors)
{
    broker_fixture f;
    f.create_topic("t");
    struct expectation {
        int8_t type;
        std::string name;
        int16_t code;
    };
    for (int16_t v : {0, 2, 4}) {
        for (auto& e : {expectation{topic_type, "missing", 3}, expectation{topic_type, "bad name", 17},
                        expectation{broker_type, "7", 42}, expectation{broker_type, "abc", 42},
                        expectation{99, "t", 42}}) {
            auto r = describe(f, describe_req(e.type, e.name, std::nullopt), v);
            EXPECT_EQ(r.error_code, e.code) << "v" << v << " " << e.name;
            EXPECT_TRUE(r.error_message && !r.error_message->empty());
            EXPECT_TRUE(r.configs.empty());
        }
    }
    auto loggers = describe(f, describe_req(broker_logger_type, "0", std::nullopt), 4);
    EXPECT_EQ(loggers.error_code, 0);
    EXPECT_TRUE(loggers.configs.empty());
}

// AlterConfigs

using alter_response = protocol::alter_configs_response::alter_configs_resource_response;

protocol::alter_configs_request alter_req(int8_t type, const std::string& name,
                                          std::vector<std::pair<std::string, std::optional<std::string>>> configs,
                                          bool validate_only = false)
{
    protocol::alter_configs_request req;
    protocol::alter_configs_request::alter_configs_resource r;
    r.resource_type = type;
    r.resource_name = name;
    for (auto& [k, v] : configs) r.configs.push_back({k, v});
    req.resources.push_back(std::move(r));
    req.validate_only = validate_only;
    return req;
}

alter_response alter(broker_fixture& f, const protocol::alter_configs_request& req, int16_t v)
{
    auto resp = f.call(req, v);
    if (resp.responses.size() != 1) throw std::runtime_error("unexpected alter configs response shape");
    return resp.responses[0];
}

TEST(alter_configs, replaces_a_topics_overrides)
{
    broker_fixture f;
    f.create_topic("t");
    for (int16_t v : {0, 1, 2}) {
        auto r = alter(f, alter_req(topic_type, "t", {{"retention.ms", "1000"}, {"segment.ms", "3600000"}}), v);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        EXPECT_EQ(r.error_message, std::nullopt);
        EXPECT_EQ(r.resource_name, "t");
        EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 1000);
        r = alter(f, alter_req(topic_type, "t", {{"segment.ms", "7200000"}}), v);
        EXPECT_EQ(r.error_code, 0);
        EXPECT_EQ(f.topics().find("t")->overrides, (config::property_map{{"segment.ms", "7200000"}}));
        EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, week_ms);
        EXPECT_EQ(f.topics().get("t", 0)->log().config().segment_ms, 7'200'000);
    }
    f.restart();
    EXPECT_EQ(f.topics().find("t")->overrides, (config::property_map{{"segment.ms", "7200000"}}));
}

TEST(alter_configs, validate_only_changes_nothing)
{
    broker_fixture f;
    f.create_topic("t");
    EXPECT_EQ(alter(f, alter_req(topic_type, "t", {{"retention.ms", "1000"}}, true), 1).error_code, 0);
    EXPECT_TRUE(f.topics().find("t")->overrides.empty());
    EXPECT_EQ(alter(f, alter_req(topic_type, "t", {{"retention.ms", "x"}}, true), 1).error_code, 40);
    EXPECT_EQ(alter(f, alter_req(broker_type, "0", {{"log.retention.ms", "5000"}}, true), 2).error_code, 0);
    EXPECT_NE(f.config().current().log_retention_ms, 5000);
}

TEST(alter_configs, topic_errors)
{
    broker_fixture f;
    f.create_topic("t", 1, {{"retention.ms", "1000"}});
    struct expectation {
        std::string topic;
        std::vector<std::pair<std::string, std::optional<std::string>>> configs;
        int16_t code;
    };
    std::vector<expectation> cases = {
        {"t", {{"retention.ms", "abc"}}, 40},
        {"t", {{"no.such.config", "1"}}, 40},
        {"t", {{"retention.ms", std::nullopt}}, 42},
        {"t", {{"retention.ms", "1"}, {"retention.ms", "2"}}, 42},
        {"missing", {{"retention.ms", "1"}}, 3},
    };
    for (int16_t v : {0, 2}) {
        for (auto& c : cases) {
            auto r = alter(f, alter_req(topic_type, c.topic, c.configs), v);
            EXPECT_EQ(r.error_code, c.code) << "v" << v << " " << c.configs[0].first;
            EXPECT_TRUE(r.error_message && !r.error_message->empty());
        }
    }
    EXPECT_EQ(f.topics().find("t")->overrides.at("retention.ms"), "1000");
    auto dup = alter_req(topic_type, "t", {{"retention.ms", "5"}});
    dup.resources.push_back(dup.resources[0]);
    auto resp = f.call(dup, 1);
    ASSERT_EQ(resp.responses.size(), 2u);
    EXPECT_EQ(resp.responses[0].error_code, 42);
    EXPECT_EQ(resp.responses[1].error_code, 42);
    EXPECT_EQ(alter(f, alter_req(broker_logger_type, "0", {}), 0).error_code, 42);
}

TEST(alter_configs, broker_overrides_apply_and_persist)
{
    broker_fixture f;
    f.create_topic("t");
    auto r = alter(f, alter_req(broker_type, "0", {{"log.retention.ms", "5000"}}), 2);
    ASSERT_EQ(r.error_code, 0) << r.error_message.value_or("");
    EXPECT_EQ(f.config().current().log_retention_ms, 5000);
    // Topics without an override follow the broker.
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 5000);
    auto d = describe(f, describe_req(broker_type, "0", std::vector<std::string>{"log.retention.ms"}), 1);
    ASSERT_EQ(d.configs.size(), 1u);
    EXPECT_EQ(d.configs[0].value, "5000");
    EXPECT_EQ(d.configs[0].config_source, dynamic_broker);
    auto td = describe(f, describe_req(topic_type, "t", std::vector<std::string>{"retention.ms"}), 1);
    EXPECT_EQ(td.configs.at(0).value, "5000");
    EXPECT_EQ(td.configs.at(0).config_source, dynamic_broker);

    f.restart();
    EXPECT_EQ(f.config().current().log_retention_ms, 5000);
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 5000);

    // The whole layer is replaced: an empty set removes the override.
    EXPECT_EQ(alter(f, alter_req(broker_type, "0", {}), 0).error_code, 0);
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, week_ms);
    f.restart();
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, week_ms);
}

TEST(alter_configs, broker_errors)
{
    broker_fixture f;
    for (int16_t v : {0, 2}) {
        EXPECT_EQ(alter(f, alter_req(broker_type, "0", {{"num.partitions", "5"}}), v).error_code, 42) << "v" << v;
        EXPECT_EQ(alter(f, alter_req(broker_type, "0", {{"log.retention.ms", "x"}}), v).error_code, 40);
        EXPECT_EQ(alter(f, alter_req(broker_type, "", {{"listeners", "PLAINTEXT://:9093"}}), v).error_code, 42);
        EXPECT_EQ(alter(f, alter_req(broker_type, "3", {{"log.retention.ms", "1"}}), v).error_code, 42);
    }
    EXPECT_EQ(f.config().current().num_partitions, 1);
}

// IncrementalAlterConfigs

using incremental_response = protocol::incremental_alter_configs_response::alter_configs_resource_response;

struct op {
    std::string name;
    int8_t code; // 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT
    std::optional<std::string> value;
};

protocol::incremental_alter_configs_request incremental_req(int8_t type, const std::string& name,
                                                            std::vector<op> ops, bool validate_only = false)
{
    protocol::incremental_alter_configs_request req;
    protocol::incremental_alter_configs_request::alter_configs_resource r;
    r.resource_type = type;
    r.resource_name = name;
    for (auto& o : ops) r.configs.push_back({o.name, o.code, o.value});
    req.resources.push_back(std::move(r));
    req.validate_only = validate_only;
    return req;
}

incremental_response incremental(broker_fixture& f, const protocol::incremental_alter_configs_request& req, int16_t v)
{
    auto resp = f.call(req, v);
    if (resp.responses.size() != 1) throw std::runtime_error("unexpected incremental alter response shape");
    return resp.responses[0];
}

TEST(incremental_alter_configs, topic_operations)
{
    broker_fixture f;
    f.create_topic("t", 1, {{"segment.ms", "3600000"}});
    for (int16_t v : {0, 1}) {
        auto r = incremental(f, incremental_req(topic_type, "t", {{"retention.ms", 0, "2000"}}), v);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        EXPECT_EQ(r.error_message, std::nullopt);
        auto& o = f.topics().find("t")->overrides;
        EXPECT_EQ(o.at("retention.ms"), "2000");
        EXPECT_EQ(o.at("segment.ms"), "3600000"); // untouched
        EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 2000);

        EXPECT_EQ(incremental(f, incremental_req(topic_type, "t", {{"cleanup.policy", 2, "compact"}}), v).error_code, 0);
        EXPECT_EQ(f.topics().find("t")->overrides.at("cleanup.policy"), "delete,compact");
        EXPECT_TRUE(f.topics().get("t", 0)->log().config().cleanup_compact);
        EXPECT_EQ(incremental(f, incremental_req(topic_type, "t", {{"cleanup.policy", 3, "delete"}}), v).error_code, 0);
        EXPECT_EQ(f.topics().find("t")->overrides.at("cleanup.policy"), "compact");

        auto del = incremental_req(topic_type, "t", {{"retention.ms", 1, std::nullopt}, {"cleanup.policy", 1, std::nullopt}});
        EXPECT_EQ(incremental(f, del, v).error_code, 0);
        EXPECT_EQ(f.topics().find("t")->overrides, (config::property_map{{"segment.ms", "3600000"}}));
        EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, week_ms);
    }
}

TEST(incremental_alter_configs, validate_only_and_errors)
{
    broker_fixture f;
    f.create_topic("t");
    auto set = incremental_req(topic_type, "t", {{"retention.ms", 0, "2000"}}, true);
    EXPECT_EQ(incremental(f, set, 1).error_code, 0);
    EXPECT_TRUE(f.topics().find("t")->overrides.empty());
    struct expectation {
        std::string topic;
        std::vector<op> ops;
        int16_t code;
    };
    std::vector<expectation> cases = {
        {"t", {{"retention.ms", 7, "1"}}, 42},                        // unknown operation
        {"t", {{"no.such.config", 0, "1"}}, 40},                      // unknown config
        {"t", {{"retention.ms", 0, "abc"}}, 40},                      // bad value
        {"t", {{"retention.ms", 0, std::nullopt}}, 42},               // SET without a value
        {"t", {{"retention.ms", 2, "1"}}, 40},                        // APPEND on a non-list
        {"t", {{"retention.ms", 0, "1"}, {"retention.ms", 1, {}}}, 42}, // named twice
        {"missing", {{"retention.ms", 0, "1"}}, 3},
    };
    for (int16_t v : {0, 1}) {
        for (auto& c : cases) {
            auto r = incremental(f, incremental_req(topic_type, c.topic, c.ops), v);
            EXPECT_EQ(r.error_code, c.code) << "v" << v << " " << c.ops[0].name << " op " << int(c.ops[0].code);
            EXPECT_TRUE(r.error_message && !r.error_message->empty());
        }
    }
    EXPECT_TRUE(f.topics().find("t")->overrides.empty());
    EXPECT_EQ(incremental(f, incremental_req(99, "t", {{"retention.ms", 0, "1"}}), 1).error_code, 42);
}

TEST(alter_configs, a_resource_named_twice_is_rejected_in_both_apis)
{
    broker_fixture f;
    f.create_topic("t");
    f.create_topic("u");
    auto plain = alter_req(topic_type, "t", {{"retention.ms", "1000"}});
    plain.resources.push_back(plain.resources[0]);
    plain.resources.push_back(alter_req(topic_type, "u", {{"retention.ms", "1000"}}).resources[0]);
    auto resp = f.call(plain, 1);
    ASSERT_EQ(resp.responses.size(), 3u);
    EXPECT_EQ(resp.responses[0].error_code, 42);
    EXPECT_EQ(resp.responses[1].error_code, 42);
    EXPECT_EQ(resp.responses[2].error_code, 0);
    EXPECT_EQ(resp.responses[2].resource_name, "u");

    auto inc = incremental_req(topic_type, "t", {{"retention.ms", 0, "2000"}});
    inc.resources.push_back(inc.resources[0]);
    auto iresp = f.call(inc, 1);
    ASSERT_EQ(iresp.responses.size(), 2u);
    EXPECT_EQ(iresp.responses[0].error_code, 42);
    EXPECT_EQ(iresp.responses[1].error_code, 42);
    EXPECT_TRUE(f.topics().find("t")->overrides.empty());
    EXPECT_EQ(f.topics().find("u")->overrides.at("retention.ms"), "1000");
}

TEST(incremental_alter_configs, cluster_default_broker_layer)
{
    broker_fixture f;
    f.create_topic("t");
    auto r = incremental(f, incremental_req(broker_type, "", {{"log.retention.ms", 0, "7000"}}), 1);
    ASSERT_EQ(r.error_code, 0) << r.error_message.value_or("");
    EXPECT_EQ(f.config().current().log_retention_ms, 7000);
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 7000);
    auto d = describe(f, describe_req(broker_type, "", std::nullopt), 4);
    ASSERT_EQ(d.configs.size(), 1u);
    EXPECT_EQ(d.configs[0].name, "log.retention.ms");
    EXPECT_EQ(d.configs[0].value, "7000");
    EXPECT_EQ(d.configs[0].config_source, dynamic_default);

    f.restart();
    EXPECT_EQ(f.config().current().log_retention_ms, 7000);
    // A per-broker value wins over the cluster default.
    EXPECT_EQ(incremental(f, incremental_req(broker_type, "0", {{"log.retention.ms", 0, "8000"}}), 0).error_code, 0);
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 8000);
    EXPECT_EQ(incremental(f, incremental_req(broker_type, "0", {{"log.retention.ms", 1, {}}}), 0).error_code, 0);
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 7000);

    EXPECT_EQ(incremental(f, incremental_req(broker_type, "0", {{"num.partitions", 0, "3"}}), 1).error_code, 42);
    EXPECT_EQ(incremental(f, incremental_req(broker_type, "1", {{"log.retention.ms", 0, "3"}}), 1).error_code, 42);
    auto vo = incremental_req(broker_type, "", {{"log.retention.ms", 0, "1"}}, true);
    EXPECT_EQ(incremental(f, vo, 0).error_code, 0);
    EXPECT_EQ(f.config().current().log_retention_ms, 7000);
}

} // namespace
} // namespace samsa::kafka::test
