#pragma once

#include "coordinator/txn_coordinator.h"
#include "kafka/broker_context.h"
#include "protocol/error_code.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <memory>

namespace samsa::kafka {

/// One transaction marker appended by write_txn_marker: the partition and the offset after
/// the marker (to wait for its commit), or the Kafka error.
struct marker_write {
    protocol::error_code error = protocol::error_code::none;
    std::shared_ptr<cluster::partition> part;
    offset end{-1};
};

/// Appends one transaction marker (a COMMIT or ABORT control batch with the coordinator epoch)
/// to a partition this broker leads, as WriteTxnMarkers does, and tells the group coordinator
/// when the partition is one of `__consumer_offsets` (its transactional offsets become visible
/// or are dropped).
marker_write write_txn_marker(broker_context& b, const coordinator::txn_markers& m, const topic_partition& tp);
/// Waits until the high watermark covers an appended marker (the in-sync replicas have it, as
/// Kafka's markers are written with acks=-1), at most until `deadline`; the marker's error.
boost::asio::awaitable<protocol::error_code> marker_committed(const marker_write& w,
                                                              std::chrono::steady_clock::time_point deadline);

/// Runs the transaction coordinator state machine for this broker: owns `__transaction_state`
/// (created, as Kafka does, by the first FindCoordinator or InitProducerId for a transactional
/// id, with transaction.state.log.* settings, compacted) and coordinates the transactional ids
/// of the partitions of it this broker leads. A partition is replayed when this broker becomes
/// its leader (at startup on a single node; in a cluster at the next tick, or when first asked
/// for) and forgotten when it stops leading it; replaying finishes the commits and aborts it finds half done. A
/// write to __transaction_state is answered once committed (the high watermark covers it).
/// Markers go to each partition's leader: appended here for the partitions this broker leads,
/// sent as WriteTxnMarkers to the others; the Complete* record follows once every marker is
/// committed. A transactional write to a partition led here whose coordinator is another
/// broker is verified there (AddPartitionsToTxn from a broker, KIP-890). Used on the broker's
/// thread only.
class txn_service {
public:
    static constexpr const char* state_topic = "__transaction_state";

    txn_service(broker_context& b, coordinator::txn_config cfg, boost::asio::any_io_executor ex);
    ~txn_service();

    /// Replays the partitions of __transaction_state this broker leads.
    void start();
    /// Creates __transaction_state through the controller if missing; false (after logging)
    /// when that fails.
    boost::asio::awaitable<bool> ensure_state_topic();
    int32_t state_partitions() const;
    /// NONE when this broker coordinates `transactional_id` (leads its partition of
    /// __transaction_state, replayed here the first time it is asked after becoming leader),
    /// COORDINATOR_NOT_AVAILABLE before the topic exists, else NOT_COORDINATOR.
    protocol::error_code check_coordinator(const std::string& transactional_id);
    /// Whether this broker coordinates `transactional_id` with its partition loaded; no side
    /// effects (for listings that walk the loaded ids).
    bool coordinates(const std::string& transactional_id) const;

    /// Persists the decision's write, waits for it to be committed and then carries out what
    /// follows from it (markers, the Complete* record). The answer to send: the decision, or
    /// COORDINATOR_NOT_AVAILABLE when its write failed (NOT_COORDINATOR when the partition
    /// moved to another leader meanwhile).
    boost::asio::awaitable<protocol::error_code> apply(coordinator::txn_result r);
    /// A partition a transactional write is about to touch (Produce, TxnOffsetCommit): added
    /// to the producer's transaction when `add` (transaction version 2), else checked to be in
    /// it (KIP-890 part 1), by this broker or by the coordinating one. The coordinator's answer,
    /// for the caller to map (COORDINATOR_NOT_AVAILABLE when it cannot be reached).
    boost::asio::awaitable<protocol::error_code> include_partition(std::string transactional_id, int64_t producer_id,
                                                                   int16_t epoch, topic_partition tp, bool add);
    /// The periodic timer's entry point: partitions no longer led, timeouts, marker retries,
    /// expired ids.
    void tick();

    coordinator::txn_coordinator& state() { return _coordinator; }

private:
    /// A record appended to __transaction_state, to wait for.
    struct written {
        std::shared_ptr<cluster::partition> part;
        offset end{-1};
        int32_t partition = 0;
        int32_t epoch = 0;
    };
    int32_t partition_of(const std::string& transactional_id) const;
    void load_partition(int32_t p, cluster::partition& part);
    /// Forgets the ids of a partition this broker no longer leads.
    void release(int32_t p);
    bool still_loaded(const written& w) const;
    std::optional<written> persist(const coordinator::txn_write& w);
    boost::asio::awaitable<bool> committed(written w);
    /// Persists a write and carries out what follows once it is committed (now, or later).
    void settle(coordinator::txn_write w);
    void write_done(const std::string& transactional_id, bool ok);
    /// Writes the markers: the local ones now, the rest (and the wait for commits) later.
    void deliver(coordinator::txn_markers m);
    boost::asio::awaitable<void> deliver_rest(coordinator::txn_markers m, std::vector<topic_partition> failed,
                                              std::vector<marker_write> local, std::map<int32_t, std::vector<topic_partition>> remote);
    void markers_done(const coordinator::txn_markers& m, const std::vector<topic_partition>& failed);
    boost::asio::awaitable<protocol::error_code> ask_coordinator(std::string transactional_id, int64_t producer_id,
                                                                 int16_t epoch, topic_partition tp, bool add);

    broker_context& _broker;
    coordinator::txn_coordinator _coordinator;
    boost::asio::any_io_executor _ex;
    /// Partitions whose ids are loaded, with the leader epoch they were loaded at.
    std::map<int32_t, int32_t> _loaded;
    /// False once destroyed: what a suspended write or marker delivery checks on waking.
    std::shared_ptr<bool> _alive = std::make_shared<bool>(true);
};

} // namespace samsa::kafka
