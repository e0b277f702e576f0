#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <system_error>

namespace samsa::cluster {

/// Expected failures of the cluster layer (partitions, the controller, the metadata store).
/// They become Kafka error codes in one place, kafka/errors.cc.
enum class errc {
    not_leader = 1,                   // this node does not lead the partition (or no longer does)
    fenced_leader_epoch,              // the caller's leader epoch is older than the partition's
    unknown_leader_epoch,             // the caller's leader epoch is newer than the partition's
    timeout,                          // the operation did not complete in the time given
    not_enough_replicas,              // fewer in-sync replicas than min.insync.replicas, nothing appended
    not_enough_replicas_after_append, // appended, but the in-sync set shrank below min.insync.replicas
    offset_out_of_range,              // an offset outside [log start, high watermark]
    policy_violation,                 // e.g. deleting records of a compact-only topic
    shutting_down,                    // the partition or node is stopping
    // The control plane (controller, metadata store).
    topic_exists,               // a topic of that name exists, or is still being deleted
    unknown_topic,              // no such topic
    invalid_topic,              // an illegal or colliding topic name
    invalid_partitions,         // a partition count that cannot be (also: no descriptors left for them)
    invalid_replication_factor, // more replicas than live brokers, or not positive
    invalid_replica_assignment, // a manual assignment that names unknown brokers or repeats one
    invalid_config,             // a topic config override that does not validate
    invalid_request,            // contradictory arguments
    deletion_disabled,          // delete.topic.enable=false
    metadata_write_failed,      // the metadata store could not persist the change
    not_controller,             // this node is not the controller (cluster mode)
    stale_epoch,                // a controller or partition epoch older than the current one
};

/// A control-plane failure: the code, and a one-line message for the client (Kafka's
/// error_message fields).
struct error {
    std::error_code code;
    std::string message;
};

/// The outcome of a control-plane call.
template<typename T>
using op_result = boost::system::result<T, error>;

error make_error(errc e, std::string message = {});

const std::error_category& cluster_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), cluster_category()}; }

} // namespace samsa::cluster

template<>
struct std::is_error_code_enum<samsa::cluster::errc> : std::true_type {};
