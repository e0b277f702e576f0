#pragma once

#include "base/ids.h"
#include "cluster/topic_table.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace samsa::cluster {

/// One address a broker can be reached at (an advertised listener).
struct broker_endpoint {
    std::string listener;
    std::string host;
    int32_t port = 0;
    bool operator==(const broker_endpoint&) const = default;
};

/// A live broker as the cluster sees it (ZooKeeper: `/brokers/ids/<id>`).
struct broker_info {
    node_id id{-1};
    std::optional<std::string> rack;
    std::vector<broker_endpoint> endpoints;
    /// The broker epoch (its registration's czxid) where the controller knows it, else -1: a
    /// broker that stopped and registered again between two looks at the live set is told apart.
    int64_t epoch = -1;
    bool operator==(const broker_info&) const = default;

    /// The endpoint for clients that came in through `listener` (the first one if none matches).
    const broker_endpoint* endpoint_for(const std::string& listener) const;
};

/// What this node knows of the cluster: the topics with their replica assignments, each
/// partition's state (leader, leader epoch, in-sync replicas), the live brokers with their
/// endpoints, and which broker is the controller. Read by Metadata, DescribeCluster,
/// FindCoordinator and the partition manager; written only from the metadata store's events
/// (apply / remove) and broker registration. I/O-free; used on one shard.
class metadata_cache {
public:
    explicit metadata_cache(node_id self) : _self(self), _controller(self) {}

    /// A topic as now stored: created, changed, or (deleting set) marked for deletion, which
    /// takes it out of topics() and find() while keeping its name reserved.
    void apply(const topic_record& r);
    /// The topic is gone from the store.
    void remove(const std::string& name);

    const topic_info* find(const std::string& name) const;
    const topic_info* find(const protocol::uuid& id) const;
    const std::map<std::string, topic_info>& topics() const { return _topics; }
    /// A topic whose deletion has begun and not ended (its name cannot be reused meanwhile).
    const topic_info* find_deleting(const std::string& name) const;
    /// The state of a partition of a live topic, or nullptr.
    const partition_state* state(const topic_partition& tp) const;
    /// A topic's partition states, in partition order (empty if unknown).
    std::vector<partition_state> states_of(const std::string& name) const;

    void set_brokers(std::vector<broker_info> brokers) { _brokers = std::move(brokers); }
    const std::vector<broker_info>& brokers() const { return _brokers; }
    const broker_info* broker(node_id id) const;
    /// Ids of the live brokers; this node alone until it has registered (or learnt) any.
    std::vector<node_id> live_brokers() const;
    void set_controller(node_id id) { _controller = id; }
    node_id controller() const { return _controller; }
    node_id self() const { return _self; }

private:
    node_id _self;
    node_id _controller;
    std::map<std::string, topic_info> _topics;
    std::map<std::string, topic_info> _deleting;
    std::map<topic_partition, partition_state> _states;
    std::vector<broker_info> _brokers;
};

} // namespace samsa::cluster
