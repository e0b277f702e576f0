// ApiVersions and Metadata through the dispatcher.
#include "kafka/handler.h"
#include "kafka/tests/broker_fixture.h"

#include <gtest/gtest.h>

namespace samsa::kafka::test {
namespace {

using protocol::api_key;

std::vector<protocol::api_versions_response::api_version> registry()
{
    std::vector<protocol::api_versions_response::api_version> out;
    for (auto& h : api_handlers()) out.push_back({static_cast<int16_t>(h.key), h.min_version, h.max_version});
    return out;
}

TEST(api_versions, advertises_exactly_the_registry_at_every_version)
{
    broker_fixture f;
    for (int16_t v : {0, 1, 2, 3}) {
        protocol::api_versions_request req;
        req.client_software_name = "kafka-tests";
        req.client_software_version = "1.0";
        auto resp = f.call(req, v);
        EXPECT_EQ(resp.error_code, 0) << "v" << v;
        EXPECT_EQ(resp.api_keys, registry()) << "v" << v;
    }
}

TEST(api_versions, registry_serves_the_admin_apis)
{
    auto* lo = find_handler(api_key::list_offsets);
    ASSERT_NE(lo, nullptr);
    EXPECT_EQ(lo->max_version, 7);
    for (auto k : {api_key::create_topics, api_key::delete_topics, api_key::delete_records, api_key::describe_configs,
                   api_key::alter_configs, api_key::create_partitions, api_key::incremental_alter_configs,
                   api_key::describe_cluster}) {
        EXPECT_NE(find_handler(k), nullptr) << protocol::to_string(k);
    }
}

TEST(api_versions, unsupported_version_answers_error_35_in_a_v0_body)
{
    broker_fixture f;
    protocol::api_versions_request req;
    protocol::writer w;
    req.encode(w, 3);
    auto body = f.exchange(api_key::api_versions, 99, protocol::flatten(std::move(w).finish()));
    ASSERT_TRUE(body);
    auto resp = broker_fixture::decode_body<protocol::api_versions_response>(*body, 0);
    EXPECT_EQ(resp.error_code, 35);
    EXPECT_EQ(resp.api_keys, registry());
}

TEST(api_versions, unsupported_version_of_another_api_closes_the_connection)
{
    broker_fixture f;
    protocol::metadata_request req;
    protocol::writer w;
    req.encode(w, 12);
    EXPECT_THROW(f.exchange(api_key::metadata, 99, protocol::flatten(std::move(w).finish())), protocol::decode_error);
}

protocol::metadata_request names(std::vector<std::string> topics)
{
    protocol::metadata_request req;
    req.topics.emplace();
    for (auto& t : topics) {
        protocol::metadata_request::metadata_request_topic rt;
        rt.name = t;
        req.topics->push_back(rt);
    }
    return req;
}

TEST(metadata, empty_list_is_every_topic_in_v0_and_none_in_v1)
{
    broker_fixture f;
    f.create_topic("a", 2);
    f.create_topic("b");
    auto v0 = f.call(names({}), 0);
    ASSERT_EQ(v0.topics.size(), 2u);
    EXPECT_EQ(v0.topics[0].name, "a");
    EXPECT_EQ(v0.topics[0].partitions.size(), 2u);
    EXPECT_EQ(f.call(names({}), 1).topics.size(), 0u);
    protocol::metadata_request all;
    all.topics = std::nullopt;
    for (int16_t v : {1, 9, 12}) EXPECT_EQ(f.call(all, v).topics.size(), 2u) << "v" << v;
}

TEST(metadata, brokers_controller_and_cluster_id)
{
    broker_fixture f;
    for (int16_t v : {0, 2, 8, 9, 12}) {
        auto resp = f.call(names({}), v);
        ASSERT_EQ(resp.brokers.size(), 1u) << "v" << v;
        EXPECT_EQ(resp.brokers[0].node_id, 0);
        EXPECT_EQ(resp.brokers[0].host, broker_fixture::advertised_host);
        EXPECT_EQ(resp.brokers[0].port, broker_fixture::advertised_port);
        if (v >= 1) {
            EXPECT_EQ(resp.controller_id, 0);
        }
        if (v >= 2) {
            EXPECT_EQ(resp.cluster_id, f.cluster_id());
        }
    }
}

TEST(metadata, partitions_describe_this_node_as_leader)
{
    broker_fixture f;
    f.create_topic("t", 3);
    auto resp = f.call(names({"t"}), 9);
    ASSERT_EQ(resp.topics.size(), 1u);
    ASSERT_EQ(resp.topics[0].partitions.size(), 3u);
    for (int32_t i = 0; i < 3; ++i) {
        auto& p = resp.topics[0].partitions[static_cast<size_t>(i)];
        EXPECT_EQ(p.partition_index, i);
        EXPECT_EQ(p.leader_id, 0);
        EXPECT_EQ(p.leader_epoch, 0);
        EXPECT_EQ(p.replica_nodes, std::vector<int32_t>{0});
        EXPECT_EQ(p.isr_nodes, std::vector<int32_t>{0});
    }
}

TEST(metadata, unknown_topic_is_auto_created_when_enabled)
{
    broker_fixture f(config::property_map{{"num.partitions", "2"}});
    for (int16_t v : {1, 4, 12}) {
        std::string name = "auto-" + std::to_string(v);
        auto resp = f.call(names({name}), v);
        ASSERT_EQ(resp.topics.size(), 1u);
        EXPECT_EQ(resp.topics[0].error_code, 0) << "v" << v;
        EXPECT_EQ(resp.topics[0].partitions.size(), 2u);
        EXPECT_NE(f.topics().find(name), nullptr);
    }
}

TEST(metadata, allow_auto_topic_creation_false_is_honoured_from_v4)
{
    broker_fixture f;
    auto req = names({"nope"});
    req.allow_auto_topic_creation = false;
    for (int16_t v : {4, 9, 12}) {
        auto resp = f.call(req, v);
        ASSERT_EQ(resp.topics.size(), 1u);
        EXPECT_EQ(resp.topics[0].error_code, 3) << "v" << v;
        EXPECT_EQ(f.topics().find("nope"), nullptr);
    }
}

TEST(metadata, auto_creation_disabled_by_the_broker)
{
    broker_fixture f(config::property_map{{"auto.create.topics.enable", "false"}});
    for (int16_t v : {0, 3, 12}) {
        auto resp = f.call(names({"missing"}), v);
        ASSERT_EQ(resp.topics.size(), 1u);
        EXPECT_EQ(resp.topics[0].error_code, 3) << "v" << v;
    }
    EXPECT_EQ(f.topics().find("missing"), nullptr);
}

TEST(metadata, invalid_topic_names)
{
    broker_fixture f;
    for (int16_t v : {0, 12}) {
        auto resp = f.call(names({"bad name", "..", std::string(250, 'x')}), v);
        ASSERT_EQ(resp.topics.size(), 3u);
        for (auto& t : resp.topics) EXPECT_EQ(t.error_code, 17) << "v" << v << " " << t.name.value_or("");
    }
    EXPECT_TRUE(f.topics().topics().empty());
}

TEST(metadata, topic_ids_from_v10)
{
    broker_fixture f;
    f.create_topic("t");
    auto id = f.topics().find("t")->id;
    auto by_name = f.call(names({"t"}), 10);
    ASSERT_EQ(by_name.topics.size(), 1u);
    EXPECT_EQ(by_name.topics[0].topic_id, id);

    protocol::metadata_request req;
    req.topics.emplace();
    protocol::metadata_request::metadata_request_topic rt;
    rt.name = std::nullopt;
    rt.topic_id = id;
    req.topics->push_back(rt);
    rt.topic_id = cluster::random_uuid();
    req.topics->push_back(rt);
    auto resp = f.call(req, 12);
    ASSERT_EQ(resp.topics.size(), 2u);
    EXPECT_EQ(resp.topics[0].error_code, 0);
    EXPECT_EQ(resp.topics[0].name, "t");
    EXPECT_EQ(resp.topics[1].error_code, 100);
    EXPECT_EQ(resp.topics[1].topic_id, rt.topic_id);
}

} // namespace
} // namespace samsa::kafka::test
