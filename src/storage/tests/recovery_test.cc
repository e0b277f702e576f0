// The crash/corruption matrix: damage a log the way crashes and bad disks do, reopen it, and
// check it recovers to exactly the longest valid prefix of what was appended.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/mem_file_ops.h"
#include "storage/tests/test_batches.h"
#include "test_util/temp_dir.h"

#include <gtest/gtest.h>

#include <random>

namespace samsa::storage {
namespace {

enum class backend { memory, posix };

/// A log of `batches` batches in a few segments, built once per case, with helpers to damage
/// its files and to check what a reopened log holds.
class recovery_matrix : public ::testing::TestWithParam<backend> {
protected:
    void SetUp() override
    {
        if (GetParam() == backend::memory) {
            _mem = std::make_unique<mem_file_ops>();
            _fs = _mem.get();
            _root = "/data";
        } else {
            _tmp = std::make_unique<::samsa::test::temp_dir>("samsa-recovery");
            _fs = &posix_file_ops();
            _root = _tmp->path();
        }
        _cfg.segment_bytes = 3000;
        _cfg.index_interval_bytes = 256;
    }

    std::string dir() const { return _root + "/t-0"; }

    /// Builds the log fresh; returns the active segment's .log path.
    std::string build(int batches = 24)
    {
        (void)_fs->remove_all(dir());
        _appended.clear();
        _ends.clear();
        auto l = log::open(*_fs, dir(), {"t", partition_id(0)}, _cfg, _clock, {}).value();
        for (int i = 0; i < batches; ++i) {
            // Sizes vary so that positions of interest differ between batches.
            auto b = test::make_batch(i, 1 + i % 4, 30 + (i * 37) % 90);
            _appended.push_back(b);
            EXPECT_TRUE(l->append_as_leader(b, leader_epoch(i < batches / 2 ? 0 : 1)));
            _ends.push_back(l->log_end_offset());
        }
        EXPECT_TRUE(l->flush_rolled());
        _active_base = l->segment_base_offsets().back();
        _segments = l->segment_base_offsets();
        if (_close_cleanly) {
            EXPECT_TRUE(l->close(true));
        }
        return dir() + "/" + segment::file_stem(_active_base) + ".log";
    }

    /// Index of the first appended batch stored in the active segment.
    size_t first_active_batch() const
    {
        for (size_t i = 0; i < _ends.size(); ++i) {
            offset start = i == 0 ? offset(0) : _ends[i - 1];
            if (start >= _active_base) return i;
        }
        return _ends.size();
    }

    bytes read(const std::string& p) { return _fs->read_file(p).value(); }
    void write(const std::string& p, const bytes& data)
    {
        auto f = _fs->open(p, open_mode::read_write).value();
        ASSERT_TRUE(f->truncate(0));
        ASSERT_TRUE(f->pwrite(0, data));
    }

    /// Reopens after a crash (recovery from the active segment) or a clean shutdown.
    std::unique_ptr<log> reopen(bool clean)
    {
        log_open_options o;
        o.clean_shutdown = clean;
        o.recovery_point = _active_base;
        auto r = log::open(*_fs, dir(), {"t", partition_id(0)}, _cfg, _clock, o);
        EXPECT_TRUE(r) << r.error().message();
        return r ? std::move(*r) : nullptr;
    }

    /// The reopened log holds exactly the first `n` appended batches, byte for byte, and
    /// index-driven reads and timestamp lookups land right.
    void expect_prefix(log& l, size_t n, const std::string& what)
    {
        SCOPED_TRACE(what);
        offset end = n == 0 ? offset(0) : _ends[n - 1];
        ASSERT_EQ(l.log_end_offset(), end);
        offset next(0);
        size_t i = 0;
        while (next < end) {
            auto s = l.read(next, 1 << 16, end, true).value();
            ASSERT_FALSE(s.empty());
            auto data = s.read_all().value();
            protocol::batch_iterator it(data);
            while (auto h = it.next()) {
                ASSERT_LT(i, n);
                ASSERT_EQ(test::covered(it.current()), test::covered(_appended[i])) << "batch " << i;
                next = h->next_offset();
                ++i;
            }
        }
        ASSERT_EQ(i, n);
        for (size_t k = 0; k < n; k += 3) {
            offset first = k == 0 ? offset(0) : _ends[k - 1];
            auto s = l.read(first, 1, end, true).value();
            EXPECT_EQ(s.first_offset, first) << "lookup of batch " << k;
            auto ts = l.find_by_timestamp(timestamp_ms(1'700'000'000'000 + static_cast<int64_t>(k))).value();
            ASSERT_TRUE(ts);
            EXPECT_EQ(ts->off, first) << "timestamp lookup of batch " << k;
        }
        // The recovered log takes new appends right after the prefix.
        auto b = test::make_batch(999);
        auto info = l.append_as_leader(b, leader_epoch(1));
        ASSERT_TRUE(info) << info.error().message();
        EXPECT_EQ(info->first_offset, end);
    }

