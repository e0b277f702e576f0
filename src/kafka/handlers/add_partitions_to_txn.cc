// AddPartitionsToTxn: a transactional producer names the partitions it is about to write to
// (v0-3), or a broker asks whether they are part of the transaction (v4+, verify_only).
#include "kafka/handlers/handlers.h"
#include "kafka/handlers/txn_common.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/add_partitions_to_txn.h"

namespace samsa::kafka {

using protocol::error_code;

namespace {
using topic_result = protocol::add_partitions_to_txn_response::add_partitions_to_txn_topic_result;
using request_topic = protocol::add_partitions_to_txn_request::add_partitions_to_txn_topic;

std::vector<topic_result> results_of(const std::vector<request_topic>& topics, auto error_of)
{
    std::vector<topic_result> out;
    for (auto& t : topics) {
        topic_result tr;
        tr.name = t.name;
        for (auto p : t.partitions) tr.results_by_partition.push_back({p, code(error_of(t.name, p))});
        out.push_back(std::move(tr));
    }
    return out;
}

boost::asio::awaitable<std::vector<topic_result>> add_one(request_context& ctx, std::string id, int64_t pid,
                                                          int16_t epoch, std::vector<request_topic> topics,
                                                          bool verify_only)
{
    auto& b = ctx.broker;
    auto err = co_await txn_coordinator_error(ctx, id);
    if (err != error_code::none) co_return results_of(topics, [&](auto&, int32_t) { return err; });
    // A partition that does not exist fails the whole request: it gets its error and the
    // others OPERATION_NOT_ATTEMPTED, as Kafka answers.
    std::vector<topic_partition> parts;
    bool missing = false;
    auto exists = [&](const std::string& topic, int32_t p) {
        return topic_error(b, topic) == error_code::none &&
               b.topics.metadata().state(topic_partition{topic, partition_id(p)}) != nullptr;
    };
    for (auto& t : topics) {
        for (auto p : t.partitions) {
            if (!exists(t.name, p)) missing = true;
            parts.push_back({t.name, partition_id(p)});
        }
    }
    if (missing) {
        co_return results_of(topics, [&](const std::string& topic, int32_t p) {
            return exists(topic, p) ? error_code::operation_not_attempted : error_code::unknown_topic_or_partition;
        });
    }
    auto& tc = b.txns->state();
    if (verify_only) {
        err = tc.verify_partitions(id, pid, epoch, parts);
    } else {
        auto r = tc.add_partitions(id, pid, epoch, parts);
        err = co_await b.txns->apply(std::move(r));
    }
    err = fenced_as(err, ctx.version() < 2);
    co_return results_of(topics, [&](auto&, int32_t) { return err; });
}
} // namespace

boost::asio::awaitable<bool> handle_add_partitions_to_txn(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::add_partitions_to_txn_request>(ctx);
    protocol::add_partitions_to_txn_response resp;
    if (ctx.version() < 4) {
        resp.results_by_topic_v3_and_below =
            co_await add_one(ctx, req.v3_and_below_transactional_id, req.v3_and_below_producer_id,
                             req.v3_and_below_producer_epoch, req.v3_and_below_topics, false);
    } else {
        for (auto& t : req.transactions) {
            protocol::add_partitions_to_txn_response::add_partitions_to_txn_result r;
            r.transactional_id = t.transactional_id;
            r.topic_results =
                co_await add_one(ctx, t.transactional_id, t.producer_id, t.producer_epoch, t.topics, t.verify_only);
            resp.results_by_transaction.push_back(std::move(r));
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
