#include "kafka/handlers/group_handlers.h"
#include "kafka/handlers/group_membership.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_offset_commit(request_context& ctx, protocol::writer& out)
{
    auto& topics = ctx.broker.topics;
    auto exists = [&topics](const topic_partition& tp) {
        auto* t = topics.find(tp.topic);
        return t && tp.partition() >= 0 && tp.partition() < static_cast<int32_t>(t->partitions.size());
    };
    co_return co_await serve_group_request<protocol::offset_commit_request, protocol::offset_commit_response>(
        ctx, out, [&](auto& gc, auto id, auto& req, int16_t v) { return gc.commit_offsets(id, req, v, exists); });
}

} // namespace samsa::kafka
