// The log's producer state: snapshots (written at rolls and clean close, loaded at open),
// replay of the batches after the newest snapshot, expiration, and the aborted-transaction
// index (.txnindex per segment, rewritten whenever its segment's list changes).
#include "base/logging.h"
#include "storage/batch_scanner.h"
#include "storage/errc.h"
#include "storage/log.h"

#include <algorithm>
#include <limits>

namespace samsa::storage {
namespace {

constexpr logger log_{"storage"};
constexpr std::string_view snapshot_suffix = ".snapshot";
constexpr std::string_view txn_index_suffix = ".txnindex";
/// Read size of the replay: headers only are used, so a modest buffer.
constexpr size_t replay_chunk_bytes = 64 * 1024;

} // namespace

std::string log::snapshot_path(offset o) const
{
    return join_path(_dir, segment::file_stem(o) + std::string(snapshot_suffix));
}

std::string log::txn_index_path(offset segment_base) const
{
    return join_path(_dir, segment::file_stem(segment_base) + std::string(txn_index_suffix));
}

offset log::segment_base_of(offset o) const
{
    auto it = _segments.upper_bound(o);
    if (it != _segments.begin()) --it;
    return it->first;
}

void log::write_txn_index(offset segment_base)
{
    auto it = _segments.find(segment_base);
    offset end = it == _segments.end() || std::next(it) == _segments.end() ? offset(std::numeric_limits<int64_t>::max())
                                                                           : std::next(it)->first;
    std::vector<aborted_txn> mine;
    for (auto& a : _aborted) {
        if (a.last_offset >= segment_base && a.last_offset < end) mine.push_back(a);
    }
    auto path = txn_index_path(segment_base);
    result<void> r = ok();
    if (mine.empty()) {
        if (_fs.exists(path)) r = _fs.remove(path);
    } else {
        r = _fs.write_file_atomic(path, encode_txn_index(mine), /*durable=*/false);
    }
    if (!r) log_.warn("{}: cannot write {}: {}", _tp, path, r.error().message());
}

result<std::string> log::take_producer_snapshot(bool durable)
{
    auto path = snapshot_path(_log_end);
    SAMSA_TRY(_fs.write_file_atomic(path, _producers.encode_snapshot(), durable));
    _snapshots.insert(_log_end);
    return path;
}

void log::delete_snapshots_above(offset o)
{
    for (auto it = _snapshots.upper_bound(o); it != _snapshots.end();) {
        if (auto r = _fs.remove(snapshot_path(*it)); !r && r.error() != make_error_code(errc::not_found)) {
            log_.warn("{}: cannot remove producer snapshot {}: {}", _tp, *it, r.error().message());
        }
        it = _snapshots.erase(it);
    }
}

void log::delete_old_snapshots()
{
    offset first = _segments.begin()->first;
    while (_snapshots.size() > 1 && *_snapshots.begin() < first) {
        auto o = *_snapshots.begin();
        if (auto r = _fs.remove(snapshot_path(o)); !r && r.error() != make_error_code(errc::not_found)) {
            log_.warn("{}: cannot remove producer snapshot {}: {}", _tp, o, r.error().message());
        }
        _snapshots.erase(_snapshots.begin());
    }
}

result<void> log::replay_producers(offset from)
{
    auto it = _segments.upper_bound(from);
    if (it != _segments.begin()) --it;
    for (; it != _segments.end(); ++it) {
        auto& seg = *it->second;
        if (seg.next_offset() <= from) continue;
        batch_scanner scan(seg.log_file(), 0, seg.size(), /*verify_crc=*/false, replay_chunk_bytes);
        while (auto b = scan.next()) {
            if (b->header.base_offset < from) continue;
            auto marker = b->header.is_control() ? read_control_marker(b->data, b->header) : std::nullopt;
            auto done = _producers.replay(b->header, marker ? &*marker : nullptr);
            if (!done) continue;
            if (done->last_offset >= _high_watermark) _unstable.push_back(*done);
            if (done->aborted) {
                auto stable = _producers.first_ongoing_offset().value_or(done->last_offset + 1);
                _aborted.push_back({done->pid, done->first_offset, done->last_offset,
                                    std::min(stable, done->last_offset + 1)});
            }
        }
        if (scan.error()) return scan.error();
    }
    return ok();
}

result<void> log::load_producer_state(bool clean_shutdown)
{
    SAMSA_TRY_ASSIGN(auto names, _fs.list_dir(_dir));
    _snapshots.clear();
    for (auto& n : names) {
        offset o;
        if (segment::parse_file_name(n, snapshot_suffix, o)) _snapshots.insert(o);
    }
    delete_snapshots_above(_log_end);
    _producers.clear();
    _unstable.clear();
    // The aborted transactions the .txnindex files hold; those of segments gone (truncated,
    // merged by the cleaner) are kept if their marker is still in the log, and filed again.
    _aborted.clear();
    std::set<offset> txn_files, dirty;
    for (auto& n : names) {
        offset o;
        if (!segment::parse_file_name(n, txn_index_suffix, o)) continue;
        txn_files.insert(o);
        auto data = _fs.read_file(join_path(_dir, n));
        auto entries = data ? decode_txn_index(*data) : result<std::vector<aborted_txn>>(data.error());
        if (!entries) {
            log_.warn("{}: {} is unreadable ({}); rebuilding it", _tp, n, entries.error().message());
            dirty.insert(o);
            continue;
        }
        for (auto& e : *entries) _aborted.push_back(e);
        if (!_segments.count(o)) dirty.insert(o);
    }
    std::sort(_aborted.begin(), _aborted.end(),
              [](const aborted_txn& a, const aborted_txn& b) { return a.last_offset < b.last_offset; });
    auto finish = [&] {
        for (auto o : dirty) {
            if (!_segments.count(o) && _fs.exists(txn_index_path(o))) (void)_fs.remove(txn_index_path(o));
        }
        for (auto& a : _aborted) {
            if (dirty.count(segment_base_of(a.last_offset)) || !txn_files.count(segment_base_of(a.last_offset))) {
                dirty.insert(segment_base_of(a.last_offset));
            }
        }
        for (auto o : dirty) {
            if (_segments.count(o)) write_txn_index(o);
        }
    };
    // Shut down cleanly without writing a snapshot: the log predates producer state (no
    // producer could write to it) or is empty.
    if (clean_shutdown && _snapshots.empty()) {
        finish();
        return ok();
    }
    offset from = _segments.begin()->first;
    while (!_snapshots.empty()) {
        auto o = *_snapshots.rbegin();
        auto data = _fs.read_file(snapshot_path(o));
        if (data && _producers.decode_snapshot(*data)) {
            from = std::max(o, from);
            break;
        }
        log_.warn("{}: producer snapshot {} is unreadable ({}); trying an older one", _tp, o,
                  data ? "corrupt" : data.error().message());
        (void)_fs.remove(snapshot_path(o));
        _snapshots.erase(o);
        _producers.clear();
    }
    // What replay will find again.
    std::erase_if(_aborted, [&](const aborted_txn& a) {
        bool drop = a.last_offset >= from || a.last_offset < _segments.begin()->first;
        if (drop && a.last_offset >= from) dirty.insert(segment_base_of(a.last_offset));
        return drop;
    });
    if (from < _log_end) SAMSA_TRY(replay_producers(from));
    finish();
    if (!_producers.empty()) log_.debug("{}: loaded the state of {} producer(s)", _tp, _producers.entries().size());
    return ok();
}

size_t log::remove_expired_producers(int64_t expiration_ms)
{
    auto n = _producers.remove_expired(_clock.now_ms(), expiration_ms);
    if (n > 0) log_.debug("{}: {} producer id(s) expired", _tp, n);
    return n;
}

} // namespace samsa::storage
