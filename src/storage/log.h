#pragma once

#include "base/clock.h"
#include "base/ids.h"
#include "base/result.h"
#include "storage/file_ops.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_cleaner.h"
#include "storage/log_config.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace samsa::storage {

/// Who appends: producers' batches are checked against the producer state; the transaction
/// coordinator's writes (markers, and transactional offset commits of the group coordinator)
/// only for epochs.
enum class append_origin : uint8_t { client, coordinator };

/// What the log knows from the log directory's checkpoints when it opens.
struct log_open_options {
    /// The directory was shut down cleanly (marker present): skip recovery.
    bool clean_shutdown = false;
    /// Offsets below this are known to be on disk; recovery scans from its segment on.
    offset recovery_point{0};
    /// From log-start-offset-checkpoint, or -1.
    offset log_start_offset{-1};
    /// From replication-offset-checkpoint, or -1.
    offset high_watermark{-1};
    /// From cleaner-offset-checkpoint: offsets below it were compacted already, or -1.
    offset cleaner_checkpoint{-1};
};

/// The outcome of one append.
struct append_info {
    offset first_offset{-1};
    offset last_offset{-1};
    /// The time stamped on the batches with LogAppendTime, else -1.
    timestamp_ms log_append_time{-1};
    offset log_start_offset{0};
    uint64_t bytes = 0;
    size_t batches = 0;
    /// The append repeated a producer's batch already in the log: nothing was written, and
    /// the offsets are the original's.
    bool duplicate = false;
};

/// A record located by timestamp (ListOffsets). Batch granularity: the batch's base offset
/// and max timestamp; the caller refines to the record inside the batch.
struct timestamp_lookup {
    offset off;
    timestamp_ms ts;
    leader_epoch epoch;
    file_slice batch; // the whole batch, for record-level refinement
};

/// Fsyncs the files of a flush so the syscalls can run off the log's thread (see
/// log::prepare_flush). run() is safe on any thread; complete on the owner's.
struct flush_job {
    /// Files synced first, by path: the leader-epoch checkpoint, which must be durable before
    /// the batches it describes.
    std::vector<std::string> sync_paths;
    std::vector<file_ptr> files;
    offset up_to{0};
    /// Directories whose entries must be durable too (the partition directory; its parent
    /// until the partition directory's own entry has been synced once).
    std::vector<std::string> dirs;
    file_ops* fs = nullptr;
    result<void> run() const;
};

/// One partition's log: its directory `<topic>-<partition>` of segments, the log start offset
/// (first offset still readable), log end offset (next offset to assign), high watermark
/// (offsets below it are committed: on one node, everything appended), recovery point
/// (offsets below it are known to be synced) and leader-epoch history.
///
/// Owned by one shard and used only from its thread. Invariants:
///   segments non-empty, sorted, non-overlapping; the last one is the active one;
///   log_start <= high_watermark <= log_end; recovery_point <= log_end.
/// After an I/O failure on a write or fsync the log is offline: appends and flushes fail with
/// errc::log_offline (reads still work), until the log is closed and reopened (recovery).
class log {
public:
    static result<std::unique_ptr<log>> open(file_ops& fs, std::string dir, topic_partition tp, log_config cfg,
                                             const clock& clk, log_open_options opts);
    ~log();

    /// Appends batches from a producer: `batches` holds v2 batches back to back. Each batch's
    /// framing and CRC are checked (the CRC only when `crc_checked` is false: the produce path
    /// has just verified it); base offsets and the leader epoch are written in place (and
    /// LogAppendTime when the config says so). All or nothing: an invalid batch rejects the lot.
    /// Batches of idempotent producers are checked against the producer state first:
    /// errc::invalid_producer_epoch, errc::out_of_order_sequence, or a retried batch answered
    /// with its original offsets (append_info::duplicate).
    /// Control batches are taken only from the coordinator (WriteTxnMarkers), each holding one
    /// valid marker (errc::invalid_batch otherwise).
    result<append_info> append_as_leader(mutable_bytes_view batches, leader_epoch epoch, bool crc_checked = false,
                                         append_origin origin = append_origin::client);
    /// Appends batches that already carry their offsets (replication): offsets must start at
    /// or after the log end offset and increase. The producer state follows without checks.
    result<append_info> append_with_offsets(bytes_view batches);

    /// Whole batches from the one holding `start`, up to `max_bytes` (at least one batch when
    /// min_one), not beyond `max_offset` (exclusive; e.g. the high watermark). Empty at the end.
    /// errc::offset_out_of_range when start is below the log start or above the log end.
    result<file_slice> read(offset start, size_t max_bytes, offset max_offset, bool min_one = true);
    /// The first batch holding a record with timestamp >= ts, or nullopt if none.
    result<std::optional<timestamp_lookup>> find_by_timestamp(timestamp_ms ts);

