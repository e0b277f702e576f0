// DescribeCluster: the live brokers and the controller, from the metadata cache.
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/describe_cluster.h"

namespace samsa::kafka {

namespace {
// DescribeCluster v1 endpoint types.
constexpr int8_t brokers_endpoint = 1;
} // namespace

boost::asio::awaitable<bool> handle_describe_cluster(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::describe_cluster_request>(ctx);
    auto& b = ctx.broker;
    protocol::describe_cluster_response resp;
    resp.endpoint_type = brokers_endpoint;
    resp.cluster_id = b.cluster_id;
    if (req.endpoint_type != brokers_endpoint) {
        // Brokers answer for broker endpoints; a client asking for controllers has the wrong
        // bootstrap servers.
        resp.error_code = code(protocol::error_code::mismatched_endpoint_type);
        resp.error_message = "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type "
                             "CONTROLLER";
        resp.encode(out, ctx.version());
        co_return true;
    }
    auto& md = b.topics.metadata();
    resp.controller_id = md.controller()();
    for (auto& br : md.brokers()) {
        if (auto* ep = br.endpoint_for(ctx.conn->listener)) resp.brokers.push_back({br.id(), ep->host, ep->port, br.rack});
    }
    if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = all_cluster_operations();
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
