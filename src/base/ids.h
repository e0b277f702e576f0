#pragma once

#include "base/named_type.h"

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace samsa {

/// Strong ids shared across module APIs. Kafka's wire types in parentheses.
using offset = named_type<int64_t, struct offset_tag>;                // int64
using partition_id = named_type<int32_t, struct partition_id_tag>;    // int32
using node_id = named_type<int32_t, struct node_id_tag>;              // int32
using leader_epoch = named_type<int32_t, struct leader_epoch_tag>;    // int32
using producer_id = named_type<int64_t, struct producer_id_tag>;      // int64
using producer_epoch = named_type<int16_t, struct producer_epoch_tag>; // int16
/// Milliseconds since the Unix epoch, as Kafka's record timestamps.
using timestamp_ms = named_type<int64_t, struct timestamp_ms_tag>;

/// Kafka's "no value" sentinels.
inline constexpr offset no_offset{-1};
inline constexpr leader_epoch no_leader_epoch{-1};
inline constexpr timestamp_ms no_timestamp{-1};

/// A topic name and a partition index: the identity of one log.
struct topic_partition {
    std::string topic;
    partition_id partition{0};

    auto operator<=>(const topic_partition&) const = default;
    /// Kafka's directory name for this partition: `<topic>-<partition>`.
    std::string dir_name() const { return fmt::format("{}-{}", topic, partition()); }
};

} // namespace samsa

template<>
struct std::hash<samsa::topic_partition> {
    size_t operator()(const samsa::topic_partition& tp) const noexcept
    {
        return std::hash<std::string>{}(tp.topic) * 31 + static_cast<size_t>(tp.partition());
    }
};

template<>
struct fmt::formatter<samsa::topic_partition> : fmt::formatter<std::string_view> {
    auto format(const samsa::topic_partition& tp, format_context& ctx) const
    {
        return fmt::format_to(ctx.out(), "{}-{}", tp.topic, tp.partition());
    }
};
