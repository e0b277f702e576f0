#include "storage/errc.h"
#include "storage/background.h"
#include "storage/faulty_file_ops.h"
#include "storage/index_file.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "storage/mem_file_ops.h"
#include "storage/tests/test_batches.h"

#include <gtest/gtest.h>

namespace samsa::storage {
namespace {

using test::make_batch;

struct log_fixture : ::testing::Test {
    mem_file_ops fs;
    manual_clock clk{1'700'000'000'000};
    log_config cfg;
    std::unique_ptr<log> l;
    std::vector<bytes> appended; // batch n, as the producer sent it

    void open(log_open_options o = {})
    {
        auto r = log::open(fs, "/data/t-0", {"t", partition_id(0)}, cfg, clk, o);
        ASSERT_TRUE(r) << r.error().message();
        l = std::move(*r);
    }

    append_info append(int records = 3, size_t value_bytes = 40, leader_epoch e = leader_epoch(0))
    {
        auto b = make_batch(static_cast<int64_t>(appended.size()), records, value_bytes);
        appended.push_back(b);
        auto r = l->append_as_leader(b, e);
        EXPECT_TRUE(r) << r.error().message();
        return r ? *r : append_info{};
    }

    /// Reads every batch from the start and checks it against what was appended.
    void expect_all_readable(size_t batches, size_t first = 0)
    {
        offset next = l->log_start_offset();
        size_t n = first;
        while (next < l->log_end_offset()) {
            auto s = l->read(next, 1 << 20, l->log_end_offset(), true);
            ASSERT_TRUE(s) << s.error().message();
            ASSERT_FALSE(s->empty());
            auto data = s->read_all().value();
            protocol::batch_iterator it(data);
            while (auto h = it.next()) {
                ASSERT_LT(n, appended.size());
                EXPECT_EQ(test::covered(it.current()), test::covered(appended[n])) << "batch " << n;
                next = h->next_offset();
                ++n;
            }
            ASSERT_FALSE(it.error()) << it.error().message();
        }
        EXPECT_EQ(n - first, batches);
    }
};

TEST_F(log_fixture, append_assigns_offsets_and_reads_back)
{
    open();
    for (int i = 0; i < 50; ++i) {
        auto info = append();
        EXPECT_EQ(info.first_offset, offset(i * 3));
        EXPECT_EQ(info.last_offset, offset(i * 3 + 2));
    }
    EXPECT_EQ(l->log_end_offset(), offset(150));
    expect_all_readable(50);
    // A read from the middle of a batch returns that whole batch first.
    auto s = l->read(offset(31), 1, offset(150), true).value();
    EXPECT_EQ(s.first_offset, offset(30));
    EXPECT_EQ(s.last_offset, offset(32));
    EXPECT_EQ(s.size, appended[10].size());
}

TEST_F(log_fixture, read_limits)
{
    open();
    for (int i = 0; i < 10; ++i) append();
    size_t one = appended[0].size();
    auto two = l->read(offset(0), 2 * one + 5, offset(30), true).value();
    EXPECT_EQ(two.size, 2 * one);
    EXPECT_EQ(two.last_offset, offset(5));
    // Never a partial batch; at least one only when min_one.
    EXPECT_EQ(l->read(offset(0), 10, offset(30), true).value().size, one);
    EXPECT_TRUE(l->read(offset(0), 10, offset(30), false).value().empty());
    // The upper bound (high watermark) stops whole batches.
    EXPECT_EQ(l->read(offset(0), 1 << 20, offset(6), true).value().last_offset, offset(5));
    EXPECT_TRUE(l->read(offset(30), 100, offset(30), true).value().empty());
    EXPECT_EQ(l->read(offset(31), 100, offset(31), true).error(), make_error_code(errc::offset_out_of_range));
    EXPECT_EQ(l->read(offset(-1), 100, offset(31), true).error(), make_error_code(errc::offset_out_of_range));
}

TEST_F(log_fixture, rejects_invalid_batches_whole)
{
    open();
    auto good = make_batch(0);
    auto bad = make_batch(1);
    bad.back() ^= 1;
    bytes both = good;
    both.insert(both.end(), bad.begin(), bad.end());
    EXPECT_EQ(l->append_as_leader(both, leader_epoch(0)).error(), make_error_code(errc::invalid_batch));
    EXPECT_EQ(l->log_end_offset(), offset(0));
    bytes empty;
    EXPECT_FALSE(l->append_as_leader(empty, leader_epoch(0)));
}

TEST_F(log_fixture, rolls_on_segment_bytes_and_keeps_index_lookups_right)
{
    cfg.segment_bytes = 4096;
    cfg.index_interval_bytes = 300;
    open();
    for (int i = 0; i < 200; ++i) append(3, 100);
    EXPECT_GT(l->segment_count(), 10u);
    for (auto b : l->segment_base_offsets()) EXPECT_EQ(b() % 3, 0);
    expect_all_readable(200);
    for (int64_t o = 0; o < 600; o += 7) {
        auto s = l->read(offset(o), 1, offset(600), true).value();
        EXPECT_LE(s.first_offset, offset(o));
        EXPECT_GE(s.last_offset, offset(o));
    }
}

TEST(index_file_cache, many_active_logs_share_a_bounded_set_of_index_descriptors)
{
    mem_file_ops fs;
    manual_clock clk;
    auto before = index_file::max_open();
    index_file::set_max_open(4);
    {
        log_config cfg;
        cfg.index_interval_bytes = 100; // an index entry (and its file) with every batch
        std::vector<std::unique_ptr<log>> logs;
        for (int p = 0; p < 10; ++p) {
            logs.push_back(log::open(fs, fmt::format("/data/t-{}", p), {"t", partition_id(p)}, cfg, clk, {}).value());
        }
        for (int round = 0; round < 5; ++round) {
            for (auto& l : logs) {
                auto b = make_batch(l->log_end_offset()(), 3, 100);
                ASSERT_TRUE(l->append_as_leader(b, leader_epoch(0)));
                EXPECT_LE(index_file::open_count(), 4u);
            }
        }
        // Closed indexes reopen when needed: every log still finds every offset through its index.
        for (auto& l : logs) {
            for (int64_t o = 0; o < 15; ++o) {
                auto s = l->read(offset(o), 1, offset(15), true).value();
                EXPECT_LE(s.first_offset, offset(o));
                EXPECT_GE(s.last_offset, offset(o));
            }
            EXPECT_TRUE(l->find_by_timestamp(timestamp_ms(0)).value());
        }
        EXPECT_LE(index_file::open_count(), 4u);
    }
    EXPECT_EQ(index_file::open_count(), 0u);
    index_file::set_max_open(before);
}

TEST_F(log_fixture, rolls_on_segment_ms_and_full_index)
{
    cfg.segment_ms = 1000;
    open();
    append();
    // Ages are measured between batch timestamps, not against the wall clock: an old
    // CreateTime timestamp alone does not roll.
    clk.advance(10 * cfg.segment_ms);
    append();
    EXPECT_EQ(l->segment_count(), 1u);
    auto later = make_batch(2, 3, 40, 1'700'000'000'000 + 2000);
    ASSERT_TRUE(l->append_as_leader(later, leader_epoch(0)));
    appended.push_back(later);
    EXPECT_EQ(l->segment_count(), 2u);
    auto b_next = make_batch(3, 3, 40, 1'700'000'000'000 + 2500);
    ASSERT_TRUE(l->append_as_leader(b_next, leader_epoch(0)));
    EXPECT_EQ(l->segment_count(), 2u);

    cfg = log_config{};
    cfg.segment_index_bytes = 16; // two offset-index entries
    cfg.index_interval_bytes = 1;
    fs.remove_all("/data/t-0");
    appended.clear();
    open();
    for (int i = 0; i < 8; ++i) append();
    EXPECT_GE(l->segment_count(), 2u);
    expect_all_readable(8);
}

TEST_F(log_fixture, retention_by_time_rolls_and_deletes_an_expired_active_segment)
{
    cfg.segment_bytes = 1024;
    cfg.retention_ms = 60'000;
    cfg.file_delete_delay_ms = 1000;
    open();
    for (int i = 0; i < 40; ++i) append(3, 100);
    auto segs = l->segment_count();
    ASSERT_GT(segs, 3u);
    // The active segment is kept while part of it is above the high watermark.
    l->set_high_watermark(l->segment_base_offsets().back());
    // Batch timestamps are 1.7e12 + n; move the clock 2 minutes past them.
    clk.set(1'700'000'000'000 + 120'000);
    auto deleted = l->apply_retention().value();
    EXPECT_EQ(deleted, segs - 1);
    EXPECT_EQ(l->segment_count(), 1u);
    EXPECT_EQ(l->log_start_offset(), l->segment_base_offsets().front());
    auto names = fs.list_dir("/data/t-0").value();
    EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](auto& n) { return n.ends_with(".log.deleted"); }));
    clk.advance(1001);
    l->remove_deleted_files();
    names = fs.list_dir("/data/t-0").value();
    EXPECT_FALSE(std::any_of(names.begin(), names.end(), [](auto& n) { return n.ends_with(".deleted"); }));
    EXPECT_EQ(l->read(offset(0), 100, l->log_end_offset(), true).error(), make_error_code(errc::offset_out_of_range));
    // Once all of it is committed, the expired active segment goes too, as in Kafka: the log
    // rolls an empty segment at the log end and deletes the old one.
    auto end = l->log_end_offset();
    l->set_high_watermark(end);
    EXPECT_EQ(l->apply_retention().value(), 1u);
    EXPECT_EQ(l->segment_count(), 1u);
    EXPECT_EQ(l->log_start_offset(), end);
    EXPECT_EQ(l->log_end_offset(), end);
    EXPECT_EQ(l->segment_base_offsets().front(), end);
    // An empty active segment is never rolled again, and new appends land after the old end.
    EXPECT_EQ(l->apply_retention().value(), 0u);
    append(3, 100);
    EXPECT_EQ(l->log_end_offset(), offset(end() + 3));
}

