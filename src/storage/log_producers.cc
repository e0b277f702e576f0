// The log's producer state: snapshots (written at rolls and clean close, loaded at open),
// replay of the batches after the newest snapshot, and expiration.
#include "base/logging.h"
#include "storage/batch_scanner.h"
#include "storage/errc.h"
#include "storage/log.h"

namespace samsa::storage {
namespace {

constexpr logger log_{"storage"};
constexpr std::string_view snapshot_suffix = ".snapshot";
/// Read size of the replay: headers only are used, so a modest buffer.
constexpr size_t replay_chunk_bytes = 64 * 1024;

} // namespace

std::string log::snapshot_path(offset o) const
{
    return join_path(_dir, segment::file_stem(o) + std::string(snapshot_suffix));
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
            if (b->header.base_offset >= from) _producers.replay(b->header);
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
    // Shut down cleanly without writing a snapshot: the log predates producer state (no
    // producer could write to it) or is empty.
    if (clean_shutdown && _snapshots.empty()) return ok();
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
    if (from < _log_end) SAMSA_TRY(replay_producers(from));
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
