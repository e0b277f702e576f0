// CreateTopics: validates and creates each topic through the topic manager and, from v5,
// describes what was created. The answer waits (up to timeout_ms; not at all when it is 0, as in
// Kafka) until the new topics' logs are open: large topics are created in steps.
#include "config/topic_config.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/create_topics.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace samsa::kafka {

namespace {

using protocol::error_code;
using creatable_topic = protocol::create_topics_request::creatable_topic;
using topic_result = protocol::create_topics_response::creatable_topic_result;

/// Replica lists ordered by partition index, which must run 0, 1, 2, …
kafka_result<std::vector<std::vector<int32_t>>> manual_assignments(const creatable_topic& t)
{
    std::vector<const protocol::create_topics_request::creatable_replica_assignment*> sorted;
    for (auto& a : t.assignments) sorted.push_back(&a);
    std::sort(sorted.begin(), sorted.end(),
              [](auto* a, auto* b) { return a->partition_index < b->partition_index; });
    std::vector<std::vector<int32_t>> out;
    for (size_t i = 0; i < sorted.size(); ++i) {
        if (sorted[i]->partition_index != static_cast<int32_t>(i)) {
            return kafka_error(error_code::invalid_replica_assignment,
                                        "Partitions should be a consecutive 0-based integer sequence");
        }
        out.push_back(sorted[i]->broker_ids);
    }
    return out;
}

kafka_result<cluster::create_topic_request> to_request(const creatable_topic& t)
{
    cluster::create_topic_request req;
    req.name = t.name;
    req.partitions = t.num_partitions;
    req.replication_factor = t.replication_factor;
    auto assignments = manual_assignments(t);
    if (!assignments) return assignments.error();
    req.assignments = std::move(*assignments);
    for (auto& c : t.configs) {
        if (!c.value) {
            return kafka_error(error_code::invalid_config,
                                        fmt::format("Null value not supported for topic configs: {}", c.name));
        }
        req.configs[c.name] = *c.value;
    }
    return req;
}

/// v5+: what the topic was (or would be) created with, every config included.
void describe_created(request_context& ctx, const cluster::topic_info& t, topic_result& out)
{
    out.num_partitions = static_cast<int32_t>(t.partitions.size());
    out.replication_factor = t.replication_factor;
    out.configs.emplace();
    for (auto& e : config::describe_topic_config(t.overrides, ctx.broker.config, {}, {})) {
        protocol::create_topics_response::creatable_topic_configs c;
        c.name = e.name;
        c.value = e.value;
        c.read_only = e.read_only;
        c.config_source = static_cast<int8_t>(e.source);
        c.is_sensitive = e.sensitive;
        out.configs->push_back(std::move(c));
    }
}

boost::asio::awaitable<topic_result> create_one(request_context& ctx, const creatable_topic& t, bool validate_only)
{
    topic_result out;
    out.name = t.name;
    out.error_message = std::nullopt;
    auto fail = [&](const kafka_failure& f) {
        out.error_code = code(f.code);
        if (!f.message.empty()) out.error_message = f.message;
        return out;
    };
    auto req = to_request(t);
    if (!req) co_return fail(req.error());
    auto created = co_await ctx.broker.topics.controller().create_topic(*req, validate_only);
    if (!created) co_return fail(to_kafka_failure(created.error()));
    out.topic_id = created->id;
    describe_created(ctx, *created, out);
    co_return out;
}

} // namespace

boost::asio::awaitable<bool> handle_create_topics(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::create_topics_request>(ctx);
    std::map<std::string, int> count;
    for (auto& t : req.topics) ++count[t.name];
    protocol::create_topics_response resp;
    for (auto& t : req.topics) {
        if (count[t.name] > 1) {
            topic_result dup;
            dup.name = t.name;
            dup.error_code = code(error_code::invalid_request);
            dup.error_message = "Found multiple entries for this topic.";
            resp.topics.push_back(std::move(dup));
            continue;
        }
        resp.topics.push_back(co_await create_one(ctx, t, ctx.version() >= 1 && req.validate_only));
    }
    bool validate_only = ctx.version() >= 1 && req.validate_only;
    std::vector<std::string> created;
    for (auto& r : resp.topics) {
        if (r.error_code == 0 && !validate_only) created.push_back(r.name);
    }
    if (!created.empty() && req.timeout_ms > 0 && !co_await wait_settled(ctx.broker, created, req.timeout_ms)) {
        for (auto& r : resp.topics) {
            if (r.error_code == 0 && !validate_only && !ctx.broker.topics.settled(r.name)) {
                r.error_code = code(error_code::request_timed_out);
                r.error_message = "Timed out waiting for the topic's partitions to be created; creation continues.";
            }
        }
    }
    if (!validate_only) report_creation_failures(ctx.broker, resp.topics, "Cannot create the topic's logs");
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
