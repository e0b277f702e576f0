#pragma once

#include "protocol/record_batch.h"

#include <cstdint>
#include <limits>

namespace samsa::storage {

/// Per-log settings, Kafka's topic-level config names in comments (defaults are Kafka's).
struct log_config {
    uint64_t segment_bytes = 1ull << 30;                              // segment.bytes
    int64_t segment_ms = 7ll * 24 * 3600 * 1000;                      // segment.ms
    int64_t segment_jitter_ms = 0;                                    // segment.jitter.ms
    size_t index_interval_bytes = 4096;                               // index.interval.bytes
    size_t segment_index_bytes = 10 * 1024 * 1024;                    // segment.index.bytes
    int64_t retention_ms = 7ll * 24 * 3600 * 1000;                    // retention.ms (-1: forever)
    int64_t retention_bytes = -1;                                     // retention.bytes (-1: no limit)
    int64_t flush_messages = std::numeric_limits<int64_t>::max();     // flush.messages
    int64_t flush_ms = std::numeric_limits<int64_t>::max();           // flush.ms
    int64_t file_delete_delay_ms = 60000;                             // file.delete.delay.ms
    bool cleanup_delete = true;                                       // cleanup.policy has "delete"
    bool cleanup_compact = false;                                     // cleanup.policy has "compact"
    protocol::timestamp_type timestamp_type = protocol::timestamp_type::create_time; // message.timestamp.type
    uint32_t max_message_bytes = 1048588;                             // max.message.bytes
    double min_cleanable_dirty_ratio = 0.5;                           // min.cleanable.dirty.ratio
    int64_t min_compaction_lag_ms = 0;                                // min.compaction.lag.ms
    int64_t max_compaction_lag_ms = std::numeric_limits<int64_t>::max(); // max.compaction.lag.ms
    int64_t delete_retention_ms = 24ll * 3600 * 1000;                 // delete.retention.ms
};

} // namespace samsa::storage
