#include "kafka/handlers/group_handlers.h"
#include "kafka/handlers/group_membership.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_leave_group(request_context& ctx, protocol::writer& out)
{
    co_return co_await serve_group_request<protocol::leave_group_request, protocol::leave_group_response>(
        ctx, out, [](auto& gc, auto id, auto& req, int16_t v) { return gc.leave_group(id, req, v); });
}

} // namespace samsa::kafka
