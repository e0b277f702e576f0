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

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
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

/// The single-node controller and partition registry: the topics (their ids, partition
/// assignments and config overrides, persisted through a metadata_store) and, for every
/// partition this node leads, its `partition` over the storage log.
///
/// Creating a topic writes its metadata, then opens its logs; deleting marks the metadata
/// `deleting`, closes and renames the logs, then removes the metadata. The log work is queued
/// (in order) and done by reconcile() in steps, so that a topic of 10,000 partitions never
/// holds the thread for long: with a scheduler set, large operations return once the metadata
/// is written and the scheduler is asked to call reconcile() until it returns false; small ones
/// (and all, without a scheduler) finish before returning. settled() says when a topic's
/// queued work is done. Used on one shard.
class topic_manager {
public:
    topic_manager(storage::log_manager& logs, config::broker_config_store& broker, metadata_store& store,
                  node_id self);

    /// Loads topics from the store and opens their logs; logs a crash kept from being created
    /// are queued (see set_scheduler and reconcile), and deletions a crash interrupted are
    /// finished. Logs found on disk for topics the store does not know are left untouched (with
    /// a warning).
    result<void> start();

    /// Validates and (unless validate_only) creates a topic. Kafka's codes:
    /// TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
    /// INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_REQUEST.
    kafka_result<const topic_info*> create_topic(const create_topic_request& req, bool validate_only);
    /// UNKNOWN_TOPIC_OR_PARTITION, TOPIC_DELETION_DISABLED, KAFKA_STORAGE_ERROR.
    kafka_result<void> delete_topic(const std::string& name);

    /// How queued log work gets done: `schedule` is called (on this shard) whenever reconcile()
    /// has work; it must arrange for reconcile() to be called soon, and again while it returns
    /// true. Without one, every operation finishes its log work before returning.
    void set_scheduler(std::function<void()> schedule)
    {
        _schedule = std::move(schedule);
        if (!_pending.empty() && _schedule) _schedule();
    }
    /// Does up to `max_ops` queued partition opens or removals. Returns whether work remains.
    bool reconcile(size_t max_ops = step_ops);
    /// Partition operations done per reconcile() step, and the most done before returning.
    static constexpr size_t step_ops = 64;
    /// Whether no log work is queued for the topic (created: every log open; deleted: gone).
    bool settled(const std::string& name) const;
    /// Why the logs of a topic created last could not be opened (the creation was rolled
    /// back), once; nullopt if they were.
    std::optional<std::string> take_creation_failure(const std::string& name);
    void set_file_budget(file_budget b) { _budget = std::move(b); }
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
    /// INVALID_PARTITIONS when `count` more partitions would overrun the descriptor budget.
    kafka_result<void> check_file_budget(int64_t count) const;
    /// Queues opening the logs of partitions [first, end) of a topic, then runs or schedules it.
    void queue_opens(const topic_info& t, size_t first);
    /// Forgets the topic and queues the removal of its logs and metadata.
    void queue_deletion(topic_info t);
    /// Runs the queue now when it was empty and `ops` is small, else schedules it.
    void run_or_schedule(size_t ops);
    /// Opens the log of a partition this node leads (creating it if needed) and its partition.
    void open_one(const topic_partition& tp);

    struct pending_op {
        enum class kind { open, remove, forget } what;
        topic_partition tp;
        protocol::uuid topic_id; // forget: the deleted topic's id
    };
    /// Appends to _pending, counted in _pending_by_topic.
    void enqueue(pending_op::kind what, topic_partition tp, protocol::uuid topic_id = {});
    std::deque<pending_op> _pending;
    std::map<std::string, size_t> _pending_by_topic;
    std::map<std::string, std::string> _creation_failures;
    std::set<std::string> _creating; // new topics whose logs are still being opened
    std::function<void()> _schedule;
    bool _reconciling = false;
    file_budget _budget;

    storage::log_manager& _logs;
    config::broker_config_store& _broker;
    metadata_store& _store;
    node_id _self;
    std::map<std::string, topic_info> _topics;
    /// Topics whose deletion has begun and not ended (their names cannot be reused meanwhile).
    std::map<std::string, topic_info> _deleting;
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
