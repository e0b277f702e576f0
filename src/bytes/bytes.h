#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace samsa {

/// An owned byte string and a non-owning view of bytes.
using bytes = std::vector<uint8_t>;
using bytes_view = std::span<const uint8_t>;
using mutable_bytes_view = std::span<uint8_t>;

/// An allocator whose value-initialisation (`v.resize(n)`, `vector(n)`) leaves the elements
/// as they are: for buffers that are filled right after they are made.
template<typename T>
struct uninitialized_allocator : std::allocator<T> {
    template<typename U>
    struct rebind {
        using other = uninitialized_allocator<U>;
    };
    using std::allocator<T>::allocator;
    template<typename U>
    void construct(U* p) noexcept
    {
        ::new (static_cast<void*>(p)) U;
    }
    template<typename U, typename... Args>
    void construct(U* p, Args&&... args)
    {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

/// A request or response frame read off a socket: `frame_bytes(n)` is not zeroed first (a
/// follower's 1 MB fetch responses spent a tenth of its time in memset).
using frame_bytes = std::vector<uint8_t, uninitialized_allocator<uint8_t>>;

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
