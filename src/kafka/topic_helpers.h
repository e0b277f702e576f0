#pragma once

#include "kafka/broker_context.h"
#include "protocol/error_code.h"

#include <string>

namespace samsa::kafka {

/// The topic exists, or auto.create.topics.enable (and `allowed`, e.g. Metadata's
/// allow_auto_topic_creation) lets us create it with num.partitions and
/// default.replication.factor. Returns NONE, UNKNOWN_TOPIC_OR_PARTITION,
/// INVALID_TOPIC_EXCEPTION, or what creation failed with.
protocol::error_code ensure_topic(broker_context& b, const std::string& name, bool allowed);

/// Bit set of the ACL operations a client may perform, for Metadata/DescribeCluster
/// authorized-operations fields. No ACLs exist yet, so every operation on the resource type.
int32_t all_topic_operations();
int32_t all_cluster_operations();

} // namespace samsa::kafka
