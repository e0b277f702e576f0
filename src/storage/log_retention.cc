#include "base/logging.h"
#include "storage/errc.h"
#include "storage/log.h"

#include <limits>

namespace samsa::storage {
namespace {
constexpr logger log_{"storage"};
}

size_t log::retention_deletable_prefix(bool& by_start, bool& by_time, bool& by_size)
{
    // Only segments wholly below the high watermark. Deletion is of a prefix: the first segment
    // that must stay stops it, as in Kafka. The active segment counts too when it is not empty
    // and all of it is below the high watermark: apply_retention() rolls it first, so
    // "retention.ms=1000 purges a topic" works as in Kafka.
    int64_t now = _clock.now_ms()();
    uint64_t total = size_bytes();
    size_t n = 0;
    for (auto it = _segments.begin(); it != _segments.end(); ++it) {
        auto next = std::next(it);
        bool last = next == _segments.end();
        auto& seg = *it->second;
        offset upper = last ? _log_end : next->first; // the offset after the segment's last
        if (upper > _high_watermark || (last && seg.empty())) break;
        bool below_start = !last && upper <= _log_start;
        bool expired = _cfg.cleanup_delete && _cfg.retention_ms >= 0 && seg.max_timestamp()() >= 0 &&
                       now - seg.max_timestamp()() > _cfg.retention_ms;
        bool oversize = _cfg.cleanup_delete && _cfg.retention_bytes >= 0 &&
                        total - seg.size() >= static_cast<uint64_t>(_cfg.retention_bytes);
        if (!below_start && !expired && !oversize) break;
        by_start |= below_start;
        by_time |= expired;
        by_size |= oversize;
        total -= seg.size();
        ++n;
    }
    return n;
}

result<size_t> log::apply_retention()
{
    bool by_start = false, by_time = false, by_size = false;
    size_t n = retention_deletable_prefix(by_start, by_time, by_size);
    if (n == 0) return size_t(0);
    // The active segment itself is due: roll, so an empty active segment stays behind.
    if (n == _segments.size()) SAMSA_TRY(roll());
    log_.info("{}: deleting {} segment(s) by {}{}{}", _tp, n, by_start ? "log start offset " : "",
              by_time ? "retention.ms " : "", by_size ? "retention.bytes" : "");
    SAMSA_TRY(delete_segments(n));
    return n;
}

result<void> log::delete_segments(size_t count)
{
    int64_t delete_at = _clock.monotonic_ms() + _cfg.file_delete_delay_ms;
    std::vector<offset> removed;
    for (size_t i = 0; i < count && _segments.size() > 1; ++i) {
        auto it = _segments.begin();
        removed.push_back(it->first);
        auto seg = std::move(it->second);
        _segments.erase(it);
        if (auto r = seg->rename_files(".deleted"); !r) {
            log_.warn("{}: cannot rename segment {} for deletion: {}", _tp, seg->base_offset(), r.error().message());
        }
        _deleted.push_back({std::move(seg), delete_at});
    }
    _log_start = std::max(_log_start, _segments.begin()->first);
    _high_watermark = std::max(_high_watermark, _log_start);
    _recovery_point = std::max(_recovery_point, _log_start);
    check_invariants();
    if (auto r = _epochs->truncate_from_start(_log_start); !r) {
        log_.warn("{}: cannot write leader-epoch-checkpoint: {}", _tp, r.error().message());
    }
    delete_old_snapshots();
    // Aborted transactions whose markers went with the segments, and their .txnindex files.
    offset first = _segments.begin()->first;
    std::erase_if(_aborted, [&](const aborted_txn& a) { return a.last_offset < first; });
    for (auto o : removed) {
        if (_fs.exists(txn_index_path(o))) (void)_fs.remove(txn_index_path(o));
    }
    return ok();
}

void log::remove_deleted_files(bool force)
{
    int64_t now = _clock.monotonic_ms();
    std::erase_if(_deleted, [&](deleted_segment& d) {
        if (!force && d.delete_at_ms > now) return false;
        if (auto r = d.seg->remove_files(); !r) {
            log_.warn("{}: cannot remove deleted segment {}: {}", _tp, d.seg->base_offset(), r.error().message());
        }
        return true;
    });
}

result<void> log::advance_log_start_offset(offset new_start)
{
    if (new_start > _high_watermark) return make_error_code(errc::offset_out_of_range);
    if (new_start <= _log_start) return ok();
    _log_start = new_start;
    size_t n = 0;
    // Only segments wholly below the new start go; retention rules are not applied here.
    for (auto it = _segments.begin(); it != _segments.end(); ++it) {
        auto next = std::next(it);
        if (next == _segments.end() || next->first > _log_start) break;
        ++n;
    }
    if (n > 0) SAMSA_TRY(delete_segments(n));
    check_invariants();
    if (auto r = _epochs->truncate_from_start(_log_start); !r) {
        log_.warn("{}: cannot write leader-epoch-checkpoint: {}", _tp, r.error().message());
    }
    return ok();
}

result<void> log::truncate_to(offset target)
{
    if (_offline_error) return make_error_code(errc::log_offline);
    if (target >= _log_end) {
        // Nothing to cut, but an epoch may have begun at the end (a leader that never appended in
        // it): a follower truncating to its end must not keep claiming that epoch.
        return _epochs->truncate_from_end(target);
    }
    if (target < _log_start) target = _log_start;
    // Whole segments at or after target go; the one holding target is cut.
    while (_segments.size() > 1 && _segments.rbegin()->first >= target) {
        auto it = std::prev(_segments.end());
        SAMSA_TRY(it->second->remove_files());
        _segments.erase(it);
    }
    auto& a = active();
    if (a.base_offset() >= target) {
        SAMSA_TRY(a.truncate_to(a.base_offset()));
    } else {
        SAMSA_TRY(a.truncate_to(target));
    }
    SAMSA_TRY(_fs.sync_dir(_dir));
    _log_end = std::max(a.next_offset(), a.base_offset());
    _recovery_point = std::min(_recovery_point, _log_end);
    _high_watermark = std::min(_high_watermark, _log_end);
    check_invariants();
    SAMSA_TRY(_epochs->truncate_from_end(_log_end));
    // The producer state as of the new end: from the newest snapshot at or below it.
    return load_producer_state(/*clean_shutdown=*/false);
}

result<void> log::truncate_fully_and_start_at(offset start)
{
    if (_offline_error) return make_error_code(errc::log_offline);
    log_.info("{}: truncating fully (log {}..{}) to start at {}", _tp, _log_start, _log_end, start);
    for (auto& [base, seg] : _segments) {
        SAMSA_TRY(seg->remove_files());
        if (_fs.exists(txn_index_path(base))) (void)_fs.remove(txn_index_path(base));
    }
    _segments.clear();
    delete_snapshots_above(offset(-1));
    auto seg = segment::create(_fs, _dir, start, seg_opts(), _clock.now_ms());
    if (!seg) {
        go_offline(seg.error(), "creating a segment failed");
        return make_error_code(errc::log_offline);
    }
    _segments.emplace(start, std::move(*seg));
    SAMSA_TRY(_fs.sync_dir(_dir));
    _log_start = _log_end = _recovery_point = _high_watermark = start;
    _aborted.clear();
    _unstable.clear();
    _producers.clear();
    _roll_flush_pending.reset();
    _cleaner_checkpoint = start;
    check_invariants();
    return _epochs->truncate_from_end(offset(std::numeric_limits<int64_t>::min()));
}

} // namespace samsa::storage
