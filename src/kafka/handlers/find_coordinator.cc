// FindCoordinator: the broker leading the `__consumer_offsets` partition a group hashes to
// (key type 0), or the `__transaction_state` partition a transactional id hashes to (key type
// 1), creating the topic first if needed, as Kafka does.
#include "coordinator/offsets_records.h"
#include "kafka/errors.h"
#include "kafka/group_service.h"
#include "kafka/txn_service.h"
#include "kafka/handlers/group_handlers.h"
#include "protocol/messages/find_coordinator.h"

namespace samsa::kafka {

namespace {
using protocol::error_code;

/// Where the group's coordinator is: the leader of its offsets partition, and that broker's
/// endpoint for the client's listener. nullptr when not known (no leader, unregistered).
const cluster::broker_endpoint* coordinator_of(request_context& ctx, int8_t key_type, const std::string& key,
                                               int32_t& node)
{
    auto& b = ctx.broker;
    auto& md = b.topics.metadata();
    const cluster::partition_state* state = nullptr;
    if (key_type == 0) {
        int32_t p = coordinator::partition_for_group(key, b.groups->offsets_partitions());
        state = md.state(topic_partition{group_service::offsets_topic, partition_id(p)});
    } else {
        int32_t p = b.txns->state().partition_for(key);
        state = md.state(topic_partition{txn_service::state_topic, partition_id(p)});
    }
    if (!state || state->leader() < 0) return nullptr;
    auto* broker = md.broker(state->leader);
    if (!broker) return nullptr;
    node = state->leader();
    return broker->endpoint_for(ctx.conn->listener);
}

template<typename T>
boost::asio::awaitable<void> locate(request_context& ctx, int8_t key_type, std::string key, T& r)
{
    auto& b = ctx.broker;
    auto err = error_code::none;
    if (key_type == 1) {
        if (key.empty()) err = error_code::invalid_request;
        else if (!b.txns || !co_await b.txns->ensure_state_topic()) err = error_code::coordinator_not_available;
    } else if (key_type != 0) {
        err = error_code::invalid_request;
    } else if (!b.groups || !co_await b.groups->ensure_offsets_topic()) {
        err = error_code::coordinator_not_available;
    }
    int32_t node = -1;
    auto* ep = err == error_code::none ? coordinator_of(ctx, key_type, key, node) : nullptr;
    if (ep) {
        r.node_id = node;
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
        co_await locate(ctx, req.key_type, req.key, resp);
    } else {
        for (auto& key : req.coordinator_keys) {
            protocol::find_coordinator_response::coordinator c;
            c.key = key;
            co_await locate(ctx, req.key_type, key, c);
            resp.coordinators.push_back(std::move(c));
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
