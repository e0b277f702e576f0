#pragma once

#include "base/clock.h"
#include "base/ids.h"
#include "base/result.h"
#include "cluster/errc.h"
#include "cluster/topic_table.h"
#include "storage/log.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace samsa::cluster {

/// How far a read may go.
enum class isolation : uint8_t {
    log_end,        ///< everything appended: what a follower replica fetches
    high_watermark, ///< committed records: consumers reading uncommitted (read_uncommitted)
    committed,      ///< below the last stable offset (read_committed; the high watermark until transactions)
};

/// The leader's bookkeeping of replication for one partition: how far each in-sync replica's
/// log has come, and the high watermark that implies — the smallest log end offset in the
/// in-sync set, never moving backwards. A member whose log end is not known yet (a follower
/// that has not fetched since this node became leader) holds the high watermark where it is.
/// I/O-free; owned by its partition.
class leader_state {
public:
    /// `now_ms`: when this node became leader; followers count as caught up then.
    leader_state(node_id self, std::vector<node_id> isr, offset high_watermark, int64_t now_ms = 0);

    /// Records that `replica` has `leo` in its log. Returns whether the high watermark moved.
    bool update(node_id replica, offset leo);
    /// A follower fetch at `fetch_offset` when the leader's log ended at `leader_leo` (Kafka's
    /// replica fetch state): the follower was caught up at this fetch if it asked for the
    /// leader's end, or at its previous fetch if it asked for what the leader had then.
    /// Returns whether the high watermark moved.
    bool fetched(node_id replica, offset fetch_offset, offset leader_leo, int64_t now_ms);
    /// The in-sync set this leader should have now, if it differs: members other than the
    /// leader not caught up within `lag_max_ms` (and not at the leader's end) leave; replicas
    /// out of it whose log end reached both the high watermark and `epoch_start` (where this
    /// leader's epoch began) and that were caught up within `lag_max_ms` join.
    std::optional<std::vector<node_id>> isr_change(const std::vector<node_id>& replicas, offset leader_leo,
                                                   offset epoch_start, int64_t now_ms, int64_t lag_max_ms) const;
    /// A new in-sync set (shrink or expand). Returns whether the high watermark moved.
    bool set_isr(std::vector<node_id> isr);

    offset high_watermark() const { return _hw; }
    const std::vector<node_id>& isr() const { return _isr; }
    /// The log end offset last reported by `replica`, if any.
    std::optional<offset> log_end_of(node_id replica) const;

private:
    struct follower_fetch {
        offset leader_leo{-1}; // the leader's log end at the last fetch
        int64_t at_ms = 0;     // when the last fetch came
        int64_t caught_up_ms = 0;
    };
    bool recompute();

    node_id _self;
    std::vector<node_id> _isr;
    std::map<node_id, offset> _leo;
    std::map<node_id, follower_fetch> _fetches;
    offset _hw;
    int64_t _since_ms;
};

/// Where an append landed.
struct append_result {
    offset base_offset{-1};
    offset last_offset{-1};
    /// Set when the topic uses LogAppendTime.
    timestamp_ms log_append_time{-1};
    offset log_start_offset{0};
};

/// What a read returns: the bytes (whole batches) and the partition's offsets as of the read.
struct read_result {
    storage::file_slice slice;
    offset high_watermark{0};
    offset last_stable_offset{0};
    offset log_start_offset{0};
    offset log_end_offset{0};
    /// isolation::committed: the aborted transactions with records in the slice.
    std::vector<storage::aborted_txn> aborted;
};

/// This node's replica of one partition, and the only door to its data: every append, read,
/// offset lookup and record deletion of the broker goes through it. It shares ownership of the
/// log (the log_manager keeps it for maintenance: retention, flushes, checkpoints), so a
/// request holding the partition across a suspension never sees it dangle; once stop()ped (the
/// topic deleted, the replica moved away) every call fails with errc::not_leader and every
/// waiter wakes.
///
/// As leader it keeps a leader_state: the high watermark advances as the in-sync replicas'
/// logs do (on a single node the in-sync set is this node alone, so at once), and an append
/// with acks=-1 completes when the high watermark covers it. The high watermark the log
/// reloaded from its checkpoint is kept; it only moves forward from there.
///
/// Used only on its owner shard (the broker thread).
class partition : public std::enable_shared_from_this<partition> {
public:
    /// `clk`: the clock of replica lag (its monotonic milliseconds).
    partition(topic_partition tp, std::shared_ptr<storage::log> log, std::vector<node_id> replicas,
              partition_state state, node_id self, const clock& clk = system_clock::instance());

