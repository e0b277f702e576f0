#pragma once

#include "base/ids.h"
#include "config/properties.h"
#include "protocol/wire.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace samsa::cluster {

/// Who leads one partition and which of its replicas are in sync, as the controller decided.
struct partition_state {
    node_id leader{-1};
    leader_epoch epoch{0};
    std::vector<node_id> isr;
    /// Bumped on every change of this state (the state znode's version in ZooKeeper mode).
    int32_t partition_epoch = 0;
    bool operator==(const partition_state&) const = default;
};

/// Where one partition's replicas live (the controller's plan; changes only by reassignment).
/// The first replica is the preferred leader.
struct replica_assignment {
    partition_id id{0};
    std::vector<node_id> replicas;
    bool operator==(const replica_assignment&) const = default;
};

/// What the cluster knows of one topic: its identity, its replica assignment and its config
/// overrides. Who leads each partition is its partition_state, kept beside it.
struct topic_info {
    std::string name;
    protocol::uuid id;
    int16_t replication_factor = 1;
    bool internal = false;
    std::vector<replica_assignment> partitions;
    /// Topic-level config overrides (validated), e.g. {"retention.ms": "60000"}.
    config::property_map overrides;
    /// Deletion has begun: the topic is gone for clients, its logs are being removed, and a
    /// broker restarting finds the flag and finishes the job.
    bool deleting = false;
    bool operator==(const topic_info&) const = default;
};

/// A topic as the metadata store keeps it: the topic and, for each of its partitions (same
/// order), the partition's state. (ZooKeeper keeps them in separate znodes; the embedded
/// node's file holds both.)
struct topic_record {
    topic_info topic;
    std::vector<partition_state> states;
    bool operator==(const topic_record&) const = default;
};

/// Kafka's topic name rules: 1 to 249 characters of [a-zA-Z0-9._-], not "." or "..".
/// Returns an error message, or nullopt when the name is legal.
std::optional<std::string> validate_topic_name(std::string_view name);
/// Whether two names collide in metric names ('.' and '_' are the same there), as Kafka warns.
bool topic_names_collide(std::string_view a, std::string_view b);

/// A fresh random topic id (never the zero UUID).
protocol::uuid random_uuid();
/// Kafka's cluster id format: a random UUID as 22 characters of URL-safe base64.
std::string random_cluster_id();
/// Parses Kafka's UUID text form (uuid::to_string(): 22 characters of URL-safe base64).
std::optional<protocol::uuid> uuid_from_base64(std::string_view s);

} // namespace samsa::cluster
