#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "protocol/record_batch.h"
#include "storage/checkpoint_file.h"
#include "storage/file_ops.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

#include <memory>
#include <optional>
#include <span>
#include <string>

namespace samsa::storage {

/// Settings a segment needs from its log's configuration.
struct segment_options {
    size_t index_interval_bytes = 4096;
    size_t max_index_bytes = 10 * 1024 * 1024;
};

/// A run of whole batches inside one segment's .log file: what a read returns. The file handle
/// keeps the bytes reachable even if the segment is deleted meanwhile, so the range can be sent
/// later (pread or sendfile).
struct file_slice {
    file_ptr file;
    uint64_t position = 0;
    uint32_t size = 0;
    offset first_offset{-1}; // base offset of the first batch
    offset last_offset{-1};  // last offset of the last batch

    bool empty() const { return size == 0; }
    /// Copies the bytes out.
    result<bytes> read_all() const;
};

/// Where a batch sits in a segment, with its header.
struct batch_position {
    uint64_t position;
    protocol::batch_header header;
};

/// Rules for recovery scans of one segment.
struct recovery_rules {
    /// The offset the first batch must start at (strict) or at or after (loose).
    offset expected_next;
    /// Batches must follow each other without offset gaps (false for compacted logs).
    bool contiguous = true;
    /// The last leader epoch seen before this segment; epochs never go down.
    leader_epoch last_epoch{-1};
    /// The leader-epoch history, when it was read intact. Written ahead of the batches, so each
    /// batch must carry exactly the epoch the history gives for its base offset.
    const std::vector<epoch_entry>* epochs = nullptr;
};

struct recovery_outcome {
    bool truncated = false;       // invalid bytes were cut off the end
    uint64_t valid_bytes = 0;     // bytes kept
    uint64_t truncated_bytes = 0; // bytes cut
    std::error_code reason;       // why the first invalid batch was rejected
    leader_epoch last_epoch{-1};
    size_t batches = 0;
};

/// One segment of a partition log: `<base>.log` (batches, verbatim), `<base>.index`,
/// `<base>.timeindex` (see offset_index.h / time_index.h). Batches are appended at the end
/// only; the base offset is the offset of the first batch ever appended (the name of its
/// files, zero-padded to 20 digits). Owned by its log; not thread-safe.
class segment {
public:
    /// Creates a new, empty segment's three files.
    static result<std::unique_ptr<segment>> create(file_ops& fs, const std::string& dir, offset base,
                                                   const segment_options& opts, timestamp_ms now);
    /// Opens an existing segment's files without reading the log (see load / recover).
    static result<std::unique_ptr<segment>> open(file_ops& fs, const std::string& dir, offset base,
                                                 const segment_options& opts, timestamp_ms now);

    /// Loads a segment closed cleanly: checks both indexes (rebuilding a missing or corrupt
    /// one by a recovery scan) and scans the batches after the last index entry to learn the
    /// next offset and max timestamp. Returns true if indexes were rebuilt.
    result<bool> load();
    /// Scans every batch, validating framing, CRC and the rules; rebuilds both indexes;
    /// truncates the file at the first invalid byte.
    result<recovery_outcome> recover(const recovery_rules& rules);

    /// Appends batches already validated and given their final offsets. `data` holds the
    /// batches back to back; `headers` describes them in order.
    result<void> append(bytes_view data, std::span<const protocol::batch_header> headers);
    /// Whole batches with offsets in [start, max_offset) from the batch holding `start`, at
    /// most `max_bytes` long except that the first batch is returned whole when `min_one`.
    result<file_slice> read(offset start, size_t max_bytes, offset max_offset, bool min_one);
    /// The first batch whose last offset is >= target, if any.
    result<std::optional<batch_position>> find_batch(offset target);
    /// The first batch holding a record with timestamp >= ts, if any (batch granularity).
    result<std::optional<batch_position>> find_batch_by_timestamp(timestamp_ms ts);
    /// Removes every batch with an offset >= target (whole batches: the one holding target goes).
    /// Returns the bytes removed.
    result<uint64_t> truncate_to(offset target);

    result<void> sync();
    /// Called when the segment stops being the active one: records its final max timestamp.
    result<void> seal();
    /// Closes the index files until they are needed again.
    void release_index_files();
    /// Renames the three files with `suffix` appended (e.g. ".deleted").
    result<void> rename_files(const std::string& suffix);
    /// Unlinks the three files (under their current names).
    result<void> remove_files();

    offset base_offset() const { return _base; }
    offset next_offset() const { return _next; }
    uint64_t size() const { return _size; }
    bool empty() const { return _size == 0; }
    timestamp_ms max_timestamp() const { return _max_ts; }
    /// The first batch's max timestamp (segment.ms rolls by it), if it has one.
    std::optional<timestamp_ms> first_batch_timestamp() const { return _first_batch_ts; }
    /// When this process created or opened the segment.
    timestamp_ms created_timestamp() const { return _created; }
    bool index_full() const { return _index.full() || _tindex.full(); }
    /// Whether `last` fits the index's 32-bit relative offsets.
    bool can_hold_offset(offset last) const { return last - _base <= int64_t(INT32_MAX); }
    const file_ptr& log_file() const { return _log; }
    const std::string& log_path() const { return _log_path; }

    /// Kafka's file name stem: the offset zero-padded to 20 digits.
    static std::string file_stem(offset o);
    /// Parses `<20-digit offset><suffix>` (e.g. suffix ".log"); false for any other name.
    static bool parse_file_name(std::string_view name, std::string_view suffix, offset& out);

private:
    segment(file_ops& fs, std::string dir, offset base, const segment_options& opts, timestamp_ms now);
    result<void> open_files(open_mode mode);
    result<std::optional<protocol::batch_header>> header_at(uint64_t pos);
    /// Walks batches from `pos` to the first whose last offset >= target (or, when ts >= 0,
    /// whose max timestamp >= ts).
    result<std::optional<batch_position>> walk_from(uint64_t pos, offset target, timestamp_ms ts);
    /// The index's start position for `target`, rebuilding the indexes if the entry is wrong.
    result<uint64_t> index_position(offset target);
    /// Rewrites both indexes from the log without changing the log.
    result<void> rebuild_indexes();
    void note_batch(const protocol::batch_header& h, uint64_t pos);

    file_ops& _fs;
    std::string _dir;
    offset _base;
    segment_options _opts;
    std::string _log_path;
    file_ptr _log;
    offset_index _index;
    time_index _tindex;
    uint64_t _size = 0;
    offset _next;
    timestamp_ms _max_ts{-1};
    offset _offset_of_max_ts;
    std::optional<timestamp_ms> _first_batch_ts;
    timestamp_ms _created;
    uint64_t _bytes_since_index = 0;
    /// The headers of the last batches appended (by position, oldest first): fetches at the
    /// log's end (followers, caught-up consumers) look them up here instead of reading them
    /// back from the file, a pread each, several per fetch. Dropped on anything but an append.
    static constexpr size_t max_recent = 16;
    std::vector<batch_position> _recent;
};

} // namespace samsa::storage
