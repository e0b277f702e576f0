#include "storage/segment.h"

#include "base/logging.h"
#include "storage/batch_scanner.h"
#include "storage/errc.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace samsa::storage {
namespace {
constexpr logger log{"storage"};

/// Whether a batch's leader epoch fits the rules: the history's epoch for its offset when the
/// history is known, otherwise never below the previous batch's.
bool epoch_fits(const recovery_rules& rules, const protocol::batch_header& h, leader_epoch last)
{
    auto e = h.partition_leader_epoch;
    if (rules.epochs && !rules.epochs->empty()) {
        auto& hist = *rules.epochs;
        auto it = std::upper_bound(hist.begin(), hist.end(), h.base_offset,
                                   [](offset o, const epoch_entry& x) { return o < x.start_offset; });
        if (it == hist.begin()) return e <= hist.front().epoch;
        return e == std::prev(it)->epoch;
    }
    return e >= last || e() < 0;
}
} // namespace

result<bytes> file_slice::read_all() const
{
    bytes out(size);
    if (size == 0) return out;
    SAMSA_TRY_ASSIGN(size_t n, file->pread(position, out));
    if (n != size) return make_error_code(errc::io_error);
    return out;
}

std::string segment::file_stem(offset o) { return fmt::format("{:020d}", o()); }

bool segment::parse_file_name(std::string_view name, std::string_view suffix, offset& out)
{
    if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return false;
    int64_t v = 0;
    auto [p, ec] = std::from_chars(name.data(), name.data() + 20, v);
    if (ec != std::errc() || p != name.data() + 20 || v < 0) return false;
    out = offset(v);
    return true;
}

segment::segment(file_ops& fs, std::string dir, offset base, const segment_options& opts, timestamp_ms now)
  : _fs(fs)
  , _dir(std::move(dir))
  , _base(base)
  , _opts(opts)
  , _log_path(join_path(_dir, file_stem(base) + ".log"))
  , _index(fs, join_path(_dir, file_stem(base) + ".index"), base, opts.max_index_bytes)
  , _tindex(fs, join_path(_dir, file_stem(base) + ".timeindex"), base, opts.max_index_bytes)
  , _next(base)
  , _offset_of_max_ts(base)
  , _created(now)
{}

result<void> segment::open_files(open_mode mode)
{
    SAMSA_TRY_ASSIGN(_log, _fs.open(_log_path, mode));
    SAMSA_TRY(_index.open());
    SAMSA_TRY(_tindex.open());
    SAMSA_TRY_ASSIGN(_size, _log->size());
    _recent.clear();
    return ok();
}

result<std::unique_ptr<segment>> segment::create(file_ops& fs, const std::string& dir, offset base,
                                                 const segment_options& opts, timestamp_ms now)
{
    std::unique_ptr<segment> s(new segment(fs, dir, base, opts, now));
    SAMSA_TRY(s->open_files(open_mode::create));
    // A leftover file from an earlier incarnation at this offset must not leak into the new one.
    SAMSA_TRY(s->_log->truncate(0));
    SAMSA_TRY(s->_index.clear());
    SAMSA_TRY(s->_tindex.clear());
    s->_size = 0;
    // No directory sync here: the log syncs its directory with the first flush that covers
    // this segment's data (flush_job), which is when the entry has to be durable.
    return s;
}

result<std::unique_ptr<segment>> segment::open(file_ops& fs, const std::string& dir, offset base,
                                               const segment_options& opts, timestamp_ms now)
{
    std::unique_ptr<segment> s(new segment(fs, dir, base, opts, now));
    SAMSA_TRY(s->open_files(open_mode::read_write));
    return s;
}

namespace {

/// Kafka's index cadence, one rule for appends, recovery and rebuilds: before a batch, once more
/// than index.interval.bytes were written since the last entry, an entry is due; the offset
/// index maps the batch's last offset to its position, the time index gets the largest
/// timestamp seen before the batch and its offset. Then the batch counts towards the next entry
/// and towards the largest timestamp. `emit(last_offset, position, max_ts, offset_of_max_ts)`.
template<typename Emit>
void index_step(uint64_t& since, timestamp_ms& max_ts, offset& offset_of_max_ts, size_t interval,
                const protocol::batch_header& h, uint64_t pos, Emit&& emit)
{
    if (since > interval) {
        emit(h.last_offset(), static_cast<uint32_t>(pos), max_ts, offset_of_max_ts);
        since = 0;
    }
    if (h.max_timestamp > max_ts) {
        max_ts = h.max_timestamp;
        offset_of_max_ts = h.last_offset();
    }
    since += h.size_bytes();
}

/// An emit for index_step that collects entries (up to each index's capacity).
auto collect_into(std::vector<offset_index::entry>& idx, size_t idx_max, std::vector<time_index::entry>& tidx,
                  size_t tidx_max)
{
    return [&idx, idx_max, &tidx, tidx_max](offset last, uint32_t pos, timestamp_ms ts, offset ts_off) {
        if (idx.size() < idx_max) idx.push_back({last, pos});
        if (tidx.size() < tidx_max && (tidx.empty() || ts > tidx.back().ts)) tidx.push_back({ts, ts_off});
    };
}

} // namespace

