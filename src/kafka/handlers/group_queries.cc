// OffsetFetch, ListGroups, DescribeGroups: answered at once from the coordinator's state. A group
// this broker does not coordinate gets NOT_COORDINATOR (COORDINATOR_NOT_AVAILABLE before
// __consumer_offsets exists); ListGroups lists the groups coordinated here.
#include "kafka/errors.h"
#include "kafka/group_service.h"
#include "kafka/handlers/group_handlers.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_offset_fetch(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::offset_fetch_request>(ctx);
    auto v = ctx.version();
    auto& svc = *ctx.broker.groups;
    if (v < 8) {
        if (auto err = svc.coordinator_for(req.group_id); err != protocol::error_code::none) {
            protocol::offset_fetch_response resp;
            if (v >= 2) {
                resp.error_code = code(err);
            } else if (req.topics) {
                // v0-1 have no top-level error: every asked partition carries it.
                for (auto& t : *req.topics) {
                    auto& rt = resp.topics.emplace_back();
                    rt.name = t.name;
                    for (auto p : t.partition_indexes) rt.partitions.push_back({p, -1, -1, "", code(err)});
                }
            }
            resp.encode(out, v);
            co_return true;
        }
        svc.state().fetch_offsets(req, v).encode(out, v);
        co_return true;
    }
    std::map<std::string, protocol::error_code> refused;
    for (auto& g : req.groups) {
        if (auto err = svc.coordinator_for(g.group_id); err != protocol::error_code::none) refused[g.group_id] = err;
    }
    auto resp = svc.state().fetch_offsets(req, v);
    for (auto& g : resp.groups) {
        if (auto it = refused.find(g.group_id); it != refused.end()) {
            g.topics.clear();
            g.error_code = code(it->second);
        }
    }
    resp.encode(out, v);
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
    auto& svc = *ctx.broker.groups;
    std::map<std::string, protocol::error_code> refused;
    for (auto& g : req.groups) {
        if (auto err = svc.coordinator_for(g); err != protocol::error_code::none) refused[g] = err;
    }
    auto resp = svc.state().describe_groups(req, ctx.version());
    for (auto& g : resp.groups) {
        if (auto it = refused.find(g.group_id); it != refused.end()) {
            protocol::describe_groups_response::described_group r;
            r.group_id = g.group_id;
            r.error_code = code(it->second);
            g = std::move(r);
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
