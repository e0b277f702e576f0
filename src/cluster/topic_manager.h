#pragma once

#include "base/clock.h"
#include "cluster/kafka_result.h"
#include "cluster/metadata_store.h"
#include "cluster/partition.h"
#include "cluster/topic_table.h"
#include "config/broker_config_store.h"
#include "config/topic_config.h"
#include "storage/log_config.h"
#include "storage/log_manager.h"

#include <map>
#include <memory>
#include <optional>
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

/// The single-node controller and partition registry: the topics (their ids, partition
/// assignments and config overrides, persisted through a metadata_store) and, for every
/// partition this node leads, its `partition` over the storage log. Creating a topic writes
/// its metadata, then its logs; deleting removes logs, then metadata. Used on one shard.
class topic_manager {
public:
    topic_manager(storage::log_manager& logs, config::broker_config_store& broker, metadata_store& store,
                  node_id self);

    /// Loads topics from the store, opens or creates their logs. Logs found on disk for
    /// topics the store does not know are left untouched (with a warning).
    result<void> start();

    /// Validates and (unless validate_only) creates a topic. Kafka's codes:
    /// TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
    /// INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_REQUEST.
    kafka_result<const topic_info*> create_topic(const create_topic_request& req, bool validate_only);
    /// UNKNOWN_TOPIC_OR_PARTITION, TOPIC_DELETION_DISABLED, KAFKA_STORAGE_ERROR.
    kafka_result<void> delete_topic(const std::string& name);
    /// Grows a topic to `count` partitions. INVALID_PARTITIONS when not larger.
    kafka_result<void> create_partitions(const std::string& name, int32_t count,
                                         const std::vector<std::vector<int32_t>>& assignments, bool validate_only);
    /// Replaces a topic's overrides (already validated by the caller) and applies them to its logs.
    kafka_result<void> set_topic_overrides(const std::string& name, config::property_map overrides);
    /// Re-resolves every log's settings after a dynamic broker config change.
    void broker_config_changed();

    const topic_info* find(const std::string& name) const;
    const topic_info* find(const protocol::uuid& id) const;
    const std::map<std::string, topic_info>& topics() const { return _topics; }
    /// The partition if this node leads it.
    std::shared_ptr<partition> get(const topic_partition& tp) const;
    std::shared_ptr<partition> get(const std::string& topic, int32_t p) const
    {
        return get(topic_partition{topic, partition_id(p)});
    }

    /// The topic's overrides resolved over the broker's current settings; cached per topic until
    /// its overrides or the broker's dynamic config change.
    std::shared_ptr<const config::topic_config> effective_config(const topic_info& t) const;
    storage::log_config log_config_for(const topic_info& t) const;
    /// Live brokers (this node alone until the cluster milestone).
    std::vector<node_id> live_brokers() const { return {_self}; }
    node_id self() const { return _self; }
    config::broker_config_store& broker_config() { return _broker; }

private:
    kafka_result<std::vector<partition_assignment>> plan_assignments(const create_topic_request& req, int32_t first,
                                                                     int32_t count) const;
    result<void> open_partitions(const topic_info& t);

    storage::log_manager& _logs;
    config::broker_config_store& _broker;
    metadata_store& _store;
    node_id _self;
    std::map<std::string, topic_info> _topics;
    /// The last validate_only result per name (what CreateTopics answers with; never live).
    std::map<std::string, topic_info> _validated;
    std::map<topic_partition, std::shared_ptr<partition>> _partitions;
    struct resolved_config {
        uint64_t broker_generation;
        config::property_map overrides;
        std::shared_ptr<const config::topic_config> config;
    };
    mutable std::map<std::string, resolved_config, std::less<>> _resolved;
};

/// Maps Kafka's typed topic configuration onto the storage engine's settings.
storage::log_config to_log_config(const config::topic_config& c);

} // namespace samsa::cluster
