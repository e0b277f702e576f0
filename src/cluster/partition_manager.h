#pragma once

#include "base/ids.h"
#include "cluster/metadata_cache.h"
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

namespace samsa::cluster {

/// Each topic's overrides resolved over the broker's current settings, cached per topic until
/// its overrides or the broker's dynamic config change. Used on one shard.
class topic_configs {
public:
    explicit topic_configs(config::broker_config_store& broker) : _broker(broker) {}

    std::shared_ptr<const config::topic_config> effective(const topic_info& t) const;
    storage::log_config log_config_for(const topic_info& t) const;
    void forget(const std::string& name) { _resolved.erase(name); }
    config::broker_config_store& broker() { return _broker; }

private:
    struct resolved_config {
        uint64_t broker_generation;
        config::property_map overrides;
        std::shared_ptr<const config::topic_config> config;
    };
    config::broker_config_store& _broker;
    mutable std::map<std::string, resolved_config, std::less<>> _resolved;
};

/// Maps Kafka's typed topic configuration onto the storage engine's settings.
storage::log_config to_log_config(const config::topic_config& c);

/// The replicas this node hosts: for every partition whose assignment names this node, its
/// log and its `partition` (leader or, once there is replication, follower). It follows the
/// metadata: topic_changed() opens the replicas of new partitions (become-leader /
/// become-follower) and applies changed states and configs; a topic marked for deletion has
/// its replicas stopped and their logs removed (stop-replica), after which
/// on_replicas_deleted is called.
///
/// The log work is queued (in order) and done by reconcile() in steps, so that a topic of
/// 10,000 partitions never holds the thread for long: with a scheduler set, large changes
/// return once queued and the scheduler is asked to call reconcile() until it returns false;
/// small ones (and all, without a scheduler) finish before returning. Used on one shard.
class partition_manager {
public:
    partition_manager(storage::log_manager& logs, const metadata_cache& cache, topic_configs& configs, node_id self);

    /// At startup, a topic as loaded from the store: logs found on disk open now, missing ones
    /// are queued, a deletion a crash interrupted is queued again.
    void load(const topic_info& t, const std::vector<partition_state>& states);
    /// The store wrote `t` (`created`: it was not known before).
    void topic_changed(const topic_info& t, const std::vector<partition_state>& states, bool created);

    /// Called once every replica of a deleted topic is gone (the controller then removes it).
    std::function<void(const std::string& name, const protocol::uuid& id)> on_replicas_deleted;
    /// Called after a replica opens, changes state (leader / follower, epoch, ISR) or stops:
    /// the replica fetchers follow it.
    std::function<void(const std::shared_ptr<partition>&)> on_replica_changed;
    /// Called when a new topic's logs cannot be created (the controller rolls it back).
    std::function<void(const std::string& name)> on_creation_failed;

    void set_scheduler(std::function<void()> schedule)
    {
        _schedule = std::move(schedule);
        if (!_pending.empty() && _schedule) _schedule();
    }
    /// Does up to `max_ops` queued replica opens or removals. Returns whether work remains.
    bool reconcile(size_t max_ops = step_ops);
    /// Partition operations done per reconcile() step, and the most done before returning.
    static constexpr size_t step_ops = 64;
    /// Whether no log work is queued for the topic (created: every replica open; deleted: gone).
    bool settled(const std::string& name) const;
    /// Why the logs of a topic created last could not be opened, once; nullopt if they were.
    std::optional<std::string> take_creation_failure(const std::string& name);
    /// Re-resolves every log's settings after a dynamic broker config change.
    void broker_config_changed();

    /// The replica of a partition this node hosts, once its log is open.
    std::shared_ptr<partition> get(const topic_partition& tp) const;
    size_t size() const { return _partitions.size(); }
    /// Stops every replica (shutdown): waiters on them end.
    void stop_all();

private:
    struct pending_op {
        enum class kind { open, remove, forget } what;
        topic_partition tp;
        protocol::uuid topic_id; // forget: the deleted topic's id
    };
    bool hosts(const replica_assignment& a) const;
    void enqueue(pending_op::kind what, topic_partition tp, protocol::uuid topic_id = {});
    /// Queues opening the replicas of partitions [first, end) of a topic, then runs or schedules it.
    void queue_opens(const topic_info& t, size_t first);
    /// Stops the topic's replicas and queues the removal of their logs.
    void queue_deletion(const topic_info& t);
    /// Runs the queue now when it was empty and `ops` is small, else schedules it.
    void run_or_schedule(size_t ops);
    void open_one(const topic_partition& tp);
    /// Removes the logs on disk of partitions of `t` this broker is not a replica of.
    void drop_unhosted_logs(const topic_info& t);
    void apply_config(const topic_info& t);

    storage::log_manager& _logs;
    const metadata_cache& _cache;
    topic_configs& _configs;
    node_id _self;
    std::deque<pending_op> _pending;
    std::map<std::string, size_t> _pending_by_topic;
    std::set<topic_partition> _queued_opens;
    std::map<std::string, std::string> _creation_failures;
    std::set<std::string> _creating; // new topics whose replicas are still being opened
    std::set<std::string> _deleting; // topics whose replicas are being removed
    std::function<void()> _schedule;
    bool _reconciling = false;
    std::map<topic_partition, std::shared_ptr<partition>> _partitions;
};

} // namespace samsa::cluster
