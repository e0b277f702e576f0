#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "cluster/controller.h"
#include "cluster/metadata_cache.h"
#include "cluster/metadata_store.h"
#include "cluster/partition.h"
#include "cluster/partition_manager.h"
#include "cluster/topic_table.h"
#include "config/broker_config_store.h"
#include "storage/log_manager.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace samsa::cluster {

/// The cluster side of one node, assembled: the metadata cache, the controller and the
/// partition manager, joined through the metadata store's events. The controller validates
/// and writes; every write the store reports goes to the cache first, then to the partition
/// manager, which opens or removes this node's replicas; a topic's replicas all gone, the
/// controller removes its metadata. In ZooKeeper mode the same events will come from watches,
/// and only the elected controller will write.
///
/// The data path reaches partitions through get(); the conveniences below forward to the
/// parts. Used on one shard.
class topic_manager {
public:
    topic_manager(storage::log_manager& logs, config::broker_config_store& broker, metadata_store& store,
                  node_id self);
    ~topic_manager();
    topic_manager(const topic_manager&) = delete;
    topic_manager& operator=(const topic_manager&) = delete;

    /// Loads topics from the store into the cache and opens this node's replicas; replicas a
    /// crash kept from being created are queued (see set_scheduler and reconcile), and
    /// deletions a crash interrupted are finished. Logs found on disk for topics the store does
    /// not know are left untouched (with a warning).
    result<void> start();
    /// Stops every replica: requests waiting on them end (shutdown).
    void stop() { _partitions.stop_all(); }

    metadata_cache& metadata() { return _cache; }
    const metadata_cache& metadata() const { return _cache; }
    cluster::controller& controller() { return _controller; }
    partition_manager& partitions() { return _partitions; }

    const topic_info* find(const std::string& name) const { return _cache.find(name); }
    const topic_info* find(const protocol::uuid& id) const { return _cache.find(id); }
    const std::map<std::string, topic_info>& topics() const { return _cache.topics(); }
    /// The replica of a partition this node hosts (leader or follower), once open.
    std::shared_ptr<partition> get(const topic_partition& tp) const { return _partitions.get(tp); }
    std::shared_ptr<partition> get(const std::string& topic, int32_t p) const
    {
        return get(topic_partition{topic, partition_id(p)});
    }
    std::shared_ptr<const config::topic_config> effective_config(const topic_info& t) const { return _configs.effective(t); }
    storage::log_config log_config_for(const topic_info& t) const { return _configs.log_config_for(t); }

    void set_scheduler(std::function<void()> schedule) { _partitions.set_scheduler(std::move(schedule)); }
    bool reconcile(size_t max_ops = partition_manager::step_ops) { return _partitions.reconcile(max_ops); }
    bool settled(const std::string& name) const { return _partitions.settled(name); }
    std::optional<std::string> take_creation_failure(const std::string& name)
    {
        return _partitions.take_creation_failure(name);
    }
    void set_file_budget(file_budget b) { _controller.set_file_budget(std::move(b)); }
    void broker_config_changed() { _partitions.broker_config_changed(); }
    std::vector<node_id> live_brokers() const { return _cache.live_brokers(); }
    node_id self() const { return _self; }
    config::broker_config_store& broker_config() { return _broker; }

private:
    void on_store_event(const metadata_event& e);

    storage::log_manager& _logs;
    config::broker_config_store& _broker;
    metadata_store& _store;
    node_id _self;
    metadata_cache _cache;
    topic_configs _configs;
    cluster::controller _controller;
    partition_manager _partitions;
    size_t _watch = 0;
};

} // namespace samsa::cluster
