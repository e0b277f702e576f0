#pragma once

#include "config/alter_ops.h"
#include "config/broker_config.h"
#include "config/broker_config_store.h"
#include "config/config_entry.h"
#include "config/properties.h"

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::config {

/// A topic's effective configuration: its overrides over the broker's values. Durations in
/// ms, sizes in bytes; -1 means unlimited for retention_ms and retention_bytes.
/// leader./follower.replication.throttled.replicas: "*" or partition:broker pairs.
struct throttled_replicas {
    bool all = false;
    std::set<std::pair<int32_t, int32_t>> replicas;
    bool contains(int32_t partition, int32_t broker) const { return all || replicas.count({partition, broker}) > 0; }
    bool operator==(const throttled_replicas&) const = default;
};
throttled_replicas parse_throttled_replicas(const std::vector<std::string>& items);

struct topic_config {
    cleanup_policy cleanup;
    broker_compression compression_type = broker_compression::producer;
    int64_t delete_retention_ms = 0;
    int64_t file_delete_delay_ms = 0;
    int64_t flush_messages = 0;
    int64_t flush_ms = 0;
    int64_t index_interval_bytes = 0;
    int64_t max_compaction_lag_ms = 0;
    int64_t max_message_bytes = 0;
    bool message_downconversion_enable = true;
    int64_t message_timestamp_difference_max_ms = 0;
    message_timestamp_type message_timestamp = message_timestamp_type::create_time;
    double min_cleanable_dirty_ratio = 0;
    int64_t min_compaction_lag_ms = 0;
    int32_t min_insync_replicas = 0;
    bool preallocate = false;
    int64_t retention_bytes = 0;
    int64_t retention_ms = 0;
    int64_t segment_bytes = 0;
    int64_t segment_index_bytes = 0;
    int64_t segment_jitter_ms = 0;
    int64_t segment_ms = 0;
    bool unclean_leader_election_enable = false;
    throttled_replicas leader_throttled_replicas;
    throttled_replicas follower_throttled_replicas;
};

/// Kafka's topic-level configs, each with `broker_synonym` naming the broker config it falls
/// back to (retention.ms → log.retention.ms, max.message.bytes → message.max.bytes, …).
const config_def& topic_config_definitions();

/// CreateTopics / AlterConfigs validation of a topic's complete override map. Failures:
/// errc::unknown_config ("Unknown topic config name: x"), errc::invalid_value (one value),
/// errc::conflicting_values (min.compaction.lag.ms above max.compaction.lag.ms).
config_result<void> validate_topic_overrides(const property_map& overrides);

/// Effective values: each override (which must have passed validate_topic_overrides;
/// asserted) over the broker's current value.
topic_config resolve_topic_config(const property_map& overrides, const broker_config& broker);

/// DescribeConfigs on a topic resource: the named configs in request order (unknown names
/// skipped) or all of them in name order. `value` is the effective value; source is
/// DYNAMIC_TOPIC_CONFIG for an override, otherwise the source of the broker value it falls
/// back to; synonyms list the override first, then broker_config_store::synonyms() of the
/// broker synonym. read_only is always false.
std::vector<config_entry> describe_topic_config(const property_map& overrides, const broker_config_store& broker,
                                                const std::vector<std::string>& names, describe_options opts);

/// IncrementalAlterConfigs on a topic: `current` overrides after `ops` (APPEND/SUBTRACT start
/// from the broker value when the topic has no override), validated as a whole. Failures:
/// those of apply_alter_ops and validate_topic_overrides.
config_result<property_map> alter_topic_overrides(const property_map& current, std::span<const alter_op> ops,
                                                  const broker_config& broker);

/// Persisted form of a topic's overrides: .properties text, one key per line, key order.
std::string serialize_topic_overrides(const property_map& overrides);
/// Reads serialize_topic_overrides() text back. Fails with errc::malformed_text on a syntax
/// error; does not validate (call validate_topic_overrides for that).
config_result<property_map> parse_topic_overrides(std::string_view text);

} // namespace samsa::config
