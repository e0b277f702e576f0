// Log compaction: random keyed workloads checked against a reference map, tombstone expiry
// under a manual clock, crash at every step of the segment swap, the background cleaner.
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "storage/errc.h"
#include "storage/faulty_file_ops.h"
#include "storage/log.h"
#include "storage/log_cleaner.h"
#include "storage/log_manager.h"
#include "storage/mem_file_ops.h"
#include "storage/producer_state.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace samsa::storage {
namespace {

constexpr int64_t t0 = 1'700'000'000'000;
const std::vector<protocol::compression_type> codecs = {
    protocol::compression_type::none, protocol::compression_type::gzip, protocol::compression_type::snappy,
    protocol::compression_type::lz4, protocol::compression_type::zstd};

/// What a key's latest record is (value nullopt: tombstone) and where it was appended.
struct latest {
    std::optional<std::string> value;
    int64_t offset;
};

struct record_seen {
    int64_t offset;
    std::string key;
    std::optional<std::string> value;
};

struct cleaner_fixture : ::testing::Test {
    mem_file_ops mem;
    file_ops* fs = &mem;
    manual_clock clk{t0};
    log_config cfg = [] {
        log_config c;
        c.cleanup_compact = true;
        c.cleanup_delete = false;
        c.segment_bytes = 2048;
        c.index_interval_bytes = 256;
        c.delete_retention_ms = 60'000;
        c.min_cleanable_dirty_ratio = 0.5;
        return c;
    }();
    std::unique_ptr<log> l;
    std::map<std::string, latest> reference;
    std::map<int64_t, std::string> value_at; // original offset of every appended value

    void open(log_open_options o = {})
    {
        auto r = log::open(*fs, "/data/c-0", {"c", partition_id(0)}, cfg, clk, o);
        ASSERT_TRUE(r) << r.error().message();
        l = std::move(*r);
    }

    /// Appends `batches` random batches of keys k0..k(keys-1), ~10% tombstones, every codec.
    void workload(int batches, int keys, uint32_t seed)
    {
        std::mt19937 rng(seed);
        for (int b = 0; b < batches; ++b) {
            protocol::batch_builder::options o;
            o.compression = codecs[rng() % codecs.size()];
            protocol::batch_builder builder(o);
            int n = 1 + static_cast<int>(rng() % 5);
            std::vector<std::pair<std::string, std::optional<std::string>>> recs;
            for (int i = 0; i < n; ++i) {
                std::string k = "k" + std::to_string(rng() % keys);
                std::optional<std::string> v;
                if (rng() % 10 != 0) v = "value-" + std::to_string(b) + "-" + std::to_string(i) + std::string(rng() % 60, 'x');
                protocol::record_input in{to_bytes(k), v ? std::optional<bytes>(to_bytes(*v)) : std::nullopt, {},
                                          timestamp_ms(clk.now_ms()() + b)};
                builder.add(in);
                recs.emplace_back(k, v);
            }
            auto batch = builder.build();
            auto info = l->append_as_leader(batch, leader_epoch(0));
            ASSERT_TRUE(info) << info.error().message();
            for (int i = 0; i < n; ++i) {
                int64_t off = info->first_offset() + i;
                reference[recs[i].first] = {recs[i].second, off};
                if (recs[i].second) value_at[off] = *recs[i].second;
            }
        }
        l->set_high_watermark(l->log_end_offset());
    }

    std::vector<record_seen> read_all()
    {
        std::vector<record_seen> out;
        offset next = l->log_start_offset();
        while (next < l->log_end_offset()) {
            auto s = l->read(next, 1 << 20, l->log_end_offset(), true);
            EXPECT_TRUE(s) << s.error().message();
            if (!s || s->empty()) break;
            auto data = s->read_all().value();
            protocol::batch_iterator it(data);
            while (auto h = it.next()) {
                auto reader = protocol::record_reader::open(it.current()).value();
                while (auto r = reader.next()) {
                    out.push_back({r->offset(), std::string(as_string_view(*r->key)),
                                   r->value ? std::optional<std::string>(std::string(as_string_view(*r->value)))
                                            : std::nullopt});
                }
                EXPECT_FALSE(reader.error()) << reader.error().message();
                next = h->next_offset();
            }
        }
        return out;
    }

