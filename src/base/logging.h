#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string_view>

namespace samsa {

enum class log_level : int { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

/// Process-wide threshold; messages below it are dropped before formatting.
void set_log_level(log_level lvl);
log_level get_log_level();
/// Parses "trace|debug|info|warn|error|off"; returns false on anything else.
bool parse_log_level(std::string_view s, log_level& out);

/// A named logger. Each line goes to stderr in one write:
/// `2026-11-22T01:10:18.123Z INFO  [storage] message`.
class logger {
public:
    constexpr explicit logger(std::string_view name) : _name(name) {}

    template<typename... Args>
    void trace(fmt::format_string<Args...> f, Args&&... args) const
    {
        log(log_level::trace, f, std::forward<Args>(args)...);
    }
    template<typename... Args>
    void debug(fmt::format_string<Args...> f, Args&&... args) const
    {
        log(log_level::debug, f, std::forward<Args>(args)...);
    }
    template<typename... Args>
    void info(fmt::format_string<Args...> f, Args&&... args) const
    {
        log(log_level::info, f, std::forward<Args>(args)...);
    }
    template<typename... Args>
    void warn(fmt::format_string<Args...> f, Args&&... args) const
    {
        log(log_level::warn, f, std::forward<Args>(args)...);
    }
    template<typename... Args>
    void error(fmt::format_string<Args...> f, Args&&... args) const
    {
        log(log_level::error, f, std::forward<Args>(args)...);
    }

    bool enabled(log_level lvl) const { return lvl >= get_log_level(); }

private:
    template<typename... Args>
    void log(log_level lvl, fmt::format_string<Args...> f, Args&&... args) const
    {
        if (!enabled(lvl)) return;
        write(lvl, fmt::vformat(f, fmt::make_format_args(args...)));
    }
    void write(log_level lvl, std::string_view msg) const;

    std::string_view _name;
};

} // namespace samsa