void segment::note_batch(const protocol::batch_header& h, uint64_t pos)
{
    index_step(_bytes_since_index, _max_ts, _offset_of_max_ts, _opts.index_interval_bytes, h, pos,
               [this](offset last, uint32_t at, timestamp_ms ts, offset ts_off) {
                   // Failures to extend an index are not fatal: lookups only get slower, and a
                   // later load finds and rebuilds a short index.
                   if (auto r = _index.append(last, at); !r) {
                       log.warn("{}: cannot extend offset index: {}", _log_path, r.error().message());
                   }
                   if (auto r = _tindex.maybe_append(ts, ts_off); !r) {
                       log.warn("{}: cannot extend time index: {}", _log_path, r.error().message());
                   }
               });
    if (!_first_batch_ts && h.max_timestamp() >= 0) _first_batch_ts = h.max_timestamp;
    _next = h.next_offset();
}

result<void> segment::append(bytes_view data, std::span<const protocol::batch_header> headers)
{
    if (data.empty()) return ok();
    uint64_t start = _size;
    if (auto r = _log->pwrite(start, data); !r) {
        // Cut a partial write so the file ends on a batch boundary again.
        (void)_log->truncate(start);
        _recent.clear();
        return r.error();
    }
    uint64_t pos = start;
    for (auto& h : headers) {
        note_batch(h, pos);
        // As header_at would read it back from the file.
        if (auto written = protocol::read_header(data.subspan(pos - start))) {
            if (_recent.size() == max_recent) _recent.erase(_recent.begin());
            _recent.push_back(batch_position{pos, *written});
        } else {
            _recent.clear();
        }
        pos += h.size_bytes();
    }
    _size = pos;
    return ok();
}

result<std::optional<protocol::batch_header>> segment::header_at(uint64_t pos)
{
    if (pos + protocol::batch_layout::header_size > _size) return std::optional<protocol::batch_header>{};
    if (!_recent.empty() && pos >= _recent.front().position) {
        auto it = std::lower_bound(_recent.begin(), _recent.end(), pos,
                                   [](const batch_position& b, uint64_t p) { return b.position < p; });
        if (it != _recent.end() && it->position == pos) return std::optional<protocol::batch_header>(it->header);
    }
    uint8_t buf[protocol::batch_layout::header_size];
    SAMSA_TRY_ASSIGN(size_t n, _log->pread(pos, mutable_bytes_view(buf, sizeof buf)));
    if (n < sizeof buf) return std::optional<protocol::batch_header>{};
    auto h = protocol::read_header(bytes_view(buf, sizeof buf));
    if (!h || h->batch_length < 0 || pos + h->size_bytes() > _size) return make_error_code(errc::corrupt);
    return std::optional<protocol::batch_header>(*h);
}

result<std::optional<batch_position>> segment::walk_from(uint64_t pos, offset target, timestamp_ms ts)
{
    while (pos < _size) {
        SAMSA_TRY_ASSIGN(auto h, header_at(pos));
        if (!h) break;
        bool hit = ts() >= 0 ? h->max_timestamp >= ts : h->last_offset() >= target;
        if (hit) return std::optional<batch_position>(batch_position{pos, *h});
        pos += h->size_bytes();
    }
    return std::optional<batch_position>{};
}

result<uint64_t> segment::index_position(offset target)
{
    SAMSA_TRY_ASSIGN(auto e, _index.lookup(target));
    if (e.position == 0) return uint64_t(0);
    // The entry must name a batch that holds its offset; anything else means the index is
    // damaged (loads only check its shape), so rebuild it from the log and look again.
    auto h = header_at(e.position);
    if (h && *h && (*h)->base_offset <= e.off && e.off <= (*h)->last_offset()) return uint64_t(e.position);
    log.warn("{}: offset index entry ({}, {}) does not match the log; rebuilding the indexes", _log_path, e.off,
             e.position);
    SAMSA_TRY(rebuild_indexes());
    SAMSA_TRY_ASSIGN(auto again, _index.lookup(target));
    return uint64_t(again.position);
}

