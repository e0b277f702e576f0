#pragma once

#include "base/ids.h"
#include "bytes/bytes.h"
#include "protocol/record_batch.h"

#include <optional>
#include <string>
#include <vector>

namespace samsa::protocol {

struct record_header_kv {
    std::string key;
    std::optional<bytes> value;
    bool operator==(const record_header_kv&) const = default;
};

/// One record as a producer supplies it.
struct record_input {
    std::optional<bytes> key;
    std::optional<bytes> value;
    std::vector<record_header_kv> headers;
    timestamp_ms timestamp{0};
};

/// Builds one RecordBatch v2 in wire format from records (what a producer does). Used by tests,
/// benchmarks, internal topics and format conversion.
class batch_builder {
public:
    struct options {
        compression_type compression = compression_type::none;
        offset base_offset{0};
        leader_epoch partition_leader_epoch{-1};
        timestamp_type ts_type = timestamp_type::create_time;
        producer_id pid{-1};
        producer_epoch epoch{-1};
        int32_t base_sequence = -1;
        bool transactional = false;
        bool control = false;
    };

    batch_builder() : batch_builder(options{}) {}
    explicit batch_builder(options o) : _opts(o) {}

    batch_builder& add(record_input r);
    batch_builder& add(std::string_view key, std::string_view value, timestamp_ms ts);
    size_t record_count() const { return _records.size(); }
    bool empty() const { return _records.empty(); }

    /// The finished batch, with a correct CRC. Throws std::runtime_error if compression of the
    /// records fails (never for valid input).
    bytes build() const;

private:
    options _opts;
    std::vector<record_input> _records;
};

/// Lays out one batch from a header and an already encoded (and, if the header's codec says
/// so, compressed) records section: every header field is taken from `h` except batch_length
/// and crc, which are computed. Tests use it to frame hand-made record sections.
bytes assemble_batch(const batch_header& h, bytes_view records_section);

/// Appends one record, encoded as it sits inside a batch, to `out`.
void encode_record(bytes& out, const record_input& r, int64_t timestamp_delta, int32_t offset_delta);

} // namespace samsa::protocol
