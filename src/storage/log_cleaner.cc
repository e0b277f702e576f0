// The log cleaner's work: the key → offset map of a dirty section and the rewrite of old
// segments into compacted ones (run_cleaning), off the logs' owner thread.
#include "storage/log_cleaner.h"

#include "base/logging.h"
#include "protocol/compression.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "storage/batch_scanner.h"
#include "storage/errc.h"
#include "storage/offset_index.h"
#include "storage/segment.h"
#include "storage/time_index.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

namespace samsa::storage {

namespace {

constexpr logger log_{"cleaner"};
namespace L = protocol::batch_layout;

/// Latest offset of every key of the dirty section, within a memory budget.
class key_offset_map {
public:
    explicit key_offset_map(size_t budget) : _budget(budget) {}
    /// False when the map is full (the key was not added).
    bool put(bytes_view key, int64_t off)
    {
        auto k = std::string(as_string_view(key));
        auto it = _map.find(k);
        if (it != _map.end()) {
            it->second = off;
            return true;
        }
        size_t cost = k.size() + 64;
        if (_used + cost > _budget) return false;
        _used += cost;
        _map.emplace(std::move(k), off);
        return true;
    }
    /// The latest offset of `key`, or -1 when the dirty section does not have it.
    int64_t get(bytes_view key) const
    {
        auto it = _map.find(std::string(as_string_view(key)));
        return it == _map.end() ? -1 : it->second;
    }
    size_t size() const { return _map.size(); }

private:
    size_t _budget;
    size_t _used = 0;
    std::unordered_map<std::string, int64_t> _map;
};

/// Sleeps as needed to keep `bytes` processed since `start` under the configured rate.
class throttle {
public:
    explicit throttle(double rate) : _rate(rate), _start(std::chrono::steady_clock::now()) {}
    void account(uint64_t bytes)
    {
        if (!(_rate < std::numeric_limits<double>::infinity()) || _rate <= 0) return;
        _bytes += bytes;
        double due = static_cast<double>(_bytes) / _rate;
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - _start).count();
        if (due > elapsed) std::this_thread::sleep_for(std::chrono::duration<double>(due - elapsed));
    }

private:
    double _rate;
    uint64_t _bytes = 0;
    std::chrono::steady_clock::time_point _start;
};

/// Whether a batch holds records of an aborted transaction.
bool is_aborted(const cleaning_task& t, const protocol::batch_header& h)
{
    if (!h.is_transactional() || h.is_control()) return false;
    return std::any_of(t.aborted.begin(), t.aborted.end(), [&](const aborted_txn& a) {
        return a.pid == h.pid && a.first_offset <= h.base_offset && h.base_offset < a.last_offset;
    });
}

/// Builds the map from the dirty section; returns the offset where mapping stopped (the end of
/// the section, or earlier if the map filled up).
result<offset> build_map(const cleaning_task& t, key_offset_map& map, cleaning_result& r, throttle& th)
{
    offset end = t.first_uncleanable;
    for (auto& s : t.segments) {
        if (s.next <= t.first_dirty) continue;
        batch_scanner scan(s.file, 0, s.size, /*verify_crc=*/true);
        while (auto b = scan.next()) {
            r.bytes_read += b->data.size();
            th.account(b->data.size());
            if (b->header.last_offset() < t.first_dirty || b->header.is_control() || is_aborted(t, b->header)) continue;
            auto reader = protocol::record_reader::open(b->data, {});
            if (!reader) return reader.error();
            while (auto rec = reader->next()) {
                if (rec->offset < t.first_dirty || !rec->key) continue;
                if (!map.put(*rec->key, rec->offset())) return rec->offset; // full: stop here
            }
            if (reader->error()) return reader->error();
        }
        if (scan.error()) return scan.error();
    }
    return end;
}

/// The bytes of one record for re-encoding.
protocol::record_input to_input(const protocol::record& rec)
{
    protocol::record_input in;
    if (rec.key) in.key = bytes(rec.key->begin(), rec.key->end());
    if (rec.value) in.value = bytes(rec.value->begin(), rec.value->end());
    for (auto& h : rec.headers) {
        in.headers.push_back({std::string(h.key), h.value ? std::optional<bytes>(bytes(h.value->begin(), h.value->end()))
                                                          : std::nullopt});
    }
    in.timestamp = rec.timestamp;
    return in;
}

/// Filters one batch. Returns the batch to write (maybe the original bytes), or nothing when
/// no record survives.
result<std::optional<bytes>> filter_batch(const cleaning_task& t, bytes_view batch, const protocol::batch_header& h,
                                          const key_offset_map& map, offset map_end, cleaning_result& r)
{
    if (h.is_control()) return std::optional<bytes>(bytes(batch.begin(), batch.end()));
    if (is_aborted(t, h)) {
        r.records_removed += static_cast<uint64_t>(std::max(h.record_count, 0));
        return std::optional<bytes>{};
    }
    auto reader = protocol::record_reader::open(batch, {});
    if (!reader) return reader.error();
    bool horizon_set = h.has_delete_horizon();
    bool horizon_passed = horizon_set && t.now_ms >= h.base_timestamp();
    std::vector<protocol::record> kept;
    int32_t total = 0;
    bool kept_tombstone = false;
    while (auto rec = reader->next()) {
        ++total;
        bool keep = true;
        if (rec->offset < map_end && rec->key) {
            int64_t latest = map.get(*rec->key);
            keep = latest < 0 || rec->offset() >= latest;
        }
        if (keep && !rec->value && horizon_passed) {
            keep = false;
            ++r.tombstones_removed;
        }
        if (keep) {
            kept_tombstone |= !rec->value;
            kept.push_back(std::move(*rec));
        }
    }
    if (reader->error()) return reader->error();
    r.records_kept += kept.size();
    r.records_removed += static_cast<uint64_t>(total) - kept.size();
    bool need_horizon = kept_tombstone && !horizon_set;
    if (static_cast<int32_t>(kept.size()) == total && !need_horizon) {
        return std::optional<bytes>(bytes(batch.begin(), batch.end()));
    }
    if (kept.empty()) return std::optional<bytes>{};
    // Re-encode what is left: same base offset (offsets are preserved), same last offset
    // delta, same codec and epochs; a new delete horizon when tombstones are cleaned first.
    protocol::batch_header nh = h;
    nh.record_count = static_cast<int32_t>(kept.size());
    if (need_horizon) {
        nh.base_timestamp = timestamp_ms(t.now_ms + t.delete_retention_ms);
        nh.attributes |= protocol::batch_attr::delete_horizon;
    } else if (!horizon_set) {
        nh.base_timestamp = kept.front().timestamp;
    }
    if (h.ts_type() == protocol::timestamp_type::create_time) {
        nh.max_timestamp = kept.front().timestamp;
        for (auto& k : kept) nh.max_timestamp = std::max(nh.max_timestamp, k.timestamp);
    }
    bytes section;
    for (auto& k : kept) {
        int64_t ts_delta = h.ts_type() == protocol::timestamp_type::create_time ? k.timestamp - nh.base_timestamp : 0;
        protocol::encode_record(section, to_input(k), ts_delta, k.offset_delta);
    }
    if (h.compression() != protocol::compression_type::none) {
        auto c = protocol::compress(h.compression(), section);
        if (!c) return c.error();
        section = std::move(*c);
    }
    return std::optional<bytes>(protocol::assemble_batch(nh, section));
}

/// Writes one group of old segments as `<base>.log.cleaned` with its indexes.
result<cleaned_group> write_group(file_ops& fs, const cleaning_task& t, const std::vector<cleaner_segment>& group,
                                  const key_offset_map& map, offset map_end, cleaning_result& r, throttle& th)
{
    cleaned_group g;
    g.base = group.front().base;
    auto stem = join_path(t.dir, segment::file_stem(g.base));
    SAMSA_TRY_ASSIGN(auto out, fs.open(stem + ".log.cleaned", open_mode::create));
    SAMSA_TRY(out->truncate(0));
    std::vector<offset_index::entry> idx;
    std::vector<time_index::entry> tidx;
    uint64_t pos = 0, since_index = 0;
    timestamp_ms max_ts(-1);
    offset max_ts_offset = g.base;
    for (auto& s : group) {
        g.replaced.push_back(s.base);
        batch_scanner scan(s.file, 0, s.size, /*verify_crc=*/true);
        while (auto b = scan.next()) {
            r.bytes_read += b->data.size();
            SAMSA_TRY_ASSIGN(auto nb, filter_batch(t, b->data, b->header, map, map_end, r));
            if (!nb) continue;
            auto h = protocol::read_header(*nb).value();
            if (since_index > t.index_interval_bytes) {
                idx.push_back({h.last_offset(), static_cast<uint32_t>(pos)});
                if (tidx.empty() || max_ts > tidx.back().ts) tidx.push_back({max_ts, max_ts_offset});
                since_index = 0;
            }
            if (h.max_timestamp > max_ts) {
                max_ts = h.max_timestamp;
                max_ts_offset = h.last_offset();
            }
            SAMSA_TRY(out->pwrite(pos, *nb));
            pos += nb->size();
            since_index += nb->size();
            r.bytes_written += nb->size();
            th.account(b->data.size() + nb->size());
        }
        if (scan.error()) return scan.error();
    }
    if (max_ts() >= 0 && (tidx.empty() || max_ts > tidx.back().ts)) tidx.push_back({max_ts, max_ts_offset});
    SAMSA_TRY(out->sync());
    offset_index oi(fs, stem + ".index.cleaned", g.base, t.max_index_bytes);
    SAMSA_TRY(oi.open());
    SAMSA_TRY(oi.reset(std::move(idx)));
    SAMSA_TRY(oi.sync());
    time_index ti(fs, stem + ".timeindex.cleaned", g.base, t.max_index_bytes);
    SAMSA_TRY(ti.open());
    SAMSA_TRY(ti.reset(std::move(tidx)));
    SAMSA_TRY(ti.sync());
    g.size = pos;
    return g;
}

} // namespace