    const topic_partition& tp() const { return _tp; }
    const partition_state& state() const { return _state; }
    leader_epoch epoch() const { return _state.epoch; }
    const std::vector<node_id>& replicas() const { return _replicas; }
    /// The assignment changed (a reassignment): the replicas whose fetches count.
    void set_replicas(std::vector<node_id> replicas) { _replicas = std::move(replicas); }
    bool is_leader() const { return !_stopped && _state.leader == _self; }
    /// The in-sync replicas as the leader tracks them.
    const std::vector<node_id>& isr() const { return _leader.isr(); }

    /// A new state from the controller (become-leader / become-follower, a new leader epoch or
    /// in-sync set). A new leader counts its own log end at once; followers' as they fetch.
    void apply_state(partition_state s);
    /// Stops serving: waiters fail with errc::shutting_down, later calls with errc::not_leader.
    void stop();
    bool stopped() const { return _stopped; }

    offset log_start_offset() const { return _log->log_start_offset(); }
    offset log_end_offset() const { return _log->log_end_offset(); }
    offset high_watermark() const { return _log->high_watermark(); }
    /// Per producer id: epoch, last sequence, open transaction (DescribeProducers).
    const storage::producer_state& producers() const { return _log->producers(); }
    /// Below it every transaction is decided (and its marker committed).
    offset last_stable_offset() const { return _log->last_stable_offset(); }
    /// Where reads with `iso` end.
    offset visible_end(isolation iso) const;
    bool offline() const { return _log->offline(); }
    const storage::log_config& log_config() const { return _log->config(); }

    /// For requests only a leader serves: not_leader unless this replica leads; then the
    /// client's idea of the current leader epoch (-1: none given): fenced_leader_epoch when
    /// older, unknown_leader_epoch when newer.
    result<void> check_leader_epoch(int32_t current_leader_epoch) const;
    /// not_enough_replicas when acks=-1 and the in-sync set is below `min_insync_replicas`.
    result<void> check_produce(int16_t acks, int32_t min_insync_replicas) const;

    /// Appends batches as leader (their CRCs checked when `crc_checked`): assigns offsets and
    /// the leader epoch, then advances the high watermark as far as the in-sync set allows.
    /// Synchronous, so appends happen in call order.
    result<append_result> append_as_leader(mutable_bytes_view batches, bool crc_checked = true,
                                           storage::append_origin origin = storage::append_origin::client);
    /// Completes once the high watermark reaches `end` (acks=-1): timeout after `timeout`,
    /// not_enough_replicas_after_append if the in-sync set is then below `min_insync_replicas`,
    /// shutting_down if the partition stops meanwhile.
    boost::asio::awaitable<result<void>> wait_committed(offset end, std::chrono::milliseconds timeout,
                                                        int32_t min_insync_replicas);
    /// append_as_leader, then (acks=-1) wait_committed.
    boost::asio::awaitable<result<append_result>> produce(mutable_bytes_view batches, int16_t acks,
                                                         std::chrono::milliseconds timeout, int32_t min_insync_replicas);

    /// Whole batches from `start`, at most `max_bytes` (but the first batch whole when
    /// `min_one`), ending before visible_end(iso).
    result<read_result> read(offset start, size_t max_bytes, isolation iso, bool min_one = true);
    /// The first batch holding a timestamp at or after `ts` (ListOffsets by time).
    result<std::optional<storage::timestamp_lookup>> find_by_timestamp(timestamp_ms ts);
    timestamp_ms max_timestamp() const { return _log->max_timestamp(); }
    /// DeleteRecords: moves the log start offset up to `target` (-1: the high watermark).
    /// Returns the new log start offset (the low watermark). policy_violation on a topic that
    /// does not delete (cleanup.policy=compact), offset_out_of_range beyond the high watermark.
    result<offset> delete_records(int64_t target);
    /// OffsetForLeaderEpoch: the largest epoch <= `requested` this log has, and where the next
    /// epoch starts (or the log end offset). {-1, -1} when the history starts after it.
    storage::epoch_entry end_offset_for_epoch(leader_epoch requested) const;

    /// As leader, a follower's Fetch at `fetch_offset` whose log's last epoch is
    /// `last_fetched_epoch` (-1: unknown): when that epoch ends here before the fetch offset,
    /// or this log has no such epoch, the logs forked and the answer is where this log's
    /// epoch ends (the follower truncates there: Kafka's diverging_epoch); otherwise nullopt,
    /// and the fetch offset counts as the follower's log end (high watermark, ISR).
    std::optional<storage::epoch_entry> follower_fetch(node_id replica, offset fetch_offset,
                                                       leader_epoch last_fetched_epoch);

