#pragma once

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
};

const std::error_category& cluster_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), cluster_category()}; }

} // namespace samsa::cluster

template<>
struct std::is_error_code_enum<samsa::cluster::errc> : std::true_type {};
