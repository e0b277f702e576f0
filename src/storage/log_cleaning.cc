// Compaction on the log's side: choosing the cleanable range, swapping cleaned segments in
// crash-safely, and finishing a swap a crash interrupted (see log_cleaner.h).
#include "base/logging.h"
#include "storage/batch_scanner.h"
#include "storage/errc.h"
#include "storage/log.h"

#include <charconv>

namespace samsa::storage {

namespace {
constexpr logger log_{"cleaner"};

} // namespace

offset log::first_uncleanable_offset() const
{
    // Never the active segment, nothing at or above the high watermark or the last stable
    // offset, nothing younger than min.compaction.lag.ms: the first segment failing any of
    // these is uncleanable.
    int64_t now = _clock.now_ms()();
    for (auto it = _segments.begin(); it != _segments.end(); ++it) {
        auto& s = *it->second;
        bool active = std::next(it) == _segments.end();
        bool above_hw = s.next_offset() > _high_watermark;
        // Nor an open transaction's records: whether they survive depends on its outcome.
        bool above_lso = s.next_offset() > last_stable_offset();
        bool too_young = _cfg.min_compaction_lag_ms > 0 && s.max_timestamp()() >= 0 &&
                         now - s.max_timestamp()() < _cfg.min_compaction_lag_ms;
        if (active || above_hw || above_lso || too_young) return s.base_offset();
    }
    return _log_end;
}

double log::dirty_ratio() const
{
    offset end = first_uncleanable_offset();
    uint64_t total = 0, dirty = 0;
    for (auto& [base, s] : _segments) {
        if (base >= end) break;
        total += s->size();
        if (s->next_offset() > _cleaner_checkpoint) dirty += s->size();
    }
    return total == 0 ? 0.0 : static_cast<double>(dirty) / static_cast<double>(total);
}

std::optional<cleaning_task> log::prepare_cleaning(bool force, const cleaner_config& cfg)
{
    if (!_cfg.cleanup_compact || _cleaning || _offline_error) return std::nullopt;
    offset end = first_uncleanable_offset();
    offset first_dirty = std::max(_cleaner_checkpoint, _log_start);
    if (first_dirty >= end) return std::nullopt;
    cleaning_task t;
    t.tp = _tp;
    t.dir = _dir;
    t.first_dirty = first_dirty;
    t.first_uncleanable = end;
    t.now_ms = _clock.now_ms()();
    t.delete_retention_ms = _cfg.delete_retention_ms;
    t.segment_bytes = _cfg.segment_bytes;
    t.index_interval_bytes = _cfg.index_interval_bytes;
    t.max_index_bytes = _cfg.segment_index_bytes;
    t.map_memory = cfg.dedupe_buffer_bytes;
    t.io_max_bytes_per_second = cfg.io_max_bytes_per_second;
    t.aborted = aborted_transactions(_log_start, end);
    timestamp_ms oldest_dirty(-1);
    for (auto& [base, s] : _segments) {
        if (base >= end) break;
        t.segments.push_back({base, s->next_offset(), s->log_file(), s->size()});
        if (s->next_offset() > first_dirty && oldest_dirty() < 0) oldest_dirty = s->max_timestamp();
    }
    if (t.segments.empty()) return std::nullopt;
    bool overdue = _cfg.max_compaction_lag_ms != std::numeric_limits<int64_t>::max() && oldest_dirty() >= 0 &&
                   t.now_ms - oldest_dirty() > _cfg.max_compaction_lag_ms;
    if (!force && !overdue && dirty_ratio() < _cfg.min_cleanable_dirty_ratio) return std::nullopt;
    _cleaning = true;
    return t;
}

void log::remove_cleaned_files(const cleaning_result& r)
{
    for (auto& g : r.groups) {
        auto stem = join_path(_dir, segment::file_stem(g.base));
        for (auto ext : {".log.cleaned", ".index.cleaned", ".timeindex.cleaned"}) {
            if (_fs.exists(stem + ext)) (void)_fs.remove(stem + ext);
        }
    }
}

void log::abort_cleaning(const cleaning_result& r)
{
    remove_cleaned_files(r);
    _cleaning = false;
}

result<void> log::complete_cleaning(const cleaning_task& task, const cleaning_result& r, int stop_after_steps)
{
    _cleaning = false;
    if (r.error) {
        log_.warn("{}: cleaning failed: {}", _tp, r.error.message());
        remove_cleaned_files(r);
        return r.error;
    }
    // The old segments must still be there, unchanged (retention, DeleteRecords or truncation
    // may have run meanwhile).
    for (auto& s : task.segments) {
        if (s.base >= r.cleaned_up_to) break;
        auto it = _segments.find(s.base);
        if (it == _segments.end() || it->second->size() != s.size || it->second->log_file() != s.file) {
            log_.info("{}: the log changed while it was cleaned; discarding the result", _tp);
            remove_cleaned_files(r);
            return ok();
        }
    }
    auto swapped = swap_in(task, r, stop_after_steps);
    if (!swapped) go_offline(swapped.error(), "swapping in cleaned segments failed");
    return swapped;
}

result<void> log::swap_in(const cleaning_task& task, const cleaning_result& r, int stop_after_steps)
{
    int steps = 0;
    auto step = [&]() { return stop_after_steps < 0 || steps++ < stop_after_steps; };
    int64_t delete_at = _clock.monotonic_ms() + _cfg.file_delete_delay_ms;
    for (auto& g : r.groups) {
        auto stem = join_path(_dir, segment::file_stem(g.base));
        // 1. .cleaned → .swap: from here on a restart completes the swap.
        for (auto ext : {".index", ".timeindex", ".log"}) {
            if (!step()) return ok();
            SAMSA_TRY(_fs.rename(stem + ext + ".cleaned", stem + ext + ".swap"));
        }
        SAMSA_TRY(_fs.sync_dir(_dir));
        // 2. The replaced segments leave the log (renamed .deleted, unlinked later).
        for (auto base : g.replaced) {
            if (!step()) return ok();
            auto it = _segments.find(base);
            auto seg = std::move(it->second);
            _segments.erase(it);
            SAMSA_TRY(seg->rename_files(".deleted"));
            _deleted.push_back({std::move(seg), delete_at});
        }
        // 3. .swap → live, then the new segment joins the log.
        for (auto ext : {".index", ".timeindex", ".log"}) {
            if (!step()) return ok();
            SAMSA_TRY(_fs.rename(stem + ext + ".swap", stem + ext));
        }
        SAMSA_TRY(_fs.sync_dir(_dir));
        SAMSA_TRY_ASSIGN(auto seg, segment::open(_fs, _dir, g.base, seg_opts(), _clock.now_ms()));
        SAMSA_TRY(seg->load());
        _segments.emplace(g.base, std::move(seg));
        // The aborted transactions of the replaced segments are now the merged segment's.
        for (auto base : g.replaced) {
            if (base != g.base && _fs.exists(txn_index_path(base))) (void)_fs.remove(txn_index_path(base));
        }
        write_txn_index(g.base);
    }
    _cleaner_checkpoint = std::max(_cleaner_checkpoint, r.cleaned_up_to);
    return ok();
}

result<void> log::finish_interrupted_swaps(std::vector<std::string>& names)
{
    // A `.swap` segment replaces every live segment whose offsets it covers. Each step below
    // can be repeated, so a crash during this repair is repaired the same way next time.
    bool any = false;
    for (auto& n : names) {
        offset base;
        if (!segment::parse_file_name(n, ".log.swap", base)) continue;
        any = true;
        auto stem = join_path(_dir, segment::file_stem(base));
        SAMSA_TRY_ASSIGN(auto swap_file, _fs.open(stem + ".log.swap", open_mode::read_only));
        SAMSA_TRY_ASSIGN(uint64_t sz, swap_file->size());
        offset next = base;
        batch_scanner scan(swap_file, 0, sz, /*verify_crc=*/false);
        while (auto b = scan.next()) next = b->header.next_offset();
        for (auto& other : names) {
            offset ob;
            if (!segment::parse_file_name(other, ".log", ob) || ob < base || ob >= std::max(next, base + 1)) continue;
            for (auto ext : {".log", ".index", ".timeindex"}) {
                auto p = join_path(_dir, segment::file_stem(ob) + ext);
                if (_fs.exists(p)) SAMSA_TRY(_fs.remove(p));
            }
        }
        for (auto ext : {".index", ".timeindex", ".log"}) {
            if (_fs.exists(stem + ext + ".swap")) SAMSA_TRY(_fs.rename(stem + ext + ".swap", stem + ext));
        }
        SAMSA_TRY(_fs.sync_dir(_dir));
        log_.info("{}: completed a cleaned-segment swap interrupted at offset {}", _tp, base);
    }
    if (any) {
        SAMSA_TRY_ASSIGN(names, _fs.list_dir(_dir));
    }
    return ok();
}

} // namespace samsa::storage
