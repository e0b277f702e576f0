// The controller-to-broker APIs of ZooKeeper mode: LeaderAndIsr (4), StopReplica (5) and
// UpdateMetadata (6), applied through cluster::controlled_broker (an embedded node has no
// controller: it answers STALE_CONTROLLER_EPOCH and changes nothing); and the broker-to-
// controller ControlledShutdown (7), answered by the controller (NOT_CONTROLLER elsewhere).
#include "cluster/controlled_broker.h"
#include "kafka/handlers/handlers.h"
#include "protocol/messages/controlled_shutdown.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"
#include "protocol/messages/update_metadata.h"

namespace samsa::kafka {

namespace {
std::vector<node_id> nodes(const std::vector<int32_t>& v)
{
    std::vector<node_id> out;
    for (auto i : v) out.push_back(node_id(i));
    return out;
}

template<typename State>
cluster::partition_info info_of(const std::string& topic, const protocol::uuid& id, const State& s)
{
    cluster::partition_info p;
    p.tp = topic_partition{topic, partition_id(s.partition_index)};
    p.topic_id = id;
    p.state.leader = node_id(s.leader);
    p.state.epoch = leader_epoch(s.leader_epoch);
    p.state.isr = nodes(s.isr);
    p.replicas = nodes(s.replicas);
    return p;
}
} // namespace

boost::asio::awaitable<bool> handle_leader_and_isr(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::leader_and_isr_request>(ctx);
    protocol::leader_and_isr_response resp;
    auto* cb = ctx.broker.controlled;
    std::vector<cluster::partition_info> parts;
    std::map<std::string, protocol::uuid> ids;
    for (auto& s : req.ungrouped_partition_states) {
        auto p = info_of(s.topic_name, protocol::uuid{}, s);
        p.version = s.partition_epoch;
        parts.push_back(std::move(p));
    }
    for (auto& t : req.topic_states) {
        ids[t.topic_name] = t.topic_id;
        for (auto& s : t.partition_states) {
            auto p = info_of(t.topic_name, t.topic_id, s);
            p.version = s.partition_epoch;
            parts.push_back(std::move(p));
        }
    }
    auto done = cb ? cb->leader_and_isr(req.controller_epoch, parts)
                   : decltype(cb->leader_and_isr(0, {}))(cluster::make_error(cluster::errc::stale_epoch));
    if (!done) {
        resp.error_code = code(to_kafka_error(done.error().code));
    } else {
        std::map<std::string, std::vector<protocol::leader_and_isr_response::leader_and_isr_partition_error>> by_topic;
        for (auto& [tp, ec] : *done) {
            protocol::leader_and_isr_response::leader_and_isr_partition_error e;
            e.topic_name = tp.topic;
            e.partition_index = tp.partition();
            e.error_code = ec ? code(to_kafka_error(ec)) : 0;
            if (ctx.version() < 5) resp.partition_errors.push_back(e);
            else by_topic[tp.topic].push_back(e);
        }
        for (auto& [name, errs] : by_topic) resp.topics.push_back({ids[name], std::move(errs)});
    }
    resp.encode(out, ctx.version());
    co_return true;
}

boost::asio::awaitable<bool> handle_update_metadata(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::update_metadata_request>(ctx);
    protocol::update_metadata_response resp;
    auto* cb = ctx.broker.controlled;
    if (!cb) {
        resp.error_code = code(protocol::error_code::stale_controller_epoch);
        resp.encode(out, ctx.version());
        co_return true;
    }
    std::vector<cluster::broker_info> brokers;
    for (auto& b : req.live_brokers) {
        cluster::broker_info i;
        i.id = node_id(b.id);
        i.rack = b.rack;
        if (ctx.version() == 0) i.endpoints.push_back({"PLAINTEXT", b.v0_host, b.v0_port});
        for (auto& e : b.endpoints) i.endpoints.push_back({e.listener.empty() ? "PLAINTEXT" : e.listener, e.host, e.port});
        brokers.push_back(std::move(i));
    }
    std::vector<cluster::partition_info> parts;
    auto add = [&](const std::string& topic, const protocol::uuid& id, const auto& s) {
        auto p = info_of(topic, id, s);
        p.version = s.zk_version;
        p.offline_replicas = nodes(s.offline_replicas);
        parts.push_back(std::move(p));
    };
    for (auto& s : req.ungrouped_partition_states) add(s.topic_name, protocol::uuid{}, s);
    for (auto& t : req.topic_states) {
        for (auto& s : t.partition_states) add(t.topic_name, t.topic_id, s);
    }
    auto done = co_await cb->update_metadata(req.controller_id, req.controller_epoch, std::move(brokers), std::move(parts));
    if (!done) resp.error_code = code(to_kafka_error(done.error().code));
    resp.encode(out, ctx.version());
    co_return true;
}

boost::asio::awaitable<bool> handle_stop_replica(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::stop_replica_request>(ctx);
    protocol::stop_replica_response resp;
    auto* cb = ctx.broker.controlled;
    std::vector<topic_partition> remove, keep;
    for (auto& p : req.ungrouped_partitions) {
        (req.delete_partitions ? remove : keep).push_back({p.topic_name, partition_id(p.partition_index)});
    }
    for (auto& t : req.topics) {
        for (auto p : t.partition_indexes) (req.delete_partitions ? remove : keep).push_back({t.name, partition_id(p)});
    }
    for (auto& t : req.topic_states) {
        for (auto& p : t.partition_states) {
            (p.delete_partition ? remove : keep).push_back({t.topic_name, partition_id(p.partition_index)});
        }
    }
    if (!cb) {
        resp.error_code = code(protocol::error_code::stale_controller_epoch);
        resp.encode(out, ctx.version());
        co_return true;
    }
    for (auto* set : {&remove, &keep}) {
        auto done = cb->stop_replica(req.controller_epoch, *set, set == &remove);
        if (!done) {
            resp.error_code = code(to_kafka_error(done.error().code));
            break;
        }
        for (auto& [tp, ec] : *done) {
            resp.partition_errors.push_back({tp.topic, tp.partition(), static_cast<int16_t>(ec ? code(to_kafka_error(ec)) : 0)});
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

boost::asio::awaitable<bool> handle_controlled_shutdown(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::controlled_shutdown_request>(ctx);
    protocol::controlled_shutdown_response resp;
    controlled_shutdown_answer a{protocol::error_code::not_controller, {}};
    if (ctx.broker.controlled_shutdown) a = co_await ctx.broker.controlled_shutdown(node_id(req.broker_id), req.broker_epoch);
    resp.error_code = code(a.error);
    for (auto& tp : a.remaining) resp.remaining_partitions.push_back({tp.topic, tp.partition()});
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