cleaning_result run_cleaning(file_ops& fs, const cleaning_task& t)
{
    cleaning_result r;
    auto start = std::chrono::steady_clock::now();
    throttle th(t.io_max_bytes_per_second);
    key_offset_map map(t.map_memory);
    auto end = build_map(t, map, r, th);
    if (!end) {
        r.error = end.error();
        return r;
    }
    offset map_end = *end;
    r.cleaned_up_to = map_end;
    // Segments wholly beyond the mapped range stay as they are.
    std::vector<std::vector<cleaner_segment>> groups;
    uint64_t group_size = 0;
    for (auto& s : t.segments) {
        if (s.base >= map_end) break;
        if (groups.empty() || group_size + s.size > t.segment_bytes) {
            groups.emplace_back();
            group_size = 0;
        }
        groups.back().push_back(s);
        group_size += s.size;
    }
    for (auto& g : groups) {
        auto written = write_group(fs, t, g, map, map_end, r, th);
        if (!written) {
            r.error = written.error();
            return r;
        }
        r.groups.push_back(std::move(*written));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log_.info("{}: cleaned {} segment group(s) up to offset {}: {} bytes read, {} written, {} records kept, {} "
              "removed ({} tombstones), {:.3f} s",
              t.tp, r.groups.size(), r.cleaned_up_to, r.bytes_read, r.bytes_written, r.records_kept, r.records_removed,
              r.tombstones_removed, r.seconds);
    return r;
}

} // namespace samsa::storage

