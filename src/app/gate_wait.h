#pragma once

#include "base/gate.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace samsa::app {

/// Closes `g` and completes once no task is left inside it. Cancellable (per-operation
/// cancellation, as `co_await (wait_closed(g) || timer.async_wait(use_awaitable))` issues):
/// a cancelled wait returns with the gate closed but maybe not empty — check g.count().
/// Runs on the gate's thread.
inline boost::asio::awaitable<void> wait_closed(gate& g)
{
    namespace asio = boost::asio;
    auto wake = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                     asio::steady_timer::time_point::max());
    auto empty = std::make_shared<bool>(false);
    // Weak: a wait cancelled by its deadline leaves this callback in the gate, and the timer
    // must not outlive the wait (nor the io_context it belongs to).
    g.close([weak = std::weak_ptr<asio::steady_timer>(wake), empty] {
        *empty = true;
        if (auto w = weak.lock()) w->cancel();
    });
    if (*empty) co_return;
    co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
}

} // namespace samsa::app
