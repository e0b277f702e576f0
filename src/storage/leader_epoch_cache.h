#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "storage/checkpoint_file.h"
#include "storage/file_ops.h"

#include <optional>
#include <string>
#include <vector>

namespace samsa::storage {

/// The leader epoch history of one partition: for each epoch, the first offset written in it.
/// Kept in `<partition dir>/leader-epoch-checkpoint` (see checkpoint_file.h), rewritten on
/// every change. Followers use it (OffsetForLeaderEpoch) to find where their log diverges
/// from the leader's. Owned by its log; not thread-safe.
class leader_epoch_cache {
public:
    leader_epoch_cache(file_ops& fs, std::string path) : _fs(fs), _path(std::move(path)) {}

    /// Reads the checkpoint. Returns false (and starts empty) if it is missing or corrupt, so the
    /// caller can rebuild it from the log.
    bool load();
    /// Records that `epoch` starts at `start`; ignored unless epoch is newer than the latest.
    result<void> assign(leader_epoch epoch, offset start);
    /// Replaces the whole history (rebuilds).
    result<void> reset(std::vector<epoch_entry> entries);
    /// Drops entries starting at or after `end` (the log was truncated to end).
    result<void> truncate_from_end(offset end);
    /// Drops history wholly before `start`; the epoch covering `start` now starts there.
    result<void> truncate_from_start(offset start);

    std::optional<leader_epoch> latest_epoch() const;
    /// Kafka's OffsetForLeaderEpoch answer: the largest epoch <= requested and the start offset
    /// of the next larger epoch (or log_end if none). {-1, -1} if requested precedes history.
    epoch_entry end_offset_for(leader_epoch requested, offset log_end) const;
    const std::vector<epoch_entry>& entries() const { return _entries; }
    const std::string& path() const { return _path; }

private:
    result<void> persist();

    file_ops& _fs;
    std::string _path;
    std::vector<epoch_entry> _entries;
};

} // namespace samsa::storage