// ---- the cleaner manager ----

#include "storage/log.h"
#include "storage/log_manager.h"

namespace samsa::storage {

log_cleaner::log_cleaner(file_ops& fs, const clock& clk, cleaner_config cfg, post_fn post)
  : _fs(fs), _clock(clk), _cfg(cfg), _post(std::move(post))
{
    if (_post && _cfg.enabled) {
        for (int i = 0; i < std::max(1, _cfg.threads); ++i) _threads.emplace_back([this] { worker(); });
    }
}

log_cleaner::~log_cleaner() { stop(); }

void log_cleaner::stop()
{
    {
        std::lock_guard g(_mu);
        _stopping = true;
        _queue.clear();
    }
    _cv.notify_all();
    for (auto& t : _threads) {
        if (t.joinable()) t.join();
    }
    _threads.clear();
}

void log_cleaner::worker()
{
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock g(_mu);
            _cv.wait(g, [&] { return _stopping || !_queue.empty(); });
            if (_stopping) return;
            job = std::move(_queue.front());
            _queue.pop_front();
        }
        job();
    }
}

log_cleaner::totals log_cleaner::stats() const
{
    std::lock_guard g(_mu);
    return _totals;
}

void log_cleaner::finish(log_manager& logs, const cleaning_task& task, const cleaning_result& r)
{
    {
        std::lock_guard g(_mu);
        ++_totals.runs;
        _totals.bytes_read += r.bytes_read;
        _totals.bytes_written += r.bytes_written;
        _totals.seconds += r.seconds;
    }
    auto* l = logs.get(task.tp);
    if (!l || l->dir() != task.dir) {
        for (auto& grp : r.groups) {
            auto stem = join_path(task.dir, segment::file_stem(grp.base));
            for (auto ext : {".log.cleaned", ".index.cleaned", ".timeindex.cleaned"}) (void)_fs.remove(stem + ext);
        }
        return;
    }
    if (auto res = l->complete_cleaning(task, r); !res) {
        log_.error("{}: installing cleaned segments failed: {}", task.tp, res.error().message());
    }
}

