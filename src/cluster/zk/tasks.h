#pragma once

#include "base/gate.h"
#include "cluster/zk/session.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <system_error>

namespace samsa::cluster::zk {

/// Runs `task` detached on `ex` inside `g` (nothing when `g` is closed); an exception it throws
/// is logged with `what`.
void spawn_task(boost::asio::any_io_executor ex, gate& g, boost::asio::awaitable<void> task, const char* what);

/// Suspends for `d` on `ex`.
boost::asio::awaitable<void> pause(boost::asio::any_io_executor ex, std::chrono::milliseconds d);

inline bool is(const std::error_code& ec, session_errc e) { return ec == make_error_code(e); }

} // namespace samsa::cluster::zk
