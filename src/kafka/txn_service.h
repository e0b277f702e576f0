#pragma once

#include "coordinator/txn_coordinator.h"
#include "kafka/broker_context.h"
#include "protocol/error_code.h"

#include <boost/asio/awaitable.hpp>

namespace samsa::kafka {

/// Writes one transaction marker (a COMMIT or ABORT control batch with the coordinator epoch)
/// to a partition this broker leads, as WriteTxnMarkers does, and tells the group coordinator
/// when the partition is one of `__consumer_offsets` (its transactional offsets become visible
/// or are dropped). The Kafka error for that partition.
protocol::error_code write_txn_marker(broker_context& b, const coordinator::txn_markers& m, const topic_partition& tp);

/// Runs the transaction coordinator state machine for this broker: owns `__transaction_state`
/// (created, as Kafka does, by the first FindCoordinator or InitProducerId for a transactional
/// id, with transaction.state.log.* settings, compacted), replays it at startup and finishes
/// the commits and aborts it finds half done, persists what the state machine decides before
/// the answer goes out, and writes the markers. Used on the broker's thread only.
///
/// Markers go to partitions this broker leads (every partition, on a single node); a marker
/// for a partition led elsewhere fails and is retried from tick() until the cluster's
/// inter-broker WriteTxnMarkers path exists.
class txn_service {
public:
    static constexpr const char* state_topic = "__transaction_state";

    txn_service(broker_context& b, coordinator::txn_config cfg) : _broker(b), _coordinator(cfg, b.clk) {}

    /// Replays __transaction_state if it exists, then completes transactions it left preparing.
    void start();
    /// Creates __transaction_state through the controller if missing; false (after logging)
    /// when that fails.
    boost::asio::awaitable<bool> ensure_state_topic();
    int32_t state_partitions() const;
    /// NONE when this broker coordinates `transactional_id` (leads its partition of
    /// __transaction_state), COORDINATOR_NOT_AVAILABLE before the topic exists, else
    /// NOT_COORDINATOR.
    protocol::error_code check_coordinator(const std::string& transactional_id) const;

    /// Persists the decision's write and then carries out what follows from it (markers, the
    /// Complete* record). The answer to send: the decision, or COORDINATOR_NOT_AVAILABLE when
    /// its write failed.
    protocol::error_code apply(const coordinator::txn_result& r);
    /// A partition a transactional write is about to touch (Produce, TxnOffsetCommit): added
    /// to the producer's transaction when `add` (transaction version 2), else checked to be in
    /// it (KIP-890 part 1). The coordinator's answer, for the caller to map.
    protocol::error_code include_partition(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                           const topic_partition& tp, bool add);
    /// The periodic timer's entry point: timeouts, marker retries, expired ids.
    void tick();

    coordinator::txn_coordinator& state() { return _coordinator; }

private:
    bool persist(const coordinator::txn_write& w);
    /// Persists a write and carries out what follows from it; whether the write reached the log.
    bool settle(const coordinator::txn_write& w);
    void deliver(const coordinator::txn_markers& m);

    broker_context& _broker;
    coordinator::txn_coordinator _coordinator;
};

} // namespace samsa::kafka
