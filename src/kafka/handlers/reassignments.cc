// AlterPartitionReassignments (45) and ListPartitionReassignments (46): answered by the
// controller (broker_context::alter_reassignments / list_reassignments; NOT_CONTROLLER on the
// other brokers). An embedded node has one broker, so nothing to move a replica to.
#include "kafka/handlers/handlers.h"
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/list_partition_reassignments.h"

#include <map>

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<bool> handle_alter_partition_reassignments(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::alter_partition_reassignments_request>(ctx);
    protocol::alter_partition_reassignments_response resp;
    std::vector<std::pair<topic_partition, std::optional<std::vector<int32_t>>>> asked;
    for (auto& t : req.topics) {
        for (auto& p : t.partitions) asked.emplace_back(topic_partition{t.name, partition_id(p.partition_index)}, p.replicas);
    }
    partition_errors_answer a;
    if (ctx.broker.alter_reassignments) {
        auto alter = ctx.broker.alter_reassignments;
        a = co_await alter(std::move(asked), req.timeout_ms);
    } else {
        for (auto& [tp, target] : asked) {
            auto* t = ctx.broker.topics.find(tp.topic);
            bool known = t && tp.partition() >= 0 && static_cast<size_t>(tp.partition()) < t->partitions.size();
            if (!known) a.results.push_back({tp, error_code::unknown_topic_or_partition, "No such partition"});
            else if (!target) a.results.push_back({tp, error_code::no_reassignment_in_progress, "No reassignment is in progress"});
            else if (*target == std::vector<int32_t>{ctx.broker.self()}) a.results.push_back({tp, error_code::none, {}});
            else a.results.push_back({tp, error_code::invalid_replica_assignment, "A single node has no other broker"});
        }
    }
    resp.error_code = code(a.error);
    if (a.error != error_code::none) resp.error_message = std::string(protocol::to_string(a.error));
    std::map<std::string, std::vector<protocol::alter_partition_reassignments_response::reassignable_partition_response>> by_topic;
    for (auto& r : a.results) {
        protocol::alter_partition_reassignments_response::reassignable_partition_response pr;
        pr.partition_index = r.tp.partition();
        pr.error_code = code(r.error);
        if (r.error != error_code::none) pr.error_message = r.message;
        by_topic[r.tp.topic].push_back(std::move(pr));
    }
    for (auto& [name, parts] : by_topic) resp.responses.push_back({name, std::move(parts)});
    resp.encode(out, ctx.version());
    co_return true;
}

boost::asio::awaitable<bool> handle_list_partition_reassignments(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::list_partition_reassignments_request>(ctx);
    protocol::list_partition_reassignments_response resp;
    std::optional<std::vector<topic_partition>> only;
    if (req.topics) {
        only.emplace();
        for (auto& t : *req.topics) {
            for (auto p : t.partition_indexes) only->push_back(topic_partition{t.name, partition_id(p)});
        }
    }
    reassignments_answer a;
    if (ctx.broker.list_reassignments) a = ctx.broker.list_reassignments(std::move(only));
    resp.error_code = code(a.error);
    if (a.error != error_code::none) resp.error_message = std::string(protocol::to_string(a.error));
    std::map<std::string, std::vector<protocol::list_partition_reassignments_response::ongoing_partition_reassignment>> by_topic;
    for (auto& o : a.partitions) by_topic[o.tp.topic].push_back({o.tp.partition(), o.replicas, o.adding, o.removing});
    for (auto& [name, parts] : by_topic) resp.topics.push_back({name, std::move(parts)});
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