    /// Offsets increase and are the original ones; each key's last record is the reference's
    /// latest; below `clean_end` every key appears once.
    void expect_compacted(offset clean_end)
    {
        auto recs = read_all();
        std::map<std::string, record_seen> last;
        std::map<std::string, int> seen_below;
        int64_t prev = -1;
        for (auto& r : recs) {
            EXPECT_GT(r.offset, prev);
            prev = r.offset;
            if (r.value) {
                ASSERT_TRUE(value_at.count(r.offset)) << r.offset;
                EXPECT_EQ(value_at[r.offset], *r.value) << "value moved from offset " << r.offset;
            }
            last[r.key] = r;
            if (r.offset < clean_end()) EXPECT_EQ(++seen_below[r.key], 1) << "key " << r.key << " twice below " << clean_end;
        }
        for (auto& [k, ref] : reference) {
            auto it = last.find(k);
            if (!ref.value && it == last.end()) continue; // a tombstone that was removed
            ASSERT_NE(it, last.end()) << "key " << k << " lost";
            EXPECT_EQ(it->second.offset, ref.offset) << k;
            EXPECT_EQ(it->second.value, ref.value) << k;
        }
    }

    /// Appends one big record that rolls the log, so everything before it is in closed
    /// (cleanable) segments and the active segment holds only this record.
    void close_segments()
    {
        std::string v(cfg.segment_bytes - 200, 'r');
        protocol::batch_builder b;
        b.add("roll", v, timestamp_ms(clk.now_ms()()));
        auto batch = b.build();
        auto info = l->append_as_leader(batch, leader_epoch(0));
        ASSERT_TRUE(info) << info.error().message();
        reference["roll"] = {v, info->first_offset()};
        value_at[info->first_offset()] = v;
        l->set_high_watermark(l->log_end_offset());
    }
};

TEST_F(cleaner_fixture, random_workloads_keep_exactly_the_latest_value_per_key)
{
    for (uint32_t seed : {1u, 2u, 3u}) {
        SCOPED_TRACE(seed);
        (void)fs->remove_all("/data");
        reference.clear();
        value_at.clear();
        open();
        workload(300, 40, seed);
        close_segments();
        auto before = l->size_bytes();
        log_cleaner cleaner(*fs, clk, cleaner_config{});
        auto r = cleaner.clean_now(*l);
        ASSERT_FALSE(r.error) << r.error.message();
        EXPECT_FALSE(r.groups.empty());
        EXPECT_GT(r.records_removed, 0u);
        EXPECT_LT(l->size_bytes(), before);
        EXPECT_EQ(l->cleaner_checkpoint(), l->segment_base_offsets().back());
        expect_compacted(l->cleaner_checkpoint());
        // A second pass over an already clean log changes nothing visible.
        workload(0, 40, seed);
        expect_compacted(l->cleaner_checkpoint());
    }
}

TEST_F(cleaner_fixture, aborted_records_go_committed_ones_stay_and_open_ones_are_not_cleaned)
{
    open();
    int32_t seq = 0;
    auto txn_put = [&](int64_t pid, const std::string& k, const std::string& v) {
        protocol::batch_builder::options o;
        o.pid = producer_id(pid);
        o.epoch = producer_epoch(0);
        o.base_sequence = seq++;
        o.transactional = true;
        protocol::batch_builder b(o);
        b.add(k, v, clk.now_ms());
        auto batch = b.build();
        auto info = l->append_as_leader(batch, leader_epoch(0));
        ASSERT_TRUE(info) << info.error().message();
    };
    auto end_txn = [&](int64_t pid, bool commit) {
        auto batch = build_control_batch(producer_id(pid), producer_epoch(0),
                                         control_marker{commit ? marker_type::commit : marker_type::abort, 0}, clk.now_ms());
        auto info = l->append_as_leader(batch, leader_epoch(0), false, append_origin::coordinator);
        ASSERT_TRUE(info) << info.error().message();
    };
    txn_put(1, "k", "committed");
    end_txn(1, true);
    seq = 0;
    txn_put(2, "k", "aborted"); // the newest value of k, but aborted: k keeps "committed"
    end_txn(2, false);
    l->set_high_watermark(l->log_end_offset());
    close_segments();
    log_cleaner cleaner(*fs, clk, cleaner_config{});
    auto r = cleaner.clean_now(*l);
    ASSERT_FALSE(r.error) << r.error.message();
    std::vector<std::string> values;
    offset next = l->log_start_offset();
    auto s = l->read(next, 1 << 20, l->log_end_offset(), true).value();
    auto data = s.read_all().value();
    protocol::batch_iterator it(data);
    int markers = 0;
    while (auto h = it.next()) {
        if (h->is_control()) {
            ++markers;
            continue;
        }
        auto reader = protocol::record_reader::open(it.current()).value();
        while (auto rec = reader.next()) {
            if (rec->value && as_string_view(*rec->key) == "k") values.emplace_back(as_string_view(*rec->value));
        }
    }
    EXPECT_EQ(values, std::vector<std::string>{"committed"});
    EXPECT_EQ(markers, 2); // markers are kept
    EXPECT_EQ(l->aborted_transactions(offset(0), l->log_end_offset()).size(), 1u);

    // An open transaction holds cleaning back at its segment.
    txn_put(3, "open", "v");
    auto lso = l->last_stable_offset();
    close_segments();
    l->set_high_watermark(l->log_end_offset());
    auto task = l->prepare_cleaning(true, cleaner_config{});
    EXPECT_FALSE(task && task->first_uncleanable > lso);
    if (task) l->abort_cleaning(cleaning_result{});
}

TEST_F(cleaner_fixture, tombstones_stay_for_delete_retention_then_go)
{
    open();
    auto put = [&](const std::string& k, std::optional<std::string> v) {
        protocol::batch_builder b;
        b.add(protocol::record_input{to_bytes(k), v ? std::optional<bytes>(to_bytes(*v)) : std::nullopt, {}, clk.now_ms()});
        auto batch = b.build();
        auto info = l->append_as_leader(batch, leader_epoch(0));
        ASSERT_TRUE(info);
        reference[k] = {v, info->first_offset()};
        if (v) value_at[info->first_offset()] = *v;
    };
    for (int i = 0; i < 10; ++i) put("d" + std::to_string(i), "value-of-d" + std::to_string(i));
    for (int i = 0; i < 5; ++i) put("d" + std::to_string(i), std::nullopt);
    close_segments();
    auto tombstones = [&] {
        int n = 0;
        for (auto& r : read_all()) n += !r.value;
        return n;
    };
    log_cleaner cleaner(*fs, clk, cleaner_config{});
    ASSERT_FALSE(cleaner.clean_now(*l).error);
    EXPECT_EQ(tombstones(), 5); // the deleted keys' values are gone, their tombstones stay
    // Half the retention later, another cleaning keeps them.
    clk.advance(cfg.delete_retention_ms / 2);
    for (int i = 0; i < 5; ++i) put("f" + std::to_string(i), "filler");
    close_segments();
    ASSERT_FALSE(cleaner.clean_now(*l).error);
    EXPECT_EQ(tombstones(), 5);
    // Past the horizon (delete.retention.ms after the first cleaning): they go.
    clk.advance(cfg.delete_retention_ms / 2 + 1);
    for (int i = 5; i < 10; ++i) put("f" + std::to_string(i), "filler");
    close_segments();
    auto r = cleaner.clean_now(*l);
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.tombstones_removed, 5u);
    EXPECT_EQ(tombstones(), 0);
    expect_compacted(l->cleaner_checkpoint());
    for (int i = 5; i < 10; ++i) EXPECT_TRUE(reference.count("d" + std::to_string(i)));
}