void log_cleaner::maybe_clean(log_manager& logs)
{
    if (!_cfg.enabled) return;
    int64_t now = _clock.monotonic_ms();
    {
        std::lock_guard g(_mu);
        if (_stopping) return;
        if (_post && _busy >= static_cast<size_t>(std::max(1, _cfg.threads))) return;
        if (_idle_since && now - *_idle_since < _cfg.backoff_ms) return;
    }
    std::vector<std::pair<double, log*>> candidates;
    for (auto& [tp, l] : logs.logs()) {
        if (l->config().cleanup_compact && !l->cleaning()) candidates.emplace_back(l->dirty_ratio(), l.get());
    }
    std::sort(candidates.begin(), candidates.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (auto& [ratio, l] : candidates) {
        auto task = l->prepare_cleaning(false, _cfg);
        if (!task) continue;
        {
            std::lock_guard g(_mu);
            _idle_since.reset();
        }
        if (!_post) {
            auto r = run_cleaning(_fs, *task);
            finish(logs, *task, r);
            return;
        }
        std::lock_guard g(_mu);
        ++_busy;
        _queue.push_back([this, t = *task, &logs] {
            auto r = run_cleaning(_fs, t);
            {
                std::lock_guard g2(_mu);
                --_busy;
                if (_stopping) return;
            }
            _post([this, t, r, &logs] { finish(logs, t, r); });
        });
        _cv.notify_one();
        return;
    }
    std::lock_guard g(_mu);
    _idle_since = now;
}

cleaning_result log_cleaner::clean_now(log& l)
{
    cleaning_result r;
    auto task = l.prepare_cleaning(true, _cfg);
    if (!task) return r;
    r = run_cleaning(_fs, *task);
    if (auto res = l.complete_cleaning(*task, r); !res && !r.error) r.error = res.error();
    return r;
}

} // namespace samsa::storage
