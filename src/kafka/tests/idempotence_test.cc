// Idempotent producers through the dispatcher: InitProducerId hands out ids that are never
// reused (across restarts too); Produce recognises retries, refuses gaps and old epochs, and
// still does after a restart.
#include "kafka/errors.h"
#include "kafka/tests/broker_fixture.h"
#include "protocol/error_code.h"
#include "protocol/record_batch_builder.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <set>

namespace samsa::kafka::test {
namespace {

using protocol::error_code;

bytes idempotent_batch(int64_t pid, int16_t epoch, int32_t seq, int records, bool transactional = false)
{
    protocol::batch_builder::options o;
    o.transactional = transactional;
    o.pid = producer_id(pid);
    o.epoch = producer_epoch(epoch);
    o.base_sequence = seq;
    protocol::batch_builder b(o);
    for (int i = 0; i < records; ++i) b.add("k", fmt::format("seq-{}", seq + i), timestamp_ms(1'000 + i));
    return b.build();
}

protocol::init_producer_id_response init(broker_fixture& f, int16_t version, std::optional<std::string> txn = {})
{
    protocol::init_producer_id_request req;
    req.transactional_id = std::move(txn);
    req.transaction_timeout_ms = 60'000;
    return f.call(req, version);
}

TEST(init_producer_id, hands_out_distinct_ids_at_every_version_and_never_again_after_a_restart)
{
    broker_fixture f;
    std::set<int64_t> seen;
    for (int16_t v = 0; v <= 5; ++v) {
        auto r = init(f, v);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        EXPECT_EQ(r.producer_epoch, 0);
        EXPECT_GE(r.producer_id, 0);
        EXPECT_TRUE(seen.insert(r.producer_id).second) << "id " << r.producer_id << " handed out twice";
    }
    int64_t before = *seen.rbegin();
    f.restart();
    // The rest of the block reserved before the restart is skipped, never reused.
    auto r = init(f, 4);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_GT(r.producer_id, before);
    EXPECT_GE(r.producer_id, 1000);
    EXPECT_FALSE(seen.count(r.producer_id));
}

TEST(idempotent_produce, retries_gaps_and_epochs)
{
    broker_fixture f;
    f.create_topic("t");
    auto pid = init(f, 4).producer_id;
    auto first = f.produce("t", 0, idempotent_batch(pid, 0, 0, 3));
    ASSERT_EQ(first.error_code, 0);
    EXPECT_EQ(first.base_offset, 0);
    ASSERT_EQ(f.produce("t", 0, idempotent_batch(pid, 0, 3, 2)).error_code, 0);
    // A retry of the first batch: its offset again, nothing written.
    auto retry = f.produce("t", 0, idempotent_batch(pid, 0, 0, 3));
    EXPECT_EQ(retry.error_code, 0);
    EXPECT_EQ(retry.base_offset, 0);
    EXPECT_EQ(f.topics().get("t", 0)->log().log_end_offset(), offset(5));
    // A gap.
    EXPECT_EQ(f.produce("t", 0, idempotent_batch(pid, 0, 7, 1)).error_code,
              code(error_code::out_of_order_sequence_number));
    // A new epoch from 0, then the old one is fenced.
    EXPECT_EQ(f.produce("t", 0, idempotent_batch(pid, 1, 0, 1)).error_code, 0);
    EXPECT_EQ(f.produce("t", 0, idempotent_batch(pid, 0, 5, 1)).error_code, code(error_code::invalid_producer_epoch));
    EXPECT_EQ(f.topics().get("t", 0)->log().log_end_offset(), offset(6));
    // Producers are per partition: another producer id is independent.
    auto other = init(f, 4).producer_id;
    EXPECT_EQ(f.produce("t", 0, idempotent_batch(other, 0, 0, 1)).base_offset, 6);

    f.restart();
    auto again = f.produce("t", 0, idempotent_batch(pid, 1, 0, 1));
    EXPECT_EQ(again.error_code, 0);
    EXPECT_EQ(again.base_offset, 5);
    EXPECT_EQ(f.produce("t", 0, idempotent_batch(pid, 1, 1, 1)).base_offset, 7);
    EXPECT_EQ(f.produce("t", 0, idempotent_batch(other, 0, 2, 1)).error_code,
              code(error_code::out_of_order_sequence_number));
}

TEST(read_committed, stops_at_an_open_transaction)
{
    broker_fixture f;
    f.create_topic("t");
    ASSERT_EQ(f.produce_values("t", 0, {"a", "b"}), 0);
    ASSERT_EQ(f.produce("t", 0, idempotent_batch(init(f, 4).producer_id, 0, 0, 2, /*transactional=*/true)).error_code, 0);
    ASSERT_EQ(f.produce_values("t", 0, {"c"}), 4);
    for (int8_t iso : {0, 1}) {
        auto req = broker_fixture::fetch_request("t", 0, 0);
        req.isolation_level = iso;
        auto resp = f.call(req, 12);
        auto& p = resp.responses.at(0).partitions.at(0);
        EXPECT_EQ(p.error_code, 0);
        EXPECT_EQ(p.high_watermark, 5);
        EXPECT_EQ(p.last_stable_offset, 2) << "iso " << int(iso);
        // read_committed gets the records below the open transaction only.
        EXPECT_EQ(decode_records(p.records.to_bytes()).size(), iso ? 2u : 5u) << "iso " << int(iso);
        if (iso) {
            EXPECT_TRUE(p.aborted_transactions && p.aborted_transactions->empty());
        }
    }
    // A client may not write a transaction marker.
    protocol::batch_builder::options o;
    o.pid = producer_id(init(f, 4).producer_id);
    o.epoch = producer_epoch(0);
    o.control = true;
    o.transactional = true;
    protocol::batch_builder b(o);
    b.add("\0\0\0\1", "\0\0\0\0\0\0", timestamp_ms(1));
    EXPECT_EQ(f.produce("t", 0, b.build()).error_code, code(error_code::invalid_record));
}

TEST(describe_producers, lists_each_partitions_producers)
{
    broker_fixture f;
    f.create_topic("t", 2);
    auto a = init(f, 4).producer_id;
    auto b = init(f, 4).producer_id;
    ASSERT_EQ(f.produce("t", 0, idempotent_batch(a, 0, 0, 3)).error_code, 0);
    ASSERT_EQ(f.produce("t", 0, idempotent_batch(b, 0, 0, 1, /*transactional=*/true)).error_code, 0);
    protocol::describe_producers_request req;
    req.topics.push_back({"t", {0, 1, 7}});
    req.topics.push_back({"nope", {0}});
    auto resp = f.call(req, 0);
    ASSERT_EQ(resp.topics.size(), 2u);
    auto& parts = resp.topics[0].partitions;
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].error_code, 0);
    ASSERT_EQ(parts[0].active_producers.size(), 2u);
    auto& pa = parts[0].active_producers[0].producer_id == a ? parts[0].active_producers[0] : parts[0].active_producers[1];
    auto& pb = parts[0].active_producers[0].producer_id == a ? parts[0].active_producers[1] : parts[0].active_producers[0];
    EXPECT_EQ(pa.last_sequence, 2);
    EXPECT_EQ(pa.current_txn_start_offset, -1);
    EXPECT_EQ(pb.last_sequence, 0);
    EXPECT_EQ(pb.current_txn_start_offset, 3);
    EXPECT_EQ(parts[1].error_code, 0);
    EXPECT_TRUE(parts[1].active_producers.empty());
    EXPECT_EQ(parts[2].error_code, code(error_code::unknown_topic_or_partition));
    EXPECT_EQ(resp.topics[1].partitions.at(0).error_code, code(error_code::unknown_topic_or_partition));
}

} // namespace
} // namespace samsa::kafka::test
