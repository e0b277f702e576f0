#pragma once

#include <cstdint>
#include <limits>

namespace samsa {

/// a + b clamped to int64_t's range: for times and deadlines built from client-supplied values
/// (a retention of INT64_MAX means "never", not an overflow).
constexpr int64_t saturating_add(int64_t a, int64_t b)
{
    int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out)) {
        return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    }
    return out;
}

} // namespace samsa