TEST_F(log_fixture, retention_by_size_and_high_watermark)
{
    cfg.segment_bytes = 1024;
    cfg.retention_bytes = 3000;
    cfg.retention_ms = -1;
    open();
    for (int i = 0; i < 40; ++i) append(3, 100);
    // Nothing above the high watermark is deleted.
    l->set_high_watermark(offset(0));
    EXPECT_EQ(l->apply_retention().value(), 0u);
    l->set_high_watermark(l->log_end_offset());
    EXPECT_GT(l->apply_retention().value(), 0u);
    // What is left is under the limit plus at most one segment, and still all readable.
    EXPECT_LE(l->size_bytes(), 3000u + 1024u);
    EXPECT_GT(l->size_bytes(), 3000u - 1024u);
    size_t first = static_cast<size_t>(l->log_start_offset()() / 3);
    EXPECT_GT(first, 0u);
    expect_all_readable(40 - first, first);
}

TEST_F(log_fixture, delete_records_moves_log_start)
{
    cfg.segment_bytes = 1024;
    open();
    for (int i = 0; i < 30; ++i) append(3, 100);
    l->set_high_watermark(offset(60));
    EXPECT_EQ(l->advance_log_start_offset(offset(61)).error(), make_error_code(errc::offset_out_of_range));
    auto before = l->segment_count();
    ASSERT_TRUE(l->advance_log_start_offset(offset(40)));
    EXPECT_EQ(l->log_start_offset(), offset(40));
    EXPECT_LT(l->segment_count(), before);
    EXPECT_LE(l->segment_base_offsets().front(), offset(40));
    EXPECT_EQ(l->read(offset(39), 100, offset(90), true).error(), make_error_code(errc::offset_out_of_range));
    auto s = l->read(offset(40), 100, offset(90), true).value();
    EXPECT_LE(s.first_offset, offset(40));
    EXPECT_GE(s.last_offset, offset(40));
    // Survives a restart through the checkpointed start offset.
    ASSERT_TRUE(l->close(true));
    open({true, l->log_end_offset(), offset(40), offset(60)});
    EXPECT_EQ(l->log_start_offset(), offset(40));
}

