#include "kafka/handlers/group_handlers.h"
#include "kafka/handlers/group_membership.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_delete_groups(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::delete_groups_request>(ctx);
    int16_t v = ctx.version();
    auto& svc = *ctx.broker.groups;
    auto resp = co_await svc.call_many([&](coordinator::request_id id) { return svc.state().delete_groups(id, req, v); });
    std::get<protocol::delete_groups_response>(resp).encode(out, v);
    co_return true;
}

} // namespace samsa::kafka
