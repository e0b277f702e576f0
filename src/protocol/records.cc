#include "protocol/records.h"

#include "bytes/varint.h"
#include "protocol/compression.h"
#include "protocol/record_batch_builder.h"

namespace samsa::protocol {
namespace {

std::error_code bad_record() { return make_error_code(batch_errc::invalid_record); }

/// Reads fields from the front of a bounded byte range; every read checks the bound and
/// returns false instead of reading past it.
class cursor {
public:
    explicit cursor(bytes_view d) : _d(d) {}

    size_t remaining() const { return _d.size() - _pos; }

    bool int8(int8_t& v)
    {
        if (remaining() < 1) return false;
        v = static_cast<int8_t>(_d[_pos++]);
        return true;
    }
    bool varint(int32_t& v)
    {
        auto r = varint::get_varint(_d.subspan(_pos));
        if (!r) return false;
        v = r->value;
        _pos += r->length;
        return true;
    }
    bool varlong(int64_t& v)
    {
        auto r = varint::get_varlong(_d.subspan(_pos));
        if (!r) return false;
        v = r->value;
        _pos += r->length;
        return true;
    }
    bool take(int32_t n, bytes_view& out)
    {
        if (n < 0 || static_cast<size_t>(n) > remaining()) return false;
        out = _d.subspan(_pos, static_cast<size_t>(n));
        _pos += static_cast<size_t>(n);
        return true;
    }
    /// A varint length then that many bytes; length -1 is null, below -1 is malformed.
    bool nullable_bytes(std::optional<bytes_view>& out)
    {
        int32_t n = 0;
        if (!varint(n) || n < -1) return false;
        if (n == -1) {
            out.reset();
            return true;
        }
        bytes_view b;
        if (!take(n, b)) return false;
        out = b;
        return true;
    }

private:
    bytes_view _d;
    size_t _pos = 0;
};

bool decode_headers(cursor& c, std::vector<record_header_view>& out)
{
    int32_t count = 0;
    // Each header takes at least two bytes, which bounds the count before reserving.
    if (!c.varint(count) || count < 0 || static_cast<size_t>(count) > c.remaining() / 2) return false;
    out.reserve(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) {
        int32_t key_len = 0;
        bytes_view key;
        std::optional<bytes_view> value;
        if (!c.varint(key_len) || !c.take(key_len, key) || !c.nullable_bytes(value)) return false;
        out.push_back(record_header_view{as_string_view(key), value});
    }
    return true;
}

/// Fills in the absolute offset and timestamp of `r`, refusing overflows.
result<void> place(record& r, const batch_header& h)
{
    int64_t off = 0;
    if (__builtin_add_overflow(h.base_offset(), int64_t{r.offset_delta}, &off)) return make_error_code(batch_errc::invalid_offsets);
    r.offset = offset(off);
    if (h.ts_type() == timestamp_type::log_append_time) {
        r.timestamp = h.max_timestamp;
        return ok();
    }
    int64_t ts = 0;
    if (__builtin_add_overflow(h.base_timestamp(), r.timestamp_delta, &ts)) return make_error_code(batch_errc::invalid_timestamp);
    r.timestamp = timestamp_ms(ts);
    return ok();
}

} // namespace

result<record> decode_record(bytes_view in, const batch_header& h)
{
    auto len = varint::get_varint(in);
    if (!len || len->value < 0 || static_cast<size_t>(len->value) > in.size() - len->length) return bad_record();
    cursor c(in.subspan(len->length, static_cast<size_t>(len->value)));
    record r;
    r.size_bytes = len->length + static_cast<size_t>(len->value);
    if (!c.int8(r.attributes) || !c.varlong(r.timestamp_delta) || !c.varint(r.offset_delta)) return bad_record();
    if (!c.nullable_bytes(r.key) || !c.nullable_bytes(r.value)) return bad_record();
    if (!decode_headers(c, r.headers)) return bad_record();
    if (c.remaining() != 0) return bad_record(); // the declared length is longer than the record
    SAMSA_TRY(place(r, h));
    return r;
}

record_reader::record_reader(batch_header h, bytes_view data, bytes owned)
  : _header(h), _owned(std::move(owned)), _data(_owned.empty() ? data : bytes_view(_owned))
{}

result<record_reader> record_reader::open(bytes_view batch, const record_limits& limits)
{
    SAMSA_TRY_ASSIGN(auto h, validate_batch(batch, limits.max_batch_bytes));
    auto section = batch.subspan(batch_layout::header_size, h.size_bytes() - batch_layout::header_size);
    if (h.compression() == compression_type::none) return record_reader(h, section, {});
    SAMSA_TRY_ASSIGN(auto plain, decompress(h.compression(), section, limits.max_uncompressed_bytes));
    // An empty decompressed section has no owned bytes to point at; an empty view is the same.
    return record_reader(h, bytes_view{}, std::move(plain));
}

std::optional<record> record_reader::next()
{
    if (_err) return std::nullopt;
    if (_read == _header.record_count) {
        if (_pos != _data.size()) _err = make_error_code(batch_errc::invalid_record); // trailing bytes
        return std::nullopt;
    }
    if (_pos == _data.size()) {
        _err = make_error_code(batch_errc::invalid_record_count);
        return std::nullopt;
    }
    auto r = decode_record(_data.subspan(_pos), _header);
    if (!r) {
        _err = r.error();
        return std::nullopt;
    }
    _pos += r->size_bytes;
    ++_read;
    return std::move(*r);
}

result<records_summary> validate_records(bytes_view batch, const record_limits& limits)
{
    SAMSA_TRY_ASSIGN(auto reader, record_reader::open(batch, limits));
    const auto& h = reader.header();
    if (h.record_count < 1 || h.last_offset_delta != h.record_count - 1) return make_error_code(batch_errc::invalid_record_count);
    records_summary s;
    s.header = h;
    s.uncompressed_bytes = reader.records_bytes().size();
    while (auto r = reader.next()) {
        if (r->offset_delta != s.record_count) return make_error_code(batch_errc::invalid_offsets);
        if (s.record_count == 0 || r->timestamp > s.max_timestamp) {
            s.max_timestamp = r->timestamp;
            s.offset_of_max_timestamp = r->offset;
        }
        s.has_null_key = s.has_null_key || !r->key;
        ++s.record_count;
    }
    if (reader.error()) return reader.error();
    return s;
}

result<std::optional<timestamp_offset>> find_first_at_or_after(bytes_view batch, timestamp_ms target, const record_limits& limits)
{
    SAMSA_TRY_ASSIGN(auto h, read_header(batch));
    if (h.max_timestamp < target) return std::optional<timestamp_offset>{};
    SAMSA_TRY_ASSIGN(auto reader, record_reader::open(batch, limits));
    while (auto r = reader.next()) {
        if (r->timestamp >= target) return std::optional<timestamp_offset>(timestamp_offset{r->timestamp, r->offset});
    }
    if (reader.error()) return reader.error();
    return std::optional<timestamp_offset>{};
}

result<std::optional<timestamp_offset>> find_max_timestamp(bytes_view batch, const record_limits& limits)
{
    SAMSA_TRY_ASSIGN(auto reader, record_reader::open(batch, limits));
    std::optional<timestamp_offset> best;
    while (auto r = reader.next()) {
        if (!best || r->timestamp > best->timestamp) best = timestamp_offset{r->timestamp, r->offset};
    }
    if (reader.error()) return reader.error();
    return best;
}

result<bytes> recompress_batch(bytes_view batch, compression_type target, const record_limits& limits)
{
    SAMSA_TRY_ASSIGN(auto reader, record_reader::open(batch, limits));
    auto h = reader.header();
    if (h.compression() == target) return bytes(batch.begin(), batch.begin() + static_cast<long>(h.size_bytes()));
    auto plain = reader.records_bytes();
    bytes section(plain.begin(), plain.end());
    if (target != compression_type::none) {
        SAMSA_TRY_ASSIGN(section, compress(target, section));
    }
    h.attributes = static_cast<uint16_t>((h.attributes & ~batch_attr::compression_mask) | static_cast<uint16_t>(target));
    return assemble_batch(h, section);
}

} // namespace samsa::protocol