TEST_F(log_fixture, find_by_timestamp)
{
    cfg.segment_bytes = 2048;
    cfg.index_interval_bytes = 100;
    open();
    for (int i = 0; i < 60; ++i) append(3, 100);
    // Batch n's records carry timestamp base + n.
    for (int n : {0, 1, 17, 33, 59}) {
        auto r = l->find_by_timestamp(timestamp_ms(1'700'000'000'000 + n)).value();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->off, offset(n * 3)) << n;
    }
    EXPECT_FALSE(l->find_by_timestamp(timestamp_ms(1'700'000'000'000 + 60)).value());
    EXPECT_EQ(l->find_by_timestamp(timestamp_ms(0)).value()->off, offset(0));
}

TEST_F(log_fixture, reads_at_the_tail_from_remembered_headers_match_reads_from_the_file)
{
    // The active segment keeps its last batches' headers; a reopened log has none and reads
    // every header from the file. Every read must come out the same either way: after plain
    // appends, log-append-time rewrites, a truncation and appends after it. One segment: the
    // truncation cuts into the active one.
    cfg.segment_bytes = 1 << 20;
    cfg.index_interval_bytes = 300;
    cfg.timestamp_type = protocol::timestamp_type::log_append_time;
    open();
    auto snapshot = [&] {
        std::vector<std::tuple<int64_t, uint64_t, uint32_t, int64_t, int64_t>> out;
        for (offset o = l->log_start_offset(); o <= l->log_end_offset(); o = o + 1) {
            for (size_t max : {size_t(1), size_t(200), size_t(700), size_t(1 << 20)}) {
                for (offset bound : {l->log_end_offset(), o + 4}) {
                    auto s = l->read(o, max, bound, max == 1).value();
                    out.emplace_back(o(), s.position, s.size, s.first_offset(), s.last_offset());
                }
            }
        }
        for (int n = 0; n < 1100; n += 7) {
            auto r = l->find_by_timestamp(timestamp_ms(1'700'000'000'000 + n)).value();
            out.emplace_back(-n, 0, 0, r ? r->off() : -1, 0);
        }
        return out;
    };
    auto reopened = [&] {
        auto leo = l->log_end_offset();
        EXPECT_TRUE(l->close(true));
        open({true, leo, offset(0), leo});
        return snapshot();
    };
    auto shape = [&](int i) { append(1 + i % 4, 20 + (i * 37) % 150); };
    for (int i = 0; i < 30; ++i) {
        clk.advance(1);
        shape(i);
    }
    auto live = snapshot();
    EXPECT_EQ(live, reopened());
    // Ten more (remembered by the reopened log), then the last five again, at the same
    // positions with the same sizes but stamped later: a header remembered from before the
    // truncation would answer the timestamp lookups wrong.
    offset cut;
    for (int i = 30; i < 40; ++i) {
        clk.advance(1);
        if (i == 35) cut = l->log_end_offset();
        shape(i);
    }
    ASSERT_TRUE(l->truncate_to(cut));
    EXPECT_EQ(l->log_end_offset(), cut);
    clk.advance(500);
    for (int i = 35; i < 40; ++i) {
        clk.advance(1);
        shape(i);
    }
    live = snapshot();
    EXPECT_EQ(live, reopened());
}

