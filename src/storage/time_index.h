#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "storage/file_ops.h"
#include "storage/index_file.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace samsa::storage {

/// The sparse time index of one segment (`<base offset>.timeindex`): 12-byte entries
///   timestamp:       int64 BE  (largest record timestamp seen so far in the segment)
///   relative_offset: uint32 BE (offset - segment base; at or before which that timestamp was seen)
/// with strictly increasing timestamps and non-decreasing offsets. An entry (t, o) means: no
/// record before offset o has a timestamp above t; so the first record with timestamp >= T lies
/// at or after the offset of the last entry with timestamp < T. Entries are added together with
/// offset-index entries when the segment's max timestamp has grown, and once more when the
/// segment stops being active. Owned by its segment; not thread-safe.
class time_index {
public:
    static constexpr size_t entry_size = 12;

    struct entry {
        timestamp_ms ts;
        offset off;
        bool operator==(const entry&) const = default;
    };

    time_index(file_ops& fs, std::string path, offset base, size_t max_bytes);

    result<void> open();
    /// Reads and checks entries (whole entries, increasing timestamps, non-decreasing offsets,
    /// offsets below `next_offset`); errc::corrupt otherwise.
    result<void> load_and_check(offset next_offset);

    /// The last entry whose timestamp is < target, i.e. where a scan for the first record with
    /// timestamp >= target can start; {-1, base} when there is none.
    result<entry> lookup(timestamp_ms target);
    /// Appends (ts, off) if ts is larger than the last entry's timestamp.
    result<void> maybe_append(timestamp_ms ts, offset off);
    result<void> truncate_to(offset target);
    result<void> reset(std::vector<entry> entries);
    /// Empties the index (a leftover file is truncated; none is created).
    result<void> clear();
    result<void> sync();

    bool full() const { return _entries.size() >= max_entries(); }
    size_t max_entries() const { return std::max<size_t>(1, _max_bytes / entry_size); }
    std::optional<entry> last_entry();
    size_t entry_count() const { return _entries.size(); }
    const std::string& path() const { return _file.path(); }
    void set_path(std::string p) { _file.set_path(std::move(p)); }
    /// Closes the file until it is needed again (the entries stay in memory).
    void release() { _file.release(); }

private:
    result<void> ensure_loaded();

    index_file _file;
    offset _base;
    size_t _max_bytes;
    bool _loaded = false;
    std::vector<entry> _entries;
};

} // namespace samsa::storage
