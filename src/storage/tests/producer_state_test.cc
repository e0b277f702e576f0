// Producer state: sequence and epoch checks, duplicates, the snapshot format, and the log
// rebuilding the state from snapshots and batches after a clean or unclean stop.
#include "protocol/record_batch_builder.h"
#include "bytes/endian.h"
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/mem_file_ops.h"
#include "storage/producer_state.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <algorithm>
#include <limits>

namespace samsa::storage {
namespace {

constexpr int64_t base_ts = 1'700'000'000'000;

/// A batch of `records` records from producer `pid` at `epoch`, starting at sequence `seq`.
bytes producer_batch_bytes(int64_t pid, int16_t epoch, int32_t seq, int records = 2, bool transactional = false,
                           int64_t ts = base_ts)
{
    protocol::batch_builder::options o;
    o.pid = producer_id(pid);
    o.epoch = producer_epoch(epoch);
    o.base_sequence = seq;
    o.transactional = transactional;
    protocol::batch_builder b(o);
    for (int i = 0; i < records; ++i) b.add(fmt::format("k{}", i), fmt::format("pid {} seq {}", pid, seq + i), timestamp_ms(ts));
    return b.build();
}

protocol::batch_header header(int64_t pid, int16_t epoch, int32_t seq, int records, int64_t base_offset,
                              int64_t ts = base_ts)
{
    protocol::batch_header h;
    h.pid = producer_id(pid);
    h.epoch = producer_epoch(epoch);
    h.base_sequence = seq;
    h.last_offset_delta = records - 1;
    h.base_offset = offset(base_offset);
    h.max_timestamp = timestamp_ms(ts);
    h.record_count = records;
    return h;
}

/// Checks one batch against `s` and commits it; returns the outcome of the check.
result<std::optional<producer_batch>> apply(producer_state& s, const protocol::batch_header& h)
{
    producer_state::append a(s);
    auto r = a.check(h);
    if (r && !*r) a.commit(s);
    return r;
}

template<typename T>
std::error_code code(const result<T>& r)
{
    return r ? std::error_code{} : r.error();
}

TEST(producer_state, sequences_follow_on_within_an_epoch)
{
    producer_state s;
    EXPECT_FALSE(code(apply(s, header(7, 0, 0, 3, 0))));
    EXPECT_FALSE(code(apply(s, header(7, 0, 3, 2, 3))));
    auto* e = s.find(producer_id(7));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->last_seq(), 4);
    EXPECT_EQ(e->last_offset(), offset(4));
    // A gap, and a sequence from the past that matches no remembered batch.
    EXPECT_EQ(code(apply(s, header(7, 0, 6, 1, 5))), make_error_code(errc::out_of_order_sequence));
    EXPECT_EQ(code(apply(s, header(7, 0, 2, 1, 5))), make_error_code(errc::out_of_order_sequence));
    EXPECT_EQ(s.find(producer_id(7))->last_seq(), 4);
}

TEST(producer_state, a_retry_returns_the_original_batch)
{
    producer_state s;
    for (int i = 0; i < 5; ++i) ASSERT_FALSE(code(apply(s, header(7, 0, i * 2, 2, 100 + i * 2))));
    // Each of the last five batches is recognised, with its offsets.
    for (int i = 0; i < 5; ++i) {
        auto r = apply(s, header(7, 0, i * 2, 2, 999));
        ASSERT_TRUE(r);
        ASSERT_TRUE(*r) << "batch " << i;
        EXPECT_EQ((*r)->first_offset(), offset(100 + i * 2));
        EXPECT_EQ((*r)->last_offset, offset(101 + i * 2));
    }
    // A sixth batch pushes the first out: it is no longer a duplicate, but out of order.
    ASSERT_FALSE(code(apply(s, header(7, 0, 10, 2, 110))));
    EXPECT_EQ(code(apply(s, header(7, 0, 0, 2, 999))), make_error_code(errc::out_of_order_sequence));
    // Same first sequence, different length: not the same batch.
    EXPECT_EQ(code(apply(s, header(7, 0, 10, 3, 999))), make_error_code(errc::out_of_order_sequence));
}

TEST(producer_state, epochs)
{
    producer_state s;
    ASSERT_FALSE(code(apply(s, header(7, 3, 0, 2, 0))));
    // Older epoch: fenced.
    EXPECT_EQ(code(apply(s, header(7, 2, 2, 1, 2))), make_error_code(errc::invalid_producer_epoch));
    // A newer epoch starts over at 0 ...
    EXPECT_EQ(code(apply(s, header(7, 4, 5, 1, 2))), make_error_code(errc::out_of_order_sequence));
    ASSERT_FALSE(code(apply(s, header(7, 4, 0, 1, 2))));
    EXPECT_EQ(s.find(producer_id(7))->epoch, producer_epoch(4));
    EXPECT_EQ(s.find(producer_id(7))->batches.size(), 1u);
    // ... and a retry of the old epoch's batch is not recognised any more.
    EXPECT_EQ(code(apply(s, header(7, 3, 0, 2, 9))), make_error_code(errc::invalid_producer_epoch));
}

TEST(producer_state, after_a_marker_of_a_new_epoch_the_next_batch_starts_at_0)
{
    // Transaction version 2: the commit marker carries the bumped epoch; the next transaction's
    // first batch (sequence 0) may be refused (its coordinator still busy) while the second one
    // arrives: that one must wait, or the first could never follow it.
    producer_state s;
    ASSERT_FALSE(code(apply(s, header(7, 3, 0, 3, 0))));
    auto marker = header(7, 4, -1, 1, 3);
    marker.attributes |= protocol::batch_attr::control | protocol::batch_attr::transactional;
    control_marker commit{marker_type::commit, 0};
    {
        producer_state::append a(s);
        ASSERT_TRUE(a.check(marker, &commit));
        a.commit(s);
    }
    EXPECT_EQ(s.find(producer_id(7))->epoch, producer_epoch(4));
    EXPECT_EQ(code(apply(s, header(7, 4, 3, 2, 4))), make_error_code(errc::out_of_order_sequence));
    ASSERT_FALSE(code(apply(s, header(7, 4, 0, 3, 4))));
    EXPECT_FALSE(code(apply(s, header(7, 4, 3, 2, 7))));
}

TEST(producer_state, an_unknown_producer_may_start_anywhere)
{
    // Its earlier batches may have gone with retention or DeleteRecords (as Kafka, KIP-360).
    producer_state s;
    EXPECT_FALSE(code(apply(s, header(9, 1, 42, 3, 0))));
    EXPECT_EQ(s.find(producer_id(9))->last_seq(), 44);
    EXPECT_FALSE(code(apply(s, header(9, 1, 45, 1, 3))));
    // Batches without a producer id are not tracked.
    EXPECT_FALSE(code(apply(s, header(-1, -1, -1, 3, 4))));
    EXPECT_EQ(s.entries().size(), 1u);
}

TEST(producer_state, sequences_wrap_past_int32_max)
{
    constexpr int32_t max = std::numeric_limits<int32_t>::max();
    EXPECT_EQ(increment_sequence(max, 1), 0);
    EXPECT_EQ(increment_sequence(max - 1, 3), 1);
    EXPECT_EQ(increment_sequence(5, 3), 8);
    producer_state s;
    ASSERT_FALSE(code(apply(s, header(7, 0, max - 1, 2, 0))));
    EXPECT_EQ(s.find(producer_id(7))->last_seq(), max);
    EXPECT_FALSE(code(apply(s, header(7, 0, 0, 2, 2))));
    // A batch spanning the wrap.
    ASSERT_FALSE(code(apply(s, header(8, 0, max - 1, 4, 4))));
    EXPECT_EQ(s.find(producer_id(8))->last_seq(), 1);
    EXPECT_FALSE(code(apply(s, header(8, 0, 2, 1, 8))));
}

TEST(producer_state, the_batches_of_one_append_are_checked_in_order)
{
    producer_state s;
    producer_state::append a(s);
    ASSERT_FALSE(code(a.check(header(7, 0, 0, 2, 0))));
    ASSERT_FALSE(code(a.check(header(7, 0, 2, 2, 2))));
    EXPECT_EQ(code(a.check(header(7, 0, 9, 1, 4))), make_error_code(errc::out_of_order_sequence));
    // Nothing is applied until commit.
    EXPECT_TRUE(s.empty());
    a.commit(s);
    EXPECT_EQ(s.find(producer_id(7))->last_seq(), 3);
}

TEST(producer_state, expiration_spares_open_transactions)
{
    producer_state s;
    ASSERT_FALSE(code(apply(s, header(1, 0, 0, 1, 0, 1000))));
    auto t = header(2, 0, 0, 1, 1, 1000);
    t.attributes |= protocol::batch_attr::transactional;
    ASSERT_FALSE(code(apply(s, t)));
    EXPECT_EQ(s.find(producer_id(2))->current_txn_first_offset, offset(1));
    ASSERT_FALSE(code(apply(s, header(3, 0, 0, 1, 2, 5000))));
    EXPECT_EQ(s.remove_expired(timestamp_ms(5999), 5000), 0u);
    EXPECT_EQ(s.remove_expired(timestamp_ms(6000), 5000), 1u);
    EXPECT_FALSE(s.find(producer_id(1)));
    EXPECT_TRUE(s.find(producer_id(2)));
    // A marker ends the transaction; then it expires too.
    auto marker = header(2, 0, -1, 1, 3, 1000);
    marker.attributes |= protocol::batch_attr::control | protocol::batch_attr::transactional;
    control_marker commit{marker_type::commit, 0};
    auto done = s.replay(marker, &commit);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->first_offset, offset(1));
    EXPECT_FALSE(done->aborted);
    EXPECT_FALSE(s.first_ongoing_offset());
    EXPECT_EQ(s.find(producer_id(2))->current_txn_first_offset, offset(-1));
    EXPECT_EQ(s.remove_expired(timestamp_ms(6000), 5000), 1u);
    EXPECT_TRUE(s.find(producer_id(3)));
}

