#pragma once

#include "config/errors.h"
#include "config/listener.h"
#include "config/properties.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::config {

/// `log.message.timestamp.type` / `message.timestamp.type`.
enum class message_timestamp_type : int8_t { create_time, log_append_time };

/// `compression.type` at the broker and topic level: `producer` keeps the producer's codec.
enum class broker_compression : int8_t { producer, uncompressed, gzip, snappy, lz4, zstd };

/// `log.cleanup.policy` / `cleanup.policy`: any combination of delete and compact.
struct cleanup_policy {
    bool delete_enabled = true;
    bool compact_enabled = false;

    bool operator==(const cleanup_policy&) const = default;
};

message_timestamp_type parse_timestamp_type(std::string_view s); // value already validated
broker_compression parse_compression(std::string_view s);        // value already validated
cleanup_policy parse_cleanup_policy(const std::vector<std::string>& items);

/// The effective broker configuration, typed. Durations are in ms and sizes in bytes, both
/// int64, whatever unit the Kafka key uses (log.retention.hours → log_retention_ms). Derived
/// values are resolved: node_id from node.id/broker.id, log_dirs from log.dirs/log.dir,
/// log_roll_ms from ms/hours, log_retention_ms from ms/minutes/hours (negative → -1),
/// log_flush_interval_ms falling back to the scheduler interval, advertised listeners
/// falling back to listeners. A plain value: copy it freely.
struct broker_config {
    // Identity and cluster mode.
    int32_t node_id = 0;
    std::vector<std::string> process_roles;
    std::optional<std::string> zookeeper_connect; // nullopt: embedded single-node metadata
    int64_t zookeeper_session_timeout_ms = 0;
    int64_t zookeeper_connection_timeout_ms = 0;
    /// broker.id / node.id as configured (-1: unset; node_id is then 0, or in ZooKeeper mode a
    /// stored or generated id).
    int32_t configured_node_id = -1;
    bool broker_id_generation_enable = true;
    int32_t reserved_broker_max_id = 0;
    std::optional<std::string> broker_rack;

    // Listeners and request handling.
    std::vector<listener> listeners;
    std::vector<listener> advertised_listeners;
    security_protocol_map listener_security_protocol_map;
    std::vector<std::string> controller_listener_names;
    std::optional<std::string> inter_broker_listener_name;
    std::optional<std::string> control_plane_listener_name;
    int32_t num_network_threads = 0;
    int32_t num_io_threads = 0;
    int32_t background_threads = 0;
    int32_t queued_max_requests = 0;
    int64_t queued_max_request_bytes = 0;
    int32_t socket_send_buffer_bytes = 0;    // -1: OS default
    int32_t socket_receive_buffer_bytes = 0; // -1: OS default
    int64_t socket_request_max_bytes = 0;
    int32_t socket_listen_backlog_size = 0;
    int64_t connections_max_idle_ms = 0;
    int32_t max_connections = 0;
    int32_t max_connections_per_ip = 0;

    // Topics and logs (topic configs fall back to these).
    std::vector<std::string> log_dirs;
    int32_t num_partitions = 0;
    int16_t default_replication_factor = 0;
    bool auto_create_topics_enable = false;
    bool delete_topic_enable = false;
    int64_t message_max_bytes = 0;
    int64_t log_segment_bytes = 0;
    int64_t log_roll_ms = 0;
    int64_t log_roll_jitter_ms = 0;
    int64_t log_retention_ms = 0;    // -1: unlimited
    int64_t log_retention_bytes = 0; // -1: unlimited
    int64_t log_retention_check_interval_ms = 0;
    cleanup_policy log_cleanup_policy;
    bool log_cleaner_enable = false;
    int32_t log_cleaner_threads = 0;
    double log_cleaner_io_max_bytes_per_second = 0;
    int64_t log_cleaner_dedupe_buffer_size = 0;
    int64_t log_cleaner_io_buffer_size = 0;
    double log_cleaner_io_buffer_load_factor = 0;
    int64_t log_cleaner_backoff_ms = 0;
    double log_cleaner_min_cleanable_ratio = 0;
    int64_t log_cleaner_delete_retention_ms = 0;
    int64_t log_cleaner_min_compaction_lag_ms = 0;
    int64_t log_cleaner_max_compaction_lag_ms = 0;
    int64_t log_index_size_max_bytes = 0;
    int64_t log_index_interval_bytes = 0;
    int64_t log_flush_interval_messages = 0;
    int64_t log_flush_interval_ms = 0;
    int64_t log_flush_scheduler_interval_ms = 0;
    int64_t log_flush_offset_checkpoint_interval_ms = 0;
    int64_t log_flush_start_offset_checkpoint_interval_ms = 0;
    int64_t log_segment_delete_delay_ms = 0;
    bool log_preallocate = false;
    int32_t num_recovery_threads_per_data_dir = 0;
    int32_t min_insync_replicas = 0;
    message_timestamp_type log_message_timestamp_type = message_timestamp_type::create_time;
    int64_t log_message_timestamp_difference_max_ms = 0;
    bool log_message_downconversion_enable = false;
    broker_compression compression_type = broker_compression::producer;

