#pragma once

#include "kafka/broker_context.h"
#include "kafka/errors.h"
#include "protocol/error_code.h"

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::kafka {

/// NONE when the topic exists, INVALID_TOPIC_EXCEPTION for an illegal name, else
/// UNKNOWN_TOPIC_OR_PARTITION. Never creates anything (Produce, Fetch, ...).
protocol::error_code topic_error(const broker_context& b, const std::string& name);

/// The topic exists, or auto.create.topics.enable (and `allowed`, e.g. Metadata's
/// allow_auto_topic_creation) lets the controller create it with num.partitions and
/// default.replication.factor. Returns NONE, UNKNOWN_TOPIC_OR_PARTITION,
/// INVALID_TOPIC_EXCEPTION, or what creation failed with.
boost::asio::awaitable<protocol::error_code> ensure_topic(broker_context& b, std::string name, bool allowed);

/// Waits until the queued log work of every named topic is done (see
/// cluster::topic_manager::settled), or `timeout_ms` passes. Returns whether all settled.
/// Other requests are served meanwhile.
boost::asio::awaitable<bool> wait_settled(broker_context& b, std::vector<std::string> names, int64_t timeout_ms);

/// For CreateTopics and CreatePartitions: each entry of `results` that succeeded, and whose
/// topic's queued log work is done but failed, becomes KAFKA_STORAGE_ERROR "<what>: <why>".
template<typename Results>
void report_creation_failures(broker_context& b, Results& results, std::string_view what)
{
    for (auto& r : results) {
        if (r.error_code != 0 || !b.topics.settled(r.name)) continue;
        if (auto why = b.topics.take_creation_failure(r.name)) {
            r.error_code = code(protocol::error_code::kafka_storage_error);
            r.error_message = std::string(what) + ": " + *why;
        }
    }
}

/// The error for a partition this broker has no replica of: NOT_LEADER_OR_FOLLOWER when the
/// topic has the partition (its log is not open yet, or it lives elsewhere), else
/// UNKNOWN_TOPIC_OR_PARTITION.
protocol::error_code no_replica_error(const broker_context& b, const std::string& topic, int32_t partition);

/// Bit set of the ACL operations a client may perform, for Metadata/DescribeCluster
/// authorized-operations fields. No ACLs exist yet, so every operation on the resource type.
int32_t all_topic_operations();
int32_t all_cluster_operations();

/// The replication factor of an internal topic: the configured one (at least 1), at most the
/// live brokers (Kafka creates the topic on a smaller cluster with what there is).
int16_t internal_replication_factor(const broker_context& b, int32_t configured);
/// Creates an internal topic (`__consumer_offsets`, `__transaction_state`) through the controller
/// unless it exists; true once it does, false (after logging) when creation failed.
boost::asio::awaitable<bool> ensure_internal_topic(broker_context& b, cluster::create_topic_request req);

/// Replays an internal topic's partition: `on_batch(header, batch)` for every batch from the
/// log start to the high watermark, in log order (startup loading of the coordinators). Stops
/// early at an unreadable batch.
void for_each_batch(cluster::partition& part,
                    const std::function<void(const protocol::batch_header&, bytes_view)>& on_batch);

} // namespace samsa::kafka
