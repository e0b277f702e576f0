#include "base/logging.h"
#include "storage/batch_scanner.h"
#include "storage/errc.h"
#include "storage/log.h"

#include <charconv>

namespace samsa::storage {
namespace {

constexpr logger log_{"storage"};

bool ends_with(const std::string& s, std::string_view suf)
{
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

} // namespace

result<std::unique_ptr<log>> log::open(file_ops& fs, std::string dir, topic_partition tp, log_config cfg,
                                       const clock& clk, log_open_options opts)
{
    std::unique_ptr<log> l(new log(fs, std::move(dir), std::move(tp), cfg, clk));
    SAMSA_TRY(fs.create_dirs(l->_dir));
    SAMSA_TRY(l->load(opts));
    return l;
}

result<void> log::load(const log_open_options& opts)
{
    SAMSA_TRY_ASSIGN(auto names, _fs.list_dir(_dir));
    SAMSA_TRY(finish_interrupted_swaps(names));
    std::vector<offset> bases;
    for (auto& n : names) {
        auto path = join_path(_dir, n);
        offset base;
        if (ends_with(n, ".deleted") || ends_with(n, ".tmp") || ends_with(n, ".cleaned")) {
            // Leftovers of an interrupted deletion, checkpoint write or cleaning: never live.
            SAMSA_TRY(_fs.remove(path));
        } else if (segment::parse_file_name(n, ".log", base)) {
            bases.push_back(base);
        }
    }
    // Index files whose log is gone are stale.
    for (auto& n : names) {
        offset base;
        if ((segment::parse_file_name(n, ".index", base) || segment::parse_file_name(n, ".timeindex", base)) &&
            std::find(bases.begin(), bases.end(), base) == bases.end()) {
            SAMSA_TRY(_fs.remove(join_path(_dir, n)));
        }
    }
    std::sort(bases.begin(), bases.end());
    auto now = _clock.now_ms();
    for (auto b : bases) {
        SAMSA_TRY_ASSIGN(auto seg, segment::open(_fs, _dir, b, seg_opts(), now));
        _segments.emplace(b, std::move(seg));
    }
    if (_segments.empty()) {
        offset start = opts.log_start_offset() > 0 ? opts.log_start_offset : offset(0);
        SAMSA_TRY_ASSIGN(auto seg, segment::create(_fs, _dir, start, seg_opts(), now));
        _segments.emplace(start, std::move(seg));
    }

    bool epochs_intact = _epochs->load();
    if (opts.clean_shutdown) {
        for (auto& [b, s] : _segments) SAMSA_TRY(s->load());
        _log_end = active().next_offset();
        _recovery_point = _log_end;
    } else {
        SAMSA_TRY(recover_from(opts.recovery_point, epochs_intact ? &_epochs->entries() : nullptr));
    }

    _log_start = std::max(opts.log_start_offset, _segments.begin()->first);
    _log_start = std::min(_log_start, _log_end);
    _recovery_point = std::min(_recovery_point, _log_end);
    _high_watermark = std::clamp(opts.high_watermark, _log_start, _log_end);
    _cleaner_checkpoint = std::clamp(opts.cleaner_checkpoint, _log_start, _log_end);
    _last_flush_ms = _clock.monotonic_ms();
    check_invariants();

    if (!epochs_intact) SAMSA_TRY(rebuild_epoch_cache());
    SAMSA_TRY(_epochs->truncate_from_end(_log_end));
    SAMSA_TRY(_epochs->truncate_from_start(_log_start));
    return load_producer_state(opts.clean_shutdown);
}

result<void> log::recover_from(offset recovery_point, const std::vector<epoch_entry>* epochs)
{
    // Segments wholly below the recovery point were synced: load them; scan the rest.
    auto first_unflushed = _segments.upper_bound(recovery_point);
    if (first_unflushed != _segments.begin()) --first_unflushed;
    offset expected = _segments.begin()->first;
    leader_epoch last_epoch(-1);
    for (auto it = _segments.begin(); it != first_unflushed; ++it) {
        SAMSA_TRY(it->second->load());
        expected = it->second->next_offset();
    }
    for (auto it = first_unflushed; it != _segments.end(); ++it) {
        auto& seg = *it->second;
        if (seg.base_offset() < expected && !_cfg.cleanup_compact) {
            // A segment that starts inside its predecessor: everything from here is suspect.
            SAMSA_TRY(delete_segments_from(it));
            break;
        }
        recovery_rules rules{_cfg.cleanup_compact ? std::max(expected, seg.base_offset()) : seg.base_offset(),
                             !_cfg.cleanup_compact, last_epoch, epochs};
        SAMSA_TRY_ASSIGN(auto rec, seg.recover(rules));
        last_epoch = rec.last_epoch;
        expected = seg.next_offset();
        if (rec.truncated) {
            _recovery_truncated_bytes += rec.truncated_bytes;
            log_.warn("{}: recovery cut {} bytes at position {} of segment {} ({})", _tp, rec.truncated_bytes,
                      rec.valid_bytes, seg.base_offset(), rec.reason.message());
            auto next = std::next(it);
            if (next != _segments.end()) SAMSA_TRY(delete_segments_from(next));
            break;
        }
    }
    _log_end = active().next_offset();
    if (_log_end < active().base_offset()) _log_end = active().base_offset();
    _recovery_point = _log_end;
    return ok();
}

result<void> log::delete_segments_from(std::map<offset, std::unique_ptr<segment>>::iterator it)
{
    while (it != _segments.end()) {
        log_.warn("{}: deleting segment {} after the recovered end of the log", _tp, it->first);
        SAMSA_TRY(it->second->remove_files());
        it = _segments.erase(it);
    }
    return _fs.sync_dir(_dir);
}

result<void> log::rebuild_epoch_cache()
{
    std::vector<epoch_entry> entries;
    for (auto& [b, seg] : _segments) {
        batch_scanner scan(seg->log_file(), 0, seg->size(), /*verify_crc=*/false, 64 * 1024);
        while (auto bt = scan.next()) {
            auto e = bt->header.partition_leader_epoch;
            if (e() >= 0 && (entries.empty() || e > entries.back().epoch)) entries.push_back({e, bt->header.base_offset});
        }
    }
    if (!entries.empty()) log_.info("{}: rebuilt leader epoch history ({} epochs)", _tp, entries.size());
    return _epochs->reset(std::move(entries));
}

} // namespace samsa::storage
