#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace samsa::be {

template<typename U>
constexpr U bswap(U v)
{
    if constexpr (sizeof(U) == 2) return __builtin_bswap16(v);
    else if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
    else return __builtin_bswap64(v);
}

/// Big-endian (network order) loads and stores at unaligned addresses.
template<typename T>
inline T load(const uint8_t* p)
{
    T v;
    std::memcpy(&v, p, sizeof(T));
    if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
        using U = std::make_unsigned_t<T>;
        v = static_cast<T>(bswap(static_cast<U>(v)));
    }
    return v;
}

template<typename T>
inline void store(uint8_t* p, T v)
{
    if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
        using U = std::make_unsigned_t<T>;
        v = static_cast<T>(bswap(static_cast<U>(v)));
    }
    std::memcpy(p, &v, sizeof(T));
}

} // namespace samsa::be