TEST_F(log_fixture, log_append_time)
{
    cfg.timestamp_type = protocol::timestamp_type::log_append_time;
    open();
    auto info = append();
    EXPECT_EQ(info.log_append_time, clk.now_ms());
    auto data = l->read(offset(0), 1000, offset(3), true).value().read_all().value();
    auto h = protocol::validate_batch(data).value();
    EXPECT_EQ(h.ts_type(), protocol::timestamp_type::log_append_time);
    EXPECT_EQ(h.max_timestamp, clk.now_ms());
}

TEST_F(log_fixture, clean_restart_keeps_everything)
{
    cfg.segment_bytes = 2048;
    open();
    for (int i = 0; i < 30; ++i) append(3, 100, leader_epoch(i < 10 ? 0 : 4));
    auto leo = l->log_end_offset();
    ASSERT_TRUE(l->close(true));
    open({true, leo, offset(0), leo});
    EXPECT_EQ(l->log_end_offset(), leo);
    EXPECT_EQ(l->recovery_point(), leo);
    expect_all_readable(30);
    EXPECT_EQ(l->epochs().entries(), (std::vector<epoch_entry>{{leader_epoch(0), offset(0)}, {leader_epoch(4), offset(30)}}));
    append();
    EXPECT_EQ(l->log_end_offset(), leo + 3);
}

TEST_F(log_fixture, crash_keeps_flushed_data_only)
{
    open();
    for (int i = 0; i < 5; ++i) append();
    ASSERT_TRUE(l->flush());
    EXPECT_EQ(l->recovery_point(), offset(15));
    for (int i = 0; i < 5; ++i) append();
    l.reset();
    fs.simulate_crash();
    open({false, offset(15), offset(0), offset(15)});
    EXPECT_EQ(l->log_end_offset(), offset(15));
    appended.resize(5);
    expect_all_readable(5);
}

TEST_F(log_fixture, flush_messages_syncs_every_append)
{
    cfg.flush_messages = 1;
    open();
    for (int i = 0; i < 4; ++i) {
        append();
        EXPECT_EQ(l->recovery_point(), l->log_end_offset());
    }
    l.reset();
    fs.simulate_crash();
    open({false, offset(0), offset(0), offset(0)});
    EXPECT_EQ(l->log_end_offset(), offset(12));
    expect_all_readable(4);
}

