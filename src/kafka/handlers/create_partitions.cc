// CreatePartitions: grows topics to a new partition count, optionally with a manual
// assignment of the new partitions' replicas.
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/create_partitions.h"

#include <map>

namespace samsa::kafka {

namespace {

using protocol::error_code;
using topic_result = protocol::create_partitions_response::create_partitions_topic_result;

boost::asio::awaitable<topic_result> grow(request_context& ctx,
                                          const protocol::create_partitions_request::create_partitions_topic& t,
                                          bool validate_only)
{
    topic_result out;
    out.name = t.name;
    std::vector<std::vector<int32_t>> assignments;
    if (t.assignments) {
        for (auto& a : *t.assignments) assignments.push_back(a.broker_ids);
    }
    auto r = co_await ctx.broker.topics.controller().create_partitions(t.name, t.count, assignments, validate_only);
    if (!r) {
        out.error_code = code(to_kafka_error(r.error().code));
        if (!r.error().message.empty()) out.error_message = r.error().message;
    }
    co_return out;
}

} // namespace

boost::asio::awaitable<bool> handle_create_partitions(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::create_partitions_request>(ctx);
    std::map<std::string, int> count;
    for (auto& t : req.topics) ++count[t.name];
    protocol::create_partitions_response resp;
    for (auto& t : req.topics) {
        if (count[t.name] > 1) {
            topic_result dup;
            dup.name = t.name;
            dup.error_code = code(error_code::invalid_request);
            dup.error_message = "Duplicate topic in request.";
            resp.results.push_back(std::move(dup));
            continue;
        }
        resp.results.push_back(co_await grow(ctx, t, req.validate_only));
    }
    // New partitions' logs are opened in steps, as a new topic's (see CreateTopics).
    std::vector<std::string> grown;
    for (auto& r : resp.results) {
        if (r.error_code == 0 && !req.validate_only) grown.push_back(r.name);
    }
    if (!grown.empty() && req.timeout_ms > 0 && !co_await wait_settled(ctx.broker, grown, req.timeout_ms)) {
        for (auto& r : resp.results) {
            if (r.error_code == 0 && !req.validate_only && !ctx.broker.topics.settled(r.name)) {
                r.error_code = code(error_code::request_timed_out);
                r.error_message = "Timed out waiting for the new partitions to be created; creation continues.";
            }
        }
    }
    if (!req.validate_only) report_creation_failures(ctx.broker, resp.results, "Cannot create the new partitions' logs");
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
