#pragma once

#include "kafka/group_service.h"
#include "kafka/errors.h"
#include "kafka/handler.h"

#include <boost/asio/awaitable.hpp>

#include <type_traits>

namespace samsa::kafka {

/// The answer to a group request this broker does not coordinate (`err`: NOT_COORDINATOR,
/// COORDINATOR_NOT_AVAILABLE): the client looks for the coordinator again.
template<typename Response, typename Request>
Response not_served(const Request& req, int16_t err)
{
    if constexpr (std::is_same_v<Response, protocol::offset_commit_response>) {
        return coordinator::every_partition_failed<Response>(req, err);
    } else {
        Response r;
        r.error_code = err;
        if constexpr (std::is_same_v<Response, protocol::join_group_response>) {
            r.generation_id = -1;
            r.member_id = req.member_id;
            r.protocol_name = std::nullopt;
        }
        return r;
    }
}

/// The common shape of the group handlers: decode `Request`, answer NOT_COORDINATOR unless this
/// broker coordinates its group, hand it to the group service (which may park it until the
/// rebalance progresses), encode the `Response` it yields.
template<typename Request, typename Response, typename Call>
boost::asio::awaitable<bool> serve_group_request(request_context& ctx, protocol::writer& out, Call call)
{
    auto req = decode_request<Request>(ctx);
    int16_t v = ctx.version();
    if (auto err = ctx.broker.groups->coordinator_for(req.group_id); err != protocol::error_code::none) {
        auto r = not_served<Response>(req, code(err));
        r.encode(out, v);
        co_return true;
    }
    auto resp = co_await ctx.broker.groups->call(
        [&](coordinator::request_id id) { return call(ctx.broker.groups->state(), id, req, v); });
    std::get<Response>(resp).encode(out, v);
    co_return true;
}

} // namespace samsa::kafka
