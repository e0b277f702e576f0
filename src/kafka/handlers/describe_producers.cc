// DescribeProducers: the producer state of partitions this broker leads (what
// `kafka-transactions.sh describe-producers` prints).
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/describe_producers.h"

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<bool> handle_describe_producers(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::describe_producers_request>(ctx);
    auto& b = ctx.broker;
    protocol::describe_producers_response resp;
    for (auto& t : req.topics) {
        protocol::describe_producers_response::topic_response tr;
        tr.name = t.name;
        for (auto index : t.partition_indexes) {
            protocol::describe_producers_response::partition_response pr;
            pr.partition_index = index;
            auto ec = topic_error(b, t.name);
            auto part = ec == error_code::none ? b.topics.get(t.name, index) : nullptr;
            if (ec == error_code::none && !part) ec = no_replica_error(b, t.name, index);
            if (part && !part->is_leader()) ec = error_code::not_leader_or_follower;
            if (ec != error_code::none) {
                pr.error_code = code(ec);
            } else {
                for (auto& [pid, e] : part->producers().entries()) {
                    protocol::describe_producers_response::producer_state ps;
                    ps.producer_id = pid();
                    ps.producer_epoch = e.epoch();
                    ps.last_sequence = e.last_seq();
                    ps.last_timestamp = e.last_timestamp();
                    ps.coordinator_epoch = e.coordinator_epoch;
                    ps.current_txn_start_offset = e.current_txn_first_offset();
                    pr.active_producers.push_back(ps);
                }
            }
            tr.partitions.push_back(std::move(pr));
        }
        resp.topics.push_back(std::move(tr));
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
