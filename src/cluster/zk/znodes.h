#pragma once

#include "base/result.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace samsa::cluster::zk {

/// Kafka's ZooKeeper layout: the znode paths and the JSON each holds, so that tools written for
/// Kafka's ZooKeeper mode read and manage a Samsa cluster ([format](../../../docs/formats/zookeeper.md)).
/// Encoders write what Kafka 3.x writes; decoders take every version Kafka wrote and ignore
/// fields they do not know. A malformed znode is errc::malformed, never an exception.

enum class errc {
    malformed = 1,       // not JSON, or a required field missing or of the wrong type
    unknown_version,     // a version this layout does not define
};
const std::error_category& znode_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), znode_category()}; }

namespace paths {
inline constexpr std::string_view cluster_id = "/cluster/id";
inline constexpr std::string_view broker_ids = "/brokers/ids";
inline constexpr std::string_view broker_topics = "/brokers/topics";
inline constexpr std::string_view broker_seqid = "/brokers/seqid";
inline constexpr std::string_view controller = "/controller";
inline constexpr std::string_view controller_epoch = "/controller_epoch";
inline constexpr std::string_view config_topics = "/config/topics";
inline constexpr std::string_view config_brokers = "/config/brokers";
inline constexpr std::string_view config_changes = "/config/changes";
inline constexpr std::string_view delete_topics = "/admin/delete_topics";
inline constexpr std::string_view reassign_partitions = "/admin/reassign_partitions";
inline constexpr std::string_view isr_change_notification = "/isr_change_notification";
inline constexpr std::string_view log_dir_event_notification = "/log_dir_event_notification";
inline constexpr std::string_view latest_producer_id_block = "/latest_producer_id_block";

std::string broker(int32_t id);
std::string topic(std::string_view topic);
std::string partition_state(std::string_view topic, int32_t partition);
std::string topic_config(std::string_view topic);
/// "<default>" for the cluster-wide default.
std::string broker_config(std::string_view broker);
} // namespace paths

/// /cluster/id: {"version":"1","id":"..."}
std::string encode_cluster_id(std::string_view id);
result<std::string> decode_cluster_id(std::string_view json);

/// /brokers/ids/<id> (ephemeral), version 5.
struct broker_registration {
    struct endpoint {
        std::string listener;
        std::string security_protocol = "PLAINTEXT";
        std::string host;
        int32_t port = 0;
        bool operator==(const endpoint&) const = default;
    };
    int32_t id = -1; // from the path, not the JSON
    /// The broker epoch: the registration znode's czxid (from its stat, not the JSON), new each
    /// time the broker registers; -1 where unknown.
    int64_t epoch = -1;
    std::vector<endpoint> endpoints;
    std::optional<std::string> rack;
    int32_t jmx_port = -1;
    int64_t timestamp_ms = 0;
    /// Supported features (name → [min, max]), version 5.
    std::map<std::string, std::pair<int16_t, int16_t>> features;
    bool operator==(const broker_registration&) const = default;
};
std::string encode_broker(const broker_registration& b);
result<broker_registration> decode_broker(int32_t id, std::string_view json);

/// /brokers/topics/<topic>: the replica assignment, version 3 (with the topic id).
struct topic_assignment {
    std::map<int32_t, std::vector<int32_t>> partitions;
    /// Kafka's base64url topic id, unpadded (22 characters); empty before version 2.
    std::string topic_id;
    std::map<int32_t, std::vector<int32_t>> adding_replicas;
    std::map<int32_t, std::vector<int32_t>> removing_replicas;
    bool operator==(const topic_assignment&) const = default;
};
std::string encode_topic(const topic_assignment& t);
result<topic_assignment> decode_topic(std::string_view json);

/// /brokers/topics/<topic>/partitions/<p>/state, version 1 (version 2 adds leader_recovery_state).
struct partition_state_znode {
    int32_t leader = -1;
    int32_t leader_epoch = 0;
    std::vector<int32_t> isr;
    int32_t controller_epoch = 0;
    int8_t leader_recovery_state = 0;
    bool operator==(const partition_state_znode&) const = default;
};
std::string encode_partition_state(const partition_state_znode& s);
result<partition_state_znode> decode_partition_state(std::string_view json);

/// /controller (ephemeral): {"version":1,"brokerid":N,"timestamp":"ms"}
struct controller_znode {
    int32_t broker_id = -1;
    int64_t timestamp_ms = 0;
    bool operator==(const controller_znode&) const = default;
};
std::string encode_controller(const controller_znode& c);
result<controller_znode> decode_controller(std::string_view json);

/// /controller_epoch: the epoch as a decimal number.
std::string encode_controller_epoch(int32_t epoch);
result<int32_t> decode_controller_epoch(std::string_view data);

/// /config/topics/<t>, /config/brokers/<id|<default>>: {"version":1,"config":{k: v}}
std::string encode_config(const std::map<std::string, std::string>& config);
result<std::map<std::string, std::string>> decode_config(std::string_view json);

/// /config/changes/config_change_<seq> (sequential): {"version":2,"entity_path":"topics/t"}
std::string encode_config_change(std::string_view entity_path);
result<std::string> decode_config_change(std::string_view json);

/// /isr_change_notification/isr_change_<seq> (sequential).
struct topic_partition_ref {
    std::string topic;
    int32_t partition = 0;
    bool operator==(const topic_partition_ref&) const = default;
};
std::string encode_isr_change(const std::vector<topic_partition_ref>& partitions);
result<std::vector<topic_partition_ref>> decode_isr_change(std::string_view json);

/// /admin/reassign_partitions (the tools' way to start reassignments):
/// {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[2,3]}]}
struct reassignment_ref {
    std::string topic;
    int32_t partition = 0;
    std::vector<int32_t> replicas;
    bool operator==(const reassignment_ref&) const = default;
};
std::string encode_reassignment(const std::vector<reassignment_ref>& partitions);
result<std::vector<reassignment_ref>> decode_reassignment(std::string_view json);

/// /log_dir_event_notification/log_dir_event_<seq> (sequential): a broker's log directory failed.
/// {"version":1,"broker":N,"event":1}
std::string encode_log_dir_failure(int32_t broker);
/// The broker whose log directory failed.
result<int32_t> decode_log_dir_event(std::string_view json);

/// /latest_producer_id_block: {"version":1,"broker":N,"block_start":"S","block_end":"E"}
struct producer_id_block_znode {
    int32_t broker = -1;
    int64_t block_start = 0;
    int64_t block_end = -1; // inclusive
    bool operator==(const producer_id_block_znode&) const = default;
};
std::string encode_producer_id_block(const producer_id_block_znode& b);
result<producer_id_block_znode> decode_producer_id_block(std::string_view json);

} // namespace samsa::cluster::zk

template<>
struct std::is_error_code_enum<samsa::cluster::zk::errc> : std::true_type {};