    /// Syncs everything up to the log end offset and advances the recovery point.
    result<void> flush();
    /// Split flush: the files to sync for offsets below `up_to`; then complete_flush with the
    /// outcome of job.run() (a failure takes the log offline).
    flush_job prepare_flush(offset up_to);
    void complete_flush(const flush_job& job, const result<void>& outcome);
    /// Flushes if flush.ms has passed since the last flush and there is unflushed data.
    result<void> maybe_flush_by_time();
    /// Syncs segments finished by a roll since the last call (Kafka flushes them right after
    /// rolling, which bounds recovery to the active segment).
    result<void> flush_rolled();
    /// The flush that is due now — of segments finished by a roll, or everything when flush.ms
    /// has passed — as a job for another thread (complete it with complete_flush), or nothing.
    std::optional<flush_job> take_due_flush();
    /// A number no other log object of this process has: tells a recreated log from the one a
    /// background job was started for.
    uint64_t incarnation() const { return _incarnation; }
    bool roll_flush_pending() const { return _roll_flush_pending.has_value(); }

    /// Deletes whole segments (never the active one, never above the high watermark) that are
    /// below the log start offset, older than retention.ms, or beyond retention.bytes. Files
    /// are renamed `.deleted` and unlinked after file.delete.delay.ms (see remove_deleted_files).
    result<size_t> apply_retention();
    /// Unlinks `.deleted` files whose delay has passed (all of them when force).
    void remove_deleted_files(bool force = false);
    /// DeleteRecords: moves the log start offset up to `new_start` (<= high watermark) and
    /// deletes segments wholly below it. errc::offset_out_of_range beyond the high watermark.
    result<void> advance_log_start_offset(offset new_start);
    /// Removes everything at or after `target` (replication: a follower diverged); the
    /// producer state is rebuilt to match.
    result<void> truncate_to(offset target);
    /// Replaces the whole log by an empty one starting at `start` (replication: a follower
    /// whose log end is below the leader's log start, or past its end): every segment, producer
    /// snapshot, transaction index and leader epoch goes; log start, end, recovery point and
    /// high watermark become `start`.
    result<void> truncate_fully_and_start_at(offset start);

    /// Per producer id: epoch, last batches, open transaction (see producer_state).
    const producer_state& producers() const { return _producers; }
    /// Below it every transaction is decided and its marker is below the high watermark: the
    /// end of what read_committed consumers see.
    offset last_stable_offset() const;
    /// The aborted transactions with records in [from, upper): those whose marker is at or
    /// after `from` and which began before `upper`, in marker order.
    std::vector<aborted_txn> aborted_transactions(offset from, offset upper) const;
    /// Forgets producers idle for producer.id.expiration.ms. Returns how many.
    size_t remove_expired_producers(int64_t expiration_ms);
    /// Writes the producer state as of the log end offset to `<log end>.snapshot` (done at
    /// every segment roll and clean close). Returns the file's path.
    result<std::string> take_producer_snapshot(bool durable);
    /// The offsets of the producer snapshots on disk, ascending.
    const std::set<offset>& producer_snapshots() const { return _snapshots; }

    /// Compaction (cleanup.policy=compact). The cleaner checkpoint: offsets below it are clean.
    offset cleaner_checkpoint() const { return _cleaner_checkpoint; }
    /// Fraction of the cleanable bytes (closed segments below the first uncleanable offset)
    /// that lie at or after the cleaner checkpoint; 0 when nothing is cleanable.
    double dirty_ratio() const;
    /// A cleaning job for the cleanable range, or nullopt when the log is not compacted, is
    /// already being cleaned, has nothing cleanable, or (unless `force`) is below
    /// min.cleanable.dirty.ratio and not overdue by max.compaction.lag.ms.
    std::optional<cleaning_task> prepare_cleaning(bool force, const cleaner_config& cfg);
    /// Installs a job's output: for each group, `.cleaned` → `.swap`, the old segments →
    /// `.deleted`, `.swap` → live, then the checkpoint moves up. If the log changed meanwhile
    /// (segments deleted or truncated) the output is discarded. `stop_after_steps` (tests)
    /// interrupts the swap after that many file operations, as a crash would.
    result<void> complete_cleaning(const cleaning_task& task, const cleaning_result& r, int stop_after_steps = -1);
    /// Owner thread: the running job was abandoned (cleaner stopped or failed).
    void abort_cleaning(const cleaning_result& r);
    bool cleaning() const { return _cleaning; }

    /// Records the final max timestamps and (if `flush`) syncs; the log is not usable after.
    result<void> close(bool flush);
    /// Removes the log's files and directory (topic deletion). The log is not usable after.
    result<void> remove_all_files();

