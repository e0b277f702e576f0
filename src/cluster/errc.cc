#include "cluster/errc.h"

#include <string>

namespace samsa::cluster {
namespace {

class cluster_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "cluster"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::not_leader: return "This server is not the leader for that topic-partition.";
        case errc::fenced_leader_epoch: return "The leader epoch in the request is older than the broker's.";
        case errc::unknown_leader_epoch: return "The leader epoch in the request is newer than the broker's.";
        case errc::timeout: return "The operation timed out.";
        case errc::not_enough_replicas: return "Messages are rejected since there are fewer in-sync replicas than required.";
        case errc::not_enough_replicas_after_append:
            return "Messages are written to the log, but to fewer in-sync replicas than required.";
        case errc::offset_out_of_range: return "The requested offset is not within the range of offsets maintained by the server.";
        case errc::policy_violation: return "The request parameters do not satisfy the configured policy.";
        case errc::shutting_down: return "The partition is shutting down.";
        case errc::topic_exists: return "Topic already exists.";
        case errc::unknown_topic: return "This server does not host this topic-partition.";
        case errc::invalid_topic: return "The topic name is not valid.";
        case errc::invalid_partitions: return "Number of partitions is below 1 or cannot be created.";
        case errc::invalid_replication_factor: return "Replication factor is below 1 or larger than the number of available brokers.";
        case errc::invalid_replica_assignment: return "Replica assignment is invalid.";
        case errc::invalid_config: return "Configuration is invalid.";
        case errc::invalid_request: return "The request is invalid.";
        case errc::deletion_disabled: return "Topic deletion is disabled.";
        case errc::metadata_write_failed: return "The cluster metadata could not be written.";
        case errc::not_controller: return "This is not the correct controller for this cluster.";
        case errc::stale_epoch: return "The epoch is older than the current one.";
        }
        return "unknown cluster error";
    }
};

} // namespace

error make_error(errc e, std::string message)
{
    auto ec = make_error_code(e);
    return {ec, message.empty() ? ec.message() : std::move(message)};
}

const std::error_category& cluster_category()
{
    static cluster_category_impl c;
    return c;
}

} // namespace samsa::cluster
