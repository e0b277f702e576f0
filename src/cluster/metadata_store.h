#pragma once

#include "base/result.h"
#include "cluster/topic_table.h"
#include "storage/file_ops.h"

#include <deque>
#include <functional>
#include <optional>
#include <map>
#include <string>

namespace samsa::cluster {

/// A change the metadata store made: a topic written (created, changed, marked for deletion)
/// or removed.
struct metadata_event {
    enum class kind { topic_saved, topic_removed } what;
    std::string name;
    /// topic_saved: the topic as now stored.
    std::optional<topic_record> record;
};

/// A range of producer ids reserved for one broker: [first, last].
struct producer_id_block {
    node_id broker{-1};
    int64_t first = 0;
    int64_t last = -1;
};

/// Where the cluster's metadata lives. Today: local files of the embedded single node (below);
/// with `zookeeper.connect`, ZooKeeper (the cluster milestone), whose watches become events
/// here. Every successful write is reported to every watcher, in the order of the writes,
/// before the outermost write returns (a write a watcher makes is reported once the current
/// event has reached all watchers); this is how the metadata cache and the partition manager
/// learn of changes, whoever made them.
/// Used on one shard.
class metadata_store {
public:
    virtual ~metadata_store() = default;
    virtual result<std::map<std::string, topic_record>> load_topics() = 0;
    /// Writes a topic and its partition states.
    virtual result<void> save_topic(const topic_record& t) = 0;
    virtual result<void> remove_topic(const std::string& name) = 0;
    /// Broker-level dynamic config overrides (AlterConfigs on the broker resource), by scope
    /// name ("" for cluster-wide defaults, the node id for this broker).
    virtual result<std::map<std::string, config::property_map>> load_broker_overrides() = 0;
    virtual result<void> save_broker_overrides(const std::string& scope, const config::property_map& m) = 0;
    /// Reserves the next `size` producer ids for `broker`, after every block reserved before
    /// (by any broker), durably: an id is never handed out twice, even across restarts. (In
    /// ZooKeeper: /latest_producer_id_block, updated with a version check.)
    virtual result<producer_id_block> allocate_producer_id_block(node_id broker, int64_t size) = 0;

    /// Registers a watcher of topic changes; returns an id for unwatch().
    size_t watch(std::function<void(const metadata_event&)> w)
    {
        _watchers.emplace(++_next_watcher, std::move(w));
        return _next_watcher;
    }
    void unwatch(size_t id) { _watchers.erase(id); }

protected:
    void notify(metadata_event e)
    {
        _events.push_back(std::move(e));
        if (_notifying) return; // a watcher wrote: reported after the current event
        _notifying = true;
        while (!_events.empty()) {
            auto next = std::move(_events.front());
            _events.pop_front();
            for (auto& [id, w] : _watchers) w(next);
        }
        _notifying = false;
    }

private:
    std::map<size_t, std::function<void(const metadata_event&)>> _watchers;
    size_t _next_watcher = 0;
    std::deque<metadata_event> _events;
    bool _notifying = false;
};

/// The embedded node's metadata: one properties file per topic under
/// `<dir>/topics/<topic>.properties` and one per broker config scope under
/// `<dir>/broker-configs/<scope or "default">.properties`, each written atomically.
/// See docs/formats/metadata.md.
class local_metadata_store final : public metadata_store {
public:
    local_metadata_store(storage::file_ops& fs, std::string dir);

    result<std::map<std::string, topic_record>> load_topics() override;
    result<void> save_topic(const topic_record& t) override;
    result<void> remove_topic(const std::string& name) override;
    result<std::map<std::string, config::property_map>> load_broker_overrides() override;
    result<void> save_broker_overrides(const std::string& scope, const config::property_map& m) override;
    result<producer_id_block> allocate_producer_id_block(node_id broker, int64_t size) override;

    /// Serialised form of one topic (exposed for tests and docs).
    static std::string encode_topic(const topic_record& t);
    static result<topic_record> decode_topic(std::string_view text);

private:
    storage::file_ops& _fs;
    std::string _dir;
};

} // namespace samsa::cluster
