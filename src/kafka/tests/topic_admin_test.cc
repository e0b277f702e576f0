// CreateTopics, DeleteTopics and CreatePartitions through the dispatcher.
#include "kafka/tests/broker_fixture.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace samsa::kafka::test {
namespace {

using creatable_topic = protocol::create_topics_request::creatable_topic;

creatable_topic topic(const std::string& name, int32_t partitions = 1, int16_t rf = 1)
{
    creatable_topic t;
    t.name = name;
    t.num_partitions = partitions;
    t.replication_factor = rf;
    return t;
}

protocol::create_topics_request create(std::vector<creatable_topic> topics, bool validate_only = false)
{
    protocol::create_topics_request req;
    req.topics = std::move(topics);
    req.timeout_ms = 5000;
    req.validate_only = validate_only;
    return req;
}

protocol::create_topics_response::creatable_topic_result create_one(broker_fixture& f, creatable_topic t, int16_t v,
                                                                     bool validate_only = false)
{
    auto resp = f.call(create({std::move(t)}, validate_only), v);
    if (resp.topics.size() != 1) throw std::runtime_error("unexpected create topics response shape");
    return resp.topics[0];
}

TEST(create_topics, creates_at_every_version)
{
    broker_fixture f;
    for (int16_t v = 0; v <= 7; ++v) {
        std::string name = "t" + std::to_string(v);
        auto r = create_one(f, topic(name, 2), v);
        EXPECT_EQ(r.name, name);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        if (v >= 1) {
            EXPECT_EQ(r.error_message, std::nullopt) << "v" << v;
        }
        auto* t = f.topics().find(name);
        ASSERT_NE(t, nullptr) << "v" << v;
        EXPECT_EQ(t->partitions.size(), 2u);
        EXPECT_NE(f.topics().get(name, 1), nullptr);
        if (v >= 5) {
            EXPECT_EQ(r.num_partitions, 2);
            EXPECT_EQ(r.replication_factor, 1);
        }
        if (v >= 7) {
            EXPECT_EQ(r.topic_id, t->id);
        }
    }
}

TEST(create_topics, v5_describes_the_configs)
{
    broker_fixture f;
    auto t = topic("c");
    t.configs.push_back({"retention.ms", "60000"});
    auto r = create_one(f, t, 5);
    ASSERT_EQ(r.error_code, 0);
    ASSERT_TRUE(r.configs);
    bool found_override = false, found_default = false;
    for (auto& c : *r.configs) {
        if (c.name == "retention.ms") {
            found_override = true;
            EXPECT_EQ(c.value, "60000");
            EXPECT_EQ(c.config_source, 1); // DYNAMIC_TOPIC_CONFIG
            EXPECT_FALSE(c.read_only);
        }
        if (c.name == "cleanup.policy") {
            found_default = true;
            EXPECT_EQ(c.value, "delete");
            EXPECT_EQ(c.config_source, 5); // DEFAULT_CONFIG
        }
    }
    EXPECT_TRUE(found_override);
    EXPECT_TRUE(found_default);
    EXPECT_EQ(f.topics().find("c")->overrides.at("retention.ms"), "60000");
}

TEST(create_topics, broker_defaults_for_minus_one)
{
    broker_fixture f(config::property_map{{"num.partitions", "3"}});
    for (int16_t v : {4, 7}) {
        std::string name = "d" + std::to_string(v);
        auto r = create_one(f, topic(name, -1, -1), v);
        EXPECT_EQ(r.error_code, 0);
        EXPECT_EQ(f.topics().find(name)->partitions.size(), 3u);
        if (v >= 5) {
            EXPECT_EQ(r.num_partitions, 3);
        }
    }
}

TEST(create_topics, validate_only_creates_nothing)
{
    broker_fixture f;
    for (int16_t v : {1, 5, 7}) {
        auto r = create_one(f, topic("v", 4), v, true);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        if (v >= 5) {
            EXPECT_EQ(r.num_partitions, 4);
        }
        EXPECT_EQ(f.topics().find("v"), nullptr);
        EXPECT_EQ(f.topics().get("v", 0), nullptr);
    }
    // Errors are still reported.
    EXPECT_EQ(create_one(f, topic("bad name"), 1, true).error_code, 17);
}

TEST(create_topics, manual_assignments)
{
    broker_fixture f;
    auto t = topic("m", -1, -1);
    t.assignments.push_back({1, {0}});
    t.assignments.push_back({0, {0}});
    auto r = create_one(f, t, 3);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(f.topics().find("m")->partitions.size(), 2u);

    auto gap = topic("gap", -1, -1);
    gap.assignments.push_back({0, {0}});
    gap.assignments.push_back({2, {0}});
    auto g = create_one(f, gap, 6);
    EXPECT_EQ(g.error_code, 39);
    EXPECT_TRUE(g.error_message && !g.error_message->empty());
    EXPECT_EQ(f.topics().find("gap"), nullptr);

    auto unknown_broker = topic("ub", -1, -1);
    unknown_broker.assignments.push_back({0, {7}});
    EXPECT_EQ(create_one(f, unknown_broker, 0).error_code, 39);

    auto both = topic("both", 2, 1);
    both.assignments.push_back({0, {0}});
    EXPECT_EQ(create_one(f, both, 7).error_code, 42);
}

TEST(create_topics, duplicates_in_one_request)
{
    broker_fixture f;
    for (int16_t v : {0, 4, 5}) {
        auto resp = f.call(create({topic("dup"), topic("other-" + std::to_string(v)), topic("dup")}), v);
        ASSERT_EQ(resp.topics.size(), 3u);
        EXPECT_EQ(resp.topics[0].error_code, 42) << "v" << v;
        EXPECT_EQ(resp.topics[1].error_code, 0) << "v" << v;
        EXPECT_EQ(resp.topics[2].error_code, 42) << "v" << v;
        EXPECT_EQ(f.topics().find("dup"), nullptr);
    }
}

TEST(create_topics, errors)
{
    broker_fixture f;
    f.create_topic("exists");
    struct expectation {
        creatable_topic t;
        int16_t code;
    };
    auto bad_value = topic("bv");
    bad_value.configs.push_back({"retention.ms", "abc"});
    auto unknown_config = topic("uc");
    unknown_config.configs.push_back({"no.such.config", "1"});
    auto null_value = topic("nv");
    null_value.configs.push_back({"retention.ms", std::nullopt});
    std::vector<expectation> cases = {
        {topic("exists"), 36},   {topic("bad/name"), 17}, {topic("zero", 0), 37}, {topic("rf2", 1, 2), 38},
        {bad_value, 40},         {unknown_config, 40},    {null_value, 40},
    };
    for (int16_t v : {0, 1, 5, 7}) {
        for (auto& c : cases) {
            auto r = create_one(f, c.t, v);
            EXPECT_EQ(r.error_code, c.code) << "v" << v << " " << c.t.name;
            if (v >= 1) {
                EXPECT_TRUE(r.error_message && !r.error_message->empty()) << c.t.name;
            }
            if (v >= 5) {
                EXPECT_EQ(r.num_partitions, -1);
            }
        }
    }
    EXPECT_EQ(f.topics().topics().size(), 1u);
}

// DeleteTopics

protocol::delete_topics_request delete_names(std::vector<std::string> names)
{
    protocol::delete_topics_request req;
    req.timeout_ms = 5000;
    req.topic_names = names;
    for (auto& n : names) req.topics.push_back({n, {}});
    return req;
}

TEST(delete_topics, by_name)
{
    broker_fixture f;
    for (int16_t v : {0, 3, 4, 5, 6}) {
        f.create_topic("gone", 2);
        f.produce_values("gone", 0, {"x"});
        std::string dir = f.topics().get("gone", 0)->log().dir();
        auto id = f.topics().find("gone")->id;
        auto resp = f.call(delete_names({"gone"}), v);
        ASSERT_EQ(resp.responses.size(), 1u);
        EXPECT_EQ(resp.responses[0].error_code, 0) << "v" << v;
        EXPECT_EQ(resp.responses[0].name, "gone");
        if (v >= 6) {
            EXPECT_EQ(resp.responses[0].topic_id, id);
        }
        EXPECT_EQ(f.topics().find("gone"), nullptr);
        EXPECT_EQ(f.topics().get("gone", 0), nullptr);
        EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
    }
}

TEST(delete_topics, unknown_topic)
{
    broker_fixture f;
    for (int16_t v : {0, 4, 5, 6}) {
        auto resp = f.call(delete_names({"nope"}), v);
        ASSERT_EQ(resp.responses.size(), 1u);
        EXPECT_EQ(resp.responses[0].error_code, 3) << "v" << v;
        if (v >= 5) {
            EXPECT_TRUE(resp.responses[0].error_message);
        }
    }
}

TEST(delete_topics, by_id_in_v6)
{
    broker_fixture f;
    f.create_topic("a");
    f.create_topic("b");
    auto id = f.topics().find("a")->id;
    protocol::delete_topics_request req;
    req.topics.push_back({std::nullopt, id});
    req.topics.push_back({std::nullopt, cluster::random_uuid()});
    req.topics.push_back({"b", f.topics().find("b")->id});
    auto resp = f.call(req, 6);
    ASSERT_EQ(resp.responses.size(), 3u);
    EXPECT_EQ(resp.responses[0].error_code, 0);
    EXPECT_EQ(resp.responses[0].name, "a");
    EXPECT_EQ(resp.responses[0].topic_id, id);
    EXPECT_EQ(resp.responses[1].error_code, 100); // UNKNOWN_TOPIC_ID
    EXPECT_EQ(resp.responses[1].name, std::nullopt);
    EXPECT_EQ(resp.responses[2].error_code, 42); // name and id together
    EXPECT_EQ(f.topics().find("a"), nullptr);
    EXPECT_NE(f.topics().find("b"), nullptr);
}

TEST(delete_topics, deletion_disabled)
{
    broker_fixture f(config::property_map{{"delete.topic.enable", "false"}});
    f.create_topic("kept");
    for (int16_t v : {1, 5}) {
        auto resp = f.call(delete_names({"kept"}), v);
        EXPECT_EQ(resp.responses.at(0).error_code, 73) << "v" << v;
    }
    EXPECT_NE(f.topics().find("kept"), nullptr);
}

// CreatePartitions

protocol::create_partitions_request grow(const std::string& name, int32_t count, bool validate_only = false)
{
    protocol::create_partitions_request req;
    protocol::create_partitions_request::create_partitions_topic t;
    t.name = name;
    t.count = count;
    t.assignments = std::nullopt;
    req.topics.push_back(std::move(t));
    req.timeout_ms = 5000;
    req.validate_only = validate_only;
    return req;
}

TEST(create_partitions, grows_topics)
{
    broker_fixture f;
    f.create_topic("g");
    int32_t count = 1;
    for (int16_t v : {0, 1, 2, 3}) {
        count += 2;
        auto resp = f.call(grow("g", count), v);
        ASSERT_EQ(resp.results.size(), 1u);
        EXPECT_EQ(resp.results[0].error_code, 0) << "v" << v;
        EXPECT_EQ(resp.results[0].error_message, std::nullopt);
        EXPECT_EQ(f.topics().find("g")->partitions.size(), static_cast<size_t>(count));
        EXPECT_NE(f.topics().get("g", count - 1), nullptr);
    }
    EXPECT_EQ(f.produce_values("g", count - 1, {"x"}), 0);
}

TEST(create_partitions, validate_only_and_manual_assignment)
{
    broker_fixture f;
    f.create_topic("g");
    auto resp = f.call(grow("g", 4, true), 2);
    EXPECT_EQ(resp.results.at(0).error_code, 0);
    EXPECT_EQ(f.topics().find("g")->partitions.size(), 1u);

    auto req = grow("g", 3);
    req.topics[0].assignments.emplace();
    req.topics[0].assignments->push_back({{0}});
    req.topics[0].assignments->push_back({{0}});
    EXPECT_EQ(f.call(req, 3).results.at(0).error_code, 0);
    EXPECT_EQ(f.topics().find("g")->partitions.size(), 3u);

    req = grow("g", 5);
    req.topics[0].assignments.emplace();
    req.topics[0].assignments->push_back({{0}});
    auto wrong = f.call(req, 1).results.at(0);
    EXPECT_EQ(wrong.error_code, 39);
    EXPECT_TRUE(wrong.error_message);
}

TEST(create_partitions, errors)
{
    broker_fixture f;
    f.create_topic("g", 3);
    for (int16_t v : {0, 3}) {
        auto fewer = f.call(grow("g", 2), v).results.at(0);
        EXPECT_EQ(fewer.error_code, 37) << "v" << v;
        EXPECT_TRUE(fewer.error_message && !fewer.error_message->empty());
        EXPECT_EQ(f.call(grow("g", 3), v).results.at(0).error_code, 37);
        EXPECT_EQ(f.call(grow("nope", 3), v).results.at(0).error_code, 3);
        auto dup = grow("g", 5);
        dup.topics.push_back(dup.topics[0]);
        auto resp = f.call(dup, v);
        ASSERT_EQ(resp.results.size(), 2u);
        EXPECT_EQ(resp.results[0].error_code, 42);
        EXPECT_EQ(resp.results[1].error_code, 42);
    }
    EXPECT_EQ(f.topics().find("g")->partitions.size(), 3u);
}

} // namespace
} // namespace samsa::kafka::test
