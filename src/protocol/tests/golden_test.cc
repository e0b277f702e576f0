// Golden bytes from an independent encoder (kafka-python, see tools/golden_messages/):
// every golden decodes to the end with our codec and re-encodes to identical bytes, and the
// hand-written ones decode to the values the script put in.
#include "protocol/messages/test_support.h"
#include "protocol/tests/golden_messages.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <set>

namespace samsa::protocol {
namespace {

const golden::golden_message& find_golden(std::string_view id)
{
    for (const auto& g : golden::all) {
        if (g.id == id) return g;
    }
    throw std::runtime_error(fmt::format("no golden {}", id));
}

template<typename T>
bytes encode_message(const T& m, int16_t version)
{
    writer w;
    m.encode(w, version);
    return flatten(std::move(w).finish());
}

/// Decodes golden `id` as T (checking the golden names T at its version), requires the
/// whole input to be consumed and the re-encoding to be identical.
template<typename T>
T decode_golden(std::string_view id)
{
    const auto& g = find_golden(id);
    EXPECT_EQ(g.message, T::message_name) << id;
    reader r(g.data);
    T m;
    m.decode(r, g.version);
    EXPECT_TRUE(r.empty()) << id << ": " << r.remaining() << " bytes not decoded";
    EXPECT_EQ(encode_message(m, g.version), bytes(g.data.begin(), g.data.end())) << id;
    return m;
}

TEST(golden, every_golden_decodes_and_reencodes_identically)
{
    std::set<std::string_view> messages;
    size_t checked = 0;
    for (const auto& g : golden::all) {
        SCOPED_TRACE(fmt::format("{} ({} v{})", g.id, g.message, g.version));
        bool found = false;
        for_each_message_type([&](auto type) {
            using T = typename decltype(type)::type;
            if (T::message_name != g.message) return;
            found = true;
            ASSERT_GE(g.version, T::min_version);
            ASSERT_LE(g.version, T::max_version);
            reader r(g.data);
            T m;
            ASSERT_NO_THROW(m.decode(r, g.version));
            EXPECT_EQ(r.remaining(), 0u);
            EXPECT_EQ(encode_message(m, g.version), bytes(g.data.begin(), g.data.end()));
            ++checked;
        });
        EXPECT_TRUE(found) << "no message type " << g.message;
        messages.insert(g.message);
    }
    EXPECT_EQ(checked, std::size(golden::all));
    // kafka-python 2.0.2 covers 22 of our APIs, requests and responses.
    EXPECT_GE(messages.size(), 44u);
}

TEST(golden, api_versions)
{
    auto req = decode_golden<api_versions_request>("api_versions_request_v0");
    EXPECT_EQ(req, api_versions_request{});
    auto resp = decode_golden<api_versions_response>("api_versions_response_v1");
    EXPECT_EQ(resp.error_code, 0);
    ASSERT_EQ(resp.api_keys.size(), 3u);
    EXPECT_EQ(resp.api_keys[1].api_key, 3);
    EXPECT_EQ(resp.api_keys[1].max_version, 5);
    EXPECT_EQ(resp.api_keys[2].api_key, 18);
    EXPECT_EQ(resp.throttle_time_ms, 10);
}

TEST(golden, metadata_requests)
{
    auto v0 = decode_golden<metadata_request>("metadata_request_v0");
    ASSERT_TRUE(v0.topics.has_value());
    ASSERT_EQ(v0.topics->size(), 2u);
    EXPECT_EQ((*v0.topics)[0].name, "alpha");
    EXPECT_EQ((*v0.topics)[1].name, "beta");
    auto all = decode_golden<metadata_request>("metadata_request_v1_all");
    EXPECT_FALSE(all.topics.has_value());
    auto v4 = decode_golden<metadata_request>("metadata_request_v4");
    EXPECT_FALSE(v4.allow_auto_topic_creation);
    EXPECT_EQ(v4.topics->at(0).name, "alpha");
}

TEST(golden, metadata_responses)
{
    auto v1 = decode_golden<metadata_response>("metadata_response_v1");
    ASSERT_EQ(v1.brokers.size(), 2u);
    EXPECT_EQ(v1.brokers[0].host, "host1");
    EXPECT_EQ(v1.brokers[0].port, 9092);
    EXPECT_EQ(v1.brokers[0].rack, std::optional<std::string>("rack-a"));
    EXPECT_EQ(v1.brokers[1].rack, std::nullopt);
    EXPECT_EQ(v1.controller_id, 1);
    ASSERT_EQ(v1.topics.size(), 1u);
    EXPECT_EQ(v1.topics[0].name, std::optional<std::string>("alpha"));
    EXPECT_FALSE(v1.topics[0].is_internal);
    ASSERT_EQ(v1.topics[0].partitions.size(), 2u);
    EXPECT_EQ(v1.topics[0].partitions[1].leader_id, 2);
    EXPECT_EQ(v1.topics[0].partitions[1].replica_nodes, (std::vector<int32_t>{2, 1}));
    EXPECT_EQ(v1.topics[0].partitions[0].isr_nodes, (std::vector<int32_t>{1}));

    auto v5 = decode_golden<metadata_response>("metadata_response_v5");
    EXPECT_EQ(v5.throttle_time_ms, 7);
    EXPECT_EQ(v5.cluster_id, std::optional<std::string>("cluster-1"));
    EXPECT_EQ(v5.topics[0].error_code, 3);
    EXPECT_TRUE(v5.topics[0].partitions.empty());
    EXPECT_TRUE(v5.topics[1].is_internal);
    EXPECT_EQ(v5.topics[1].partitions[0].error_code, 9);
    EXPECT_EQ(v5.topics[1].partitions[0].leader_id, -1);
    EXPECT_EQ(v5.topics[1].partitions[0].offline_replicas, (std::vector<int32_t>{1}));
}

TEST(golden, produce)
{
    auto req = decode_golden<produce_request>("produce_request_v3");
    EXPECT_EQ(req.transactional_id, std::nullopt);
    EXPECT_EQ(req.acks, -1);
    EXPECT_EQ(req.timeout_ms, 30000);
    ASSERT_EQ(req.topic_data.size(), 1u);
    EXPECT_EQ(req.topic_data[0].name, "alpha");
    const auto& parts = req.topic_data[0].partition_data;
    ASSERT_EQ(parts.size(), 2u);
    bytes records(40);
    for (size_t i = 0; i < records.size(); ++i) records[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(parts[0].records, records_payload(records));
    EXPECT_EQ(parts[1].index, 1);
    EXPECT_TRUE(parts[1].records.is_null());

    auto resp = decode_golden<produce_response>("produce_response_v7");
    const auto& pr = resp.responses.at(0).partition_responses;
    ASSERT_EQ(pr.size(), 2u);
    EXPECT_EQ(pr[0].base_offset, 41);
    EXPECT_EQ(pr[0].log_append_time_ms, -1);
    EXPECT_EQ(pr[1].error_code, 6);
    EXPECT_EQ(pr[1].log_start_offset, -1);
}

TEST(golden, fetch)
{
    auto req = decode_golden<fetch_request>("fetch_request_v4");
    EXPECT_EQ(req.replica_id, -1);
    EXPECT_EQ(req.max_wait_ms, 500);
    EXPECT_EQ(req.min_bytes, 1);
    EXPECT_EQ(req.max_bytes, 52428800);
    EXPECT_EQ(req.isolation_level, 1);
    EXPECT_EQ(req.topics.at(0).topic, "alpha");
    EXPECT_EQ(req.topics.at(0).partitions.at(0).fetch_offset, 100);
    EXPECT_EQ(req.topics.at(0).partitions.at(0).partition_max_bytes, 1048576);

    auto resp = decode_golden<fetch_response>("fetch_response_v4");
    const auto& parts = resp.responses.at(0).partitions;
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].high_watermark, 142);
    EXPECT_EQ(parts[0].last_stable_offset, 140);
    ASSERT_TRUE(parts[0].aborted_transactions.has_value());
    EXPECT_EQ(parts[0].aborted_transactions->at(0).producer_id, 4000);
    EXPECT_EQ(parts[0].aborted_transactions->at(0).first_offset, 120);
    EXPECT_EQ(parts[0].records.size_bytes(), 40u);
    EXPECT_EQ(parts[1].error_code, 1);
    EXPECT_FALSE(parts[1].aborted_transactions.has_value());
    EXPECT_FALSE(parts[1].records.is_null());
    EXPECT_EQ(parts[1].records.size_bytes(), 0u);
}

TEST(golden, list_offsets)
{
    auto req = decode_golden<list_offsets_request>("list_offsets_request_v1");
    EXPECT_EQ(req.replica_id, -1);
    const auto& parts = req.topics.at(0).partitions;
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].timestamp, -1);
    EXPECT_EQ(parts[1].partition_index, 1);
    EXPECT_EQ(parts[1].timestamp, -2);
    auto resp = decode_golden<list_offsets_response>("list_offsets_response_v1");
    EXPECT_EQ(resp.topics.at(0).partitions.at(0).offset, 142);
    EXPECT_EQ(resp.topics.at(0).partitions.at(0).timestamp, -1);
}

