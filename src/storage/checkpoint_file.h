#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "storage/file_ops.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace samsa::storage {

/// Kafka's checkpoint files: plain text, one header line with the format version (0), one line
/// with the entry count, then one entry per line, fields separated by single spaces:
///   offset checkpoints (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
///   replication-offset-checkpoint, cleaner-offset-checkpoint):  "<topic> <partition> <offset>"
///   leader-epoch-checkpoint (one per partition directory):       "<epoch> <start offset>"
/// Written with file_ops::write_file_atomic (temp file, sync, rename, directory sync).
/// A missing file reads as errc::not_found; anything malformed as errc::corrupt.

using offset_map = std::map<topic_partition, offset>;

result<void> write_offset_checkpoint(file_ops& fs, const std::string& path, const offset_map& entries);
result<offset_map> read_offset_checkpoint(file_ops& fs, const std::string& path);

struct epoch_entry {
    leader_epoch epoch;
    offset start_offset;
    bool operator==(const epoch_entry&) const = default;
};

/// With `durable` false the file is switched atomically but not synced (the log syncs it ahead
/// of the data it describes, in its next flush).
result<void> write_epoch_checkpoint(file_ops& fs, const std::string& path, const std::vector<epoch_entry>& entries,
                                    bool durable = true);
result<std::vector<epoch_entry>> read_epoch_checkpoint(file_ops& fs, const std::string& path);

/// Parses `<topic>-<partition>` (a partition directory name). False if it is not one.
bool parse_partition_dir(const std::string& name, topic_partition& out);

} // namespace samsa::storage
