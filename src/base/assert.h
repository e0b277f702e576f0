#pragma once

#include <fmt/format.h>

#include <source_location>
#include <string>

namespace samsa::detail {
[[noreturn]] void assert_failed(const char* cond, const std::string& msg, std::source_location loc);
} // namespace samsa::detail

/// Always-on invariant check: logs the condition, a formatted message and the location, then
/// aborts. For broken invariants only, never for user input.
#define SAMSA_ASSERT(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) [[unlikely]] {                                                                \
            ::samsa::detail::assert_failed(#cond, ::fmt::format(__VA_ARGS__),                      \
                                           std::source_location::current());                      \
        }                                                                                          \
    } while (0)