TEST(golden, groups)
{
    auto join = decode_golden<join_group_request>("join_group_request_v1");
    EXPECT_EQ(join.group_id, "grp");
    EXPECT_EQ(join.session_timeout_ms, 10000);
    EXPECT_EQ(join.rebalance_timeout_ms, 300000);
    EXPECT_EQ(join.member_id, "");
    EXPECT_EQ(join.protocol_type, "consumer");
    ASSERT_EQ(join.protocols.size(), 2u);
    EXPECT_EQ(join.protocols[0].name, "range");
    EXPECT_EQ(join.protocols[0].metadata, (bytes{0, 1}));
    EXPECT_EQ(join.protocols[1].name, "roundrobin");

    auto joined = decode_golden<join_group_response>("join_group_response_v2");
    EXPECT_EQ(joined.generation_id, 3);
    EXPECT_EQ(joined.protocol_name, std::optional<std::string>("range"));
    EXPECT_EQ(joined.leader, "m-1");
    ASSERT_EQ(joined.members.size(), 2u);
    EXPECT_EQ(joined.members[0].metadata, to_bytes("meta"));

    auto sync = decode_golden<sync_group_request>("sync_group_request_v1");
    EXPECT_EQ(sync.generation_id, 3);
    EXPECT_EQ(sync.assignments.at(1).member_id, "m-2");
    EXPECT_EQ(sync.assignments.at(1).assignment, (bytes{3}));

    auto hb = decode_golden<heartbeat_request>("heartbeat_request_v1");
    EXPECT_EQ(hb.group_id, "grp");
    EXPECT_EQ(hb.generation_id, 3);
    EXPECT_EQ(hb.member_id, "m-1");
}