TEST(producer_state, snapshot_round_trip_in_kafkas_layout)
{
    producer_state s;
    ASSERT_FALSE(code(apply(s, header(1000, 2, 0, 3, 10, 111))));
    ASSERT_FALSE(code(apply(s, header(1000, 2, 3, 4, 13, 222))));
    ASSERT_FALSE(code(apply(s, header(5, 0, 7, 1, 20, 333))));
    auto data = s.encode_snapshot();
    // int16 version, uint32 crc, int32 count, then 46 bytes per producer, by producer id.
    ASSERT_EQ(data.size(), 10u + 2 * 46);
    EXPECT_EQ(data[0], 0);
    EXPECT_EQ(data[1], 1);
    EXPECT_EQ(data[9], 2);
    EXPECT_EQ(data[10 + 7], 5); // the first entry's producer id, big-endian
    producer_state r;
    ASSERT_TRUE(r.decode_snapshot(data));
    ASSERT_EQ(r.entries().size(), 2u);
    auto* e = r.find(producer_id(1000));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->epoch, producer_epoch(2));
    ASSERT_EQ(e->batches.size(), 1u); // only the last batch is in the file
    EXPECT_EQ(e->batches.back().first_seq, 3);
    EXPECT_EQ(e->last_seq(), 6);
    EXPECT_EQ(e->last_offset(), offset(16));
    EXPECT_EQ(e->batches.back().first_offset(), offset(13));
    EXPECT_EQ(e->last_timestamp, timestamp_ms(222));
    // The restored state recognises the last batch and takes the next one.
    EXPECT_TRUE(*apply(r, header(1000, 2, 3, 4, 99)));
    EXPECT_FALSE(code(apply(r, header(1000, 2, 7, 1, 17))));
    // Any flipped byte is caught by the CRC (or the version / length checks).
    for (size_t i = 0; i < data.size(); ++i) {
        auto bad = data;
        bad[i] ^= 0x40;
        producer_state x;
        EXPECT_FALSE(x.decode_snapshot(bad)) << "byte " << i;
    }
    producer_state x;
    EXPECT_FALSE(x.decode_snapshot(bytes_view(data).first(data.size() - 1)));
    EXPECT_TRUE(x.decode_snapshot(producer_state{}.encode_snapshot()));
}

