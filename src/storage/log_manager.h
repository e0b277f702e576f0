#pragma once

#include "base/clock.h"
#include "base/ids.h"
#include "base/result.h"
#include "storage/background.h"
#include "storage/checkpoint_file.h"
#include "storage/file_ops.h"
#include "storage/log.h"

#include <functional>
#include <mutex>
#include <optional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace samsa::storage {

struct log_manager_config {
    std::vector<std::string> log_dirs;
    int64_t retention_check_interval_ms = 300000;          // log.retention.check.interval.ms
    int64_t recovery_point_checkpoint_interval_ms = 60000; // log.flush.offset.checkpoint.interval.ms
    int64_t log_start_checkpoint_interval_ms = 60000;      // log.flush.start.offset.checkpoint.interval.ms
    int64_t producer_id_expiration_ms = 86400000;           // producer.id.expiration.ms
    int64_t producer_id_expiration_check_interval_ms = 600000; // producer.id.expiration.check.interval.ms
};

/// Owns every partition log in the configured log directories and the per-directory files:
///   recovery-point-offset-checkpoint, log-start-offset-checkpoint,
///   replication-offset-checkpoint (high watermarks), .kafka_cleanshutdown (marker).
/// startup() loads every `<topic>-<partition>` directory (recovering those not shut down
/// cleanly); tick() runs the periodic work (retention, flushes, checkpoints, delayed file
/// deletion); shutdown() flushes, checkpoints and writes the clean-shutdown markers.
/// Used from one thread (the owner shard).
class log_manager {
public:
    using config_fn = std::function<log_config(const topic_partition&)>;

    log_manager(file_ops& fs, const clock& clk, log_manager_config cfg, config_fn config_for);
    ~log_manager();

    /// Loads all logs. A log that cannot be loaded fails startup with its name.
    result<void> startup();
    /// The log of a partition, or nullptr.
    log* get(const topic_partition& tp);
    /// The same, sharing ownership: a cluster::partition keeps its log alive this way while
    /// requests hold it, even after retire() dropped it from here.
    std::shared_ptr<log> share(const topic_partition& tp) const;
    /// Creates (or returns the existing) log, in the directory holding the fewest logs.
    result<log*> get_or_create(const topic_partition& tp, const log_config& cfg);
    /// Closes and deletes a partition's log and its files: retire() then settle_retired().
    result<void> remove(const topic_partition& tp);
    /// Closes a partition's log and renames its directory to `<name>.<unique>-delete` (Kafka's
    /// deletion suffix), so a crash from here on never brings the log back: startup removes
    /// such directories. Cheap (one rename, no fsync, no checkpoint): large deletions call it
    /// per partition, then settle_retired() once.
    result<void> retire(const topic_partition& tp);
    /// Makes the renames of retire() durable (one fsync per directory), rewrites the
    /// checkpoints of the directories touched once, and removes the renamed directories'
    /// files on the background pool (at once without one).
    result<void> settle_retired();
    /// Runs whatever periodic work is due.
    void tick();
    /// Writes the recovery-point, log-start and high-watermark checkpoints now.
    result<void> checkpoint();
    /// Flushes and closes every log, writes checkpoints and clean-shutdown markers.
    result<void> shutdown();

    const std::map<topic_partition, std::shared_ptr<log>>& logs() const { return _logs; }
    const log_manager_config& config() const { return _cfg; }

    static constexpr const char* clean_shutdown_file = ".kafka_cleanshutdown";
    static constexpr const char* recovery_point_file = "recovery-point-offset-checkpoint";
    static constexpr const char* log_start_file = "log-start-offset-checkpoint";
    static constexpr const char* high_watermark_file = "replication-offset-checkpoint";
    static constexpr const char* cleaner_file = "cleaner-offset-checkpoint";

    /// The cleaner tick() drives (optional; not owned).
    void set_cleaner(log_cleaner* c) { _cleaner = c; }
    /// Where tick() sends fsyncs and checkpoint writes (optional; not owned). Without one they
    /// run on the caller.
    void set_background(background* b) { _background = b; }

    /// Whether a log directory is offline for writes, and why.
    std::optional<std::error_code> dir_offline(const std::string& dir) const;
    /// Free bytes a disk-full directory needs before it is tried again.
    static constexpr uint64_t min_free_bytes_to_reopen = 1 << 20;

private:
    result<void> load_dir(const std::string& dir);
    void check_dirs();
    result<void> checkpoint_dir(const std::string& dir);
    /// The checkpoint files of one directory as of one moment; `generation` orders snapshots
    /// so an older one (written late by the pool) never replaces a newer one.
    struct dir_checkpoints {
        std::string dir;
        uint64_t generation = 0;
        offset_map recovery, starts, hws, cleaned;
    };
    dir_checkpoints snapshot_checkpoints(const std::string& dir);
    result<void> write_checkpoints(const dir_checkpoints& c);
    void run_due_flushes();

    file_ops& _fs;
    const clock& _clock;
    log_manager_config _cfg;
    config_fn _config_for;
    std::map<topic_partition, std::shared_ptr<log>> _logs;
    std::map<topic_partition, std::string> _log_dir_of;
    std::map<std::string, size_t> _logs_in_dir; // kept with _log_dir_of: placement is O(dirs)
    /// Directories renamed by retire() and not yet settled: log dir -> renamed paths.
    std::map<std::string, std::vector<std::string>> _retired;
    int64_t _last_retention_ms = 0;
    int64_t _last_producer_expiry_ms = 0;
    int64_t _last_checkpoint_ms = 0;
    bool _shut_down = false;
    log_cleaner* _cleaner = nullptr;
    background* _background = nullptr;
    bool _checkpoint_in_flight = false;
    uint64_t _checkpoint_generation = 0;
    std::mutex _checkpoint_mu; // checkpoint files are written from the owner and the pool
    std::map<std::string, uint64_t> _written_generation;
    std::map<std::string, std::error_code> _offline_dirs;
};

} // namespace samsa::storage
