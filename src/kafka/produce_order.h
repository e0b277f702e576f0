#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <utility>

namespace samsa::kafka {

/// Keeps the appends of each connection's Produce requests in arrival order. A Produce request
/// may suspend while its compressed batches are checked on a worker thread; a later request
/// of the same connection must still append after it, as when every request appended before
/// suspending (net::request_handler starts handlers in arrival order). Each request takes a
/// ticket on arrival, before it suspends, waits until its ticket is first of its connection,
/// appends, then leaves; requests of different connections never wait for each other.
///
/// Used on the broker thread only. A request that never takes part costs nothing; a connection
/// with no request in flight has no entry.
class produce_order {
public:
    /// The caller's place in `conn`'s queue.
    uint64_t enter(uint64_t conn)
    {
        uint64_t t = ++_next;
        _queues[conn].push_back(entry{t, {}});
        return t;
    }

    /// Whether every earlier ticket of `conn` has left.
    bool first(uint64_t conn, uint64_t ticket) const
    {
        auto it = _queues.find(conn);
        return it == _queues.end() || it->second.empty() || it->second.front().ticket == ticket;
    }

    /// Calls `wake` (once, on this thread) when `ticket` becomes first; at once if it is.
    void on_first(uint64_t conn, uint64_t ticket, std::function<void()> wake)
    {
        if (first(conn, ticket)) {
            wake();
            return;
        }
        for (auto& e : _queues[conn]) {
            if (e.ticket == ticket) e.wake = std::move(wake);
        }
    }

    /// Forgets the wake function of `ticket` (its waiter is gone).
    void forget_wake(uint64_t conn, uint64_t ticket)
    {
        auto it = _queues.find(conn);
        if (it == _queues.end()) return;
        for (auto& e : it->second) {
            if (e.ticket == ticket) e.wake = nullptr;
        }
    }

    /// Leaves the queue (a request that failed early may leave before its turn) and wakes the
    /// request that is first now.
    void leave(uint64_t conn, uint64_t ticket)
    {
        auto it = _queues.find(conn);
        if (it == _queues.end()) return;
        auto& q = it->second;
        for (auto e = q.begin(); e != q.end(); ++e) {
            if (e->ticket == ticket) {
                q.erase(e);
                break;
            }
        }
        if (q.empty()) {
            _queues.erase(it);
            return;
        }
        if (auto wake = std::exchange(q.front().wake, nullptr)) wake();
    }

    /// Connections with a request in the queue (for tests).
    size_t connections() const { return _queues.size(); }

private:
    struct entry {
        uint64_t ticket;
        std::function<void()> wake;
    };
    std::unordered_map<uint64_t, std::deque<entry>> _queues;
    uint64_t _next = 0;
};

} // namespace samsa::kafka
