#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "bytes/bytes.h"
#include "protocol/record_batch.h"
#include "protocol/records.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace samsa::protocol {

/// Legacy message sets (magic 0 and 1), spoken by Produce v0-v2 and Fetch v0-v3. All integers
/// big-endian.
///
///   message_set := (offset:int64 message_size:int32 message)*
///   message     := crc:uint32 magic:int8 attributes:int8 [timestamp:int64, magic 1 only]
///                  key_len:int32 key value_len:int32 value       (len -1: null)
///
/// crc is CRC-32 (IEEE) of magic .. end. attributes bits 0-2 are the codec (0 none, 1 gzip,
/// 2 snappy, 3 lz4), bit 3 the timestamp type (magic 1 only). A compressed message is a
/// wrapper whose value is the compressed bytes of an inner message set of uncompressed
/// messages with the wrapper's magic. Inner offsets are absolute for magic 0 and relative
/// (0..n-1) for magic 1, where the wrapper carries the absolute offset of the last inner
/// message. Magic-0 LZ4 frames carry Kafka's broken header checksum (KAFKA-1493).
namespace legacy_layout {
inline constexpr size_t offset = 0;
inline constexpr size_t message_size = 8;
inline constexpr size_t crc = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t attributes = 17;
inline constexpr size_t timestamp = 18;
inline constexpr size_t log_overhead = 12;
/// Smallest message_size: crc, magic, attributes, [timestamp], key and value lengths.
inline constexpr size_t min_message_size_v0 = 14;
inline constexpr size_t min_message_size_v1 = 22;
} // namespace legacy_layout

namespace legacy_attr {
inline constexpr uint8_t codec_mask = 0x07;
inline constexpr uint8_t timestamp_type = 0x08;
} // namespace legacy_attr

/// One message as it sits in a set (a wrapper or a plain message). Views into the input.
struct legacy_message {
    samsa::offset offset{0};
    int8_t magic = 1;
    uint8_t attributes = 0;
    /// no_timestamp for magic 0.
    timestamp_ms timestamp = no_timestamp;
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
    /// Bytes the message takes in its set, offset and size fields included.
    size_t size_bytes = 0;

    compression_type codec() const { return static_cast<compression_type>(attributes & legacy_attr::codec_mask); }
    timestamp_type ts_type() const
    {
        return (magic > 0 && (attributes & legacy_attr::timestamp_type)) ? timestamp_type::log_append_time
                                                                         : timestamp_type::create_time;
    }
};

/// Decodes the message at the start of `in`: the size covers at least the fixed fields and
/// fits the input, the magic is 0 or 1, the CRC matches, the codec is one legacy formats know,
/// the magic-1 timestamp is >= -1, key and value lengths are >= -1 and fill the message
/// exactly. Errors: truncated (input ends inside the message), invalid_length,
/// unsupported_magic, crc_mismatch, unsupported_compression, invalid_timestamp,
/// invalid_record.
result<legacy_message> decode_legacy_message(bytes_view in);

/// Appends `m` (offset, message_size, crc, magic, attributes, [timestamp], key, value) to
/// `out`; message_size and crc are computed, m.size_bytes is ignored.
void append_legacy_message(bytes& out, const legacy_message& m);

/// One message after descending into compressed wrappers, with its absolute offset.
struct legacy_record {
    samsa::offset offset{0};
    int8_t magic = 1;
    timestamp_ms timestamp = no_timestamp;
    timestamp_type ts_type = timestamp_type::create_time;
    std::optional<bytes> key;
    std::optional<bytes> value;
    bool operator==(const legacy_record&) const = default;
};

struct legacy_message_set {
    std::vector<legacy_record> records;
    /// The codec of the compressed wrappers (the last one's, if they differ), else none.
    compression_type codec = compression_type::none;
    /// Bytes of the input that held whole messages.
    size_t valid_bytes = 0;
};

/// What to do with a message cut short at the end of a set: fetch responses may end that way
/// (clients ignore the partial tail), produce requests may not.
enum class partial_tail { reject, ignore };

/// Decodes a whole message set, decompressing wrappers (one level only: an inner message that
/// is itself compressed, or whose magic differs from its wrapper's, is invalid_record; a
/// wrapper with a null value or no inner message is invalid_record / invalid_record_count).
/// limits.max_batch_bytes bounds each outer message, limits.max_uncompressed_bytes what all the
/// wrappers decompress to together (decompressed_too_large as soon as the total passes it).
result<legacy_message_set> read_message_set(bytes_view set, partial_tail tail, const record_limits& limits = {});

/// A produce payload of magic 0/1 turned into one RecordBatch v2.
struct converted_batch {
    bytes batch;
    int32_t record_count = 0;
};

/// Validates a produce message set (strictly: a partial tail is an error, and so is an empty
/// set) and converts it into ONE v2 batch with relative offsets 0..n-1, the records' keys and
/// values, their timestamps (magic 1; -1 for magic 0), create-time timestamps and the
/// wrappers' codec.
result<converted_batch> convert_to_v2(bytes_view message_set, const record_limits& limits = {});

/// Converts stored v2 batches laid end to end (a trailing partial batch is ignored) into a
/// message set of magic `to_magic` (0 or 1) for old fetchers: absolute offsets, keys, values,
/// timestamps (magic 1) and codecs are kept; compressed batches become one wrapper each
/// (magic 1: relative inner offsets, wrapper offset = last inner offset); control batches and
/// headers are dropped. Magic-0 LZ4 wrappers carry Kafka's legacy header checksum, which old
/// Java consumers verify and kafka-python and librdkafka rewrite before decoding. zstd has no
/// legacy codec number: such a batch fails with unsupported_compression.
result<bytes> down_convert(bytes_view v2_batches, int8_t to_magic, const record_limits& limits = {});

} // namespace samsa::protocol
