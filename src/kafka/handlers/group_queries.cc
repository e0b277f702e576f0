// OffsetFetch, ListGroups, DescribeGroups: answered at once from the coordinator's state.
#include "kafka/group_service.h"
#include "kafka/handlers/group_handlers.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_offset_fetch(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::offset_fetch_request>(ctx);
    ctx.broker.groups->state().fetch_offsets(req, ctx.version()).encode(out, ctx.version());
    co_return true;
}

boost::asio::awaitable<bool> handle_list_groups(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::list_groups_request>(ctx);
    ctx.broker.groups->state().list_groups(req, ctx.version()).encode(out, ctx.version());
    co_return true;
}

boost::asio::awaitable<bool> handle_describe_groups(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::describe_groups_request>(ctx);
    ctx.broker.groups->state().describe_groups(req, ctx.version()).encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