TEST(golden, offsets_and_coordinator)
{
    auto commit = decode_golden<offset_commit_request>("offset_commit_request_v2");
    EXPECT_EQ(commit.group_id, "grp");
    EXPECT_EQ(commit.generation_id_or_member_epoch, 3);
    EXPECT_EQ(commit.retention_time_ms, -1);
    const auto& p = commit.topics.at(0).partitions;
    EXPECT_EQ(p.at(0).committed_offset, 42);
    EXPECT_EQ(p.at(0).committed_metadata, std::optional<std::string>("meta"));
    EXPECT_EQ(p.at(1).committed_offset, 7);

    auto fetched = decode_golden<offset_fetch_response>("offset_fetch_response_v3");
    const auto& fp = fetched.topics.at(0).partitions;
    EXPECT_EQ(fp.at(0).committed_offset, 42);
    EXPECT_EQ(fp.at(1).committed_offset, -1);
    EXPECT_EQ(fp.at(1).error_code, 3);

    auto find = decode_golden<find_coordinator_request>("find_coordinator_request_v1");
    EXPECT_EQ(find.key, "grp");
    EXPECT_EQ(find.key_type, 0);
    auto found = decode_golden<find_coordinator_response>("find_coordinator_response_v0");
    EXPECT_EQ(found.error_code, 0);
    EXPECT_EQ(found.node_id, 1);
    EXPECT_EQ(found.host, "localhost");
    EXPECT_EQ(found.port, 9092);
}

TEST(golden, admin)
{
    auto create = decode_golden<create_topics_request>("create_topics_request_v2");
    ASSERT_EQ(create.topics.size(), 2u);
    EXPECT_EQ(create.topics[0].name, "alpha");
    EXPECT_EQ(create.topics[0].num_partitions, 3);
    EXPECT_EQ(create.topics[0].configs.at(0).name, "cleanup.policy");
    EXPECT_EQ(create.topics[0].configs.at(0).value, std::optional<std::string>("compact"));
    EXPECT_EQ(create.topics[1].num_partitions, -1);
    EXPECT_EQ(create.topics[1].assignments.at(0).broker_ids, (std::vector<int32_t>{1, 2}));
    EXPECT_EQ(create.timeout_ms, 5000);
    EXPECT_TRUE(create.validate_only);

    auto configs = decode_golden<describe_configs_response>("describe_configs_response_v1");
    const auto& result = configs.results.at(0);
    EXPECT_EQ(result.error_message, std::nullopt);
    EXPECT_EQ(result.resource_type, 2);
    EXPECT_EQ(result.resource_name, "alpha");
    const auto& entry = result.configs.at(0);
    EXPECT_EQ(entry.name, "retention.ms");
    EXPECT_EQ(entry.value, std::optional<std::string>("604800000"));
    // kafka-python calls the v1 byte "is_default"; Kafka's v1 field is ConfigSource.
    EXPECT_EQ(entry.config_source, 1);
    EXPECT_EQ(entry.synonyms.at(0).source, 5);

    auto hs = decode_golden<sasl_handshake_request>("sasl_handshake_request_v1");
    EXPECT_EQ(hs.mechanism, "PLAIN");
    auto auth = decode_golden<sasl_authenticate_request>("sasl_authenticate_request_v1");
    EXPECT_EQ(auth.auth_bytes, to_bytes(std::string_view("\0user\0pass", 10)));
}

} // namespace
} // namespace samsa::protocol
