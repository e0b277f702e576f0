#pragma once

#include "bytes/bytes.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace samsa::varint {

/// Kafka's variable-length integers: unsigned LEB128 ("unsigned varint", used for compact
/// lengths and tagged fields) and zig-zag signed varint/varlong (used inside records).
inline constexpr size_t max_len32 = 5;
inline constexpr size_t max_len64 = 10;

inline constexpr uint64_t zigzag_encode(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline constexpr int64_t zigzag_decode(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

/// Writes `v` as unsigned LEB128 into `out` (at least max_len64 bytes); returns bytes written.
inline size_t put_unsigned(uint8_t* out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = static_cast<uint8_t>(v | 0x80);
        v >>= 7;
    }
    out[n++] = static_cast<uint8_t>(v);
    return n;
}
inline size_t put_signed(uint8_t* out, int64_t v) { return put_unsigned(out, zigzag_encode(v)); }

inline size_t unsigned_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}
inline size_t signed_size(int64_t v) { return unsigned_size(zigzag_encode(v)); }

inline void append_unsigned(bytes& out, uint64_t v)
{
    uint8_t buf[max_len64];
    auto n = put_unsigned(buf, v);
    out.insert(out.end(), buf, buf + n);
}
inline void append_signed(bytes& out, int64_t v) { append_unsigned(out, zigzag_encode(v)); }

/// A decoded value and the number of bytes it took.
template<typename T>
struct decoded {
    T value;
    size_t length;
};

/// Reads an unsigned varint of at most `max_bytes` bytes (5 for 32-bit, 10 for 64-bit);
/// nullopt when the input ends first or the encoding is too long.
inline std::optional<decoded<uint64_t>> get_unsigned(bytes_view in, size_t max_bytes = max_len64)
{
    uint64_t v = 0;
    for (size_t i = 0; i < in.size() && i < max_bytes; ++i) {
        uint8_t b = in[i];
        v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            if (max_bytes == max_len32 && v > 0xffffffffull) return std::nullopt;
            return decoded<uint64_t>{v, i + 1};
        }
    }
    return std::nullopt;
}

inline std::optional<decoded<int32_t>> get_varint(bytes_view in)
{
    auto u = get_unsigned(in, max_len32);
    if (!u) return std::nullopt;
    return decoded<int32_t>{static_cast<int32_t>(zigzag_decode(u->value)), u->length};
}
inline std::optional<decoded<int64_t>> get_varlong(bytes_view in)
{
    auto u = get_unsigned(in, max_len64);
    if (!u) return std::nullopt;
    return decoded<int64_t>{zigzag_decode(u->value), u->length};
}

} // namespace samsa::varint
