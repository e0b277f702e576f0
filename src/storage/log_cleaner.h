#pragma once

#include "base/clock.h"
#include "base/ids.h"
#include "base/result.h"
#include "storage/file_ops.h"
#include "storage/producer_state.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace samsa::storage {

class log;
class log_manager;

/// One closed segment as the cleaner sees it: immutable while it is cleaned.
struct cleaner_segment {
    offset base;
    offset next;
    file_ptr file;
    uint64_t size = 0;
};

/// A cleaning job, prepared by the log's owner (log::prepare_cleaning) and run anywhere
/// (run_cleaning): rewrite `segments` (the cleanable range: whole closed segments below the
/// first uncleanable offset) keeping only the latest record of every key seen in the dirty
/// section, which starts at `first_dirty`.
struct cleaning_task {
    topic_partition tp;
    std::string dir;
    std::vector<cleaner_segment> segments;
    offset first_dirty{0};
    offset first_uncleanable{0};
    int64_t now_ms = 0;
    int64_t delete_retention_ms = 0;
    uint64_t segment_bytes = 0;
    size_t index_interval_bytes = 4096;
    size_t max_index_bytes = 10 << 20;
    /// log.cleaner.dedupe.buffer.size: memory for the key → offset map.
    size_t map_memory = 128 << 20;
    /// log.cleaner.io.max.bytes.per.second (read + written), or infinity.
    double io_max_bytes_per_second = std::numeric_limits<double>::infinity();
    /// The aborted transactions below first_uncleanable: their records are removed (never
    /// taken as a key's latest value); control batches are kept.
    std::vector<aborted_txn> aborted;
};

/// One rewritten group of old segments: `<base>.log.cleaned` (+ .index/.timeindex .cleaned).
struct cleaned_group {
    offset base;
    std::vector<offset> replaced; // base offsets of the segments it replaces
    uint64_t size = 0;
};

struct cleaning_result {
    std::vector<cleaned_group> groups;
    /// Records below this offset are clean now (the new cleaner checkpoint).
    offset cleaned_up_to{0};
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
    uint64_t records_kept = 0;
    uint64_t records_removed = 0;
    uint64_t tombstones_removed = 0;
    double seconds = 0;
    std::error_code error;
};

/// Runs a cleaning job: builds the key → latest-offset map of the dirty section, then writes
/// each group of old segments (grouped to at most segment.bytes) to `.cleaned` files, synced:
/// batches keep their offsets, leader epochs and compression; records superseded by a later
/// record with the same key are dropped; tombstones get a delete horizon (now +
/// delete.retention.ms, stored in the batch as KIP-534 does) the first time they are cleaned
/// and are dropped once it has passed. Control batches are kept. Touches only new files.
cleaning_result run_cleaning(file_ops& fs, const cleaning_task& task);

struct cleaner_config {
    bool enabled = true;                  // log.cleaner.enable
    int threads = 1;                      // log.cleaner.threads
    size_t dedupe_buffer_bytes = 128 << 20; // log.cleaner.dedupe.buffer.size
    double io_max_bytes_per_second = std::numeric_limits<double>::infinity(); // log.cleaner.io.max.bytes.per.second
    int64_t backoff_ms = 15000;           // log.cleaner.backoff.ms
};

/// Picks the dirtiest compacted logs and cleans them on background threads, so appends and
/// fetches never wait for it; the final swap of segments runs on the logs' owner thread through
/// `post` (with no post function everything runs synchronously on the caller, for tests).
class log_cleaner {
public:
    using post_fn = std::function<void(std::function<void()>)>;

    log_cleaner(file_ops& fs, const clock& clk, cleaner_config cfg, post_fn post = {});
    ~log_cleaner();

    /// Owner thread: schedules cleaning of the dirtiest eligible logs (at most one per thread).
    void maybe_clean(log_manager& logs);
    /// Owner thread, synchronous: cleans one log now if it has anything cleanable (ignoring
    /// the dirty ratio). Returns the result (empty groups when there was nothing to do).
    cleaning_result clean_now(log& l);
    /// Stops the threads; pending swaps are dropped (their .cleaned files are removed on the
    /// next startup).
    void stop();

    struct totals {
        uint64_t runs = 0;
        uint64_t bytes_read = 0;
        uint64_t bytes_written = 0;
        double seconds = 0;
    };
    totals stats() const;

private:
    void worker();
    void finish(log_manager& logs, const cleaning_task& task, const cleaning_result& r);

    file_ops& _fs;
    const clock& _clock;
    cleaner_config _cfg;
    post_fn _post;
    mutable std::mutex _mu;
    std::condition_variable _cv;
    std::deque<std::function<void()>> _queue;
    std::vector<std::thread> _threads;
    size_t _busy = 0;
    bool _stopping = false;
    totals _totals;
    /// When a scan last found nothing to clean (log.cleaner.backoff.ms counts from there).
    std::optional<int64_t> _idle_since;
};

} // namespace samsa::storage
