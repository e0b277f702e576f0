#pragma once

#include "base/gate.h"
#include "base/ids.h"
#include "cluster/zk/session.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <system_error>
#include <vector>

namespace samsa::cluster::zk {

/// Runs `task` detached on `ex` inside `g` (nothing when `g` is closed); an exception it throws
/// is logged with `what`.
void spawn_task(boost::asio::any_io_executor ex, gate& g, boost::asio::awaitable<void> task, const char* what);

/// Suspends for `d` on `ex`.
boost::asio::awaitable<void> pause(boost::asio::any_io_executor ex, std::chrono::milliseconds d);

inline bool is(const std::error_code& ec, session_errc e) { return ec == make_error_code(e); }

/// Broker ids as the znodes' JSON holds them.
inline std::vector<int32_t> raw_ids(const std::vector<node_id>& v)
{
    std::vector<int32_t> out;
    out.reserve(v.size());
    for (auto n : v) out.push_back(n());
    return out;
}

} // namespace samsa::cluster::zk
