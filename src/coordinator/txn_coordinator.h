#pragma once

#include "base/clock.h"
#include "base/ids.h"
#include "coordinator/txn_records.h"
#include "protocol/error_code.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace samsa::coordinator {

struct txn_config {
    int64_t max_timeout_ms = 900000;            // transaction.max.timeout.ms
    int64_t id_expiration_ms = 604800000;       // transactional.id.expiration.ms
    int32_t state_partitions = 50;              // transaction.state.log.num.partitions
    int64_t marker_retry_backoff_ms = 100;      // between failed marker writes
    int64_t abort_check_interval_ms = 0;        // transaction.abort.timed.out.transaction.cleanup.interval.ms
    int64_t expiry_check_interval_ms = 0;       // transaction.remove.expired.transaction.cleanup.interval.ms
};

/// A record for the transactional id's partition of `__transaction_state` (value nullopt: the
/// tombstone of an expired id).
struct txn_write {
    std::string transactional_id;
    bytes key;
    std::optional<bytes> value;
};

/// COMMIT or ABORT control batches to write, one per partition, for one transaction.
struct txn_markers {
    std::string transactional_id;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t coordinator_epoch = 0;
    bool commit = false;
    std::vector<topic_partition> partitions;
};

/// What a call decided. The caller persists `write` (if any) and reports it with
/// write_done() before it answers with `error` (a failed write answers COORDINATOR_NOT_AVAILABLE
/// instead); write_done() may hand out markers to write, whose result goes back through
/// markers_done(), which may ask for one more write (the Complete* record).
struct txn_result {
    protocol::error_code error = protocol::error_code::none;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    std::optional<txn_write> write;
};

/// The transaction coordinator as an I/O-free state machine over the transactional ids whose
/// `__transaction_state` partitions this broker leads: InitProducerId, AddPartitionsToTxn,
/// AddOffsetsToTxn and EndTxn go in (with the producer ids the caller allocated), records to
/// persist and markers to write come out, as Kafka's TransactionCoordinator decides them. A
/// transactional id with a write in flight or markers outstanding answers
/// CONCURRENT_TRANSACTIONS. Time comes from a clock (manual in tests). Single-threaded.
///
/// States: Empty → (AddPartitions) Ongoing → (EndTxn / timeout / fencing InitProducerId)
/// PrepareCommit|PrepareAbort → (markers written) CompleteCommit|CompleteAbort → (InitProducerId
/// or AddPartitions) Empty|Ongoing. Timed-out transactions are aborted with a bumped epoch, which
/// fences the producer; ids idle past id_expiration_ms are forgotten with a tombstone.
class txn_coordinator {
public:
    txn_coordinator(txn_config cfg, const clock& clk) : _cfg(cfg), _clock(clk) {}

    /// Whether init_producer_id for this id needs a fresh producer id (unknown id, or an epoch
    /// about to run out); the caller allocates one and passes it in.
    bool needs_producer_id(const std::string& transactional_id) const;
    /// `expected_*` are the id and epoch the producer already has (-1 if none, KIP-360).
    txn_result init_producer_id(const std::string& transactional_id, int64_t timeout_ms, int64_t expected_producer_id,
                                int16_t expected_epoch, std::optional<int64_t> fresh_producer_id);
    /// One answer for the whole set (the caller reports per partition).
    txn_result add_partitions(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                              const std::vector<topic_partition>& partitions);
    /// Whether every partition is already part of the ongoing transaction (verify_only).
    protocol::error_code verify_partitions(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                           const std::vector<topic_partition>& partitions) const;
    /// `bump_epoch` (transaction version 2, EndTxn v5): the transaction ends with the epoch
    /// bumped (a fresh producer id once it runs out, see needs_producer_id), answered with the
    /// new id and epoch; a retry with the old epoch after the end gets the same answer.
    txn_result end_txn(const std::string& transactional_id, int64_t producer_id, int16_t epoch, bool commit,
                       bool bump_epoch = false, std::optional<int64_t> fresh_producer_id = std::nullopt);

    /// The write of `transactional_id` reached the log (or not: the change is dropped). Markers
    /// to write next, if the change was the start of a commit or abort.
    std::optional<txn_markers> write_done(const std::string& transactional_id, bool ok);
    /// The markers went to `failed` all but these partitions: the Complete* record when none is
    /// left; failed ones are retried from tick().
    std::optional<txn_write> markers_done(const std::string& transactional_id, const std::vector<topic_partition>& failed);

    /// Timers: retries failed markers; every abort_check_interval_ms aborts transactions past
    /// their timeout, every expiry_check_interval_ms expires idle ids.
    struct tick_result {
        std::vector<txn_write> writes;    // each then reported with write_done()
        std::vector<txn_markers> markers; // each then reported with markers_done()
    };
    tick_result tick();

    /// Becoming a partition's leader (or starting): its __transaction_state records in log
    /// order, then load_complete(partition), whose markers finish the transactions of that
    /// partition that were committing or aborting when its last leader stopped.
    void load_record(bytes_view key, std::optional<bytes_view> value);
    std::vector<txn_markers> load_complete(std::optional<int32_t> partition = std::nullopt);
    /// No longer leading `partition`: its ids are forgotten (a write or markers still in flight
    /// for one of them is ignored when reported).
    void unload_partition(int32_t partition);
    /// The leader epoch of the __transaction_state partition, stamped on markers as the
    /// coordinator epoch.
    void set_coordinator_epoch(int32_t partition, int32_t epoch) { _epochs[partition] = epoch; }

    /// The partition count of __transaction_state when the topic exists (it may differ from
    /// the configured one it was created with).
    void set_state_partitions(int32_t n) { _cfg.state_partitions = n; }
    int32_t partition_for(const std::string& transactional_id) const;
    const txn_metadata* find(const std::string& transactional_id) const;
    /// Every known transactional id's state, by id.
    std::vector<const txn_metadata*> all() const;
    const txn_config& config() const { return _cfg; }

private:
    struct entry {
        txn_metadata meta;
        std::optional<txn_metadata> pending;   // written, not yet reported by write_done
        std::vector<topic_partition> unmarked; // markers still to write (Prepare* states)
        int64_t retry_at = 0;
        bool markers_in_flight = false;
    };
    protocol::error_code check_producer(const entry* e, int64_t producer_id, int16_t epoch) const;
    /// The id's entry when this producer may act on it, else nullptr with r.error set.
    entry* checked(const std::string& transactional_id, int64_t producer_id, int16_t epoch, txn_result& r);
    txn_result stage(entry& e, txn_metadata next, protocol::error_code answer);
    txn_markers markers_of(const entry& e) const;
    /// Stages the Complete* record of a transaction whose markers are all written.
    txn_write complete(entry& e);
    /// For a preparing transaction: sends its outstanding markers again, or its Complete*
    /// record when only that write failed. False when not due (or already in flight).
    bool retry(entry& e, int64_t t, tick_result& out);
    txn_write write_of(const txn_metadata& m) const;
    int64_t now() const { return _clock.now_ms()(); }

    txn_config _cfg;
    const clock& _clock;
    std::map<std::string, entry> _entries;
    std::map<int32_t, int32_t> _epochs;
    /// Preparing ids whose markers or Complete* write failed: what tick() looks at between
    /// the periodic checks.
    std::set<std::string> _retrying;
    int64_t _next_abort_check = 0;
    int64_t _next_expiry_check = 0;
};

} // namespace samsa::coordinator