TEST_F(log_fixture, flush_ms_and_roll_flush)
{
    cfg.flush_ms = 1000;
    cfg.segment_bytes = 1024;
    open();
    append();
    ASSERT_TRUE(l->maybe_flush_by_time());
    EXPECT_EQ(l->recovery_point(), offset(0));
    clk.advance(1000);
    ASSERT_TRUE(l->maybe_flush_by_time());
    EXPECT_EQ(l->recovery_point(), offset(3));
    for (int i = 0; i < 20; ++i) append(3, 100);
    EXPECT_TRUE(l->roll_flush_pending());
    ASSERT_TRUE(l->flush_rolled());
    EXPECT_EQ(l->recovery_point(), l->segment_base_offsets().back());
}

TEST_F(log_fixture, truncate_to_removes_tail)
{
    cfg.segment_bytes = 1024;
    open();
    for (int i = 0; i < 30; ++i) append(3, 100, leader_epoch(i < 20 ? 1 : 2));
    ASSERT_TRUE(l->truncate_to(offset(31)));
    EXPECT_EQ(l->log_end_offset(), offset(30)); // the batch holding 31 goes whole
    EXPECT_EQ(l->epochs().latest_epoch(), leader_epoch(1));
    appended.resize(10);
    expect_all_readable(10);
    append(3, 100, leader_epoch(3));
    EXPECT_EQ(l->log_end_offset(), offset(33));
}

TEST_F(log_fixture, truncating_to_the_end_forgets_an_epoch_begun_there)
{
    // A leader that began epoch 2 and never appended in it, then followed again: a follower
    // truncating to its own end must not go on claiming epoch 2 (its fetches would diverge forever).
    open();
    append(3, 100, leader_epoch(1));
    ASSERT_TRUE(l->epochs().assign(leader_epoch(2), l->log_end_offset()));
    ASSERT_TRUE(l->truncate_to(l->log_end_offset()));
    EXPECT_EQ(l->log_end_offset(), offset(3));
    EXPECT_EQ(l->epochs().latest_epoch(), leader_epoch(1));
}

TEST_F(log_fixture, truncate_fully_and_start_at_replaces_the_log_and_survives_a_restart)
{
    // A follower whose log ends below the leader's log start: everything goes, the log starts
    // over at the leader's start, and takes the leader's batches from there.
    cfg.segment_bytes = 1024;
    open();
    for (int i = 0; i < 10; ++i) append(3, 100, leader_epoch(1));
    ASSERT_GT(l->segment_base_offsets().size(), 1u);
    ASSERT_TRUE(l->truncate_fully_and_start_at(offset(500)));
    EXPECT_EQ(l->log_start_offset(), offset(500));
    EXPECT_EQ(l->log_end_offset(), offset(500));
    EXPECT_EQ(l->high_watermark(), offset(500));
    EXPECT_EQ(l->segment_base_offsets(), std::vector<offset>{offset(500)});
    EXPECT_FALSE(l->epochs().latest_epoch());
    EXPECT_TRUE(l->producers().empty());
    auto b = make_batch(500, 2, 40);
    protocol::set_base_offset(b, offset(500));
    ASSERT_TRUE(l->append_with_offsets(b));
    EXPECT_EQ(l->log_end_offset(), offset(502));
    ASSERT_TRUE(l->flush());
    l.reset();
    open();
    EXPECT_EQ(l->log_start_offset(), offset(500));
    EXPECT_EQ(l->log_end_offset(), offset(502));
    auto read = l->read(offset(500), 1 << 20, offset(502), true);
    ASSERT_TRUE(read);
    EXPECT_EQ(test::covered(read->read_all().value()), test::covered(b));
}

TEST_F(log_fixture, fsync_failure_takes_log_offline)
{
    faulty_file_ops faulty(fs);
    auto r = log::open(faulty, "/data/t-0", {"t", partition_id(0)}, cfg, clk, {});
    ASSERT_TRUE(r);
    l = std::move(*r);
    append();
    faulty.inject({faulty_file_ops::op::sync, ".log", 0, -1, make_error_code(errc::io_error)});
    EXPECT_FALSE(l->flush());
    EXPECT_TRUE(l->offline());
    EXPECT_EQ(l->recovery_point(), offset(0));
    auto b = make_batch(1);
    EXPECT_EQ(l->append_as_leader(b, leader_epoch(0)).error(), make_error_code(errc::log_offline));
    faulty.clear();
    // Never retried and ignored: still offline even though fsync would now work.
    EXPECT_EQ(l->flush().error(), make_error_code(errc::log_offline));
    // Reads of what was written keep working.
    EXPECT_EQ(l->read(offset(0), 1000, offset(3), true).value().size, appended[0].size());
}

