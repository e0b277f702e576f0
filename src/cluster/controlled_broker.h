#pragma once

#include "base/ids.h"
#include "cluster/controller_state.h"
#include "cluster/errc.h"
#include "cluster/metadata_cache.h"
#include "cluster/metadata_store.h"
#include "storage/log_manager.h"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace samsa::cluster {

/// The broker side of the controller's requests in ZooKeeper mode: applies UpdateMetadata,
/// LeaderAndIsr and StopReplica to this broker's metadata store (an in-memory one in ZooKeeper
/// mode, so a restarted broker knows only what the controller tells it), whose events then
/// update the metadata cache and open or remove replicas as in the embedded node.
///
/// Fencing: the highest controller epoch seen is remembered; a request from an older epoch is
/// refused with errc::stale_epoch (Kafka's STALE_CONTROLLER_EPOCH) and changes nothing.
/// UpdateMetadata carries every partition of each topic it names; a topic whose partitions
/// all lead "-2" is being deleted. A new topic's config overrides are read from ZooKeeper
/// (/config/topics/<t>) through `read_topic_config`. Used on one shard.
class controlled_broker {
public:
    using config_reader = std::function<boost::asio::awaitable<std::optional<config::property_map>>(std::string topic)>;

    controlled_broker(node_id self, metadata_store& store, metadata_cache& cache, storage::log_manager& logs,
                      config_reader read_topic_config);

    int32_t controller_epoch() const { return _epoch; }
    /// errc::stale_epoch for an older epoch; else remembers it.
    op_result<void> check_epoch(int32_t epoch);

    boost::asio::awaitable<op_result<void>> update_metadata(int32_t controller_id, int32_t epoch,
                                                            std::vector<broker_info> brokers,
                                                            std::vector<partition_info> partitions);
    /// Per partition: nothing (applied), or unknown_topic while the topic's metadata has not
    /// arrived (it follows in UpdateMetadata; the replica opens then).
    op_result<std::vector<std::pair<topic_partition, std::error_code>>> leader_and_isr(int32_t epoch,
                                                                                      std::vector<partition_info> partitions);
    /// With `remove`, this broker's replicas of those partitions' topics are deleted (a topic
    /// unknown here has its logs, if any, removed from disk).
    op_result<std::vector<std::pair<topic_partition, std::error_code>>> stop_replica(int32_t epoch,
                                                                                    std::vector<topic_partition> partitions,
                                                                                    bool remove);

private:
    /// Saves `r` unless the store holds exactly that already.
    void save_if_changed(const topic_record& r);
    void mark_deleting(const std::string& name);

    node_id _self;
    metadata_store& _store;
    metadata_cache& _cache;
    storage::log_manager& _logs;
    config_reader _read_config;
    int32_t _epoch = 0;
};

} // namespace samsa::cluster
