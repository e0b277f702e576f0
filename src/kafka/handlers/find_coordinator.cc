#include "kafka/errors.h"
#include "kafka/group_service.h"
#include "kafka/handlers/group_handlers.h"
#include "protocol/messages/find_coordinator.h"

namespace samsa::kafka {

namespace {
using protocol::error_code;

/// One coordinator answer: this node for groups; transactions are not served yet.
template<typename T>
void locate(request_context& ctx, int8_t key_type, T& r)
{
    auto& b = ctx.broker;
    auto err = error_code::none;
    if (key_type == 1) err = error_code::coordinator_not_available;
    else if (key_type != 0) err = error_code::invalid_request;
    else if (!b.groups || !b.groups->ensure_offsets_topic()) err = error_code::coordinator_not_available;
    auto* ep = b.endpoint_for(ctx.conn->listener);
    if (err == error_code::none && ep) {
        r.node_id = b.self();
        r.host = ep->host;
        r.port = ep->port;
    } else {
        r.node_id = -1;
        r.host = "";
        r.port = -1;
        if (err == error_code::none) err = error_code::coordinator_not_available;
    }
    r.error_code = code(err);
    if (err == error_code::none) r.error_message = std::nullopt;
    else r.error_message = std::string(protocol::message(err));
}
} // namespace

boost::asio::awaitable<bool> handle_find_coordinator(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::find_coordinator_request>(ctx);
    protocol::find_coordinator_response resp;
    if (ctx.version() < 4) {
        locate(ctx, req.key_type, resp);
    } else {
        for (auto& key : req.coordinator_keys) {
            protocol::find_coordinator_response::coordinator c;
            c.key = key;
            locate(ctx, req.key_type, c);
            resp.coordinators.push_back(std::move(c));
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
