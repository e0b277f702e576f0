// DescribeCluster and DeleteRecords through the dispatcher.
#include "kafka/tests/broker_fixture.h"
#include "storage/checkpoint_file.h"

#include <gtest/gtest.h>

namespace samsa::kafka::test {
namespace {

TEST(describe_cluster, this_node_is_the_cluster)
{
    broker_fixture f;
    for (int16_t v : {0, 1}) {
        protocol::describe_cluster_request req;
        auto resp = f.call(req, v);
        EXPECT_EQ(resp.error_code, 0) << "v" << v;
        EXPECT_EQ(resp.cluster_id, f.cluster_id());
        EXPECT_EQ(resp.controller_id, 0);
        ASSERT_EQ(resp.brokers.size(), 1u);
        EXPECT_EQ(resp.brokers[0].broker_id, 0);
        EXPECT_EQ(resp.brokers[0].host, broker_fixture::advertised_host);
        EXPECT_EQ(resp.brokers[0].port, broker_fixture::advertised_port);
        EXPECT_EQ(resp.cluster_authorized_operations, INT32_MIN);
        if (v >= 1) {
            EXPECT_EQ(resp.endpoint_type, 1);
        }
        req.include_cluster_authorized_operations = true;
        auto with_ops = f.call(req, v);
        EXPECT_NE(with_ops.cluster_authorized_operations, INT32_MIN);
        EXPECT_NE(with_ops.cluster_authorized_operations & (1 << 8), 0); // DESCRIBE
    }
}

TEST(describe_cluster, controller_endpoints_are_the_wrong_type)
{
    broker_fixture f;
    protocol::describe_cluster_request req;
    req.endpoint_type = 2;
    auto resp = f.call(req, 1);
    EXPECT_EQ(resp.error_code, 114); // MISMATCHED_ENDPOINT_TYPE
    EXPECT_TRUE(resp.error_message);
    EXPECT_TRUE(resp.brokers.empty());
}

using partition_result = protocol::delete_records_response::delete_records_partition_result;

protocol::delete_records_request delete_req(const std::string& topic, int32_t partition, int64_t before)
{
    protocol::delete_records_request req;
    req.timeout_ms = 1000;
    protocol::delete_records_request::delete_records_topic t;
    t.name = topic;
    t.partitions.push_back({partition, before});
    req.topics.push_back(std::move(t));
    return req;
}

partition_result delete_records(broker_fixture& f, const protocol::delete_records_request& req, int16_t v)
{
    auto resp = f.call(req, v);
    if (resp.topics.size() != 1 || resp.topics[0].partitions.size() != 1) {
        throw std::runtime_error("unexpected delete records response shape");
    }
    return resp.topics[0].partitions[0];
}

int64_t earliest(broker_fixture& f, const std::string& topic)
{
    protocol::list_offsets_request req;
    req.replica_id = -1;
    req.topics.push_back({topic, {{0, -1, -2, 1}}});
    return f.call(req, 7).topics.at(0).partitions.at(0).offset;
}

TEST(delete_records, moves_the_log_start_and_checkpoints_it)
{
    broker_fixture f;
    f.create_topic("t", 1, {{"segment.bytes", "100"}});
    for (int i = 0; i < 5; ++i) f.produce_values("t", 0, {"v" + std::to_string(i)});
    auto& l = f.topics().get("t", 0)->log();
    auto segments = l.segment_count();
    auto r = delete_records(f, delete_req("t", 0, 3), 0);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(r.low_watermark, 3);
    EXPECT_EQ(l.log_start_offset(), offset(3));
    EXPECT_LT(l.segment_count(), segments);
    EXPECT_EQ(earliest(f, "t"), 3);
    // Checkpointed at once, not at the next periodic checkpoint or shutdown.
    auto cp = storage::read_offset_checkpoint(storage::posix_file_ops(),
                                              f.log_dir() + "/" + storage::log_manager::log_start_file);
    ASSERT_TRUE(cp);
    EXPECT_EQ(cp->at(topic_partition{"t", partition_id(0)}), offset(3));
    // Reading below the new start is out of range.
    auto fetched = f.call(broker_fixture::fetch_request("t", 0, 0), 12);
    EXPECT_EQ(fetched.responses.at(0).partitions.at(0).error_code, 1);
    // A lower offset than the current start changes nothing.
    EXPECT_EQ(delete_records(f, delete_req("t", 0, 1), 1).low_watermark, 3);
    f.restart();
    EXPECT_EQ(earliest(f, "t"), 3);
}

TEST(delete_records, minus_one_means_the_high_watermark)
{
    broker_fixture f;
    f.create_topic("t");
    f.produce_values("t", 0, {"a", "b", "c"});
    for (int16_t v : {1, 2}) {
        auto r = delete_records(f, delete_req("t", 0, -1), v);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        EXPECT_EQ(r.low_watermark, 3);
    }
    EXPECT_EQ(earliest(f, "t"), 3);
    EXPECT_EQ(f.produce_values("t", 0, {"d"}), 3);
}

TEST(delete_records, errors)
{
    broker_fixture f;
    f.create_topic("t");
    f.create_topic("compacted", 1, {{"cleanup.policy", "compact"}});
    f.produce_values("t", 0, {"a", "b"});
    f.produce_values("compacted", 0, {"a"});
    for (int16_t v : {0, 2}) {
        auto beyond = delete_records(f, delete_req("t", 0, 5), v);
        EXPECT_EQ(beyond.error_code, 1) << "v" << v;
        EXPECT_EQ(beyond.low_watermark, -1);
        EXPECT_EQ(delete_records(f, delete_req("t", 0, -7), v).error_code, 1);
        EXPECT_EQ(delete_records(f, delete_req("t", 4, 1), v).error_code, 3);
        EXPECT_EQ(delete_records(f, delete_req("missing", 0, 1), v).error_code, 3);
        EXPECT_EQ(delete_records(f, delete_req("compacted", 0, 1), v).error_code, 44); // POLICY_VIOLATION
    }
    EXPECT_EQ(earliest(f, "t"), 0);
}

} // namespace
} // namespace samsa::kafka::test