    /// What a follower did with one partition of a Fetch answer.
    struct fetch_applied {
        bool truncated = false;
        offset truncated_from{-1};
        offset log_end{0};
    };
    /// As follower, one partition of the leader's Fetch answer: with a diverging epoch, truncates
    /// (truncate_diverging); else appends `records` (append_as_follower) and takes the leader's
    /// high watermark (follower_high_watermark) and, within it, the leader's log start.
    result<fetch_applied> apply_fetch(const std::optional<storage::epoch_entry>& diverging, bytes_view records,
                                      offset leader_hw, offset leader_log_start = offset(-1));

    /// As follower (a replica fetcher): appends the leader's batches with their offsets and
    /// leader epochs as they are. not_leader if this replica leads or stopped.
    result<void> append_as_follower(bytes_view batches);
    /// As follower: the leader's high watermark from a fetch response, capped by this log's end
    /// (never moving backwards).
    void follower_high_watermark(offset leader_hw);
    /// As follower, on a fetch response naming a diverging epoch (the leader's log has `epoch`
    /// ending at `end_offset` before this log's end): truncates to where both logs agree — the
    /// smaller of `end_offset` and this log's own end of that epoch (its high watermark when it
    /// has no history that old). Returns the new log end offset.
    result<offset> truncate_diverging(leader_epoch epoch, offset end_offset);
    /// As follower, the leader answered OFFSET_OUT_OF_RANGE (Kafka's handling of it): below the
    /// leader's log start (retention or DeleteRecords removed what this follower still needs)
    /// the log is replaced by an empty one starting there; past the leader's high watermark it
    /// is truncated to this replica's own high watermark first (what is committed stays) and
    /// to the leader's only when that is still out of range (the leader lost committed
    /// records). Returns the new log end offset (unchanged when neither applies).
    result<offset> reset_out_of_range(offset leader_log_start, offset leader_hw);
    /// The newest leader epoch in this log (-1 if none): a follower's last fetched epoch.
    leader_epoch last_epoch() const;

    /// A follower fetch reached the leader: `replica` has `leo` in its log.
    void update_replica_log_end(node_id replica, offset leo);
    /// A new in-sync set (ISR shrink or expand) as written to the partition's state (whose new
    /// version is `partition_epoch`; -1: unchanged).
    void set_isr(std::vector<node_id> isr, int32_t partition_epoch = -1);
    /// As leader: the in-sync set it should move to now (see leader_state::isr_change).
    std::optional<std::vector<node_id>> isr_change(int64_t lag_max_ms) const;

    /// What a waiter wakes for. A leader's append that leaves the high watermark where it was
    /// only moves the log end: followers' fetches want it, consumers' fetches and acks=all
    /// produces do not (each would rebuild its answer and find nothing new). Every other
    /// change (high watermark, truncation, leadership, stop) wakes every waiter.
    enum class wake_on : uint8_t { log_end = 1, high_watermark = 2, any = 3 };

    /// Registers a callback run (on this shard) after each change `on` names, until the
    /// returned handle goes away. Safe if the partition is deleted first.
    class subscription {
    public:
        subscription() = default;
        subscription(std::weak_ptr<partition> p, uint64_t id) : _p(std::move(p)), _id(id) {}
        subscription(subscription&& o) noexcept : _p(std::move(o._p)), _id(o._id) { o._id = 0; }
        subscription& operator=(subscription&& o) noexcept;
        ~subscription();

    private:
        std::weak_ptr<partition> _p;
        uint64_t _id = 0;
    };
    subscription on_append(std::function<void()> cb, wake_on on = wake_on::any);

    /// The local log, for storage maintenance and tests; requests use the calls above.
    storage::log& log() { return *_log; }

private:
    /// Records this leader's epoch at the log end in the epoch history, if it is new there.
    void begin_epoch();
    /// Moves the log's high watermark to the leader state's, and wakes whoever waits for `what`.
    void publish_high_watermark(wake_on what = wake_on::any);
    void notify(wake_on what = wake_on::any);

    topic_partition _tp;
    std::shared_ptr<storage::log> _log;
    std::vector<node_id> _replicas;
    partition_state _state;
    node_id _self;
    const clock& _clock;
    leader_state _leader;
    /// Where this node's current term as leader began (its log end then).
    offset _epoch_start{0};
    /// Counts the times this node became leader (from follower or at creation). An append is
    /// this leader's to commit while this stays the same: a new leader epoch alone (the
    /// controller shrinking or growing the ISR) keeps the log, so its waiters keep waiting.
    uint64_t _leader_terms = 0;
    /// The high watermark when each of the last terms ended: what a waiter from that term
    /// may count as committed.
    static constexpr size_t max_term_ends = 8;
    std::vector<std::pair<uint64_t, offset>> _term_ends;
    bool _stopped = false;
    uint64_t _next_listener = 1;
    std::map<uint64_t, std::pair<wake_on, std::function<void()>>> _listeners;
};

} // namespace samsa::cluster
