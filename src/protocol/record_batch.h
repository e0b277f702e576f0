#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "bytes/bytes.h"

#include <cstdint>
#include <optional>
#include <system_error>

namespace samsa::protocol {

/// RecordBatch v2 (magic 2), as Kafka stores and sends it. All integers big-endian.
///
///   offset  size  field
///        0     8  base_offset             (not covered by the CRC; assigned by the leader)
///        8     4  batch_length            (bytes after this field)
///       12     4  partition_leader_epoch  (not covered by the CRC; assigned by the leader)
///       16     1  magic = 2
///       17     4  crc                     (CRC-32C of bytes 21 .. end)
///       21     2  attributes              (bits 0-2 codec, 3 timestamp type, 4 transactional,
///                                          5 control, 6 delete horizon)
///       23     4  last_offset_delta
///       27     8  base_timestamp
///       35     8  max_timestamp
///       43     8  producer_id
///       51     2  producer_epoch
///       53     4  base_sequence
///       57     4  record_count
///       61     …  records (compressed as a whole when codec != none)
namespace batch_layout {
inline constexpr size_t base_offset = 0;
inline constexpr size_t batch_length = 8;
inline constexpr size_t partition_leader_epoch = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t crc = 17;
inline constexpr size_t attributes = 21;
inline constexpr size_t last_offset_delta = 23;
inline constexpr size_t base_timestamp = 27;
inline constexpr size_t max_timestamp = 35;
inline constexpr size_t producer_id = 43;
inline constexpr size_t producer_epoch = 51;
inline constexpr size_t base_sequence = 53;
inline constexpr size_t record_count = 57;
inline constexpr size_t header_size = 61;
/// base_offset + batch_length: the bytes before the length-counted part.
inline constexpr size_t log_overhead = 12;
} // namespace batch_layout

enum class compression_type : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };
const char* to_string(compression_type c);

enum class timestamp_type : uint8_t { create_time = 0, log_append_time = 1 };

namespace batch_attr {
inline constexpr uint16_t compression_mask = 0x07;
inline constexpr uint16_t timestamp_type = 0x08;
inline constexpr uint16_t transactional = 0x10;
inline constexpr uint16_t control = 0x20;
inline constexpr uint16_t delete_horizon = 0x40;
} // namespace batch_attr

/// The decoded fixed header of one batch.
struct batch_header {
    offset base_offset{0};
    int32_t batch_length = 0;
    leader_epoch partition_leader_epoch{-1};
    int8_t magic = 2;
    uint32_t crc = 0;
    uint16_t attributes = 0;
    int32_t last_offset_delta = 0;
    timestamp_ms base_timestamp{0};
    timestamp_ms max_timestamp{0};
    producer_id pid{-1};
    producer_epoch epoch{-1};
    int32_t base_sequence = -1;
    int32_t record_count = 0;

    /// Total bytes of the batch on the wire / on disk.
    size_t size_bytes() const { return batch_layout::log_overhead + static_cast<size_t>(batch_length); }
    offset last_offset() const { return base_offset + last_offset_delta; }
    offset next_offset() const { return last_offset() + 1; }
    compression_type compression() const { return static_cast<compression_type>(attributes & batch_attr::compression_mask); }
    timestamp_type ts_type() const
    {
        return (attributes & batch_attr::timestamp_type) ? timestamp_type::log_append_time : timestamp_type::create_time;
    }
    bool is_transactional() const { return attributes & batch_attr::transactional; }
    bool is_control() const { return attributes & batch_attr::control; }
    bool has_delete_horizon() const { return attributes & batch_attr::delete_horizon; }
    auto operator<=>(const batch_header&) const = default;
};

/// Why a batch is not valid.
enum class batch_errc {
    truncated = 1,        // fewer bytes than the header or the declared length
    invalid_length,       // batch_length below the minimum or beyond the allowed maximum
    unsupported_magic,    // magic is not 2
    crc_mismatch,         // stored CRC differs from the computed one
    invalid_record_count, // negative count, or count/offset deltas inconsistent
    invalid_record,       // a record inside does not parse
    unsupported_compression,
    decompression_failed,
    decompressed_too_large,
    invalid_offsets,      // offset deltas out of order
    invalid_timestamp,
};
const std::error_category& batch_category();
inline std::error_code make_error_code(batch_errc e) { return {static_cast<int>(e), batch_category()}; }

/// Reads the fixed header; checks only that enough bytes exist for it (no length, magic or
/// CRC checks). `data` starts at the batch's first byte.
result<batch_header> read_header(bytes_view data);

/// Reads the header and checks only that the batch is framed: its declared length covers at
/// least the header and the whole batch is present (no magic, CRC or record checks; for
/// batches whose CRC was verified already).
result<batch_header> read_framed_header(bytes_view data);

/// Reads the header and checks the framing of the batch that starts at `data`: the length is
/// at least the header, the whole batch is present, the magic is 2, the record count is
/// non-negative and the CRC matches. Does not look inside the records. `max_batch_bytes`
/// bounds the declared length (0: no bound beyond the input).
result<batch_header> validate_batch(bytes_view data, size_t max_batch_bytes = 0);

/// Computes the CRC the batch starting at `data` should carry (bytes 21 .. end).
uint32_t compute_crc(bytes_view batch);

/// In-place edits of a batch that the leader makes on append. Base offset and leader epoch are
/// outside the CRC; changing the timestamp type or max timestamp recomputes it.
void set_base_offset(mutable_bytes_view batch, offset o);
void set_partition_leader_epoch(mutable_bytes_view batch, leader_epoch e);
void set_log_append_time(mutable_bytes_view batch, timestamp_ms now);
/// Overwrites the max_timestamp field (e.g. with the value validate_records computed, when a
/// producer's header disagrees with its records) and recomputes the CRC.
void set_max_timestamp(mutable_bytes_view batch, timestamp_ms max_timestamp);

/// Iterates the batches laid end to end in `data` (a produce payload or a slice of a segment),
/// validating each with validate_batch. Stops at the end or at the first invalid byte; `error()`
/// then says why and `position()` is the offset of the bad batch.
class batch_iterator {
public:
    explicit batch_iterator(bytes_view data, size_t max_batch_bytes = 0)
      : _data(data), _max(max_batch_bytes)
    {}
    /// The next valid batch, or nullopt at the end or on error.
    std::optional<batch_header> next();
    size_t position() const { return _pos; }
    std::error_code error() const { return _err; }
    /// The bytes of the batch most recently returned by next().
    bytes_view current() const { return _current; }

private:
    bytes_view _data;
    size_t _max;
    size_t _pos = 0;
    bytes_view _current;
    std::error_code _err;
};

} // namespace samsa::protocol

template<>
struct std::is_error_code_enum<samsa::protocol::batch_errc> : std::true_type {};