    offset log_start_offset() const { return _log_start; }
    offset log_end_offset() const { return _log_end; }
    offset high_watermark() const { return _high_watermark; }
    offset recovery_point() const { return _recovery_point; }
    /// Clamped to [log start, log end].
    void set_high_watermark(offset hw);
    leader_epoch_cache& epochs() { return *_epochs; }
    const topic_partition& tp() const { return _tp; }
    const std::string& dir() const { return _dir; }
    const log_config& config() const { return _cfg; }
    void set_config(const log_config& cfg) { _cfg = cfg; }
    size_t segment_count() const { return _segments.size(); }
    uint64_t size_bytes() const;
    std::vector<offset> segment_base_offsets() const;
    /// The largest batch max timestamp over all segments (ListOffsets MAX_TIMESTAMP), -1 if none.
    timestamp_ms max_timestamp() const
    {
        timestamp_ms m = no_timestamp;
        for (auto& [base, seg] : _segments) m = std::max(m, seg->max_timestamp());
        return m;
    }
    bool offline() const { return _offline_error.has_value(); }
    /// Takes the log offline for writes (its directory failed).
    void set_offline(std::error_code ec) { go_offline(ec, "its log directory is offline"); }
    /// After a disk-full failure only (never after an fsync failure or another I/O error): cuts
    /// any partial write off the active segment and accepts writes again. False if the log
    /// must stay offline.
    bool try_reopen_after_no_space();
    std::optional<std::error_code> offline_error() const { return _offline_error; }
    /// Number of segments and bytes recovery cut on open (for logs and tests).
    uint64_t recovered_truncated_bytes() const { return _recovery_truncated_bytes; }

private:
    /// The offsets storage documents, checked after every change (a violation aborts):
    /// log start <= high watermark <= log end, recovery point <= log end, at least one segment,
    /// the first segment's base <= log start.
    void check_invariants() const;
    log(file_ops& fs, std::string dir, topic_partition tp, log_config cfg, const clock& clk);
    result<void> load(const log_open_options& opts);
    result<void> recover_from(offset recovery_point, const std::vector<epoch_entry>* epochs);
    result<void> rebuild_epoch_cache();
    /// Loads the newest readable snapshot at or below the log end (dropping those above it
    /// and unreadable ones) and replays the batches after it. On a clean shutdown with no
    /// snapshot at all (a log written before producer state existed) the state starts empty.
    result<void> load_producer_state(bool clean_shutdown);
    /// Replays every batch at or after `from` into the producer state.
    result<void> replay_producers(offset from);
    std::string snapshot_path(offset o) const;
    std::string txn_index_path(offset segment_base) const;
    /// Rewrites the .txnindex of the segment at `segment_base` from the aborted list (removes
    /// it when the segment has no aborted transaction).
    void write_txn_index(offset segment_base);
    /// The base of the segment holding `o`.
    offset segment_base_of(offset o) const;
    /// Takes in what a committed append's markers completed.
    void on_completed(const std::vector<completed_txn>& done);
    /// Deletes snapshot files at offsets above `o`.
    void delete_snapshots_above(offset o);
    /// Deletes snapshot files below the first segment, keeping the newest.
    void delete_old_snapshots();
    result<void> finish_interrupted_swaps(std::vector<std::string>& names);
    offset first_uncleanable_offset() const;
    void remove_cleaned_files(const cleaning_result& r);
    result<void> swap_in(const cleaning_task& task, const cleaning_result& r, int stop_after_steps);
    segment& active() { return *_segments.rbegin()->second; }
    segment_options seg_opts() const { return {_cfg.index_interval_bytes, _cfg.segment_index_bytes}; }
    result<void> maybe_roll(uint64_t incoming_bytes, offset last_offset, timestamp_ms incoming_max_ts);
    result<void> roll();
    result<append_info> append_checked(bytes_view data, std::vector<protocol::batch_header> headers);
    result<void> delete_segments(size_t count);
    result<void> delete_segments_from(std::map<offset, std::unique_ptr<segment>>::iterator it);
    void go_offline(std::error_code ec, const char* what);
    size_t retention_deletable_prefix(bool& by_start, bool& by_time, bool& by_size);

    struct deleted_segment {
        std::unique_ptr<segment> seg;
        int64_t delete_at_ms;
    };

    file_ops& _fs;
    std::string _dir;
    topic_partition _tp;
    log_config _cfg;
    const clock& _clock;
    std::map<offset, std::unique_ptr<segment>> _segments;
    std::unique_ptr<leader_epoch_cache> _epochs;
    producer_state _producers;
    std::set<offset> _snapshots;
    /// Aborted transactions by marker offset (the .txnindex files, in memory).
    std::vector<aborted_txn> _aborted;
    /// Completed transactions whose marker is not below the high watermark yet.
    std::vector<completed_txn> _unstable;
    std::vector<deleted_segment> _deleted;
    offset _log_start{0};
    offset _log_end{0};
    offset _high_watermark{0};
    offset _recovery_point{0};
    int64_t _last_flush_ms = 0;
    std::optional<offset> _roll_flush_pending;
    offset _cleaner_checkpoint{0};
    uint64_t _incarnation;
    /// Whether the parent directory's entry for this log's directory is known durable.
    bool _dir_entry_synced = false;
    bool _cleaning = false;
    std::optional<std::error_code> _offline_error;
    /// An fsync failed: what the page cache held is unknown, so only a restart (recovery) may
    /// bring the log back.
    bool _sync_failed = false;
    uint64_t _recovery_truncated_bytes = 0;
};

} // namespace samsa::storage
