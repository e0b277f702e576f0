#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

namespace samsa {

/// Thrown by gate::enter() once the gate is closed.
class gate_closed_error : public std::runtime_error {
public:
    gate_closed_error() : std::runtime_error("the gate is closed") {}
};

/// Counts the tasks running in a component so shutdown can wait for them (Seastar's gate):
/// every detached task holds a gate::holder for as long as it runs; close() refuses new
/// entries and calls back once the count is zero. Asio-free: the awaitable form lives next to
/// the reactor (app/gate_wait.h: `co_await wait_closed(g)`).
///
/// Owned by one thread (the shard that runs the tasks); not thread-safe. The gate must outlive
/// its holders; it asserts on destruction that none is left.
class gate {
public:
    /// One task inside the gate; leaving (destruction or release()) decrements the count and,
    /// when the gate is closed and this was the last one, runs the close callbacks. Move-only.
    class holder {
    public:
        holder() = default;
        holder(holder&& o) noexcept : _g(o._g) { o._g = nullptr; }
        holder& operator=(holder&& o) noexcept
        {
            if (this != &o) {
                release();
                _g = o._g;
                o._g = nullptr;
            }
            return *this;
        }
        holder(const holder&) = delete;
        holder& operator=(const holder&) = delete;
        ~holder() { release(); }

        /// Leaves the gate now (idempotent).
        void release();
        /// Whether this holder is inside a gate (not moved from or released).
        explicit operator bool() const { return _g != nullptr; }

    private:
        friend class gate;
        explicit holder(gate* g) : _g(g) {}
        gate* _g = nullptr;
    };

    gate() = default;
    ~gate();
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;

    /// Enters the gate; throws gate_closed_error once close() was called.
    holder enter();
    /// Enters the gate, or nullopt once it is closed.
    std::optional<holder> try_enter();

    /// Refuses new entries from now on; `on_empty` (if set) runs once no holder is left: at
    /// once when none is, else when the last one leaves (inside that holder's release). May be
    /// called again (e.g. a second waiter after a deadline): each callback runs once.
    void close(std::function<void()> on_empty = {});

    bool is_closed() const { return _closed; }
    size_t count() const { return _count; }

private:
    void leave();

    size_t _count = 0;
    bool _closed = false;
    std::vector<std::function<void()>> _on_empty;
};

} // namespace samsa