result<std::optional<batch_position>> segment::find_batch(offset target)
{
    SAMSA_TRY_ASSIGN(uint64_t pos, index_position(target));
    auto found = walk_from(pos, target, no_timestamp);
    if (found || pos == 0) return found;
    // A walk that fails from an indexed position also means a damaged index.
    SAMSA_TRY(rebuild_indexes());
    SAMSA_TRY_ASSIGN(pos, index_position(target));
    return walk_from(pos, target, no_timestamp);
}

result<std::optional<batch_position>> segment::find_batch_by_timestamp(timestamp_ms ts)
{
    SAMSA_TRY_ASSIGN(auto te, _tindex.lookup(ts));
    SAMSA_TRY_ASSIGN(uint64_t pos, index_position(te.off));
    auto found = walk_from(pos, offset(0), ts);
    if (found || pos == 0) return found;
    SAMSA_TRY(rebuild_indexes());
    return walk_from(0, offset(0), ts);
}

result<void> segment::rebuild_indexes()
{
    std::vector<offset_index::entry> idx;
    std::vector<time_index::entry> tidx;
    uint64_t since = 0;
    timestamp_ms max_ts(-1);
    offset max_off = _base;
    batch_scanner scan(_log, 0, _size, /*verify_crc=*/false);
    auto emit = collect_into(idx, _index.max_entries(), tidx, _tindex.max_entries());
    while (auto b = scan.next()) {
        index_step(since, max_ts, max_off, _opts.index_interval_bytes, b->header, b->position, emit);
    }
    SAMSA_TRY(_index.reset(std::move(idx)));
    return _tindex.reset(std::move(tidx));
}

result<file_slice> segment::read(offset start, size_t max_bytes, offset max_offset, bool min_one)
{
    file_slice out;
    out.file = _log;
    SAMSA_TRY_ASSIGN(auto first, find_batch(start));
    if (!first || first->header.base_offset >= max_offset) return out;
    size_t first_size = first->header.size_bytes();
    if (first_size > max_bytes && !min_one) return out;
    uint64_t total = first_size;
    offset last = first->header.last_offset();
    uint64_t pos = first->position + first_size;
    while (pos < _size && total < max_bytes) {
        SAMSA_TRY_ASSIGN(auto h, header_at(pos));
        if (!h || h->base_offset >= max_offset || total + h->size_bytes() > max_bytes) break;
        total += h->size_bytes();
        last = h->last_offset();
        pos += h->size_bytes();
    }
    out.position = first->position;
    out.size = static_cast<uint32_t>(total);
    out.first_offset = first->header.base_offset;
    out.last_offset = last;
    return out;
}

result<recovery_outcome> segment::recover(const recovery_rules& rules)
{
    recovery_outcome out;
    out.last_epoch = rules.last_epoch;
    _next = _base;
    _max_ts = timestamp_ms(-1);
    _offset_of_max_ts = _base;
    _first_batch_ts.reset();
    _bytes_since_index = 0;

    std::vector<offset_index::entry> idx;
    std::vector<time_index::entry> tidx;
    auto emit = collect_into(idx, _index.max_entries(), tidx, _tindex.max_entries());
    offset expected = rules.expected_next;
    batch_scanner scan(_log, 0, _size, /*verify_crc=*/true);
    while (auto b = scan.next()) {
        auto& h = b->header;
        bool offsets_ok = rules.contiguous ? h.base_offset == expected : h.base_offset >= expected;
        bool epoch_ok = epoch_fits(rules, h, out.last_epoch);
        if (!offsets_ok || h.base_offset < _base || !can_hold_offset(h.last_offset())) {
            out.reason = make_error_code(errc::invalid_offset);
            break;
        }
        if (!epoch_ok) {
            out.reason = make_error_code(errc::corrupt);
            break;
        }
        index_step(_bytes_since_index, _max_ts, _offset_of_max_ts, _opts.index_interval_bytes, h, b->position, emit);
        if (!_first_batch_ts && h.max_timestamp() >= 0) _first_batch_ts = h.max_timestamp;
        _next = h.next_offset();
        expected = _next;
        if (h.partition_leader_epoch() >= 0) out.last_epoch = h.partition_leader_epoch;
        out.valid_bytes = b->position + h.size_bytes();
        ++out.batches;
    }
    if (!out.reason && scan.error()) out.reason = scan.error();
    if (out.valid_bytes < _size) {
        out.truncated = true;
        out.truncated_bytes = _size - out.valid_bytes;
        SAMSA_TRY(_log->truncate(out.valid_bytes));
        _size = out.valid_bytes;
    }
    _recent.clear();
    SAMSA_TRY(_index.reset(std::move(idx)));
    SAMSA_TRY(_tindex.reset(std::move(tidx)));
    release_index_files();
    return out;
}

