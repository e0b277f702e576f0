#pragma once

#include "base/clock.h"
#include "base/ids.h"
#include "base/result.h"
#include "bytes/bytes.h"
#include "protocol/record_batch.h"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace samsa::storage {

/// One batch a producer wrote, as the producer state remembers it.
struct producer_batch {
    int32_t first_seq = -1;
    int32_t last_seq = -1;
    offset last_offset{-1};
    /// last_offset - first offset of the batch (= last_seq - first_seq).
    int32_t offset_delta = 0;
    /// The batch's max timestamp (or its LogAppendTime).
    timestamp_ms timestamp{-1};

    offset first_offset() const { return last_offset - offset_delta; }
};

/// What a partition knows of one producer id: its epoch, the last batches it wrote (a retried
/// batch is recognised among them), and its open transaction.
struct producer_entry {
    /// Kafka keeps the last five batches: the most a producer has in flight at once.
    static constexpr size_t max_batches = 5;

    producer_epoch epoch{-1};
    /// Oldest first, at most max_batches, all of `epoch`.
    std::deque<producer_batch> batches;
    /// The epoch of the transaction coordinator that wrote the last marker, or -1.
    int32_t coordinator_epoch = -1;
    /// The first offset of the open transaction, or -1.
    offset current_txn_first_offset{-1};
    /// The timestamp of the last batch (batches may be empty after a marker).
    timestamp_ms last_timestamp{-1};

    int32_t last_seq() const { return batches.empty() ? -1 : batches.back().last_seq; }
    offset last_offset() const { return batches.empty() ? offset(-1) : batches.back().last_offset; }
    /// The batch of this epoch with exactly these sequence numbers, if remembered.
    const producer_batch* find_duplicate(producer_epoch e, int32_t first_seq, int32_t last_seq) const;
    void add_batch(const producer_batch& b);
};

/// What a transaction marker (a control batch's one record) says.
enum class marker_type : int16_t { abort = 0, commit = 1 };
struct control_marker {
    marker_type type = marker_type::abort;
    int32_t coordinator_epoch = -1;
};
/// The marker of a control batch (key: int16 version, int16 type; value: int16 version, int32
/// coordinator epoch), or nullopt if `batch` does not hold one.
std::optional<control_marker> read_control_marker(bytes_view batch, const protocol::batch_header& h);
/// The control batch a transaction coordinator writes to end a producer's transaction: one
/// record of version 0 with the marker's type and coordinator epoch.
bytes build_control_batch(producer_id pid, producer_epoch epoch, const control_marker& m, timestamp_ms ts);

/// A transaction a marker ended, for the aborted-transaction index and the last stable offset.
struct completed_txn {
    producer_id pid{-1};
    offset first_offset{-1};
    /// The marker's offset.
    offset last_offset{-1};
    bool aborted = false;
};

/// An aborted transaction as the `.txnindex` files hold it: read_committed fetches return
/// (pid, first offset) of those overlapping the data, so consumers drop their records.
struct aborted_txn {
    producer_id pid{-1};
    offset first_offset{-1};
    /// The abort marker's offset.
    offset last_offset{-1};
    /// The last stable offset once it was aborted.
    offset last_stable_offset{-1};
    auto operator<=>(const aborted_txn&) const = default;
};
/// Kafka's .txnindex entries: int16 version 0, pid int64, first offset int64, last offset
/// int64, last stable offset int64 (34 bytes each), back to back.
bytes encode_txn_index(const std::vector<aborted_txn>& entries);
/// The entries of a .txnindex file; a torn last entry is dropped; errc::corrupt for a
/// version other than 0.
result<std::vector<aborted_txn>> decode_txn_index(bytes_view data);

/// The sequence number `n` places after `seq`, wrapping past INT32_MAX to 0 as producers do.
int32_t increment_sequence(int32_t seq, int32_t n);

/// The producer state of one partition (Kafka's ProducerStateManager): per producer id, what
/// it takes to refuse or recognise the next batch. Built from the log — by appends on the
/// leader, by replayed batches on a follower and at load — so every replica has it; a
/// snapshot at each segment roll and clean shutdown bounds the replay. I/O-free but for the
/// snapshot codec; the log owns it and the snapshot files. Used on the log's thread.
class producer_state {
public:
    /// Checks the batches of one leader append against the state, without changing it until
    /// commit(): every batch is checked against the state as the earlier batches of the same
    /// append would leave it.
    class append {
    public:
        explicit append(const producer_state& s) : _s(s) {}
        /// A client's batch (its offsets already assigned): none if it may be written; the
        /// batch it repeats when it is a retry of one already written (then nothing of the
        /// append is written and the original is answered); or errc::invalid_producer_epoch
        /// (an epoch older than the producer's) or errc::out_of_order_sequence (a gap). A
        /// transaction marker (`marker` set: the coordinator's append) skips the sequence
        /// checks; errc::coordinator_fenced when its coordinator epoch is older than the last.
        /// `sequenced` false (the coordinator's own transactional writes) checks the epoch only.
        result<std::optional<producer_batch>> check(const protocol::batch_header& h,
                                                    const control_marker* marker = nullptr, bool sequenced = true);
        /// Records a batch without checks (replication and replay); `marker` for control batches.
        void record(const protocol::batch_header& h, const control_marker* marker = nullptr);
        /// Applies what was recorded; returns the transactions its markers completed.
        std::vector<completed_txn> commit(producer_state& s);

    private:
        producer_entry& updated(producer_id pid);
        const producer_state& _s;
        std::map<producer_id, producer_entry> _updated;
        std::vector<completed_txn> _completed;
    };

    const std::map<producer_id, producer_entry>& entries() const { return _entries; }
    const producer_entry* find(producer_id pid) const;
    bool empty() const { return _entries.empty(); }
    void clear()
    {
        _entries.clear();
        _ongoing.clear();
    }
    /// Records one batch of the log (replay at load or after truncation); `marker` for control
    /// batches. Returns the transaction a marker completed.
    std::optional<completed_txn> replay(const protocol::batch_header& h, const control_marker* marker = nullptr);
    /// The first offset of the oldest open transaction, if any.
    std::optional<offset> first_ongoing_offset() const
    {
        return _ongoing.empty() ? std::nullopt : std::optional<offset>(_ongoing.begin()->first);
    }
    /// Open transactions by first offset.
    const std::map<offset, producer_id>& ongoing() const { return _ongoing; }
    /// Drops producers idle for `expiration_ms` (last timestamp at or before now - expiration)
    /// with no open transaction, as producer.id.expiration.ms asks. Returns how many.
    size_t remove_expired(timestamp_ms now, int64_t expiration_ms);

    /// Kafka's producer snapshot file (docs/formats/producer-snapshot.md).
    bytes encode_snapshot() const;
    /// Replaces the state with a snapshot's; errc::corrupt when it is not one.
    result<void> decode_snapshot(bytes_view data);

private:
    /// Stores `e` for `pid`, keeping the open-transaction map in step.
    void put(producer_id pid, producer_entry e);

    std::map<producer_id, producer_entry> _entries;
    std::map<offset, producer_id> _ongoing;
};

} // namespace samsa::storage
