#include "protocol/legacy_records.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "protocol/compression.h"
#include "protocol/record_batch_builder.h"

#include <algorithm>

namespace samsa::protocol {
namespace LL = legacy_layout;
namespace {

std::error_code err(batch_errc e) { return make_error_code(e); }

size_t min_message_size(int8_t magic) { return magic == 0 ? LL::min_message_size_v0 : LL::min_message_size_v1; }

/// Reads an int32-length-prefixed nullable byte string at `pos` within `body`.
bool read_bytes(bytes_view body, size_t& pos, std::optional<bytes_view>& out)
{
    if (body.size() - pos < 4) return false;
    int32_t n = be::load<int32_t>(body.data() + pos);
    pos += 4;
    if (n < -1) return false;
    if (n == -1) {
        out.reset();
        return true;
    }
    if (static_cast<size_t>(n) > body.size() - pos) return false;
    out = body.subspan(pos, static_cast<size_t>(n));
    pos += static_cast<size_t>(n);
    return true;
}

void write_bytes(bytes& out, const std::optional<bytes_view>& b)
{
    uint8_t len[4];
    be::store<int32_t>(len, b ? static_cast<int32_t>(b->size()) : -1);
    out.insert(out.end(), len, len + 4);
    if (b) out.insert(out.end(), b->begin(), b->end());
}

std::optional<bytes> owned(const std::optional<bytes_view>& v)
{
    if (!v) return std::nullopt;
    return bytes(v->begin(), v->end());
}

/// Decompresses a wrapper's value. Magic-0 LZ4 frames get their header checksum rewritten
/// to the standard one first, as Kafka ignores that byte for magic 0 (KAFKA-1493).
result<bytes> decompress_wrapper(const legacy_message& w, size_t max_output)
{
    if (!w.value) return err(batch_errc::invalid_record);
    if (w.codec() != compression_type::lz4 || w.magic != 0) return decompress(w.codec(), *w.value, max_output);
    bytes frame(w.value->begin(), w.value->end());
    SAMSA_TRY(set_lz4_header_checksum(frame, lz4_header_checksum::standard));
    return decompress(w.codec(), frame, max_output);
}

/// The absolute offset of an inner message: magic 0 inner offsets are absolute already;
/// magic 1 ones are relative, the wrapper holding the absolute offset of the last one.
result<offset> inner_offset(const legacy_message& w, offset last_inner, offset inner)
{
    if (w.magic == 0) return inner;
    int64_t base = 0;
    int64_t abs = 0;
    if (__builtin_sub_overflow(w.offset(), last_inner(), &base) || __builtin_add_overflow(base, inner(), &abs)) {
        return err(batch_errc::invalid_offsets);
    }
    return offset(abs);
}

/// Appends the inner messages of wrapper `w` to `out`, their decompressed size to `inflated`;
/// the inflated total may not pass `max_inflated`.
result<void> expand_wrapper(const legacy_message& w, size_t max_inflated, size_t& inflated, std::vector<legacy_record>& out)
{
    SAMSA_TRY_ASSIGN(auto plain, decompress_wrapper(w, max_inflated - std::min(inflated, max_inflated)));
    inflated += plain.size();
    std::vector<legacy_message> inner;
    for (bytes_view rest(plain); !rest.empty();) {
        SAMSA_TRY_ASSIGN(auto m, decode_legacy_message(rest));
        if (m.codec() != compression_type::none || m.magic != w.magic) return err(batch_errc::invalid_record);
        rest = rest.subspan(m.size_bytes);
        inner.push_back(m);
    }
    if (inner.empty()) return err(batch_errc::invalid_record_count);
    bool append_time = w.ts_type() == timestamp_type::log_append_time;
    for (const auto& m : inner) {
        SAMSA_TRY_ASSIGN(auto abs, inner_offset(w, inner.back().offset, m.offset));
        out.push_back(legacy_record{abs, m.magic, append_time ? w.timestamp : m.timestamp, w.ts_type(), owned(m.key),
                                    owned(m.value)});
    }
    return ok();
}

/// The message set of one v2 batch, in `to_magic`, appended to `out`.
result<void> down_convert_batch(bytes_view batch, int8_t to_magic, const record_limits& limits, bytes& out)
{
    SAMSA_TRY_ASSIGN(auto reader, record_reader::open(batch, limits));
    const auto& h = reader.header();
    auto codec = h.compression();
    if (codec == compression_type::zstd) return err(batch_errc::unsupported_compression);
    bool compressed = codec != compression_type::none;
    uint8_t ts_attr = (to_magic == 1 && h.ts_type() == timestamp_type::log_append_time) ? legacy_attr::timestamp_type : 0;

    bytes inner;
    bytes& dest = compressed ? inner : out;
    std::optional<offset> first;
    offset last{0};
    timestamp_ms max_ts = no_timestamp;
    while (auto r = reader.next()) {
        if (!first) first = r->offset;
        last = r->offset;
        legacy_message m{r->offset, to_magic, ts_attr, to_magic == 1 ? r->timestamp : no_timestamp, r->key, r->value, 0};
        if (compressed && to_magic == 1) m.offset = offset(r->offset - *first);
        max_ts = std::max(max_ts, m.timestamp);
        append_legacy_message(dest, m);
    }
    if (reader.error()) return reader.error();
    if (!compressed || !first) return ok();

    SAMSA_TRY_ASSIGN(auto value, compress(codec, inner));
    if (codec == compression_type::lz4 && to_magic == 0) SAMSA_TRY(set_lz4_header_checksum(value, lz4_header_checksum::kafka_legacy));
    legacy_message wrapper{last, to_magic, static_cast<uint8_t>(static_cast<uint8_t>(codec) | ts_attr),
                           to_magic == 1 ? max_ts : no_timestamp, std::nullopt, bytes_view(value), 0};
    append_legacy_message(out, wrapper);
    return ok();
}

} // namespace

result<legacy_message> decode_legacy_message(bytes_view in)
{
    if (in.size() < LL::log_overhead) return err(batch_errc::truncated);
    int32_t size = be::load<int32_t>(in.data() + LL::message_size);
    if (size < static_cast<int32_t>(LL::min_message_size_v0)) return err(batch_errc::invalid_length);
    size_t total = LL::log_overhead + static_cast<size_t>(size);
    if (in.size() < total) return err(batch_errc::truncated);
    legacy_message m;
    m.magic = static_cast<int8_t>(in[LL::magic]);
    if (m.magic != 0 && m.magic != 1) return err(batch_errc::unsupported_magic);
    if (static_cast<size_t>(size) < min_message_size(m.magic)) return err(batch_errc::invalid_length);
    if (crc32_ieee(in.data() + LL::magic, total - LL::magic) != be::load<uint32_t>(in.data() + LL::crc)) {
        return err(batch_errc::crc_mismatch);
    }
    m.offset = offset(be::load<int64_t>(in.data()));
    m.attributes = in[LL::attributes];
    if (m.codec() > compression_type::lz4) return err(batch_errc::unsupported_compression);
    size_t pos = LL::attributes + 1;
    if (m.magic == 1) {
        m.timestamp = timestamp_ms(be::load<int64_t>(in.data() + LL::timestamp));
        if (m.timestamp < no_timestamp) return err(batch_errc::invalid_timestamp);
        pos += 8;
    }
    auto body = in.first(total);
    if (!read_bytes(body, pos, m.key) || !read_bytes(body, pos, m.value) || pos != total) {
        return err(batch_errc::invalid_record);
    }
    m.size_bytes = total;
    return m;
}

void append_legacy_message(bytes& out, const legacy_message& m)
{
    size_t start = out.size();
    size_t size = min_message_size(m.magic) + (m.key ? m.key->size() : 0) + (m.value ? m.value->size() : 0);
    size_t fixed = m.magic == 1 ? LL::timestamp + 8 : LL::timestamp; // everything before the key
    out.resize(start + fixed);
    uint8_t* p = out.data() + start;
    be::store<int64_t>(p + LL::offset, m.offset());
    be::store<int32_t>(p + LL::message_size, static_cast<int32_t>(size));
    p[LL::magic] = static_cast<uint8_t>(m.magic);
    p[LL::attributes] = m.attributes;
    if (m.magic == 1) be::store<int64_t>(p + LL::timestamp, m.timestamp());
    write_bytes(out, m.key);
    write_bytes(out, m.value);
    p = out.data() + start; // the writes above may have moved the buffer
    be::store<uint32_t>(p + LL::crc, crc32_ieee(p + LL::magic, out.size() - start - LL::magic));
}

result<legacy_message_set> read_message_set(bytes_view set, partial_tail tail, const record_limits& limits)
{
    legacy_message_set out;
    // max_uncompressed_bytes bounds what all the wrappers of the set inflate to together, as it
    // bounds the one records section of a v2 batch.
    size_t inflated = 0;
    for (bytes_view rest = set; !rest.empty();) {
        auto m = decode_legacy_message(rest);
        if (!m && m.error() == make_error_code(batch_errc::truncated) && tail == partial_tail::ignore) break;
        if (!m) return m.error();
        if (limits.max_batch_bytes != 0 && m->size_bytes > limits.max_batch_bytes) return err(batch_errc::invalid_length);
        if (m->codec() == compression_type::none) {
            out.records.push_back(legacy_record{m->offset, m->magic, m->timestamp, m->ts_type(), owned(m->key), owned(m->value)});
        } else {
            SAMSA_TRY(expand_wrapper(*m, limits.max_uncompressed_bytes, inflated, out.records));
            out.codec = m->codec();
        }
        rest = rest.subspan(m->size_bytes);
        out.valid_bytes += m->size_bytes;
    }
    return out;
}

result<converted_batch> convert_to_v2(bytes_view message_set, const record_limits& limits)
{
    SAMSA_TRY_ASSIGN(auto set, read_message_set(message_set, partial_tail::reject, limits));
    if (set.records.empty()) return err(batch_errc::invalid_record_count);
    batch_builder::options opts;
    opts.compression = set.codec;
    batch_builder builder(opts);
    for (auto& r : set.records) builder.add(record_input{std::move(r.key), std::move(r.value), {}, r.timestamp});
    return converted_batch{builder.build(), static_cast<int32_t>(set.records.size())};
}

result<bytes> down_convert(bytes_view v2_batches, int8_t to_magic, const record_limits& limits)
{
    if (to_magic != 0 && to_magic != 1) return err(batch_errc::unsupported_magic);
    bytes out;
    batch_iterator it(v2_batches, limits.max_batch_bytes);
    while (auto h = it.next()) {
        if (h->is_control()) continue;
        SAMSA_TRY(down_convert_batch(it.current(), to_magic, limits, out));
    }
    if (it.error() && it.error() != make_error_code(batch_errc::truncated)) return it.error();
    return out;
}

} // namespace samsa::protocol
