// Kafka's ZooKeeper znode formats: what Kafka writes (samples in Kafka's own field order and
// types, e.g. timestamps as strings) decodes, every encoding round-trips, and malformed data is
// an error, never a crash.
#include "cluster/zk/znodes.h"

#include <gtest/gtest.h>

namespace samsa::cluster::zk {
namespace {

TEST(znodes, paths_follow_kafkas_layout)
{
    EXPECT_EQ(paths::broker(3), "/brokers/ids/3");
    EXPECT_EQ(paths::topic("orders"), "/brokers/topics/orders");
    EXPECT_EQ(paths::partition_state("orders", 2), "/brokers/topics/orders/partitions/2/state");
    EXPECT_EQ(paths::topic_config("orders"), "/config/topics/orders");
    EXPECT_EQ(paths::broker_config("<default>"), "/config/brokers/<default>");
}

TEST(znodes, broker_registration_as_kafka_writes_it)
{
    auto b = decode_broker(
        1, R"({"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","INTERNAL":"SASL_SSL"},)"
           R"("endpoints":["PLAINTEXT://broker1:9092","INTERNAL://[::1]:9093"],"jmx_port":-1,"port":9092,)"
           R"("host":"broker1","version":5,"timestamp":"1700000000123","rack":"r1"})");
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(b->id, 1);
    ASSERT_EQ(b->endpoints.size(), 2u);
    EXPECT_EQ(b->endpoints[0], (broker_registration::endpoint{"PLAINTEXT", "PLAINTEXT", "broker1", 9092}));
    EXPECT_EQ(b->endpoints[1], (broker_registration::endpoint{"INTERNAL", "SASL_SSL", "::1", 9093}));
    EXPECT_EQ(b->rack, std::optional<std::string>("r1"));
    EXPECT_EQ(b->timestamp_ms, 1700000000123);
    // Version 1 had only host and port.
    auto old = decode_broker(0, R"({"jmx_port":-1,"timestamp":"1","host":"h","version":1,"port":9092})");
    ASSERT_TRUE(old);
    EXPECT_EQ(old->endpoints, (std::vector<broker_registration::endpoint>{{"PLAINTEXT", "PLAINTEXT", "h", 9092}}));
}

TEST(znodes, broker_registration_round_trips)
{
    broker_registration b;
    b.id = 7;
    b.endpoints = {{"PLAINTEXT", "PLAINTEXT", "10.0.0.7", 9092}, {"CONTROL", "PLAINTEXT", "::1", 9999}};
    b.rack = "eu-1a";
    b.timestamp_ms = 1234567890123;
    b.features["transaction.version"] = {0, 2};
    auto text = encode_broker(b);
    EXPECT_NE(text.find(R"("timestamp":"1234567890123")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("host":"10.0.0.7")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("CONTROL://[::1]:9999")"), std::string::npos) << text;
    auto back = decode_broker(7, text);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
}

TEST(znodes, topic_assignment)
{
    auto t = decode_topic(R"({"partitions":{"0":[1,2,3],"1":[2,3,1]},"topic_id":"q5hMTVn1RQWV0y1XaJz0gQ",)"
                          R"("adding_replicas":{},"removing_replicas":{"1":[1]},"version":3})");
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->partitions.at(1), (std::vector<int32_t>{2, 3, 1}));
    EXPECT_EQ(t->topic_id, "q5hMTVn1RQWV0y1XaJz0gQ");
    EXPECT_EQ(t->removing_replicas.at(1), std::vector<int32_t>{1});
    EXPECT_EQ(decode_topic(encode_topic(*t)).value(), *t);
    // Version 1: partitions only.
    auto v1 = decode_topic(R"({"version":1,"partitions":{"0":[0]}})");
    ASSERT_TRUE(v1);
    EXPECT_TRUE(v1->topic_id.empty());
}

TEST(znodes, partition_state_controller_and_epochs)
{
    auto s = decode_partition_state(R"({"controller_epoch":3,"leader":2,"version":1,"leader_epoch":5,"isr":[2,1]})");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->leader, 2);
    EXPECT_EQ(s->leader_epoch, 5);
    EXPECT_EQ(s->controller_epoch, 3);
    EXPECT_EQ(s->isr, (std::vector<int32_t>{2, 1}));
    EXPECT_EQ(decode_partition_state(encode_partition_state(*s)).value(), *s);
    auto c = decode_controller(R"({"version":1,"brokerid":2,"timestamp":"1700000000000"})");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->broker_id, 2);
    EXPECT_EQ(decode_controller(encode_controller(*c)).value(), *c);
    EXPECT_EQ(decode_controller("4").value().broker_id, 4); // Kafka 0.8's bare id
    EXPECT_EQ(decode_controller_epoch(encode_controller_epoch(17)).value(), 17);
    EXPECT_EQ(decode_cluster_id(encode_cluster_id("q5hMTVn1RQWV0y1XaJz0gQ")).value(), "q5hMTVn1RQWV0y1XaJz0gQ");
    EXPECT_EQ(decode_cluster_id(R"({"version":"1","id":"abc"})").value(), "abc");
}

TEST(znodes, configs_changes_isr_notifications_and_producer_id_blocks)
{
    std::map<std::string, std::string> cfg{{"cleanup.policy", "compact"}, {"retention.ms", "1000"}};
    EXPECT_EQ(decode_config(encode_config(cfg)).value(), cfg);
    EXPECT_EQ(decode_config_change(encode_config_change("topics/orders")).value(), "topics/orders");
    EXPECT_EQ(decode_config_change(R"({"version":1,"entity_type":"topics","entity_name":"t"})").value(), "topics/t");
    EXPECT_EQ(decode_log_dir_event(encode_log_dir_failure(2)).value(), 2);
    EXPECT_FALSE(decode_log_dir_event(R"({"version":1,"event":1})"));
    std::vector<topic_partition_ref> parts{{"a", 0}, {"b", 3}};
    EXPECT_EQ(decode_isr_change(encode_isr_change(parts)).value(), parts);
    auto blk = decode_producer_id_block(R"({"version":1,"broker":0,"block_start":"1000","block_end":"1999"})");
    ASSERT_TRUE(blk);
    EXPECT_EQ(blk->block_start, 1000);
    EXPECT_EQ(blk->block_end, 1999);
    EXPECT_EQ(decode_producer_id_block(encode_producer_id_block(*blk)).value(), *blk);
}

TEST(znodes, malformed_data_is_an_error)
{
    const std::vector<std::string> bad = {"", "{", "[]", "null", R"({"version":5})", R"({"version":"x"})",
                                          R"({"version":5,"endpoints":["nohostport"]})",
                                          R"({"version":5,"endpoints":["P://h:99999"]})", R"({"version":5,"endpoints":[7]})"};
    for (auto& b : bad) {
        auto r = decode_broker(0, b);
        EXPECT_FALSE(r && !r->endpoints.empty()) << b;
    }
    EXPECT_EQ(decode_broker(0, R"({"version":9,"endpoints":[]})").error(), make_error_code(errc::unknown_version));
    EXPECT_FALSE(decode_topic(R"({"version":3})"));
    EXPECT_FALSE(decode_topic(R"({"version":3,"partitions":{"x":[1]}})"));
    EXPECT_FALSE(decode_topic(R"({"version":3,"partitions":{"0":["1"]}})"));
    EXPECT_FALSE(decode_partition_state(R"({"version":1,"leader":1})"));
    EXPECT_FALSE(decode_partition_state("garbage"));
    EXPECT_FALSE(decode_controller_epoch("-1"));
    EXPECT_FALSE(decode_controller_epoch("12x"));
    EXPECT_FALSE(decode_config(R"({"version":1,"config":{"a":1}})"));
    EXPECT_FALSE(decode_producer_id_block(R"({"version":1,"broker":0,"block_start":"10","block_end":"5"})"));
    EXPECT_FALSE(decode_isr_change(R"({"version":1,"partitions":[{"topic":"a"}]})"));
}

} // namespace
} // namespace samsa::cluster::zk

namespace samsa::cluster::zk {
TEST(znodes, reassignment_as_kafkas_tool_writes_it)
{
    auto r = decode_reassignment(R"({"version":1,"partitions":[{"topic":"t","partition":2,"replicas":[3,1],"log_dirs":["any","any"]}]})");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0], (reassignment_ref{"t", 2, {3, 1}}));
    EXPECT_EQ(decode_reassignment(encode_reassignment(*r)).value(), *r);
    EXPECT_FALSE(decode_reassignment(R"({"version":1,"partitions":[{"topic":"t","partition":2}]})"));
    EXPECT_FALSE(decode_reassignment("not json"));
}
} // namespace samsa::cluster::zk
