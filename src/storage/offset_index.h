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

/// The sparse offset index of one segment (`<base offset>.index`): a sequence of 8-byte entries
///   relative_offset: uint32 BE  (offset - segment base offset)
///   position:        uint32 BE  (byte position in the .log file of the batch holding that offset)
/// with strictly increasing offsets and positions. An entry (o, p) means: the batch starting at
/// byte p of the log contains offset o; reading from p finds every offset >= o. The segment
/// adds an entry for a batch's last offset whenever `index.interval.bytes` have been written
/// since the previous entry, so a lookup scans at most about that many bytes.
///
/// Entries are cached in memory (loaded on first use for closed segments) and appended to the
/// file with positional writes. Owned by its segment; not thread-safe.
class offset_index {
public:
    static constexpr size_t entry_size = 8;

    struct entry {
        offset off;
        uint32_t position;
        bool operator==(const entry&) const = default;
    };

    offset_index(file_ops& fs, std::string path, offset base, size_t max_bytes);

    /// Opens (creating if missing) the file. Does not read it.
    result<void> open();
    /// Reads and checks the entries against the log file size; returns errc::corrupt if the
    /// file is not a whole number of entries, entries are not increasing, or point past the log.
    result<void> load_and_check(uint64_t log_size);

    /// The entry with the largest offset <= target; {base, 0} when there is none.
    result<entry> lookup(offset target);
    /// Appends an entry; offsets and positions must increase. No-op when full.
    result<void> append(offset off, uint32_t position);
    /// Removes entries with offset >= target.
    result<void> truncate_to(offset target);
    /// Replaces everything with `entries` (used by recovery).
    result<void> reset(std::vector<entry> entries);
    /// Empties the index (a leftover file is truncated; none is created).
    result<void> clear();
    result<void> sync();
    /// Removes trailing preallocation; here the file is always exact, so this only syncs length.
    result<void> close();

    bool full() const { return _entries.size() >= max_entries(); }
    size_t max_entries() const { return std::max<size_t>(1, _max_bytes / entry_size); }
    size_t entry_count() const { return _entries.size(); }
    std::optional<entry> last_entry() const;
    const std::string& path() const { return _file.path(); }
    void set_path(std::string p) { _file.set_path(std::move(p)); }
    /// Closes the file until it is needed again (the entries stay in memory).
    void release() { _file.release(); }
    offset base_offset() const { return _base; }

private:
    result<void> ensure_loaded();

    index_file _file;
    offset _base;
    size_t _max_bytes;
    bool _loaded = false;
    std::vector<entry> _entries;
};

} // namespace samsa::storage