TEST_F(log_fixture, failed_write_leaves_no_partial_batch)
{
    faulty_file_ops faulty(fs);
    l = log::open(faulty, "/data/t-0", {"t", partition_id(0)}, cfg, clk, {}).value();
    append();
    faulty.inject({faulty_file_ops::op::write, ".log", 0, 1, make_error_code(errc::io_error), true});
    auto b = make_batch(1);
    EXPECT_FALSE(l->append_as_leader(b, leader_epoch(0)));
    EXPECT_EQ(l->log_end_offset(), offset(3));
    EXPECT_EQ(fs.raw("/data/t-0/00000000000000000000.log")->size(), appended[0].size());
    EXPECT_TRUE(l->offline());
}

TEST(log_manager, lifecycle_checkpoints_and_clean_shutdown)
{
    mem_file_ops fs;
    manual_clock clk;
    log_manager_config mc;
    mc.log_dirs = {"/d1", "/d2"};
    auto cfgfn = [](const topic_partition&) { return log_config{}; };
    {
        log_manager m(fs, clk, mc, cfgfn);
        ASSERT_TRUE(m.startup());
        for (int p = 0; p < 4; ++p) {
            auto* l = m.get_or_create({"t", partition_id(p)}, log_config{}).value();
            auto b = make_batch(p);
            ASSERT_TRUE(l->append_as_leader(b, leader_epoch(0)));
            l->set_high_watermark(l->log_end_offset());
        }
        // Partitions are spread over both directories.
        EXPECT_EQ(fs.list_dir("/d1").value().size(), 2u);
        EXPECT_EQ(fs.list_dir("/d2").value().size(), 2u);
        ASSERT_TRUE(m.remove({"t", partition_id(3)}));
        EXPECT_EQ(m.get({"t", partition_id(3)}), nullptr);
        ASSERT_TRUE(m.shutdown());
    }
    EXPECT_TRUE(fs.exists("/d1/.kafka_cleanshutdown"));
    auto rp = read_offset_checkpoint(fs, "/d1/recovery-point-offset-checkpoint").value();
    EXPECT_EQ(rp.size(), 2u);
    for (auto& [tp, o] : rp) EXPECT_EQ(o, offset(3));

    log_manager m(fs, clk, mc, cfgfn);
    ASSERT_TRUE(m.startup());
    EXPECT_FALSE(fs.exists("/d1/.kafka_cleanshutdown"));
    EXPECT_EQ(m.logs().size(), 3u);
    for (auto& [tp, l] : m.logs()) {
        EXPECT_EQ(l->log_end_offset(), offset(3));
        EXPECT_EQ(l->high_watermark(), offset(3));
    }
}

TEST(log_manager, retiring_many_logs_writes_checkpoints_once)
{
    mem_file_ops mem;
    faulty_file_ops fs(mem);
    manual_clock clk;
    log_manager_config mc;
    mc.log_dirs = {"/d1"};
    auto cfgfn = [](const topic_partition&) { return log_config{}; };
    log_manager m(fs, clk, mc, cfgfn);
    ASSERT_TRUE(m.startup());
    constexpr int n = 200;
    for (int p = 0; p < n; ++p) ASSERT_TRUE(m.get_or_create({"big", partition_id(p)}, log_config{}));
    ASSERT_TRUE(m.get_or_create({"keep", partition_id(0)}, log_config{}));
    int renames = fs.calls(faulty_file_ops::op::rename);
    int dir_syncs = fs.calls(faulty_file_ops::op::sync_dir);
    for (int p = 0; p < n; ++p) ASSERT_TRUE(m.retire({"big", partition_id(p)}));
    // One rename per log and no fsync or checkpoint yet: the cost of a step is what it touches.
    EXPECT_EQ(fs.calls(faulty_file_ops::op::rename) - renames, n);
    EXPECT_EQ(fs.calls(faulty_file_ops::op::sync_dir), dir_syncs);
    EXPECT_EQ(m.get({"big", partition_id(7)}), nullptr);
    renames = fs.calls(faulty_file_ops::op::rename);
    ASSERT_TRUE(m.settle_retired());
    // Then the four checkpoint files once (each an atomic rename), not once per log.
    EXPECT_EQ(fs.calls(faulty_file_ops::op::rename) - renames, 4);
    auto names = mem.list_dir("/d1").value();
    for (auto& nm : names) EXPECT_EQ(nm.find("big-"), std::string::npos) << nm; // removed (no pool: at once)
    auto rp = read_offset_checkpoint(mem, "/d1/recovery-point-offset-checkpoint").value();
    EXPECT_EQ(rp.size(), 1u);
    ASSERT_TRUE(m.shutdown());
}