    /// Number of leading batches of the active segment whose bytes are unchanged in `damaged`.
    size_t intact_prefix(const bytes& original, const bytes& damaged)
    {
        size_t n = first_active_batch();
        uint64_t pos = 0;
        for (size_t i = n; i < _appended.size(); ++i) {
            uint64_t end = pos + _appended[i].size();
            if (end > damaged.size()) return i;
            if (!std::equal(original.begin() + pos, original.begin() + end, damaged.begin() + pos)) return i;
            pos = end;
        }
        return _appended.size();
    }

    std::unique_ptr<mem_file_ops> _mem;
    std::unique_ptr<::samsa::test::temp_dir> _tmp;
    file_ops* _fs = nullptr;
    std::string _root;
    manual_clock _clock{1'700'000'000'000};
    log_config _cfg;
    std::vector<bytes> _appended;
    std::vector<offset> _ends;
    std::vector<offset> _segments;
    offset _active_base{0};
    bool _close_cleanly = false;
};

TEST_P(recovery_matrix, truncation_at_every_byte_of_the_last_batches)
{
    auto path = build();
    auto original = read(path);
    size_t first = first_active_batch();
    ASSERT_GE(_appended.size() - first, 3u);
    uint64_t from = original.size();
    for (int k = 0; k < 3; ++k) from -= _appended[_appended.size() - 1 - k].size();
    for (uint64_t cut = from; cut <= original.size(); ++cut) {
        build();
        write(path, bytes(original.begin(), original.begin() + static_cast<long>(cut)));
        auto l = reopen(false);
        ASSERT_TRUE(l);
        expect_prefix(*l, intact_prefix(original, bytes(original.begin(), original.begin() + static_cast<long>(cut))),
                      "cut at " + std::to_string(cut));
    }
}

TEST_P(recovery_matrix, bit_flips_in_every_field)
{
    auto path = build();
    auto original = read(path);
    size_t first = first_active_batch();
    // Every bit of the first and the last two batches of the active segment (base offset,
    // length and leader epoch are outside the CRC).
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    uint64_t pos = 0;
    for (size_t i = first; i < _appended.size(); ++i) {
        if (i == first || i + 2 >= _appended.size()) ranges.push_back({pos, pos + _appended[i].size()});
        pos += _appended[i].size();
    }
    for (auto [b, e] : ranges) {
        for (uint64_t p = b; p < e; ++p) {
            for (int bit = 0; bit < 8; ++bit) {
                // On real files (slow: every case fsyncs) all bits of the fields outside the
                // CRC, one bit per byte elsewhere.
                bool outside_crc = p - b < protocol::batch_layout::attributes;
                if (GetParam() == backend::posix && !outside_crc && bit != static_cast<int>(p % 8)) continue;
                build();
                auto damaged = original;
                damaged[p] ^= static_cast<uint8_t>(1u << bit);
                write(path, damaged);
                auto l = reopen(false);
                ASSERT_TRUE(l);
                expect_prefix(*l, intact_prefix(original, damaged),
                              "flip byte " + std::to_string(p) + " bit " + std::to_string(bit));
                if (HasFatalFailure()) return;
            }
        }
    }
}

TEST_P(recovery_matrix, zero_filled_tails_and_zero_extension)
{
    auto path = build();
    auto original = read(path);
    for (size_t z : {1ul, 2ul, 7ul, 12ul, 61ul, 100ul, 500ul, original.size() / 2, original.size()}) {
        build();
        auto damaged = original;
        std::fill(damaged.end() - static_cast<long>(std::min(z, damaged.size())), damaged.end(), 0);
        write(path, damaged);
        auto l = reopen(false);
        ASSERT_TRUE(l);
        expect_prefix(*l, intact_prefix(original, damaged), "zeroed last " + std::to_string(z));
    }
    // A torn write that extended the file with zeros (e.g. allocated but never written).
    build();
    auto extended = original;
    extended.resize(original.size() + 4096, 0);
    write(path, extended);
    auto l = reopen(false);
    expect_prefix(*l, _appended.size(), "zero extension");
}

TEST_P(recovery_matrix, corruption_in_an_earlier_unflushed_segment_drops_later_ones)
{
    build();
    ASSERT_GE(_segments.size(), 3u);
    auto second = dir() + "/" + segment::file_stem(_segments[1]) + ".log";
    auto original = read(second);
    auto damaged = original;
    damaged[damaged.size() / 2] ^= 0x40;
    write(second, damaged);
    // Recovery from the start: the damaged segment is cut, later segments are removed.
    log_open_options o;
    o.recovery_point = offset(0);
    auto l = log::open(*_fs, dir(), {"t", partition_id(0)}, _cfg, _clock, o).value();
    EXPECT_EQ(l->segment_count(), 2u);
    size_t n = 0;
    uint64_t pos = 0;
    while (n < _appended.size() && (n == 0 ? offset(0) : _ends[n - 1]) < _segments[1]) ++n;
    while (pos + _appended[n].size() <= damaged.size() / 2) pos += _appended[n++].size();
    expect_prefix(*l, n, "damaged middle segment");
}

TEST_P(recovery_matrix, damaged_indexes_are_rebuilt)
{
    _close_cleanly = true;
    auto path = build();
    auto stem = path.substr(0, path.size() - 4);
    auto first_stem = dir() + "/" + segment::file_stem(_segments.front());
    struct damage {
        const char* name;
        std::function<void()> apply;
    };
    std::vector<damage> cases = {
        {"deleted offset index", [&] { ASSERT_TRUE(_fs->remove(stem + ".index")); }},
        {"deleted time index", [&] { ASSERT_TRUE(_fs->remove(stem + ".timeindex")); }},
        {"deleted first segment's indexes", [&] {
             ASSERT_TRUE(_fs->remove(first_stem + ".index"));
             ASSERT_TRUE(_fs->remove(first_stem + ".timeindex"));
         }},
        {"odd-sized index", [&] {
             auto d = read(stem + ".index");
             d.push_back(7);
             write(stem + ".index", d);
         }},
        {"zero-filled index", [&] { write(stem + ".index", bytes(64, 0)); }},
        {"garbage index", [&] {
             bytes g(80);
             std::mt19937 rng(3);
             for (auto& c : g) c = static_cast<uint8_t>(rng());
             write(stem + ".index", g);
         }},
        {"index entry past the end", [&] {
             auto d = read(stem + ".index");
             d.insert(d.end(), {0, 0, 0, 99, 0, 9, 0, 0});
             write(stem + ".index", d);
         }},
        {"index entry pointing mid-batch", [&] {
             auto d = read(first_stem + ".index");
             if (d.size() >= 8) d[7] ^= 0x01;
             write(first_stem + ".index", d);
         }},
        {"garbage time index", [&] { write(stem + ".timeindex", bytes(36, 0xff)); }},
        {"deleted epoch checkpoint", [&] { ASSERT_TRUE(_fs->remove(dir() + "/leader-epoch-checkpoint")); }},
        {"garbage epoch checkpoint", [&] { write(dir() + "/leader-epoch-checkpoint", bytes(5, 'x')); }},
    };
    for (auto& c : cases) {
        build();
        c.apply();
        auto l = reopen(true);
        ASSERT_TRUE(l) << c.name;
        expect_prefix(*l, _appended.size(), c.name);
        EXPECT_EQ(l->epochs().entries().size(), 2u) << c.name;
    }
}

INSTANTIATE_TEST_SUITE_P(backends, recovery_matrix, ::testing::Values(backend::memory, backend::posix),
                         [](const auto& info) { return info.param == backend::memory ? "memory" : "posix"; });

} // namespace
} // namespace samsa::storage