struct producer_log : ::testing::Test {
    mem_file_ops fs;
    manual_clock clk{base_ts};
    log_config cfg;
    std::unique_ptr<log> l;

    void open(log_open_options o = {})
    {
        auto r = log::open(fs, "/data/t-0", {"t", partition_id(0)}, cfg, clk, o);
        ASSERT_TRUE(r) << r.error().message();
        l = std::move(*r);
    }
    result<append_info> produce(int64_t pid, int16_t epoch, int32_t seq, int records = 2)
    {
        auto b = producer_batch_bytes(pid, epoch, seq, records);
        return l->append_as_leader(b, leader_epoch(0));
    }
    std::vector<std::string> snapshots()
    {
        std::vector<std::string> out;
        for (auto& n : fs.list_dir("/data/t-0").value()) {
            if (n.ends_with(".snapshot")) out.push_back(n);
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

TEST_F(producer_log, a_duplicate_is_answered_with_its_offsets_and_not_written)
{
    open();
    ASSERT_TRUE(produce(7, 0, 0));
    auto second = produce(7, 0, 2, 3);
    ASSERT_TRUE(second);
    EXPECT_FALSE(second->duplicate);
    auto again = produce(7, 0, 2, 3);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->first_offset, second->first_offset);
    EXPECT_EQ(again->last_offset, second->last_offset);
    EXPECT_EQ(l->log_end_offset(), offset(5));
    auto gap = produce(7, 0, 9);
    ASSERT_FALSE(gap);
    EXPECT_EQ(gap.error(), make_error_code(errc::out_of_order_sequence));
    // A new epoch from 0; then the old epoch is fenced.
    ASSERT_TRUE(produce(7, 1, 0));
    EXPECT_EQ(code(produce(7, 0, 5)), make_error_code(errc::invalid_producer_epoch));
    EXPECT_EQ(l->log_end_offset(), offset(7));
}

TEST_F(producer_log, clean_close_snapshots_at_the_end_and_reopen_replays_nothing)
{
    open();
    ASSERT_TRUE(produce(7, 0, 0));
    ASSERT_TRUE(produce(8, 1, 0, 4));
    ASSERT_TRUE(l->close(true));
    EXPECT_EQ(snapshots(), std::vector<std::string>{"00000000000000000006.snapshot"});
    l.reset();
    open({.clean_shutdown = true, .recovery_point = offset(6)});
    ASSERT_EQ(l->producers().entries().size(), 2u);
    EXPECT_EQ(l->producers().find(producer_id(8))->last_seq(), 3);
    auto dup = produce(8, 1, 0, 4);
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->first_offset, offset(2));
}

TEST_F(producer_log, a_crash_rebuilds_the_state_from_the_roll_snapshot_and_the_batches_after_it)
{
    cfg.segment_bytes = 400;
    open();
    int32_t seq = 0;
    for (int i = 0; i < 20; ++i, seq += 2) ASSERT_TRUE(produce(7, 0, seq));
    ASSERT_TRUE(produce(9, 0, 0, 1));
    ASSERT_GT(l->segment_count(), 3u);
    // A snapshot at every roll (the newest at the active segment's base).
    auto snaps = snapshots();
    EXPECT_EQ(snaps.size(), l->segment_count() - 1);
    EXPECT_EQ(l->producer_snapshots().size(), snaps.size());
    EXPECT_EQ(*l->producer_snapshots().rbegin(), l->segment_base_offsets().back());
    auto before = l->producers().entries();
    // No close: as after a kill.
    l.reset();
    open();
    ASSERT_EQ(l->producers().entries().size(), before.size());
    EXPECT_EQ(l->producers().find(producer_id(7))->last_seq(), 39);
    EXPECT_EQ(l->producers().find(producer_id(7))->last_offset(), before.at(producer_id(7)).last_offset());
    EXPECT_EQ(l->producers().find(producer_id(9))->last_seq(), 0);
    auto dup = produce(7, 0, 38);
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(code(produce(7, 0, 41)), make_error_code(errc::out_of_order_sequence));
}

TEST_F(producer_log, corrupt_or_missing_snapshots_fall_back_to_older_ones_or_the_whole_log)
{
    cfg.segment_bytes = 400;
    open();
    int32_t seq = 0;
    for (int i = 0; i < 20; ++i, seq += 2) ASSERT_TRUE(produce(7, 0, seq));
    l.reset();
    auto snaps = snapshots();
    ASSERT_GE(snaps.size(), 2u);
    // The newest snapshot is torn.
    ASSERT_TRUE(fs.write_file_atomic("/data/t-0/" + snaps.back(), as_bytes(std::string("xx"))));
    open();
    EXPECT_EQ(l->producers().find(producer_id(7))->last_seq(), 39);
    EXPECT_EQ(snapshots().size(), snaps.size() - 1);
    l.reset();
    // None at all: the whole log is replayed.
    for (auto& s : snapshots()) ASSERT_TRUE(fs.remove("/data/t-0/" + s));
    open();
    EXPECT_EQ(l->producers().find(producer_id(7))->last_seq(), 39);
}

TEST_F(producer_log, truncation_rewinds_the_state)
{
    cfg.segment_bytes = 400;
    open();
    int32_t seq = 0;
    for (int i = 0; i < 20; ++i, seq += 2) ASSERT_TRUE(produce(7, 0, seq));
    // Batch i holds offsets 2i, 2i+1 and sequences 2i, 2i+1: keep 7 batches.
    ASSERT_TRUE(l->truncate_to(offset(14)));
    EXPECT_EQ(l->producers().find(producer_id(7))->last_seq(), 13);
    for (auto o : l->producer_snapshots()) EXPECT_LE(o, offset(14));
    EXPECT_TRUE(produce(7, 0, 14));
}

TEST_F(producer_log, replicated_batches_update_the_state_without_checks)
{
    open();
    auto b = producer_batch_bytes(7, 3, 50, 2);
    protocol::set_base_offset(b, offset(0));
    ASSERT_TRUE(l->append_with_offsets(b));
    EXPECT_EQ(l->producers().find(producer_id(7))->last_seq(), 51);
    EXPECT_EQ(l->producers().find(producer_id(7))->epoch, producer_epoch(3));
}

TEST_F(producer_log, idle_producers_expire)
{
    open();
    ASSERT_TRUE(produce(7, 0, 0));
    clk.advance(1000);
    EXPECT_EQ(l->remove_expired_producers(5000), 0u);
    clk.advance(5000);
    EXPECT_EQ(l->remove_expired_producers(5000), 1u);
    EXPECT_TRUE(l->producers().empty());
}

bytes marker_batch(int64_t pid, int16_t epoch, marker_type type, int32_t coordinator_epoch)
{
    return build_control_batch(producer_id(pid), producer_epoch(epoch), control_marker{type, coordinator_epoch},
                               timestamp_ms(base_ts));
}

struct txn_log : producer_log {
    result<append_info> txn_produce(int64_t pid, int32_t seq, int records = 2)
    {
        auto b = producer_batch_bytes(pid, 0, seq, records, /*transactional=*/true);
        auto r = l->append_as_leader(b, leader_epoch(0));
        if (r) l->set_high_watermark(l->log_end_offset());
        return r;
    }
    result<append_info> mark(int64_t pid, marker_type t, int32_t coordinator_epoch = 0, bool advance_hw = true,
                             append_origin origin = append_origin::coordinator)
    {
        auto b = marker_batch(pid, 0, t, coordinator_epoch);
        auto r = l->append_as_leader(b, leader_epoch(0), false, origin);
        if (r && advance_hw) l->set_high_watermark(l->log_end_offset());
        return r;
    }
};

TEST_F(txn_log, markers_move_the_last_stable_offset_and_aborts_are_indexed)
{
    open();
    ASSERT_TRUE(txn_produce(1, 0));            // 0-1
    ASSERT_TRUE(txn_produce(2, 0));            // 2-3
    ASSERT_TRUE(produce(3, 0, 0));             // 4-5, not transactional
    EXPECT_EQ(l->high_watermark(), offset(4)); // produce() does not move it
    l->set_high_watermark(l->log_end_offset());
    EXPECT_EQ(l->last_stable_offset(), offset(0));
    ASSERT_TRUE(mark(1, marker_type::commit)); // 6
    EXPECT_EQ(l->last_stable_offset(), offset(2));
    // A marker not yet below the high watermark keeps its transaction unstable.
    ASSERT_TRUE(mark(2, marker_type::abort, 0, /*advance_hw=*/false)); // 7
    EXPECT_EQ(l->last_stable_offset(), offset(2));
    l->set_high_watermark(l->log_end_offset());
    EXPECT_EQ(l->last_stable_offset(), offset(8));
    auto aborted = l->aborted_transactions(offset(0), offset(8));
    ASSERT_EQ(aborted.size(), 1u);
    EXPECT_EQ(aborted[0].pid, producer_id(2));
    EXPECT_EQ(aborted[0].first_offset, offset(2));
    EXPECT_EQ(aborted[0].last_offset, offset(7));
    EXPECT_TRUE(l->aborted_transactions(offset(8), offset(8)).empty());
    EXPECT_TRUE(l->aborted_transactions(offset(0), offset(2)).empty());
    EXPECT_EQ(fs.read_file("/data/t-0/00000000000000000000.txnindex").value().size(), 34u);
    // Markers only from the coordinator, and never from an older coordinator epoch.
    ASSERT_TRUE(txn_produce(4, 0)); // 8-9
    EXPECT_EQ(code(mark(4, marker_type::commit, 0, true, append_origin::client)), make_error_code(errc::invalid_batch));
    ASSERT_TRUE(mark(4, marker_type::commit, 5));
    ASSERT_TRUE(txn_produce(4, 2));
    EXPECT_EQ(code(mark(4, marker_type::abort, 4)), make_error_code(errc::coordinator_fenced));
    EXPECT_EQ(l->last_stable_offset(), offset(11));
}

TEST_F(txn_log, the_aborted_index_and_open_transactions_survive_a_crash_and_a_clean_restart)
{
    cfg.segment_bytes = 600;
    open();
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(txn_produce(10 + i, 0, 3));
        ASSERT_TRUE(mark(10 + i, i % 2 ? marker_type::commit : marker_type::abort));
    }
    ASSERT_TRUE(txn_produce(99, 0)); // left open
    ASSERT_GT(l->segment_count(), 2u);
    auto aborted = l->aborted_transactions(offset(0), l->log_end_offset());
    ASSERT_EQ(aborted.size(), 3u);
    auto lso = l->last_stable_offset();
    EXPECT_EQ(lso, l->log_end_offset() - 2);
    auto hw = l->high_watermark();
    l.reset(); // a crash
    open({.high_watermark = hw});
    EXPECT_EQ(l->aborted_transactions(offset(0), l->log_end_offset()), aborted);
    EXPECT_EQ(l->last_stable_offset(), lso);
    ASSERT_TRUE(l->close(true));
    l.reset();
    open({.clean_shutdown = true, .recovery_point = hw, .high_watermark = hw});
    EXPECT_EQ(l->aborted_transactions(offset(0), l->log_end_offset()), aborted);
    EXPECT_EQ(l->last_stable_offset(), lso);
    // The index files themselves are gone with their segments.
    size_t files = 0;
    for (auto& n : fs.list_dir("/data/t-0").value()) files += n.ends_with(".txnindex");
    EXPECT_GE(files, 1u);
    // Truncation below an abort marker drops it.
    ASSERT_TRUE(l->truncate_to(aborted.back().last_offset));
    EXPECT_EQ(l->aborted_transactions(offset(0), l->log_end_offset()).size(), 2u);
}

} // namespace
} // namespace samsa::storage
