#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/metadata.h"

namespace samsa::kafka {

namespace {

using response_topic = protocol::metadata_response::metadata_response_topic;

response_topic describe_topic(broker_context& b, const cluster::topic_info& t, bool include_ops)
{
    response_topic rt;
    rt.name = t.name;
    rt.topic_id = t.id;
    rt.is_internal = t.internal;
    if (include_ops) rt.topic_authorized_operations = all_topic_operations();
    auto& md = b.topics.metadata();
    for (auto& a : t.partitions) {
        protocol::metadata_response::metadata_response_partition p;
        p.partition_index = a.id();
        auto* s = md.state(topic_partition{t.name, a.id});
        p.leader_id = s ? s->leader() : -1;
        p.leader_epoch = s ? s->epoch() : -1;
        if (!s || s->leader() < 0 || (s->leader == b.self && !b.topics.get(t.name, a.id()))) {
            // No leader, or led here but its log is not open yet (a large topic is created in steps).
            p.error_code = code(protocol::error_code::leader_not_available);
            p.leader_id = -1;
        }
        for (auto r : a.replicas) p.replica_nodes.push_back(r());
        if (s) {
            for (auto r : s->isr) p.isr_nodes.push_back(r());
        }
        rt.partitions.push_back(std::move(p));
    }
    return rt;
}

} // namespace

boost::asio::awaitable<bool> handle_metadata(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::metadata_request>(ctx);
    auto& b = ctx.broker;
    int16_t v = ctx.version();
    protocol::metadata_response resp;
    auto& md = b.topics.metadata();
    for (auto& br : md.brokers()) {
        if (auto* ep = br.endpoint_for(ctx.conn->listener)) resp.brokers.push_back({br.id(), ep->host, ep->port, br.rack});
    }
    resp.cluster_id = b.cluster_id;
    resp.controller_id = md.controller()();
    if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = all_cluster_operations();
    bool include_ops = req.include_topic_authorized_operations;

    // v0: an empty list means every topic; v1+: null means every topic, empty means none.
    bool all = !req.topics || (v == 0 && req.topics->empty());
    if (all) {
        for (auto& [name, t] : b.topics.topics()) resp.topics.push_back(describe_topic(b, t, include_ops));
    } else {
        bool auto_create = v < 4 || req.allow_auto_topic_creation;
        for (auto& rt : *req.topics) {
            const cluster::topic_info* t = nullptr;
            if (rt.name) {
                auto ec = co_await ensure_topic(b, *rt.name, auto_create);
                if (ec != protocol::error_code::none) {
                    response_topic err;
                    err.name = rt.name;
                    err.error_code = code(ec);
                    resp.topics.push_back(std::move(err));
                    continue;
                }
                t = b.topics.find(*rt.name);
            } else {
                t = b.topics.find(rt.topic_id);
                if (!t) {
                    response_topic err;
                    err.name = std::nullopt;
                    err.topic_id = rt.topic_id;
                    err.error_code = code(protocol::error_code::unknown_topic_id);
                    resp.topics.push_back(std::move(err));
                    continue;
                }
            }
            resp.topics.push_back(describe_topic(b, *t, include_ops));
        }
    }
    resp.encode(out, v);
    co_return true;
}

} // namespace samsa::kafka
