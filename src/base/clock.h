#pragma once

#include "base/failpoint.h"
#include "base/ids.h"

#include <chrono>
#include <cstdint>

namespace samsa {

/// Time source for everything that decides by the clock (segment rolls, retention, flush,
/// session timeouts), so that state machines and storage are testable under a manual clock.
class clock {
public:
    virtual ~clock() = default;
    /// Wall-clock milliseconds since the Unix epoch.
    virtual timestamp_ms now_ms() const = 0;
    /// Monotonic milliseconds, for intervals.
    virtual int64_t monotonic_ms() const = 0;
};

/// The system clock.
class system_clock final : public clock {
public:
    timestamp_ms now_ms() const override
    {
        using namespace std::chrono;
        return timestamp_ms(duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
                            wall_clock_skew_ms());
    }
    int64_t monotonic_ms() const override
    {
        using namespace std::chrono;
        return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
    }
    static system_clock& instance()
    {
        static system_clock c;
        return c;
    }
};

/// A clock that only moves when told to.
class manual_clock final : public clock {
public:
    explicit manual_clock(int64_t start_ms = 1'700'000'000'000) : _now(start_ms) {}
    timestamp_ms now_ms() const override { return timestamp_ms(_now); }
    int64_t monotonic_ms() const override { return _now; }
    void advance(int64_t ms) { _now += ms; }
    void set(int64_t ms) { _now = ms; }

private:
    int64_t _now;
};

} // namespace samsa
