#include "kafka/handlers/group_handlers.h"
#include "kafka/handlers/group_membership.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_join_group(request_context& ctx, protocol::writer& out)
{
    coordinator::client_info client{ctx.header.client_id.value_or(""), client_host_of(ctx.conn->peer)};
    co_return co_await serve_group_request<protocol::join_group_request, protocol::join_group_response>(
        ctx, out, [&](auto& gc, auto id, auto& req, int16_t v) { return gc.join_group(id, req, v, client); });
}

} // namespace samsa::kafka
