#include "base/logging.h"

#include <chrono>
#include <ctime>
#include <unistd.h>

namespace samsa {
namespace {
std::atomic<int> g_level{static_cast<int>(log_level::info)};

const char* level_name(log_level lvl)
{
    switch (lvl) {
    case log_level::trace: return "TRACE";
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO ";
    case log_level::warn: return "WARN ";
    case log_level::error: return "ERROR";
    case log_level::off: return "OFF  ";
    }
    return "?";
}
} // namespace

void set_log_level(log_level lvl) { g_level.store(static_cast<int>(lvl), std::memory_order_relaxed); }
log_level get_log_level() { return static_cast<log_level>(g_level.load(std::memory_order_relaxed)); }

bool parse_log_level(std::string_view s, log_level& out)
{
    static constexpr std::pair<std::string_view, log_level> names[] = {
        {"trace", log_level::trace}, {"debug", log_level::debug}, {"info", log_level::info},
        {"warn", log_level::warn},   {"error", log_level::error}, {"off", log_level::off},
    };
    for (auto& [n, l] : names) {
        if (n == s) {
            out = l;
            return true;
        }
    }
    return false;
}

void logger::write(log_level lvl, std::string_view msg) const
{
    using namespace std::chrono;
    auto now = system_clock::now();
    auto secs = system_clock::to_time_t(now);
    auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    auto line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} [{}] {}\n", tm.tm_year + 1900,
                            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms,
                            level_name(lvl), _name, msg);
    // One write per line so lines from different threads never interleave.
    auto rc = ::write(STDERR_FILENO, line.data(), line.size());
    (void)rc;
}

} // namespace samsa
