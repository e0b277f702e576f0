#pragma once

#include "coordinator/group.h"

#include <optional>
#include <string>
#include <variant>

namespace samsa::coordinator {

/// The records of `__consumer_offsets`, in Kafka's formats (so tools that read the topic, such
/// as Burrow, understand it): key = int16 version + key struct, value = int16 version + value
/// struct, a null value being a tombstone.
///   key v0/v1: OffsetCommitKey (group, topic, partition) → value OffsetCommitValue (v3 written)
///   key v2:    GroupMetadataKey (group)                   → value GroupMetadataValue (v3 written)
struct offset_key {
    std::string group;
    topic_partition tp;
};
struct group_key {
    std::string group;
};
using offsets_key = std::variant<offset_key, group_key>;

/// The persisted part of a group: what GroupMetadataValue holds.
struct group_metadata {
    std::string protocol_type;
    int32_t generation = 0;
    std::optional<std::string> protocol_name;
    std::optional<std::string> leader;
    int64_t state_timestamp_ms = -1;
    struct member_entry {
        std::string member_id;
        std::optional<std::string> instance_id;
        std::string client_id;
        std::string client_host;
        int32_t rebalance_timeout_ms = -1;
        int32_t session_timeout_ms = 0;
        bytes subscription;
        bytes assignment;
    };
    std::vector<member_entry> members;
};

bytes encode_key(const offsets_key& k);
bytes encode_offset_value(const committed_offset& v);
bytes encode_group_value(const group_metadata& g);

/// Decoding throws protocol::decode_error on malformed bytes or unknown versions.
offsets_key decode_key(bytes_view b);
committed_offset decode_offset_value(bytes_view b);
group_metadata decode_group_value(bytes_view b);

/// Kafka's partition of `__consumer_offsets` for a group: abs(Java String.hashCode(group))
/// modulo the partition count (UTF-16 code units, 32-bit wrap-around, abs(MIN) = 0).
int32_t partition_for_group(std::string_view group_id, int32_t partitions);
int32_t java_string_hash(std::string_view utf8);

} // namespace samsa::coordinator
