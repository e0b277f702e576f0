// Transactions through the dispatcher: FindCoordinator for a transactional id, InitProducerId,
// AddPartitionsToTxn, transactional produce, EndTxn, markers seen by read_committed fetches,
// TxnOffsetCommit visible only on commit, fencing, timeouts, and all of it after a restart.
#include "kafka/errors.h"
#include "kafka/tests/broker_fixture.h"
#include "kafka/txn_service.h"
#include "protocol/error_code.h"
#include "protocol/record_batch_builder.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <thread>

namespace samsa::kafka::test {
namespace {

using protocol::error_code;

struct producer {
    int64_t id = -1;
    int16_t epoch = -1;
    std::map<int32_t, int32_t> seq; // next sequence per partition
};

struct txn_fixture : ::testing::Test {
    broker_fixture f;

    producer init(const std::string& txn, int32_t timeout_ms = 60'000, int16_t version = 4, int16_t* err = nullptr)
    {
        protocol::init_producer_id_request req;
        req.transactional_id = txn;
        req.transaction_timeout_ms = timeout_ms;
        auto r = f.call(req, version);
        if (err) *err = r.error_code;
        else EXPECT_EQ(r.error_code, 0);
        return {r.producer_id, r.producer_epoch, {}};
    }
    int16_t add(const std::string& txn, const producer& p, const std::string& topic, std::vector<int32_t> parts,
                int16_t version = 3)
    {
        protocol::add_partitions_to_txn_request req;
        req.v3_and_below_transactional_id = txn;
        req.v3_and_below_producer_id = p.id;
        req.v3_and_below_producer_epoch = p.epoch;
        req.v3_and_below_topics.push_back({topic, std::move(parts)});
        auto r = f.call(req, version);
        int16_t worst = 0;
        for (auto& t : r.results_by_topic_v3_and_below) {
            for (auto& pr : t.results_by_partition) {
                if (pr.partition_error_code != 0) worst = pr.partition_error_code;
            }
        }
        return worst;
    }
    int16_t end(const std::string& txn, const producer& p, bool commit, int16_t version = 3)
    {
        protocol::end_txn_request req;
        req.transactional_id = txn;
        req.producer_id = p.id;
        req.producer_epoch = p.epoch;
        req.committed = commit;
        return f.call(req, version).error_code;
    }
    int16_t send(const std::string& topic, int32_t partition, producer& p, int records, std::string txn = "tx")
    {
        protocol::batch_builder::options o;
        o.transactional = true;
        o.pid = producer_id(p.id);
        o.epoch = producer_epoch(p.epoch);
        auto& seq = p.seq[partition];
        o.base_sequence = seq;
        protocol::batch_builder b(o);
        // Current timestamps: the markers carry the broker's clock, and a batch a week older
        // than the next would roll the segment (segment.ms), so one fetch would stop there.
        auto now = f.broker().clk.now_ms();
        for (int i = 0; i < records; ++i) b.add("k", fmt::format("v{}", seq + i), now);
        auto r = f.produce(topic, partition, b.build(), 9, txn);
        if (r.error_code == 0) seq += records;
        return r.error_code;
    }
    protocol::fetch_response::partition_data fetch(const std::string& topic, int32_t partition, bool committed)
    {
        auto req = broker_fixture::fetch_request(topic, partition, 0);
        req.isolation_level = committed ? 1 : 0;
        auto resp = f.call(req, 12);
        return resp.responses.at(0).partitions.at(0);
    }
    size_t data_records(const protocol::fetch_response::partition_data& p)
    {
        // Test records have the key "k"; markers' keys are 4 bytes (version, type).
        size_t n = 0;
        for (auto& r : decode_records(p.records.to_bytes())) n += r.key == std::optional<std::string>("k");
        return n;
    }
    int64_t committed_offset(const std::string& group, const std::string& topic, int32_t partition,
                             bool require_stable = false, int16_t* err = nullptr)
    {
        protocol::offset_fetch_request req;
        req.group_id = group;
        req.topics = std::vector<protocol::offset_fetch_request::offset_fetch_request_topic>{{topic, {partition}}};
        req.require_stable = require_stable;
        auto r = f.call(req, 7);
        auto& p = r.topics.at(0).partitions.at(0);
        if (err) *err = p.error_code;
        return p.committed_offset;
    }
    int16_t find_txn_coordinator(const std::string& txn)
    {
        protocol::find_coordinator_request req;
        req.key = txn;
        req.key_type = 1;
        auto r = f.call(req, 3);
        if (r.error_code == 0) EXPECT_EQ(r.node_id, 0);
        return r.error_code;
    }
};

TEST_F(txn_fixture, find_coordinator_creates_the_state_topic)
{
    EXPECT_EQ(find_txn_coordinator("tx"), 0);
    auto* t = f.topics().find(txn_service::state_topic);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->partitions.size(), 50u);
    protocol::find_coordinator_request bad;
    bad.key = "";
    bad.key_type = 1;
    EXPECT_EQ(f.call(bad, 3).error_code, code(error_code::invalid_request));
}

TEST_F(txn_fixture, commit_makes_the_records_visible_to_read_committed)
{
    f.create_topic("t", 2);
    auto p = init("tx");
    EXPECT_EQ(p.epoch, 0);
    ASSERT_EQ(add("tx", p, "t", {0, 1}), 0);
    ASSERT_EQ(send("t", 0, p, 3), 0);
    ASSERT_EQ(send("t", 1, p, 2), 0);
    auto open = fetch("t", 0, true);
    EXPECT_EQ(open.last_stable_offset, 0);
    EXPECT_EQ(data_records(open), 0u);
    EXPECT_EQ(data_records(fetch("t", 0, false)), 3u);
    ASSERT_EQ(end("tx", p, true), 0);
    for (int part : {0, 1}) {
        auto done = fetch("t", part, true);
        EXPECT_EQ(done.last_stable_offset, done.high_watermark);
        EXPECT_EQ(done.high_watermark, part == 0 ? 4 : 3); // the records and the COMMIT marker
        EXPECT_EQ(data_records(done), part == 0 ? 3u : 2u);
        ASSERT_TRUE(done.aborted_transactions);
        EXPECT_TRUE(done.aborted_transactions->empty());
    }
    // The next transaction of the same producer.
    EXPECT_EQ(add("tx", p, "t", {0}), 0);
    EXPECT_EQ(send("t", 0, p, 1), 0);
    EXPECT_EQ(end("tx", p, true), 0);
    auto second = fetch("t", 0, true);
    EXPECT_EQ(second.high_watermark, 6);
    EXPECT_EQ(second.last_stable_offset, 6);
    EXPECT_EQ(data_records(second), 4u);
}

TEST_F(txn_fixture, abort_hides_the_records_and_lists_the_transaction)
{
    f.create_topic("t");
    auto p = init("tx");
    ASSERT_EQ(add("tx", p, "t", {0}), 0);
    ASSERT_EQ(send("t", 0, p, 3), 0);
    ASSERT_EQ(end("tx", p, false), 0);
    auto r = fetch("t", 0, true);
    EXPECT_EQ(r.last_stable_offset, 4);
    ASSERT_TRUE(r.aborted_transactions);
    ASSERT_EQ(r.aborted_transactions->size(), 1u);
    EXPECT_EQ(r.aborted_transactions->at(0).producer_id, p.id);
    EXPECT_EQ(r.aborted_transactions->at(0).first_offset, 0);
    // A retried abort is fine; a commit of it is not.
    EXPECT_EQ(end("tx", p, false), 0);
    EXPECT_EQ(end("tx", p, true), code(error_code::invalid_txn_state));
}

TEST_F(txn_fixture, a_new_producer_fences_the_old_one)
{
    f.create_topic("t");
    auto old = init("tx");
    ASSERT_EQ(add("tx", old, "t", {0}), 0);
    ASSERT_EQ(send("t", 0, old, 2), 0);
    int16_t err = 0;
    init("tx", 60'000, 4, &err);
    EXPECT_EQ(err, code(error_code::concurrent_transactions)); // the old transaction is aborted first
    auto fresh = init("tx");
    EXPECT_EQ(fresh.id, old.id);
    EXPECT_EQ(fresh.epoch, old.epoch + 2);
    EXPECT_EQ(send("t", 0, old, 1), code(error_code::invalid_producer_epoch));
    EXPECT_EQ(end("tx", old, true), code(error_code::producer_fenced));
    EXPECT_EQ(end("tx", old, true, 1), code(error_code::invalid_producer_epoch));
    EXPECT_EQ(add("tx", old, "t", {0}), code(error_code::producer_fenced));
    // The fenced transaction's records were aborted (read_committed clients drop them).
    auto r = fetch("t", 0, true);
    ASSERT_TRUE(r.aborted_transactions);
    ASSERT_EQ(r.aborted_transactions->size(), 1u);
    EXPECT_EQ(r.aborted_transactions->at(0).producer_id, old.id);
    EXPECT_EQ(r.aborted_transactions->at(0).first_offset, 0);
}

TEST_F(txn_fixture, bad_requests_get_kafkas_errors)
{
    f.create_topic("t");
    int16_t err = 0;
    init("tx", 900'001, 4, &err);
    EXPECT_EQ(err, code(error_code::invalid_transaction_timeout));
    init("", 60'000, 4, &err);
    EXPECT_EQ(err, code(error_code::invalid_request));
    auto p = init("tx");
    EXPECT_EQ(add("tx", p, "nope", {0}), code(error_code::unknown_topic_or_partition));
    // One missing partition: it gets UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED.
    protocol::add_partitions_to_txn_request req;
    req.v3_and_below_transactional_id = "tx";
    req.v3_and_below_producer_id = p.id;
    req.v3_and_below_producer_epoch = p.epoch;
    req.v3_and_below_topics.push_back({"t", {0, 5}});
    auto r = f.call(req, 3);
    auto& parts = r.results_by_topic_v3_and_below.at(0).results_by_partition;
    EXPECT_EQ(parts.at(0).partition_error_code, code(error_code::operation_not_attempted));
    EXPECT_EQ(parts.at(1).partition_error_code, code(error_code::unknown_topic_or_partition));
    producer stranger{p.id + 1, 0, {}};
    EXPECT_EQ(add("tx", stranger, "t", {0}), code(error_code::invalid_producer_id_mapping));
    EXPECT_EQ(end("never-seen", p, true), code(error_code::invalid_producer_id_mapping));
    EXPECT_EQ(end("tx", p, true), code(error_code::invalid_txn_state)); // nothing begun
}

TEST_F(txn_fixture, a_partition_outside_the_transaction_is_refused)
{
    f.create_topic("t", 2);
    auto p = init("tx");
    ASSERT_EQ(add("tx", p, "t", {0}), 0);
    EXPECT_EQ(send("t", 1, p, 1), code(error_code::invalid_txn_state));
    EXPECT_EQ(send("t", 0, p, 1), 0);
    EXPECT_EQ(send("t", 0, p, 1), 0); // the transaction is open here now: not asked again
    ASSERT_EQ(end("tx", p, true), 0);
    EXPECT_EQ(send("t", 0, p, 1), code(error_code::invalid_txn_state)); // a new transaction, not added
    // transaction.partition.verification.enable=false writes whatever comes.
    protocol::incremental_alter_configs_request req;
    protocol::incremental_alter_configs_request::alter_configs_resource r;
    r.resource_type = 4;
    r.resource_name = "";
    r.configs.push_back({"transaction.partition.verification.enable", 0, std::string("false")});
    req.resources.push_back(r);
    ASSERT_EQ(f.call(req, 1).responses.at(0).error_code, 0);
    EXPECT_EQ(send("t", 1, p, 1), 0);
}

TEST_F(txn_fixture, transaction_version_2_adds_partitions_implicitly_and_bumps_epochs)
{
    protocol::api_versions_request av;
    auto versions = f.call(av, 3);
    ASSERT_EQ(versions.finalized_features.size(), 1u);
    EXPECT_EQ(versions.finalized_features[0].name, "transaction.version");
    EXPECT_EQ(versions.finalized_features[0].max_version_level, 2);
    EXPECT_GE(versions.finalized_features_epoch, 0);

    f.create_topic("t", 2);
    f.create_topic("in");
    protocol::find_coordinator_request fc;
    fc.key = "g";
    ASSERT_EQ(f.call(fc, 3).error_code, 0);
    auto p = init("tx");
    // Produce v12 opens the transaction on each partition by itself: no AddPartitionsToTxn.
    auto v12 = [&](int32_t part, producer& pr) {
        protocol::batch_builder::options o;
        o.transactional = true;
        o.pid = producer_id(pr.id);
        o.epoch = producer_epoch(pr.epoch);
        o.base_sequence = pr.seq[part];
        protocol::batch_builder b(o);
        b.add("k", "v", f.broker().clk.now_ms());
        auto r = f.produce("t", part, b.build(), 12, std::string("tx"));
        if (r.error_code == 0) ++pr.seq[part];
        return r.error_code;
    };
    ASSERT_EQ(v12(0, p), 0);
    ASSERT_EQ(v12(1, p), 0);
    // TxnOffsetCommit v5 adds the group's offsets partition the same way.
    protocol::txn_offset_commit_request tc;
    tc.transactional_id = "tx";
    tc.group_id = "g";
    tc.producer_id = p.id;
    tc.producer_epoch = p.epoch;
    tc.topics.push_back({"in", {{0, 9, -1, std::string("")}}});
    ASSERT_EQ(f.call(tc, 5).topics.at(0).partitions.at(0).error_code, 0);
    protocol::describe_transactions_request dr;
    dr.transactional_ids = {"tx"};
    EXPECT_EQ(f.call(dr, 0).transaction_states.at(0).topics.size(), 2u); // t and __consumer_offsets
    // EndTxn v5 answers with the bumped epoch, which the markers carry.
    protocol::end_txn_request et;
    et.transactional_id = "tx";
    et.producer_id = p.id;
    et.producer_epoch = p.epoch;
    et.committed = true;
    auto ended = f.call(et, 5);
    ASSERT_EQ(ended.error_code, 0);
    EXPECT_EQ(ended.producer_id, p.id);
    EXPECT_EQ(ended.producer_epoch, p.epoch + 1);
    EXPECT_EQ(data_records(fetch("t", 0, true)), 1u);
    EXPECT_EQ(committed_offset("g", "in", 0), 9);
    // The old epoch is fenced on the partitions; the new one starts its sequences at 0.
    EXPECT_EQ(v12(0, p), code(error_code::invalid_producer_epoch));
    producer next{ended.producer_id, ended.producer_epoch, {}};
    EXPECT_EQ(v12(0, next), 0);
    et.producer_epoch = next.epoch;
    EXPECT_EQ(f.call(et, 5).producer_epoch, next.epoch + 1);
    EXPECT_EQ(data_records(fetch("t", 0, true)), 2u);
}

TEST_F(txn_fixture, offsets_committed_in_a_transaction_appear_only_on_commit)
{
    f.create_topic("in");
    protocol::find_coordinator_request fc;
    fc.key = "g";
    ASSERT_EQ(f.call(fc, 3).error_code, 0);
    {
        // Without AddOffsetsToTxn first the offsets are refused (they would wait forever).
        auto p = init("tx");
        protocol::txn_offset_commit_request tc;
        tc.transactional_id = "tx";
        tc.group_id = "g";
        tc.producer_id = p.id;
        tc.producer_epoch = p.epoch;
        tc.topics.push_back({"in", {{0, 5, -1, std::string("m")}}});
        EXPECT_EQ(f.call(tc, 3).topics.at(0).partitions.at(0).error_code, code(error_code::invalid_txn_state));
    }
    for (bool commit : {false, true}) {
        auto p = init("tx");
        protocol::add_offsets_to_txn_request ao;
        ao.transactional_id = "tx";
        ao.producer_id = p.id;
        ao.producer_epoch = p.epoch;
        ao.group_id = "g";
        ASSERT_EQ(f.call(ao, 3).error_code, 0);
        protocol::txn_offset_commit_request tc;
        tc.transactional_id = "tx";
        tc.group_id = "g";
        tc.producer_id = p.id;
        tc.producer_epoch = p.epoch;
        tc.topics.push_back({"in", {{0, commit ? 42 : 17, -1, std::string("m")}}});
        auto r = f.call(tc, 3);
        ASSERT_EQ(r.topics.at(0).partitions.at(0).error_code, 0);
        int16_t err = 0;
        EXPECT_EQ(committed_offset("g", "in", 0), -1);
        committed_offset("g", "in", 0, /*require_stable=*/true, &err);
        EXPECT_EQ(err, code(error_code::unstable_offset_commit));
        ASSERT_EQ(end("tx", p, commit), 0);
        committed_offset("g", "in", 0, true, &err);
        EXPECT_EQ(err, 0);
        EXPECT_EQ(committed_offset("g", "in", 0), commit ? 42 : -1);
    }
    f.restart();
    // Replayed from __consumer_offsets: the aborted offset stays invisible, the committed one is back.
    EXPECT_EQ(committed_offset("g", "in", 0), 42);
}

TEST_F(txn_fixture, state_and_open_transactions_survive_a_restart)
{
    f.create_topic("t");
    auto p = init("tx");
    ASSERT_EQ(add("tx", p, "t", {0}), 0);
    ASSERT_EQ(send("t", 0, p, 2), 0);
    f.restart();
    EXPECT_EQ(fetch("t", 0, true).last_stable_offset, 0);
    ASSERT_EQ(end("tx", p, true), 0);
    EXPECT_EQ(data_records(fetch("t", 0, true)), 2u);
    f.restart();
    auto again = init("tx");
    EXPECT_EQ(again.id, p.id);
    EXPECT_EQ(again.epoch, p.epoch + 1);
}

TEST_F(txn_fixture, a_transaction_past_its_timeout_is_aborted)
{
    f.create_topic("t");
    auto p = init("tx", 1);
    ASSERT_EQ(add("tx", p, "t", {0}), 0);
    ASSERT_EQ(send("t", 0, p, 2), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    f.broker().txns->tick();
    auto r = fetch("t", 0, true);
    EXPECT_EQ(r.last_stable_offset, 3);
    ASSERT_TRUE(r.aborted_transactions);
    EXPECT_EQ(r.aborted_transactions->size(), 1u);
    EXPECT_EQ(end("tx", p, true), code(error_code::producer_fenced));
}

TEST_F(txn_fixture, describe_and_list_transactions)
{
    f.create_topic("t");
    auto p = init("tx");
    ASSERT_EQ(add("tx", p, "t", {0}), 0);
    init("idle");
    protocol::describe_transactions_request dr;
    dr.transactional_ids = {"tx", "nope"};
    auto d = f.call(dr, 0);
    ASSERT_EQ(d.transaction_states.size(), 2u);
    auto& e = d.transaction_states[0];
    EXPECT_EQ(e.error_code, 0);
    EXPECT_EQ(e.transaction_state, "Ongoing");
    EXPECT_EQ(e.producer_id, p.id);
    EXPECT_EQ(e.transaction_timeout_ms, 60'000);
    ASSERT_EQ(e.topics.size(), 1u);
    EXPECT_EQ(e.topics[0].topic, "t");
    EXPECT_EQ(d.transaction_states[1].error_code, code(error_code::transactional_id_not_found));

    protocol::list_transactions_request lr;
    auto all = f.call(lr, 1);
    EXPECT_EQ(all.transaction_states.size(), 2u);
    lr.state_filters = {"Ongoing", "Bogus"};
    auto ongoing = f.call(lr, 1);
    ASSERT_EQ(ongoing.transaction_states.size(), 1u);
    EXPECT_EQ(ongoing.transaction_states[0].transactional_id, "tx");
    EXPECT_EQ(ongoing.unknown_state_filters, std::vector<std::string>{"Bogus"});
}

TEST_F(txn_fixture, write_txn_markers_from_another_coordinator)
{
    f.create_topic("t");
    auto p = init("tx");
    ASSERT_EQ(add("tx", p, "t", {0}), 0);
    ASSERT_EQ(send("t", 0, p, 2), 0);
    protocol::write_txn_markers_request req;
    protocol::write_txn_markers_request::writable_txn_marker m;
    m.producer_id = p.id;
    m.producer_epoch = p.epoch;
    m.transaction_result = true;
    m.coordinator_epoch = 0;
    m.topics.push_back({"t", {0, 9}});
    req.markers.push_back(m);
    auto r = f.call(req, 1);
    auto& parts = r.markers.at(0).topics.at(0).partitions;
    EXPECT_EQ(parts.at(0).error_code, 0);
    EXPECT_EQ(parts.at(1).error_code, code(error_code::unknown_topic_or_partition));
    EXPECT_EQ(data_records(fetch("t", 0, true)), 2u);
}

} // namespace
} // namespace samsa::kafka::test