    // Replication and leadership.
    bool unclean_leader_election_enable = false;
    bool auto_leader_rebalance_enable = false;
    int64_t leader_imbalance_check_interval_seconds = 0;
    int32_t leader_imbalance_per_broker_percentage = 0;
    bool controlled_shutdown_enable = false;
    int32_t controlled_shutdown_max_retries = 0;
    int64_t controlled_shutdown_retry_backoff_ms = 0;
    int64_t replica_lag_time_max_ms = 0;
    /// Replication throttles (bytes/s) of the throttled replicas; INT64_MAX: none.
    int64_t leader_replication_throttled_rate = INT64_MAX;
    int64_t follower_replication_throttled_rate = INT64_MAX;
    int32_t num_replica_fetchers = 0;
    int64_t replica_fetch_max_bytes = 0;
    int64_t replica_fetch_response_max_bytes = 0;
    int64_t replica_fetch_wait_max_ms = 0;
    int64_t replica_fetch_backoff_ms = 0;
    int32_t replica_fetch_min_bytes = 0;
    int64_t replica_high_watermark_checkpoint_interval_ms = 0;
    int64_t fetch_max_bytes = 0;
    int32_t max_incremental_fetch_session_cache_slots = 0;

    // Group coordinator and __consumer_offsets.
    int64_t group_min_session_timeout_ms = 0;
    int64_t group_max_session_timeout_ms = 0;
    int64_t group_initial_rebalance_delay_ms = 0;
    int32_t group_max_size = 0;
    int32_t offset_metadata_max_bytes = 0;
    int32_t offsets_topic_num_partitions = 0;
    int16_t offsets_topic_replication_factor = 0; // Kafka's default 3; the broker clamps it
    int64_t offsets_topic_segment_bytes = 0;
    int64_t offsets_load_buffer_size = 0;
    int64_t offsets_retention_ms = 0; // from offsets.retention.minutes
    int64_t offsets_retention_check_interval_ms = 0;
    int64_t offsets_commit_timeout_ms = 0;

    // Transactions and __transaction_state.
    int32_t transaction_state_log_num_partitions = 0;
    int16_t transaction_state_log_replication_factor = 0;
    int32_t transaction_state_log_min_isr = 0;
    int64_t transaction_state_log_segment_bytes = 0;
    int64_t transaction_state_log_load_buffer_size = 0;
    int64_t transactional_id_expiration_ms = 0;
    bool transaction_partition_verification_enable = true;
    int64_t transaction_max_timeout_ms = 0;
    int64_t transaction_abort_timed_out_transaction_cleanup_interval_ms = 0;
    int64_t transaction_remove_expired_transaction_cleanup_interval_ms = 0;
    int64_t producer_id_expiration_ms = 0;
    int64_t producer_id_expiration_check_interval_ms = 0;
};

/// Builds the typed config from raw values (keys Samsa does not know are ignored here; the
/// store warns about them). Checks every value against its definition, then the rules that
/// span keys. Failures: errc::invalid_value (one key's value), errc::conflicting_values
/// (node.id vs broker.id, advertised names not in listeners, …). Request and startup paths
/// both use it.
config_result<broker_config> build_broker_config(const property_map& raw);

/// Kafka's warning for a key that is not a known config.
std::string unknown_config_warning(std::string_view key);

} // namespace samsa::config
