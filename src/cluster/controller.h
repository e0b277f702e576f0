#pragma once

#include "base/ids.h"
#include "cluster/errc.h"
#include "cluster/metadata_cache.h"
#include "cluster/metadata_store.h"
#include "cluster/topic_table.h"
#include "config/broker_config_store.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace samsa::cluster {

/// A topic creation as CreateTopics (or auto-creation) asks for it. -1 partitions or
/// replication factor means the broker default.
struct create_topic_request {
    std::string name;
    int32_t partitions = -1;
    int16_t replication_factor = -1;
    /// Manual assignment: replicas per partition (then partitions and replication_factor are -1).
    std::vector<std::vector<int32_t>> assignments;
    config::property_map configs;
    bool internal = false;
};

/// The descriptors a broker may still open: a topic creation needing more is refused.
struct file_budget {
    /// The soft RLIMIT_NOFILE (0: no check).
    size_t limit = 0;
    /// Descriptors in use now.
    std::function<size_t()> in_use;
    /// Kept free for connections, checkpoints, the cleaner and the index-file cache
    /// (storage::index_file::max_open()).
    size_t reserve = 512;
    /// What one new partition takes: its active segment's log file. (Its indexes share the
    /// bounded index-file cache; each later segment holds one more, as in Kafka.)
    static constexpr size_t per_partition = 1;
};

/// ZooKeeper mode: where topic operations are written instead of this node's store, for the
/// elected controller (and every broker) to act on: /brokers/topics/<t>, /config/topics/<t>,
/// /admin/delete_topics/<t>, /config/changes. Implemented over a ZooKeeper session.
class cluster_admin {
public:
    virtual ~cluster_admin() = default;
    /// topic_exists when /brokers/topics/<t> exists already.
    virtual boost::asio::awaitable<op_result<void>> create_topic(const topic_info& t) = 0;
    virtual boost::asio::awaitable<op_result<void>> delete_topic(const std::string& name) = 0;
    /// The topic's assignment with its new partitions appended.
    virtual boost::asio::awaitable<op_result<void>> add_partitions(const topic_info& t) = 0;
    virtual boost::asio::awaitable<op_result<void>> set_topic_overrides(const std::string& name,
                                                                        const config::property_map& overrides) = 0;
    /// /config/brokers/<entity> (a broker id, or "<default>" for every broker), announced in
    /// /config/changes.
    virtual boost::asio::awaitable<op_result<void>> set_broker_overrides(const std::string& entity,
                                                                         const config::property_map& overrides) = 0;
};

/// The controller: validates topic operations, plans replica assignments and writes the
/// outcome to the metadata store. It changes nothing else: the metadata cache and the
/// partition manager follow from the store's events, as every broker's will once the store
/// is ZooKeeper and only the elected controller writes. Today it is local (every node of one
/// its own controller); its calls are asynchronous so that the ZooKeeper controller, whose
/// writes suspend, has the same interface.
///
/// Failures are cluster::errc with a message for the client: topic_exists, invalid_topic,
/// invalid_partitions, invalid_replication_factor, invalid_replica_assignment,
/// invalid_config, invalid_request, unknown_topic, deletion_disabled, metadata_write_failed.
/// Used on one shard.
class controller {
public:
    controller(metadata_cache& cache, metadata_store& store, config::broker_config_store& broker);

    /// Validates and (unless validate_only) creates a topic; returns it as planned.
    boost::asio::awaitable<op_result<topic_info>> create_topic(create_topic_request req, bool validate_only);
    /// Marks a topic for deletion; its replicas are then removed (see replicas_deleted).
    boost::asio::awaitable<op_result<void>> delete_topic(std::string name);
    /// Grows a topic to `count` partitions (invalid_partitions when not larger).
    boost::asio::awaitable<op_result<void>> create_partitions(std::string name, int32_t count,
                                                              std::vector<std::vector<int32_t>> assignments,
                                                              bool validate_only);
    /// Replaces a topic's config overrides (validated by the caller).
    boost::asio::awaitable<op_result<void>> set_topic_overrides(std::string name, config::property_map overrides);

    /// The replicas of a deleted topic are gone: its metadata goes too, and the name is free.
    void replicas_deleted(const std::string& name, const protocol::uuid& id);
    /// A new topic whose logs could not be created is deleted again.
    void roll_back_creation(const std::string& name);

    /// Replica assignments for partitions [first, first + count) of a new or growing topic:
    /// the manual ones in `req`, or round-robin over the live brokers. Pure.
    op_result<std::vector<replica_assignment>> plan_assignments(const create_topic_request& req, int32_t first,
                                                                int32_t count) const;
    void set_file_budget(file_budget b) { _budget = std::move(b); }
    /// ZooKeeper mode: validated operations are written through `admin`, and each call returns
    /// once this node's metadata shows the outcome (the controller's UpdateMetadata arrived),
    /// or errc::timeout after `propagation` (the operation still completes).
    void set_cluster_admin(cluster_admin* admin, std::chrono::milliseconds propagation)
    {
        _admin = admin;
        _propagation = propagation;
    }
    /// The ZooKeeper writer in ZooKeeper mode, nullptr on a single node.
    cluster_admin* admin() const { return _admin; }

private:
    op_result<topic_info> create_now(create_topic_request req, bool validate_only);
    op_result<void> delete_now(const std::string& name);
    op_result<void> grow_now(const std::string& name, int32_t count, const std::vector<std::vector<int32_t>>& assignments,
                             bool validate_only);
    op_result<void> set_overrides_now(const std::string& name, config::property_map overrides);
    /// invalid_partitions when `count` more partitions would overrun the descriptor budget.
    op_result<void> check_file_budget(int64_t count) const;
    /// The record to store for `t`, keeping the states of existing partitions and giving new
    /// ones theirs (leader: the first replica, all replicas in sync).
    topic_record record_for(const topic_info& t) const;
    op_result<void> save(const topic_record& r, const char* what);

    metadata_cache& _cache;
    metadata_store& _store;
    config::broker_config_store& _broker;
    /// Waits until `done()` holds, up to the propagation timeout.
    boost::asio::awaitable<op_result<void>> propagated(std::function<bool()> done, const std::string& what);

    file_budget _budget;
    cluster_admin* _admin = nullptr;
    std::chrono::milliseconds _propagation{30000};
};

} // namespace samsa::cluster
