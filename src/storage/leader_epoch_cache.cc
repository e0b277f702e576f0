#include "storage/leader_epoch_cache.h"

#include <algorithm>

namespace samsa::storage {

bool leader_epoch_cache::load()
{
    auto r = read_epoch_checkpoint(_fs, _path);
    if (!r) {
        _entries.clear();
        return false;
    }
    _entries = std::move(*r);
    return true;
}

result<void> leader_epoch_cache::persist()
{
    // Not synced here (that would put an fsync on the append path): the log's next flush syncs
    // this file before the data it describes (flush_job::sync_paths).
    return write_epoch_checkpoint(_fs, _path, _entries, /*durable=*/false);
}

result<void> leader_epoch_cache::assign(leader_epoch epoch, offset start)
{
    if (epoch() < 0) return ok();
    if (!_entries.empty() && epoch <= _entries.back().epoch) return ok();
    if (!_entries.empty() && start < _entries.back().start_offset) return ok();
    _entries.push_back({epoch, start});
    return persist();
}

result<void> leader_epoch_cache::reset(std::vector<epoch_entry> entries)
{
    _entries = std::move(entries);
    return persist();
}

result<void> leader_epoch_cache::truncate_from_end(offset end)
{
    auto before = _entries.size();
    std::erase_if(_entries, [&](const epoch_entry& e) { return e.start_offset >= end; });
    if (_entries.size() == before) return ok();
    return persist();
}

result<void> leader_epoch_cache::truncate_from_start(offset start)
{
    // Keep the last entry starting at or before `start` (moved up to start) and all after it.
    auto it = std::upper_bound(_entries.begin(), _entries.end(), start,
                               [](offset s, const epoch_entry& e) { return s < e.start_offset; });
    if (it == _entries.begin()) return ok();
    auto covering = std::prev(it);
    if (covering == _entries.begin() && covering->start_offset == start) return ok();
    covering->start_offset = start;
    _entries.erase(_entries.begin(), covering);
    return persist();
}

std::optional<leader_epoch> leader_epoch_cache::latest_epoch() const
{
    if (_entries.empty()) return std::nullopt;
    return _entries.back().epoch;
}

epoch_entry leader_epoch_cache::end_offset_for(leader_epoch requested, offset log_end) const
{
    if (_entries.empty() || requested < _entries.front().epoch) return {leader_epoch(-1), offset(-1)};
    auto it = std::upper_bound(_entries.begin(), _entries.end(), requested,
                               [](leader_epoch r, const epoch_entry& e) { return r < e.epoch; });
    auto found = std::prev(it);
    offset end = it == _entries.end() ? log_end : it->start_offset;
    return {found->epoch, end};
}

} // namespace samsa::storage
