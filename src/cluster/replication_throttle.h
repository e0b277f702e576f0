#pragma once

#include <algorithm>
#include <cstdint>

namespace samsa::cluster {

/// The byte budget of throttled replication (leader. / follower.replication.throttled.rate):
/// a token bucket refilled at `rate` bytes per second, holding at most one second's worth.
/// Bytes are charged after they moved, so the budget may go negative; nothing throttled moves
/// until it is positive again. I/O-free; the caller gives the time.
class replication_throttle {
public:
    static constexpr int64_t unlimited = INT64_MAX;

    /// Whether throttled replicas may move bytes now at `rate` (unlimited: always).
    bool allowed(int64_t rate, int64_t now_ms)
    {
        if (rate == unlimited) return true;
        refill(rate, now_ms);
        return _tokens > 0;
    }
    /// The most a throttled fetch may ask for now (at least 1; the leader still returns one
    /// whole batch).
    int64_t budget(int64_t rate, int64_t now_ms)
    {
        if (rate == unlimited) return unlimited;
        refill(rate, now_ms);
        return std::max<int64_t>(_tokens, 1);
    }
    void charge(int64_t rate, int64_t bytes, int64_t now_ms)
    {
        if (rate == unlimited) return;
        refill(rate, now_ms);
        _tokens -= bytes;
    }
    /// Milliseconds until allowed() holds again (0 when it does).
    int64_t wait_ms(int64_t rate, int64_t now_ms)
    {
        if (rate == unlimited || rate <= 0) return rate <= 0 ? 1000 : 0;
        refill(rate, now_ms);
        if (_tokens > 0) return 0;
        return (-_tokens + 1) * 1000 / rate + 1;
    }

private:
    void refill(int64_t rate, int64_t now_ms)
    {
        if (_last_ms < 0) {
            _last_ms = now_ms;
            _tokens = rate;
            return;
        }
        auto elapsed = std::max<int64_t>(now_ms - _last_ms, 0);
        _last_ms = now_ms;
        // rate * elapsed / 1000 without overflow for any rate below unlimited.
        auto add = elapsed >= 1000 ? rate : static_cast<int64_t>(static_cast<__int128>(rate) * elapsed / 1000);
        _tokens = std::min(rate, _tokens + add);
    }

    int64_t _tokens = 0;
    int64_t _last_ms = -1;
};

} // namespace samsa::cluster