result<bool> segment::load()
{
    bool rebuilt = false;
    auto idx_ok = _index.load_and_check(_size);
    std::optional<offset_index::entry> last;
    if (idx_ok) last = _index.last_entry();
    // Scan from the last indexed batch to the end to learn the next offset and max timestamp.
    uint64_t start = last ? last->position : 0;
    _next = _base;
    if (idx_ok) {
        _bytes_since_index = 0;
        batch_scanner scan(_log, start, _size, /*verify_crc=*/false);
        bool first = true;
        while (auto b = scan.next()) {
            if (first && last && b->header.last_offset() != last->off) {
                idx_ok = make_error_code(errc::corrupt);
                break;
            }
            first = false;
            _next = b->header.next_offset();
            if (b->header.max_timestamp > _max_ts) {
                _max_ts = b->header.max_timestamp;
                _offset_of_max_ts = b->header.last_offset();
            }
            _bytes_since_index += b->header.size_bytes();
        }
        if (idx_ok && (scan.error() || scan.position() != _size)) idx_ok = make_error_code(errc::corrupt);
    }
    if (idx_ok) {
        auto t = _tindex.load_and_check(_next);
        if (!t) idx_ok = t.error();
    }
    if (!idx_ok) {
        log.warn("{}: index is missing or corrupt ({}); rebuilding", _log_path, idx_ok.error().message());
        SAMSA_TRY_ASSIGN(auto rec, recover(recovery_rules{_base, /*contiguous=*/false, leader_epoch(-1)}));
        if (rec.truncated) {
            log.warn("{}: cut {} invalid bytes at the end ({})", _log_path, rec.truncated_bytes,
                     rec.reason.message());
        }
        rebuilt = true;
    } else {
        if (auto te = _tindex.last_entry(); te && te->ts > _max_ts) {
            _max_ts = te->ts;
            _offset_of_max_ts = te->off;
        }
        if (_size > 0) {
            SAMSA_TRY_ASSIGN(auto h, header_at(0));
            if (h && h->max_timestamp() >= 0) _first_batch_ts = h->max_timestamp;
        }
    }
    release_index_files();
    return rebuilt;
}

result<uint64_t> segment::truncate_to(offset target)
{
    if (target >= _next) return uint64_t(0);
    SAMSA_TRY_ASSIGN(auto b, find_batch(target));
    uint64_t cut_at = b ? b->position : _size;
    if (target <= _base) cut_at = 0;
    uint64_t removed = _size - cut_at;
    _recent.clear();
    SAMSA_TRY(_log->truncate(cut_at));
    _size = cut_at;
    // Recompute bookkeeping from the remaining batches.
    SAMSA_TRY(recover(recovery_rules{_base, /*contiguous=*/false, leader_epoch(-1)}));
    return removed;
}

result<void> segment::sync()
{
    SAMSA_TRY(_log->sync());
    SAMSA_TRY(_index.sync());
    return _tindex.sync();
}

result<void> segment::seal()
{
    if (_max_ts() >= 0) SAMSA_TRY(_tindex.maybe_append(_max_ts, _offset_of_max_ts));
    release_index_files();
    _recent = {}; // no longer appended to
    return ok();
}

void segment::release_index_files()
{
    _index.release();
    _tindex.release();
}

result<void> segment::rename_files(const std::string& suffix)
{
    auto idx = _index.path(), tidx = _tindex.path();
    SAMSA_TRY(_fs.rename(_log_path, _log_path + suffix));
    _log_path += suffix;
    if (_fs.exists(idx)) SAMSA_TRY(_fs.rename(idx, idx + suffix));
    _index.set_path(idx + suffix);
    if (_fs.exists(tidx)) SAMSA_TRY(_fs.rename(tidx, tidx + suffix));
    _tindex.set_path(tidx + suffix);
    return _fs.sync_dir(_dir);
}

result<void> segment::remove_files()
{
    for (auto& p : {_log_path, _index.path(), _tindex.path()}) {
        if (_fs.exists(p)) SAMSA_TRY(_fs.remove(p));
    }
    return ok();
}

} // namespace samsa::storage
