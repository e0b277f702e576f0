#pragma once

#include "kafka/group_service.h"
#include "kafka/handler.h"

#include <boost/asio/awaitable.hpp>

namespace samsa::kafka {

/// The common shape of the group handlers: decode `Request`, hand it to the group service
/// (which may park it until the rebalance progresses), encode the `Response` it yields.
template<typename Request, typename Response, typename Call>
boost::asio::awaitable<bool> serve_group_request(request_context& ctx, protocol::writer& out, Call call)
{
    auto req = decode_request<Request>(ctx);
    int16_t v = ctx.version();
    auto resp = co_await ctx.broker.groups->call(
        [&](coordinator::request_id id) { return call(ctx.broker.groups->state(), id, req, v); });
    std::get<Response>(resp).encode(out, v);
    co_return true;
}

} // namespace samsa::kafka
