#pragma once

#include "base/clock.h"
#include "base/ids.h"
#include "cluster/controlled_broker.h"
#include "cluster/metadata_store.h"
#include "cluster/producer_id_manager.h"
#include "cluster/replication_throttle.h"
#include "cluster/topic_manager.h"
#include "config/broker_config_store.h"
#include "kafka/produce_order.h"
#include "storage/log_manager.h"

#include "protocol/error_code.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace samsa::kafka {

/// An address clients are told to use for this broker (advertised.listeners, or the bound
/// listener when none is advertised).
struct advertised_endpoint {
    std::string listener;
    std::string host;
    int32_t port = 0;
};

/// What the controller answers a broker's ControlledShutdown: an error (NOT_CONTROLLER,
/// BROKER_NOT_AVAILABLE), or the partitions it could not move away from that broker.
struct controlled_shutdown_answer {
    protocol::error_code error = protocol::error_code::none;
    std::vector<topic_partition> remaining;
};

/// What the controller answers a request about partitions (ElectLeaders,
/// AlterPartitionReassignments): a top-level error (NOT_CONTROLLER), or each partition's error
/// (none when done).
struct partition_errors_answer {
    struct partition_result {
        topic_partition tp;
        protocol::error_code error = protocol::error_code::none;
        std::string message;
    };
    protocol::error_code error = protocol::error_code::none;
    std::vector<partition_result> results;
};
using elect_leaders_answer = partition_errors_answer;

/// The reassignments in progress (ListPartitionReassignments).
struct reassignments_answer {
    struct ongoing {
        topic_partition tp;
        std::vector<int32_t> replicas, adding, removing;
    };
    protocol::error_code error = protocol::error_code::none;
    std::vector<ongoing> partitions;
};

/// Everything request handlers reach: the topics and partitions, the configuration, the logs.
/// Owned by the app; lives as long as the server; used on the shard's thread.
struct broker_context {
    cluster::topic_manager& topics;
    config::broker_config_store& config;
    storage::log_manager& logs;
    /// Where dynamic broker config changes are persisted.
    cluster::metadata_store& store;
    const clock& clk;
    node_id self{0};
    std::string cluster_id;
    std::vector<advertised_endpoint> endpoints;
    /// The group coordinator (set by the app once it exists).
    class group_service* groups = nullptr;
    /// The transaction coordinator (set by the app once it exists).
    class txn_service* txns = nullptr;
    /// ZooKeeper mode: applies the controller's LeaderAndIsr, UpdateMetadata and StopReplica
    /// (set by the app; null for the embedded node).
    cluster::controlled_broker* controlled = nullptr;
    /// ZooKeeper mode: a broker's ControlledShutdown, carried out by this broker's controller
    /// term (set by the app; unset for the embedded node, which answers NOT_CONTROLLER).
    std::function<boost::asio::awaitable<controlled_shutdown_answer>(node_id broker, int64_t broker_epoch)>
        controlled_shutdown;
    /// ZooKeeper mode: ElectLeaders (type 0 preferred, 1 unclean; nullopt: every partition),
    /// carried out by this broker's controller term (unset for the embedded node, where every
    /// partition has one replica and no election is ever needed).
    std::function<boost::asio::awaitable<elect_leaders_answer>(int8_t type, std::optional<std::vector<topic_partition>>,
                                                               int32_t timeout_ms)>
        elect_leaders;
    /// ZooKeeper mode: AlterPartitionReassignments (a target, or nullopt to cancel) and
    /// ListPartitionReassignments (nullopt: all), carried out by this broker's controller term
    /// (unset for the embedded node, which has nothing to reassign).
    std::function<boost::asio::awaitable<partition_errors_answer>(
        std::vector<std::pair<topic_partition, std::optional<std::vector<int32_t>>>>, int32_t timeout_ms)>
        alter_reassignments;
    std::function<reassignments_answer(std::optional<std::vector<topic_partition>>)> list_reassignments;
    /// ZooKeeper mode: connections to the other brokers (set by the app; null for the
    /// embedded node).
    class peer_clients* peers = nullptr;
    /// Producer ids for InitProducerId (set by the app).
    cluster::producer_id_manager* producer_ids = nullptr;
    /// Where CPU-heavy request work runs (decompressing produced batches), so the broker thread
    /// keeps serving other connections meanwhile: a small thread pool owned by the app. Unset:
    /// on the broker thread (unit tests).
    std::optional<boost::asio::any_io_executor> cpu;
    /// Orders the appends of each connection's Produce requests (see produce_order).
    produce_order produce_queue;
    /// leader.replication.throttled.rate's budget, shared by the throttled replicas led here.
    cluster::replication_throttle leader_throttle;

    /// The endpoint to advertise to a client connected through `listener`.
    const advertised_endpoint* endpoint_for(const std::string& listener) const
    {
        for (auto& e : endpoints) {
            if (e.listener == listener) return &e;
        }
        return endpoints.empty() ? nullptr : &endpoints.front();
    }
};

} // namespace samsa::kafka
