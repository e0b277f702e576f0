#include "protocol/wire.h"

#include "base/assert.h"
#include "bytes/endian.h"
#include "bytes/varint.h"

#include <fmt/format.h>

#include <bit>
#include <limits>

namespace samsa::protocol {

bool uuid::is_zero() const
{
    for (auto b : bytes) {
        if (b != 0) return false;
    }
    return true;
}

std::string uuid::to_string() const
{
    static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve(22);
    uint32_t acc = 0;
    int bits = 0;
    for (auto b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
    return out;
}

// ---------------------------------------------------------------------------------------
// reader

void reader::fail(std::string_view what, size_t wanted) const
{
    throw decode_error(fmt::format("malformed input at byte {}: {} (wanted {} bytes, {} remain)",
                                   _pos, what, wanted, remaining()));
}

const uint8_t* reader::take(size_t n)
{
    if (n > remaining()) fail("input ends early", n);
    const uint8_t* p = _in.data() + _pos;
    _pos += n;
    return p;
}

int8_t reader::read_int8() { return static_cast<int8_t>(*take(1)); }
int16_t reader::read_int16() { return be::load<int16_t>(take(2)); }
int32_t reader::read_int32() { return be::load<int32_t>(take(4)); }
int64_t reader::read_int64() { return be::load<int64_t>(take(8)); }
uint16_t reader::read_uint16() { return be::load<uint16_t>(take(2)); }
uint32_t reader::read_uint32() { return be::load<uint32_t>(take(4)); }
double reader::read_float64() { return std::bit_cast<double>(be::load<uint64_t>(take(8))); }
bool reader::read_bool() { return *take(1) != 0; }

uuid reader::read_uuid()
{
    uuid u;
    const uint8_t* p = take(16);
    std::copy(p, p + 16, u.bytes.begin());
    return u;
}

uint32_t reader::read_uvarint()
{
    auto d = varint::get_unsigned(_in.subspan(_pos), varint::max_len32);
    if (!d) fail("bad unsigned varint", 1);
    _pos += d->length;
    return static_cast<uint32_t>(d->value);
}

uint64_t reader::read_uvarlong()
{
    auto d = varint::get_unsigned(_in.subspan(_pos), varint::max_len64);
    if (!d) fail("bad unsigned varlong", 1);
    _pos += d->length;
    return d->value;
}

int32_t reader::read_varint()
{
    auto d = varint::get_varint(_in.subspan(_pos));
    if (!d) fail("bad varint", 1);
    _pos += d->length;
    return d->value;
}

int64_t reader::read_varlong()
{
    auto d = varint::get_varlong(_in.subspan(_pos));
    if (!d) fail("bad varlong", 1);
    _pos += d->length;
    return d->value;
}

int64_t reader::read_length(bool compact, bool wide)
{
    int64_t len;
    if (compact) {
        len = static_cast<int64_t>(read_uvarint()) - 1;
    } else {
        len = wide ? read_int32() : read_int16();
        if (len < -1) fail(fmt::format("negative length {}", len), 0);
    }
    if (len > static_cast<int64_t>(remaining())) fail("length exceeds input", static_cast<size_t>(len));
    return len;
}

std::string reader::read_string(bool compact)
{
    auto s = read_nullable_string(compact);
    if (!s) fail("null for a non-nullable string", 0);
    return std::move(*s);
}

std::optional<std::string> reader::read_nullable_string(bool compact)
{
    int64_t len = read_length(compact, false);
    if (len < 0) return std::nullopt;
    auto v = read_raw(static_cast<size_t>(len));
    return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

bytes reader::read_bytes(bool compact)
{
    auto b = read_nullable_bytes(compact);
    if (!b) fail("null for non-nullable bytes", 0);
    return std::move(*b);
}

std::optional<bytes> reader::read_nullable_bytes(bool compact)
{
    int64_t len = read_length(compact, true);
    if (len < 0) return std::nullopt;
    auto v = read_raw(static_cast<size_t>(len));
    return bytes(v.begin(), v.end());
}

records_payload reader::read_records(bool compact)
{
    int64_t len = read_length(compact, true);
    if (len < 0) return records_payload{};
    return records_payload::view(read_raw(static_cast<size_t>(len)));
}

int32_t reader::read_array_length(bool compact, bool nullable, size_t min_element_size)
{
    int64_t n;
    if (compact) {
        n = static_cast<int64_t>(read_uvarint()) - 1;
    } else {
        n = read_int32();
        if (n < -1) fail(fmt::format("negative array length {}", n), 0);
    }
    if (n < 0) {
        if (!nullable) fail("null for a non-nullable array", 0);
        return -1;
    }
    if (n > std::numeric_limits<int32_t>::max()) fail("array length over INT32_MAX", 0);
    size_t need = static_cast<size_t>(n) * std::max<size_t>(min_element_size, 1);
    if (need > remaining()) fail(fmt::format("array of {} elements exceeds input", n), need);
    return static_cast<int32_t>(n);
}

tagged_field reader::read_tagged_field()
{
    uint32_t tag = read_uvarint();
    uint32_t size = read_uvarint();
    return tagged_field{tag, reader(read_raw(size))};
}

void reader::skip_tagged_fields()
{
    uint32_t n = read_uvarint();
    // Every field takes at least two bytes (tag and size): bounds the loop by the input.
    if (static_cast<uint64_t>(n) * 2 > remaining()) fail("tagged field count exceeds input", n * 2ull);
    for (uint32_t i = 0; i < n; ++i) (void)read_tagged_field();
}

bytes_view reader::read_raw(size_t n)
{
    const uint8_t* p = take(n);
    return bytes_view(p, n);
}

// ---------------------------------------------------------------------------------------
// encoded_message

size_t encoded_message::total_size() const
{
    size_t n = data.size();
    for (const auto& s : splices) n += static_cast<size_t>(s.region.len);
    return n;
}

bytes flatten(const encoded_message& m)
{
    bytes out;
    out.reserve(m.total_size());
    size_t done = 0;
    for (const auto& s : m.splices) {
        SAMSA_ASSERT(s.after >= done && s.after <= m.data.size(), "splice point {} out of order", s.after);
        out.insert(out.end(), m.data.begin() + static_cast<std::ptrdiff_t>(done),
                   m.data.begin() + static_cast<std::ptrdiff_t>(s.after));
        done = s.after;
        read_file_region(s.region, out);
    }
    out.insert(out.end(), m.data.begin() + static_cast<std::ptrdiff_t>(done), m.data.end());
    return out;
}

// ---------------------------------------------------------------------------------------
// writer

namespace {
template<typename T>
void put(bytes& out, T v)
{
    uint8_t buf[sizeof(T)];
    be::store<T>(buf, v);
    out.insert(out.end(), buf, buf + sizeof(T));
}
} // namespace

void writer::write_int8(int8_t v) { _data.push_back(static_cast<uint8_t>(v)); }
void writer::write_int16(int16_t v) { put(_data, v); }
void writer::write_int32(int32_t v) { put(_data, v); }
void writer::write_int64(int64_t v) { put(_data, v); }
void writer::write_uint16(uint16_t v) { put(_data, v); }
void writer::write_uint32(uint32_t v) { put(_data, v); }
void writer::write_float64(double v) { put(_data, std::bit_cast<uint64_t>(v)); }
void writer::write_uuid(const uuid& v) { _data.insert(_data.end(), v.bytes.begin(), v.bytes.end()); }
void writer::write_uvarint(uint64_t v) { varint::append_unsigned(_data, v); }
void writer::write_varint(int32_t v) { varint::append_signed(_data, v); }
void writer::write_varlong(int64_t v) { varint::append_signed(_data, v); }
void writer::write_raw(bytes_view b) { _data.insert(_data.end(), b.begin(), b.end()); }

void writer::write_length(int64_t len, bool compact, bool wide)
{
    if (compact) {
        write_uvarint(static_cast<uint64_t>(len + 1));
        return;
    }
    if (wide) {
        if (len > std::numeric_limits<int32_t>::max()) throw encode_error(fmt::format("length {} over INT32_MAX", len));
        write_int32(static_cast<int32_t>(len));
    } else {
        if (len > std::numeric_limits<int16_t>::max()) throw encode_error(fmt::format("string of {} bytes over INT16_MAX", len));
        write_int16(static_cast<int16_t>(len));
    }
}

void writer::write_string(std::string_view s, bool compact)
{
    write_length(static_cast<int64_t>(s.size()), compact, false);
    write_raw(as_bytes(s));
}

void writer::write_nullable_string(const std::optional<std::string>& s, bool compact)
{
    if (!s) return write_length(-1, compact, false);
    write_string(*s, compact);
}

void writer::write_bytes(bytes_view b, bool compact)
{
    write_length(static_cast<int64_t>(b.size()), compact, true);
    write_raw(b);
}

void writer::write_nullable_bytes(const std::optional<bytes>& b, bool compact)
{
    if (!b) return write_length(-1, compact, true);
    write_bytes(*b, compact);
}

void writer::write_records(const records_payload& r, bool compact)
{
    if (r.is_null()) return write_length(-1, compact, true);
    write_length(static_cast<int64_t>(r.size_bytes()), compact, true);
    for (const auto& c : r.chunks()) {
        if (const auto* b = std::get_if<bytes>(&c)) {
            write_raw(*b);
        } else if (const auto* v = std::get_if<bytes_view>(&c)) {
            write_raw(*v);
        } else {
            const auto& region = std::get<file_region>(c);
            if (region.len == 0) continue;
            _splices.push_back(splice{_data.size(), region});
            _spliced_bytes += static_cast<size_t>(region.len);
        }
    }
}

void writer::write_array_length(size_t n, bool compact)
{
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        throw encode_error(fmt::format("array of {} elements over INT32_MAX", n));
    }
    if (compact) write_uvarint(n + 1);
    else write_int32(static_cast<int32_t>(n));
}

void writer::write_null_array(bool compact)
{
    if (compact) write_uvarint(0);
    else write_int32(-1);
}

void writer::write_tagged_field(uint32_t tag, const writer& field)
{
    SAMSA_ASSERT(field._splices.empty(), "a tagged field cannot hold file regions (tag {})", tag);
    write_uvarint(tag);
    write_uvarint(field._data.size());
    write_raw(field._data);
}

size_t writer::reserve_int32()
{
    size_t pos = _data.size();
    _data.resize(pos + 4);
    return pos;
}

void writer::patch_int32(size_t pos, int32_t v)
{
    SAMSA_ASSERT(pos + 4 <= _data.size(), "patch at {} past the end ({})", pos, _data.size());
    be::store<int32_t>(_data.data() + pos, v);
}

void writer::patch_frame_size(size_t pos)
{
    size_t after = _data.size() - pos - 4;
    for (const auto& s : _splices) {
        if (s.after >= pos + 4) after += static_cast<size_t>(s.region.len);
    }
    if (after > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        throw encode_error(fmt::format("frame of {} bytes over INT32_MAX", after));
    }
    patch_int32(pos, static_cast<int32_t>(after));
}

encoded_message writer::finish() &&
{
    return encoded_message{std::move(_data), std::move(_splices)};
}

} // namespace samsa::protocol
