#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "bytes/bytes.h"
#include "protocol/record_batch.h"

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace samsa::protocol {

/// The records inside one RecordBatch v2. After the 61-byte batch header (record_batch.h)
/// come `record_count` records, compressed as a whole when the batch's codec is not none:
///
///   record       := length:varint body            (length = bytes of body)
///   body         := attributes:int8 timestamp_delta:varlong offset_delta:varint
///                   key value header_count:varint header*
///   key, value   := len:varint byte{len}           (len -1: null; 0: empty)
///   header       := key_len:varint byte{key_len} value
///
/// varint/varlong are zig-zag encoded LEB128 (bytes/varint.h). A record's offset is the
/// batch's base_offset + offset_delta, its timestamp base_timestamp + timestamp_delta (or the
/// batch's max_timestamp when the batch uses log-append time).

/// Bounds applied when reading or validating batches.
struct record_limits {
    /// Largest batch accepted, in bytes as it arrived; 0: no bound beyond the input.
    size_t max_batch_bytes = 0;
    /// Largest records section after decompression (compressed batches only).
    size_t max_uncompressed_bytes = size_t{64} << 20;
};

/// One record header. Views into the batch or the reader's decompressed buffer.
struct record_header_view {
    std::string_view key;
    std::optional<bytes_view> value;
};

/// One decoded record. Its views point into the batch or into the record_reader's
/// decompressed buffer: keep that owner alive while the record is in use.
struct record {
    int8_t attributes = 0;
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    /// base_offset + offset_delta.
    samsa::offset offset{0};
    /// base_timestamp + timestamp_delta; the batch's max_timestamp under log-append time.
    timestamp_ms timestamp{0};
    std::optional<bytes_view> key;   // nullopt: null key (distinct from an empty one)
    std::optional<bytes_view> value; // nullopt: null value, a tombstone
    std::vector<record_header_view> headers;
    /// Encoded size, length prefix included.
    size_t size_bytes = 0;
};

/// Decodes the record at the start of `in` (a records section) for a batch with header `h`.
/// Every length is checked against the record's declared length and the input; any
/// malformation gives batch_errc::invalid_record (invalid_offsets / invalid_timestamp when the
/// absolute offset or timestamp overflows).
result<record> decode_record(bytes_view in, const batch_header& h);

/// Reads the records of one whole v2 batch: validates the framing (validate_batch),
/// decompresses the records into an owned buffer when the batch is compressed, then yields
/// exactly `record_count` records. Moving the reader keeps the yielded views valid; destroying
/// it ends them. Not thread-safe; cheap to create per batch.
class record_reader {
public:
    static result<record_reader> open(bytes_view batch, const record_limits& limits = {});

    const batch_header& header() const { return _header; }
    /// The (decompressed) records section.
    bytes_view records_bytes() const { return _data; }
    /// The next record, or nullopt at the end or on error; error() then tells which. Fewer
    /// records than record_count is invalid_record_count; bytes left after the last record
    /// are invalid_record.
    std::optional<record> next();
    std::error_code error() const { return _err; }
    int32_t records_read() const { return _read; }

private:
    record_reader(batch_header h, bytes_view data, bytes owned);

    batch_header _header;
    bytes _owned;
    bytes_view _data;
    size_t _pos = 0;
    int32_t _read = 0;
    std::error_code _err;
};

/// What validate_records learned about a batch.
struct records_summary {
    batch_header header;
    int32_t record_count = 0;
    /// The largest record timestamp and the offset of the first record carrying it.
    timestamp_ms max_timestamp = no_timestamp;
    samsa::offset offset_of_max_timestamp = no_offset;
    /// Some record has a null key (compacted topics reject such batches).
    bool has_null_key = false;
    /// Size of the records section after decompression.
    size_t uncompressed_bytes = 0;
};

/// Full validation of a batch a producer sent, as a broker does for magic 2: the framing
/// (validate_batch), record_count >= 1 and equal to the number of records, offset deltas
/// exactly 0, 1, 2, …, last_offset_delta == record_count - 1, every record well formed and of
/// its declared length, no bytes after the last record, decompressed size within the limit.
result<records_summary> validate_records(bytes_view batch, const record_limits& limits = {});

/// A record's position in time and in the log.
struct timestamp_offset {
    timestamp_ms timestamp;
    samsa::offset offset;
    auto operator<=>(const timestamp_offset&) const = default;
};

/// The first record of `batch` whose timestamp is >= `target` (ListOffsets by timestamp), or
/// nullopt when there is none. Batches whose header max_timestamp is below the target are
/// answered from the header alone, without CRC check or decompression.
result<std::optional<timestamp_offset>> find_first_at_or_after(bytes_view batch, timestamp_ms target,
                                                               const record_limits& limits = {});

/// The first record of `batch` carrying the batch's largest timestamp, or nullopt for a batch
/// without records. The timestamp alone is cheaper: read_header(batch)->max_timestamp.
result<std::optional<timestamp_offset>> find_max_timestamp(bytes_view batch, const record_limits& limits = {});

/// The same batch with its records section compressed with `target` instead (a topic's
/// compression.type other than `producer`): same header fields, records, offsets and
/// timestamps; a new length and CRC. Returns a copy when the codec already matches.
result<bytes> recompress_batch(bytes_view batch, compression_type target, const record_limits& limits = {});

} // namespace samsa::protocol
