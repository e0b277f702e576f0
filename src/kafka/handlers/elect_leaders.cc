// ElectLeaders (API 43): preferred or unclean leader elections, carried out by the controller
// (broker_context::elect_leaders; NOT_CONTROLLER on other brokers, which clients follow to the
// controller named in Metadata). An embedded node answers itself: every partition has one
// replica, which leads, so no election is ever needed.
#include "kafka/handlers/handlers.h"
#include "protocol/messages/elect_leaders.h"

#include <map>

namespace samsa::kafka {

namespace {
using protocol::error_code;

elect_leaders_answer answer_embedded(request_context& ctx, const std::optional<std::vector<topic_partition>>& parts)
{
    elect_leaders_answer a;
    if (!parts) return a; // all partitions: nothing to elect, and not-needed results are left out
    for (auto& tp : *parts) {
        auto* t = ctx.broker.topics.find(tp.topic);
        bool known = t && !t->deleting && tp.partition() >= 0 && static_cast<size_t>(tp.partition()) < t->partitions.size();
        a.results.push_back({tp, known ? error_code::election_not_needed : error_code::unknown_topic_or_partition,
                             known ? "The partition's only replica leads" : "No such partition"});
    }
    return a;
}
} // namespace

boost::asio::awaitable<bool> handle_elect_leaders(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::elect_leaders_request>(ctx);
    protocol::elect_leaders_response resp;
    std::optional<std::vector<topic_partition>> parts;
    if (req.topic_partitions) {
        parts.emplace();
        for (auto& t : *req.topic_partitions) {
            for (auto p : t.partitions) parts->push_back(topic_partition{t.topic, partition_id(p)});
        }
    }
    elect_leaders_answer a;
    if (req.election_type != 0 && req.election_type != 1) {
        a.error = error_code::invalid_request;
    } else if (ctx.broker.elect_leaders) {
        auto elect = ctx.broker.elect_leaders;
        a = co_await elect(req.election_type, parts, req.timeout_ms);
    } else {
        a = answer_embedded(ctx, parts);
    }
    if (a.error != error_code::none && parts) {
        // Version 0 has no top-level error: every partition carries it.
        for (auto& tp : *parts) a.results.push_back({tp, a.error, {}});
    }
    resp.error_code = code(a.error);
    std::map<std::string, std::vector<protocol::elect_leaders_response::partition_result>> by_topic;
    for (auto& r : a.results) {
        protocol::elect_leaders_response::partition_result pr;
        pr.partition_id = r.tp.partition();
        pr.error_code = code(r.error);
        if (r.error != error_code::none) pr.error_message = r.message;
        by_topic[r.tp.topic].push_back(std::move(pr));
    }
    for (auto& [topic, results] : by_topic) resp.replica_election_results.push_back({topic, std::move(results)});
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