TEST(log_manager, startup_finishes_an_interrupted_deletion)
{
    mem_file_ops fs;
    manual_clock clk;
    log_manager_config mc;
    mc.log_dirs = {"/d1"};
    auto cfgfn = [](const topic_partition&) { return log_config{}; };
    {
        log_manager m(fs, clk, mc, cfgfn);
        ASSERT_TRUE(m.startup());
        for (int p = 0; p < 3; ++p) ASSERT_TRUE(m.get_or_create({"t", partition_id(p)}, log_config{}));
        ASSERT_TRUE(m.retire({"t", partition_id(1)})); // renamed, then "crash": never settled
    }
    bool renamed = false;
    for (auto& nm : fs.list_dir("/d1").value()) renamed |= nm.ends_with("-delete");
    EXPECT_TRUE(renamed);
    log_manager m(fs, clk, mc, cfgfn);
    ASSERT_TRUE(m.startup());
    EXPECT_EQ(m.logs().size(), 2u);
    EXPECT_EQ(m.get({"t", partition_id(1)}), nullptr);
    for (auto& nm : fs.list_dir("/d1").value()) EXPECT_FALSE(nm.ends_with("-delete")) << nm;
}

TEST(log_manager, corrupt_checkpoints_fall_back_to_full_recovery)
{
    mem_file_ops fs;
    manual_clock clk;
    log_manager_config mc;
    mc.log_dirs = {"/d"};
    auto cfgfn = [](const topic_partition&) { return log_config{}; };
    {
        log_manager m(fs, clk, mc, cfgfn);
        ASSERT_TRUE(m.startup());
        auto* l = m.get_or_create({"t", partition_id(0)}, log_config{}).value();
        for (int i = 0; i < 5; ++i) {
            auto b = make_batch(i);
            ASSERT_TRUE(l->append_as_leader(b, leader_epoch(0)));
        }
        ASSERT_TRUE(m.checkpoint());
        ASSERT_TRUE(l->flush());
    }
    for (auto f : {"recovery-point-offset-checkpoint", "log-start-offset-checkpoint", "replication-offset-checkpoint"}) {
        ASSERT_TRUE(fs.write_file_atomic(std::string("/d/") + f, as_bytes("0\n7\ntrash")));
    }
    ASSERT_TRUE(fs.write_file_atomic("/d/t-0/leader-epoch-checkpoint", as_bytes("zzz")));
    log_manager m(fs, clk, mc, cfgfn);
    ASSERT_TRUE(m.startup());
    auto* l = m.get({"t", partition_id(0)});
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->log_end_offset(), offset(15));
    EXPECT_EQ(l->log_start_offset(), offset(0));
    EXPECT_EQ(l->epochs().entries(), (std::vector<epoch_entry>{{leader_epoch(0), offset(0)}}));
}

} // namespace
} // namespace samsa::storage

