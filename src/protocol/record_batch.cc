#include "protocol/record_batch.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"

#include <string>

namespace samsa::protocol {
namespace L = batch_layout;

const char* to_string(compression_type c)
{
    switch (c) {
    case compression_type::none: return "none";
    case compression_type::gzip: return "gzip";
    case compression_type::snappy: return "snappy";
    case compression_type::lz4: return "lz4";
    case compression_type::zstd: return "zstd";
    }
    return "unknown";
}

namespace {
class batch_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "record_batch"; }
    std::string message(int ev) const override
    {
        switch (static_cast<batch_errc>(ev)) {
        case batch_errc::truncated: return "record batch is truncated";
        case batch_errc::invalid_length: return "record batch length is invalid";
        case batch_errc::unsupported_magic: return "record batch magic is not supported";
        case batch_errc::crc_mismatch: return "record batch CRC does not match";
        case batch_errc::invalid_record_count: return "record batch record count is invalid";
        case batch_errc::invalid_record: return "record inside the batch is invalid";
        case batch_errc::unsupported_compression: return "compression codec is not supported";
        case batch_errc::decompression_failed: return "compressed records do not decompress";
        case batch_errc::decompressed_too_large: return "decompressed records exceed the limit";
        case batch_errc::invalid_offsets: return "record offset deltas are invalid";
        case batch_errc::invalid_timestamp: return "record timestamp is invalid";
        }
        return "unknown record batch error";
    }
};
} // namespace

const std::error_category& batch_category()
{
    static batch_category_impl c;
    return c;
}

result<batch_header> read_header(bytes_view d)
{
    if (d.size() < L::header_size) return make_error_code(batch_errc::truncated);
    const uint8_t* p = d.data();
    batch_header h;
    h.base_offset = offset(be::load<int64_t>(p + L::base_offset));
    h.batch_length = be::load<int32_t>(p + L::batch_length);
    h.partition_leader_epoch = leader_epoch(be::load<int32_t>(p + L::partition_leader_epoch));
    h.magic = static_cast<int8_t>(p[L::magic]);
    h.crc = be::load<uint32_t>(p + L::crc);
    h.attributes = be::load<uint16_t>(p + L::attributes);
    h.last_offset_delta = be::load<int32_t>(p + L::last_offset_delta);
    h.base_timestamp = timestamp_ms(be::load<int64_t>(p + L::base_timestamp));
    h.max_timestamp = timestamp_ms(be::load<int64_t>(p + L::max_timestamp));
    h.pid = producer_id(be::load<int64_t>(p + L::producer_id));
    h.epoch = producer_epoch(be::load<int16_t>(p + L::producer_epoch));
    h.base_sequence = be::load<int32_t>(p + L::base_sequence);
    h.record_count = be::load<int32_t>(p + L::record_count);
    return h;
}

result<batch_header> read_framed_header(bytes_view d)
{
    auto h = read_header(d);
    if (!h) return h.error();
    if (h->batch_length < static_cast<int32_t>(L::header_size - L::log_overhead)) {
        return make_error_code(batch_errc::invalid_length);
    }
    if (h->size_bytes() > d.size()) return make_error_code(batch_errc::truncated);
    return h;
}

uint32_t compute_crc(bytes_view batch)
{
    return crc32c(batch.data() + L::attributes, batch.size() - L::attributes);
}

result<batch_header> validate_batch(bytes_view d, size_t max_batch_bytes)
{
    // The length and magic come first so a torn tail reads as truncated, not as a bad CRC.
    if (d.size() < L::log_overhead + 5) return make_error_code(batch_errc::truncated);
    int32_t len = be::load<int32_t>(d.data() + L::batch_length);
    if (len < static_cast<int32_t>(L::header_size - L::log_overhead)) return make_error_code(batch_errc::invalid_length);
    size_t total = L::log_overhead + static_cast<size_t>(len);
    if (max_batch_bytes != 0 && total > max_batch_bytes) return make_error_code(batch_errc::invalid_length);
    if (static_cast<int8_t>(d[L::magic]) != 2) return make_error_code(batch_errc::unsupported_magic);
    if (d.size() < total) return make_error_code(batch_errc::truncated);
    auto h = read_header(d);
    if (!h) return h.error();
    if (compute_crc(d.first(total)) != h->crc) return make_error_code(batch_errc::crc_mismatch);
    if (h->record_count < 0 || h->last_offset_delta < 0) return make_error_code(batch_errc::invalid_record_count);
    return h;
}

void set_base_offset(mutable_bytes_view b, offset o) { be::store<int64_t>(b.data() + batch_layout::base_offset, o()); }

void set_partition_leader_epoch(mutable_bytes_view b, leader_epoch e)
{
    be::store<int32_t>(b.data() + batch_layout::partition_leader_epoch, e());
}

void set_log_append_time(mutable_bytes_view b, timestamp_ms now)
{
    uint16_t attrs = be::load<uint16_t>(b.data() + L::attributes);
    be::store<uint16_t>(b.data() + L::attributes, static_cast<uint16_t>(attrs | batch_attr::timestamp_type));
    be::store<int64_t>(b.data() + L::max_timestamp, now());
    be::store<uint32_t>(b.data() + L::crc, compute_crc(b));
}

void set_max_timestamp(mutable_bytes_view b, timestamp_ms max_timestamp)
{
    be::store<int64_t>(b.data() + L::max_timestamp, max_timestamp());
    be::store<uint32_t>(b.data() + L::crc, compute_crc(b));
}

std::optional<batch_header> batch_iterator::next()
{
    if (_err || _pos >= _data.size()) return std::nullopt;
    auto rest = _data.subspan(_pos);
    auto h = validate_batch(rest, _max);
    if (!h) {
        _err = h.error();
        return std::nullopt;
    }
    _current = rest.first(h->size_bytes());
    _pos += h->size_bytes();
    return *h;
}

} // namespace samsa::protocol