TEST_F(cleaner_fixture, cleaned_log_survives_restart)
{
    open();
    workload(200, 30, 11);
    close_segments();
    log_cleaner cleaner(*fs, clk, cleaner_config{});
    ASSERT_FALSE(cleaner.clean_now(*l).error);
    auto checkpoint = l->cleaner_checkpoint();
    auto leo = l->log_end_offset();
    ASSERT_TRUE(l->close(true));
    log_open_options o;
    o.clean_shutdown = true;
    o.recovery_point = leo;
    o.high_watermark = leo;
    o.cleaner_checkpoint = checkpoint;
    open(o);
    EXPECT_EQ(l->cleaner_checkpoint(), checkpoint);
    expect_compacted(checkpoint);
    // And through full recovery after a crash.
    l.reset();
    mem.simulate_crash();
    open({false, offset(0), offset(-1), offset(-1), checkpoint});
    expect_compacted(checkpoint);
}

TEST_F(cleaner_fixture, respects_dirty_ratio_and_compaction_lags)
{
    open();
    workload(200, 2000, 3); // mostly distinct keys: the clean part stays large
    close_segments();
    cleaner_config cc;
    cc.backoff_ms = 0;
    // Nothing cleaned yet: everything is dirty (ratio 1).
    EXPECT_DOUBLE_EQ(l->dirty_ratio(), 1.0);
    cfg.min_compaction_lag_ms = 3'600'000; // every segment is too young
    l->set_config(cfg);
    EXPECT_FALSE(l->prepare_cleaning(true, cc));
    cfg.min_compaction_lag_ms = 0;
    l->set_config(cfg);
    auto task = l->prepare_cleaning(false, cc);
    ASSERT_TRUE(task);
    EXPECT_TRUE(l->cleaning());
    EXPECT_FALSE(l->prepare_cleaning(true, cc)); // one job at a time
    auto r = run_cleaning(*fs, *task);
    ASSERT_TRUE(l->complete_cleaning(*task, r));
    EXPECT_DOUBLE_EQ(l->dirty_ratio(), 0.0);
    // A little new dirt is below the 0.5 ratio: no job unless overdue.
    workload(5, 2000, 4);
    close_segments();
    EXPECT_LT(l->dirty_ratio(), 0.5);
    EXPECT_FALSE(l->prepare_cleaning(false, cc));
    cfg.max_compaction_lag_ms = 1000;
    l->set_config(cfg);
    clk.advance(5000);
    auto overdue = l->prepare_cleaning(false, cc);
    EXPECT_TRUE(overdue);
    l->abort_cleaning(cleaning_result{});
}

