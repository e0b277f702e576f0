#include "kafka/errors.h"
#include "kafka/handlers/group_handlers.h"
#include "kafka/handlers/group_membership.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_delete_groups(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::delete_groups_request>(ctx);
    int16_t v = ctx.version();
    auto& svc = *ctx.broker.groups;
    // Groups another broker coordinates are answered here; the rest go to the coordinator.
    protocol::delete_groups_response refused;
    std::vector<std::string> mine;
    for (auto& g : req.groups_names) {
        auto err = svc.coordinator_for(g);
        if (err == protocol::error_code::none) mine.push_back(g);
        else refused.results.push_back({g, code(err)});
    }
    req.groups_names = std::move(mine);
    protocol::delete_groups_response resp;
    if (!req.groups_names.empty()) {
        auto r = co_await svc.call_many([&](coordinator::request_id id) { return svc.state().delete_groups(id, req, v); });
        resp = std::get<protocol::delete_groups_response>(std::move(r));
    }
    for (auto& r : refused.results) resp.results.push_back(std::move(r));
    resp.encode(out, v);
    co_return true;
}

} // namespace samsa::kafka
