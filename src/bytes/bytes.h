#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace samsa {

/// An owned byte string and a non-owning view of bytes.
using bytes = std::vector<uint8_t>;
using bytes_view = std::span<const uint8_t>;
using mutable_bytes_view = std::span<uint8_t>;

inline bytes_view as_bytes(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string_view(bytes_view b)
{
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline bytes to_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

} // namespace samsa
