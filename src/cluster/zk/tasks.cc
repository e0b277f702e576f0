#include "cluster/zk/tasks.h"

#include "base/logging.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace samsa::cluster::zk {

namespace asio = boost::asio;

namespace {
constexpr logger log{"zookeeper"};
} // namespace

void spawn_task(asio::any_io_executor ex, gate& g, asio::awaitable<void> task, const char* what)
{
    auto h = g.try_enter();
    if (!h) return;
    auto run = [](gate::holder, asio::awaitable<void> t) -> asio::awaitable<void> { co_await std::move(t); };
    asio::co_spawn(ex, run(std::move(*h), std::move(task)), [what](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log.error("{} task failed: {}", what, x.what());
        }
    });
}

asio::awaitable<void> pause(asio::any_io_executor ex, std::chrono::milliseconds d)
{
    asio::steady_timer t(ex);
    t.expires_after(d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

} // namespace samsa::cluster::zk
