#include "base/failpoint.h"

#include "base/logging.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace samsa {

void failpoint(std::string_view name)
{
    static const std::string armed = [] {
        const char* v = std::getenv("SAMSA_FAILPOINT");
        return std::string(v ? v : "");
    }();
    if (armed.empty() || armed != name) return;
    constexpr logger log{"failpoint"};
    log.warn("failpoint {} reached: killing the process", name);
    std::raise(SIGKILL);
}

int64_t wall_clock_skew_ms()
{
    static const std::string path = [] {
        const char* v = std::getenv("SAMSA_CLOCK_SKEW_FILE");
        return std::string(v ? v : "");
    }();
    if (path.empty()) return 0;
    static std::atomic<int64_t> skew{0};
    static std::atomic<int64_t> next_read{0};
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
                   .count();
    auto due = next_read.load(std::memory_order_relaxed);
    if (now >= due && next_read.compare_exchange_strong(due, now + 100)) {
        if (std::FILE* f = std::fopen(path.c_str(), "r")) {
            long long v = 0;
            if (std::fscanf(f, "%lld", &v) == 1) skew.store(v, std::memory_order_relaxed);
            std::fclose(f);
        }
    }
    return skew.load(std::memory_order_relaxed);
}

} // namespace samsa
