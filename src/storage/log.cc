#include "storage/log.h"

#include "base/assert.h"
#include "base/logging.h"
#include "storage/errc.h"

#include <atomic>

namespace samsa::storage {
namespace {
constexpr logger log_{"storage"};
}

result<void> flush_job::run() const
{
    for (auto& p : sync_paths) {
        // A file replaced or removed meanwhile (a producer snapshot after a truncation) is
        // not this job's to sync.
        auto f = fs->open(p, open_mode::read_only);
        if (!f && f.error() == make_error_code(errc::not_found)) continue;
        if (!f) return f.error();
        SAMSA_TRY((*f)->sync());
    }
    for (auto& f : files) SAMSA_TRY(f->sync());
    for (auto& d : dirs) SAMSA_TRY(fs->sync_dir(d));
    return ok();
}

log::log(file_ops& fs, std::string dir, topic_partition tp, log_config cfg, const clock& clk)
  : _fs(fs), _dir(std::move(dir)), _tp(std::move(tp)), _cfg(cfg), _clock(clk)
{
    static std::atomic<uint64_t> next_incarnation{1};
    _incarnation = next_incarnation++;
    _epochs = std::make_unique<leader_epoch_cache>(fs, join_path(_dir, "leader-epoch-checkpoint"));
}

log::~log() = default;

void log::go_offline(std::error_code ec, const char* what)
{
    if (!_offline_error) {
        log_.error("{}: {}: {}; the log is offline for writes", _tp, what, ec.message());
        _offline_error = ec;
    }
}

void log::set_high_watermark(offset hw)
{
    _high_watermark = std::clamp(hw, _log_start, _log_end);
    std::erase_if(_unstable, [&](const completed_txn& c) { return c.last_offset < _high_watermark; });
    check_invariants();
}

offset log::last_stable_offset() const
{
    offset lso = _high_watermark;
    if (auto first = _producers.first_ongoing_offset()) lso = std::min(lso, *first);
    for (auto& c : _unstable) lso = std::min(lso, c.first_offset);
    return std::max(lso, _log_start);
}

std::vector<aborted_txn> log::aborted_transactions(offset from, offset upper) const
{
    std::vector<aborted_txn> out;
    auto it = std::lower_bound(_aborted.begin(), _aborted.end(), from,
                               [](const aborted_txn& a, offset o) { return a.last_offset < o; });
    for (; it != _aborted.end(); ++it) {
        if (it->first_offset < upper) out.push_back(*it);
    }
    return out;
}

void log::on_completed(const std::vector<completed_txn>& done)
{
    for (auto& c : done) {
        if (c.last_offset >= _high_watermark) _unstable.push_back(c);
        if (!c.aborted) continue;
        auto stable = _producers.first_ongoing_offset().value_or(c.last_offset + 1);
        _aborted.push_back({c.pid, c.first_offset, c.last_offset, std::min(stable, c.last_offset + 1)});
        write_txn_index(segment_base_of(c.last_offset));
    }
}

void log::check_invariants() const
{
    SAMSA_ASSERT(!_segments.empty(), "{}: no segment", _tp);
    SAMSA_ASSERT(_segments.begin()->first <= _log_start, "{}: log start {} below the first segment {}", _tp,
                 _log_start, _segments.begin()->first);
    SAMSA_ASSERT(_log_start <= _high_watermark && _high_watermark <= _log_end,
                 "{}: log start {} <= high watermark {} <= log end {} does not hold", _tp, _log_start,
                 _high_watermark, _log_end);
    SAMSA_ASSERT(_recovery_point <= _log_end, "{}: recovery point {} beyond log end {}", _tp, _recovery_point,
                 _log_end);
}

uint64_t log::size_bytes() const
{
    uint64_t total = 0;
    for (auto& [b, s] : _segments) total += s->size();
    return total;
}

std::vector<offset> log::segment_base_offsets() const
{
    std::vector<offset> out;
    for (auto& [b, s] : _segments) out.push_back(b);
    return out;
}

result<void> log::roll()
{
    auto& old = active();
    if (auto r = old.seal(); !r) {
        go_offline(r.error(), "sealing a segment failed");
        return make_error_code(errc::log_offline);
    }
    auto seg = segment::create(_fs, _dir, _log_end, seg_opts(), _clock.now_ms());
    if (!seg) {
        go_offline(seg.error(), "creating a segment failed");
        return make_error_code(errc::log_offline);
    }
    log_.debug("{}: rolled new segment at offset {}", _tp, _log_end);
    _segments.emplace(_log_end, std::move(*seg));
    // The producer state as of the new segment's base, so recovery replays at most the
    // active segment; synced with the rolled segment (prepare_flush).
    if (auto r = take_producer_snapshot(/*durable=*/false); !r) {
        log_.warn("{}: cannot write a producer snapshot: {}", _tp, r.error().message());
    }
    // As Kafka does, the finished segment is flushed soon after the roll (flush_rolled()).
    _roll_flush_pending = _log_end;
    return ok();
}

result<void> log::maybe_roll(uint64_t incoming, offset last_offset, timestamp_ms incoming_max_ts)
{
    auto& a = active();
    if (a.empty()) return ok();
    // As Kafka (KAFKA-4099): the segment's age is measured from its first batch's timestamp to
    // the incoming batches' timestamp, so old CreateTime timestamps do not roll every append;
    // wall-clock time only for segments whose batches carry no timestamps.
    int64_t age = a.first_batch_timestamp() && incoming_max_ts() >= 0
                      ? incoming_max_ts - *a.first_batch_timestamp()
                      : _clock.now_ms() - a.created_timestamp();
    bool full = a.size() + incoming > _cfg.segment_bytes;
    bool old = age > _cfg.segment_ms - _cfg.segment_jitter_ms;
    if (full || old || a.index_full() || !a.can_hold_offset(last_offset)) return roll();
    return ok();
}

result<append_info> log::append_checked(bytes_view data, std::vector<protocol::batch_header> headers)
{
    if (_offline_error) return make_error_code(errc::log_offline);
    if (headers.empty()) return make_error_code(errc::invalid_batch);
    if (data.size() > _cfg.segment_bytes) return make_error_code(errc::batch_too_large);
    timestamp_ms max_ts(-1);
    for (auto& h : headers) max_ts = std::max(max_ts, h.max_timestamp);
    SAMSA_TRY(maybe_roll(data.size(), headers.back().last_offset(), max_ts));
    // The epoch history is written ahead of the batches, so recovery can check every batch's
    // epoch against it.
    for (auto& h : headers) {
        auto latest = _epochs->latest_epoch();
        if (h.partition_leader_epoch() >= 0 && (!latest || h.partition_leader_epoch > *latest)) {
            if (auto r = _epochs->assign(h.partition_leader_epoch, h.base_offset); !r) {
                log_.error("{}: cannot write leader-epoch-checkpoint: {}", _tp, r.error().message());
                return r.error();
            }
        }
    }
    if (auto r = active().append(data, headers); !r) {
        go_offline(r.error(), "writing to a segment failed");
        return r.error() == make_error_code(errc::no_space) ? r.error() : make_error_code(errc::log_offline);
    }
    append_info info;
    info.first_offset = headers.front().base_offset;
    info.last_offset = headers.back().last_offset();
    info.bytes = data.size();
    info.batches = headers.size();
    _log_end = headers.back().next_offset();
    check_invariants();
    info.log_start_offset = _log_start;
    if (_cfg.flush_messages != std::numeric_limits<int64_t>::max() && _log_end - _recovery_point >= _cfg.flush_messages) {
        if (auto r = flush(); !r) return make_error_code(errc::log_offline);
    }
    return info;
}

result<append_info> log::append_as_leader(mutable_bytes_view batches, leader_epoch epoch, bool crc_checked,
                                          append_origin origin)
{
    if (_offline_error) return make_error_code(errc::log_offline);
    std::vector<protocol::batch_header> headers;
    offset next = _log_end;
    timestamp_ms now = _clock.now_ms();
    bool append_time = _cfg.timestamp_type == protocol::timestamp_type::log_append_time;
    producer_state::append producers(_producers);
    size_t pos = 0;
    while (pos < batches.size()) {
        auto rest = batches.subspan(pos);
        auto h = crc_checked ? protocol::read_framed_header(rest) : protocol::validate_batch(rest);
        if (!h) return make_error_code(errc::invalid_batch);
        auto batch = rest.first(h->size_bytes());
        protocol::set_base_offset(batch, next);
        protocol::set_partition_leader_epoch(batch, epoch);
        if (append_time) protocol::set_log_append_time(batch, now);
        h->base_offset = next;
        h->partition_leader_epoch = epoch;
        if (append_time) {
            h->max_timestamp = now;
            h->attributes |= protocol::batch_attr::timestamp_type;
        }
        std::optional<control_marker> marker;
        if (h->is_control()) {
            // Only the transaction coordinator writes markers, one per control batch.
            marker = read_control_marker(batch, *h);
            if (origin != append_origin::coordinator || !marker || h->pid() < 0) return make_error_code(errc::invalid_batch);
        }
        SAMSA_TRY_ASSIGN(auto dup, producers.check(*h, marker ? &*marker : nullptr, origin == append_origin::client));
        if (dup) {
            // A retry of a batch already written: answered with where it went, as Kafka does.
            append_info info;
            info.first_offset = dup->first_offset();
            info.last_offset = dup->last_offset;
            if (append_time) info.log_append_time = dup->timestamp;
            info.log_start_offset = _log_start;
            info.duplicate = true;
            return info;
        }
        next = h->next_offset();
        pos += h->size_bytes();
        headers.push_back(*h);
    }
    if (headers.empty()) return make_error_code(errc::invalid_batch);
    SAMSA_TRY_ASSIGN(auto info, append_checked(batches, std::move(headers)));
    on_completed(producers.commit(_producers));
    if (append_time) info.log_append_time = now;
    return info;
}

result<append_info> log::append_with_offsets(bytes_view batches)
{
    std::vector<protocol::batch_header> headers;
    protocol::batch_iterator it(batches);
    offset next = _log_end;
    producer_state::append producers(_producers);
    while (auto h = it.next()) {
        if (h->base_offset < next) return make_error_code(errc::invalid_offset);
        next = h->next_offset();
        auto marker = h->is_control() ? read_control_marker(it.current(), *h) : std::nullopt;
        producers.record(*h, marker ? &*marker : nullptr);
        headers.push_back(*h);
    }
    if (it.error() || headers.empty()) return make_error_code(errc::invalid_batch);
    SAMSA_TRY_ASSIGN(auto info, append_checked(batches, std::move(headers)));
    on_completed(producers.commit(_producers));
    return info;
}

result<file_slice> log::read(offset start, size_t max_bytes, offset max_offset, bool min_one)
{
    if (start < _log_start || start > _log_end) return make_error_code(errc::offset_out_of_range);
    file_slice empty;
    if (start >= max_offset || start == _log_end) return empty;
    auto it = _segments.upper_bound(start);
    if (it != _segments.begin()) --it;
    for (; it != _segments.end(); ++it) {
        SAMSA_TRY_ASSIGN(auto slice, it->second->read(start, max_bytes, max_offset, min_one));
        if (!slice.empty()) return slice;
        // Nothing at or after `start` in this segment (offset gap or batch too big): next one.
        if (it->second->next_offset() > start && !min_one) return slice;
    }
    return empty;
}

result<std::optional<timestamp_lookup>> log::find_by_timestamp(timestamp_ms ts)
{
    for (auto& [base, seg] : _segments) {
        if (seg->max_timestamp() < ts) continue;
        SAMSA_TRY_ASSIGN(auto b, seg->find_batch_by_timestamp(ts));
        if (!b) continue;
        if (b->header.last_offset() < _log_start) continue;
        timestamp_lookup out{std::max(b->header.base_offset, _log_start), b->header.max_timestamp,
                             b->header.partition_leader_epoch,
                             file_slice{seg->log_file(), b->position, static_cast<uint32_t>(b->header.size_bytes()),
                                        b->header.base_offset, b->header.last_offset()}};
        return std::optional<timestamp_lookup>(out);
    }
    return std::optional<timestamp_lookup>{};
}

flush_job log::prepare_flush(offset up_to)
{
    flush_job job;
    job.up_to = std::min(up_to, _log_end);
    job.fs = &_fs;
    job.sync_paths.push_back(_epochs->path());
    if (!_snapshots.empty()) job.sync_paths.push_back(snapshot_path(*_snapshots.rbegin()));
    job.dirs.push_back(_dir);
    if (!_dir_entry_synced) job.dirs.push_back(parent_dir(_dir));
    if (job.up_to <= _recovery_point) return job;
    auto it = _segments.upper_bound(_recovery_point);
    if (it != _segments.begin()) --it;
    for (; it != _segments.end() && it->first < job.up_to; ++it) job.files.push_back(it->second->log_file());
    return job;
}

void log::complete_flush(const flush_job& job, const result<void>& outcome)
{
    if (!outcome) {
        _sync_failed = true;
        go_offline(outcome.error(), "fsync failed (only a restart brings the log back)");
        return;
    }
    if (job.up_to > _recovery_point) _recovery_point = job.up_to;
    if (job.dirs.size() > 1) _dir_entry_synced = true;
    _last_flush_ms = _clock.monotonic_ms();
}

result<void> log::flush()
{
    if (_offline_error) return make_error_code(errc::log_offline);
    auto job = prepare_flush(_log_end);
    auto r = job.run();
    complete_flush(job, r);
    if (!r) return make_error_code(errc::log_offline);
    return ok();
}

result<void> log::flush_rolled()
{
    if (!_roll_flush_pending || _offline_error) return ok();
    auto job = prepare_flush(*_roll_flush_pending);
    _roll_flush_pending.reset();
    auto r = job.run();
    complete_flush(job, r);
    if (!r) return make_error_code(errc::log_offline);
    return ok();
}

std::optional<flush_job> log::take_due_flush()
{
    if (_offline_error) return std::nullopt;
    std::optional<offset> up_to = _roll_flush_pending;
    bool timed = _cfg.flush_ms != std::numeric_limits<int64_t>::max() && _recovery_point < _log_end &&
                 _clock.monotonic_ms() - _last_flush_ms >= _cfg.flush_ms;
    if (timed) {
        up_to = _log_end;
        _last_flush_ms = _clock.monotonic_ms();
    }
    _roll_flush_pending.reset();
    if (!up_to || *up_to <= _recovery_point) return std::nullopt;
    return prepare_flush(*up_to);
}

result<void> log::maybe_flush_by_time()
{
    if (_cfg.flush_ms == std::numeric_limits<int64_t>::max() || _recovery_point >= _log_end) return ok();
    if (_clock.monotonic_ms() - _last_flush_ms < _cfg.flush_ms) return ok();
    return flush();
}

bool log::try_reopen_after_no_space()
{
    if (!_offline_error) return true;
    if (_sync_failed || *_offline_error != make_error_code(errc::no_space)) return false;
    auto& a = active();
    auto sz = a.log_file()->size();
    if (!sz) return false;
    if (*sz > a.size() && !a.log_file()->truncate(a.size())) return false;
    log_.info("{}: space is available again; accepting writes", _tp);
    _offline_error.reset();
    return true;
}

result<void> log::close(bool do_flush)
{
    if (!_segments.empty() && !_offline_error) SAMSA_TRY(active().seal());
    // The producer state as of the end, so a clean start replays nothing (an empty log
    // without producers needs no file: it loads empty).
    if (!_offline_error && (!_producers.empty() || !_snapshots.empty() || _log_end > _log_start)) {
        SAMSA_TRY(take_producer_snapshot(do_flush));
    }
    if (do_flush && !_offline_error) {
        if (_fs.exists(_epochs->path())) {
            SAMSA_TRY_ASSIGN(auto ef, _fs.open(_epochs->path(), open_mode::read_only));
            SAMSA_TRY(ef->sync());
        }
        for (auto& [b, s] : _segments) SAMSA_TRY(s->sync());
        SAMSA_TRY(_fs.sync_dir(_dir));
        SAMSA_TRY(_fs.sync_dir(parent_dir(_dir)));
        _recovery_point = _log_end;
    }
    remove_deleted_files(true);
    return ok();
}

result<void> log::remove_all_files()
{
    remove_deleted_files(true);
    _segments.clear();
    return _fs.remove_all(_dir);
}

} // namespace samsa::storage