namespace samsa::storage {
namespace {

struct dir_failure_fixture : ::testing::Test {
    mem_file_ops mem;
    faulty_file_ops fs{mem};
    manual_clock clk;
    std::unique_ptr<log_manager> m;
    void SetUp() override
    {
        log_manager_config mc;
        mc.log_dirs = {"/a", "/b"};
        m = std::make_unique<log_manager>(fs, clk, mc, [](const topic_partition&) { return log_config{}; });
        ASSERT_TRUE(m->startup());
        // Placement alternates: t-0 and t-2 in /a, t-1 in /b.
        for (int p = 0; p < 3; ++p) ASSERT_TRUE(m->get_or_create({"t", partition_id(p)}, log_config{}));
        ASSERT_EQ(m->get({"t", partition_id(0)})->dir().substr(0, 3), "/a/");
        ASSERT_EQ(m->get({"t", partition_id(1)})->dir().substr(0, 3), "/b/");
        ASSERT_EQ(m->get({"t", partition_id(2)})->dir().substr(0, 3), "/a/");
    }
    result<append_info> append(int p, int n)
    {
        auto b = test::make_batch(n);
        return m->get({"t", partition_id(p)})->append_as_leader(b, leader_epoch(0));
    }
};

TEST_F(dir_failure_fixture, disk_full_takes_the_directory_offline_until_space_returns)
{
    ASSERT_TRUE(append(0, 0));
    fs.set_space_limit(100, "/a/"); // the batch does not fit: part of it lands, then ENOSPC
    EXPECT_EQ(append(0, 1).error(), make_error_code(errc::no_space));
    m->tick();
    EXPECT_EQ(m->dir_offline("/a"), make_error_code(errc::no_space));
    EXPECT_FALSE(m->dir_offline("/b"));
    // Every log of the directory refuses writes; the other directory carries on.
    EXPECT_EQ(append(2, 0).error(), make_error_code(errc::log_offline));
    EXPECT_TRUE(append(1, 0));
    // What was written stays readable, and nothing half-written is left behind.
    auto* l0 = m->get({"t", partition_id(0)});
    EXPECT_EQ(l0->log_end_offset(), offset(3));
    EXPECT_EQ(l0->read(offset(0), 1 << 20, offset(3), true).value().size, test::make_batch(0).size());
    // New partitions go to the healthy directory.
    EXPECT_EQ(m->get_or_create({"u", partition_id(0)}, log_config{}).value()->dir().substr(0, 3), "/b/");
    // Still full: it stays offline.
    m->tick();
    EXPECT_TRUE(m->dir_offline("/a"));
    // Space comes back: the next tick brings the directory back online.
    fs.set_space_limit(UINT64_MAX, "/a/");
    m->tick();
    EXPECT_FALSE(m->dir_offline("/a"));
    auto again = append(0, 1);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->first_offset, offset(3));
    EXPECT_TRUE(append(2, 1));
    EXPECT_EQ(mem.raw("/a/t-0/00000000000000000000.log")->size(), test::make_batch(0).size() + test::make_batch(1).size());
}

TEST_F(dir_failure_fixture, fsync_failure_keeps_the_directory_offline)
{
    ASSERT_TRUE(append(0, 0));
    fs.inject({faulty_file_ops::op::sync, "/a/t-0", 0, 1, make_error_code(errc::no_space)});
    EXPECT_FALSE(m->get({"t", partition_id(0)})->flush());
    m->tick();
    EXPECT_TRUE(m->dir_offline("/a"));
    fs.clear();
    m->tick();
    // An fsync failure is never retried and ignored: only a restart (with recovery) reopens.
    EXPECT_TRUE(m->dir_offline("/a"));
    EXPECT_EQ(append(0, 1).error(), make_error_code(errc::log_offline));
    EXPECT_TRUE(append(1, 0));
    ASSERT_TRUE(m->shutdown());
    EXPECT_FALSE(mem.exists("/a/.kafka_cleanshutdown"));
    EXPECT_TRUE(mem.exists("/b/.kafka_cleanshutdown"));
}

} // namespace
} // namespace samsa::storage

namespace samsa::storage {
namespace {

TEST(log_manager, fsyncs_of_rolled_segments_run_on_the_background_pool)
{
    mem_file_ops fs;
    manual_clock clk;
    std::mutex mu;
    std::vector<std::function<void()>> posted;
    background bg(1, [&](std::function<void()> f) {
        std::lock_guard g(mu);
        posted.push_back(std::move(f));
    });
    log_manager_config mc;
    mc.log_dirs = {"/d"};
    log_config cfg;
    cfg.segment_bytes = 1024;
    log_manager m(fs, clk, mc, [&](const topic_partition&) { return cfg; });
    ASSERT_TRUE(m.startup());
    m.set_background(&bg);
    auto* l = m.get_or_create({"t", partition_id(0)}, cfg).value();
    for (int i = 0; i < 20; ++i) {
        auto b = test::make_batch(i, 3, 100);
        ASSERT_TRUE(l->append_as_leader(b, leader_epoch(0)));
    }
    ASSERT_TRUE(l->roll_flush_pending());
    m.tick();
    bg.drain(); // the fsync has run on the pool...
    EXPECT_EQ(l->recovery_point(), offset(0)); // ...but its completion waits for the owner
    std::vector<std::function<void()>> todo;
    {
        std::lock_guard g(mu);
        todo.swap(posted);
    }
    ASSERT_FALSE(todo.empty());
    for (auto& f : todo) f();
    EXPECT_EQ(l->recovery_point(), l->segment_base_offsets().back());

    // A completion for a log deleted meanwhile is dropped.
    for (int i = 20; i < 40; ++i) {
        auto b = test::make_batch(i, 3, 100);
        ASSERT_TRUE(l->append_as_leader(b, leader_epoch(0)));
    }
    m.tick();
    bg.drain();
    ASSERT_TRUE(m.remove({"t", partition_id(0)}));
    auto* again = m.get_or_create({"t", partition_id(0)}, cfg).value();
    {
        std::lock_guard g(mu);
        todo.swap(posted);
    }
    for (auto& f : todo) f();
    EXPECT_EQ(again->recovery_point(), offset(0));
    bg.stop();
}

} // namespace
} // namespace samsa::storage