TEST_F(cleaner_fixture, crash_at_every_step_of_the_swap_leaves_a_consistent_log)
{
    for (int stop = 0; stop < 40; ++stop) {
        SCOPED_TRACE(stop);
        mem_file_ops fresh;
        fs = &fresh;
        reference.clear();
        value_at.clear();
        open();
        workload(150, 25, 21);
        close_segments();
        ASSERT_TRUE(l->flush());
        cleaner_config cc;
        auto task = l->prepare_cleaning(true, cc);
        ASSERT_TRUE(task);
        auto r = run_cleaning(*fs, *task);
        ASSERT_FALSE(r.error);
        ASSERT_TRUE(l->complete_cleaning(*task, r, stop));
        l.reset();
        fresh.simulate_crash();
        open({false, offset(0), offset(-1), offset(-1), offset(-1)});
        expect_compacted(offset(0));
        if (::testing::Test::HasFailure()) return;
        // The log still takes appends and can be cleaned again.
        workload(20, 25, 22);
        close_segments();
        log_cleaner cleaner(*fs, clk, cleaner_config{});
        ASSERT_FALSE(cleaner.clean_now(*l).error);
        expect_compacted(l->cleaner_checkpoint());
        l.reset();
    }
    fs = &mem;
}

TEST_F(cleaner_fixture, failed_rename_during_swap_takes_the_log_offline_and_restart_repairs_it)
{
    faulty_file_ops faulty(mem);
    fs = &faulty;
    open();
    workload(150, 25, 31);
    close_segments();
    auto task = l->prepare_cleaning(true, cleaner_config{});
    ASSERT_TRUE(task);
    auto r = run_cleaning(*fs, *task);
    faulty.inject({faulty_file_ops::op::rename, ".swap", 1, 1, make_error_code(errc::io_error)});
    EXPECT_FALSE(l->complete_cleaning(*task, r));
    EXPECT_TRUE(l->offline());
    faulty.clear();
    l.reset();
    open({false, offset(0), offset(-1), offset(-1), offset(-1)});
    expect_compacted(offset(0));
    fs = &mem;
}

TEST_F(cleaner_fixture, background_cleaner_swaps_on_the_owner_thread)
{
    std::mutex mu;
    std::vector<std::function<void()>> posted;
    cleaner_config cc;
    cc.backoff_ms = 0;
    log_cleaner cleaner(mem, clk, cc, [&](std::function<void()> f) {
        std::lock_guard g(mu);
        posted.push_back(std::move(f));
    });
    log_manager_config mc;
    mc.log_dirs = {"/data"};
    log_manager m(mem, clk, mc, [this](const topic_partition&) { return cfg; });
    ASSERT_TRUE(m.startup());
    m.set_cleaner(&cleaner);
    auto* raw = m.get_or_create({"c", partition_id(0)}, cfg).value();
    l.reset();
    struct borrow {
        std::unique_ptr<log>& slot;
        log* p;
        ~borrow() { (void)slot.release(); }
    } b{l, raw};
    l.reset(raw);
    workload(200, 30, 41);
    close_segments();
    m.tick(); // schedules the job on the cleaner thread
    for (int i = 0; i < 500; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::lock_guard g(mu);
        if (!posted.empty()) break;
    }
    std::vector<std::function<void()>> todo;
    {
        std::lock_guard g(mu);
        todo.swap(posted);
    }
    ASSERT_EQ(todo.size(), 1u);
    EXPECT_TRUE(l->cleaning());
    todo.front()(); // the owner thread installs the result
    EXPECT_FALSE(l->cleaning());
    EXPECT_GT(l->cleaner_checkpoint(), offset(0));
    expect_compacted(l->cleaner_checkpoint());
    EXPECT_EQ(cleaner.stats().runs, 1u);
    ASSERT_TRUE(m.checkpoint());
    auto cp = read_offset_checkpoint(mem, "/data/cleaner-offset-checkpoint").value();
    EXPECT_EQ(cp.at({"c", partition_id(0)}), l->cleaner_checkpoint());
    cleaner.stop();
}

} // namespace
} // namespace samsa::storage
