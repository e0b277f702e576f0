// IncrementalAlterConfigs: SET / DELETE / APPEND / SUBTRACT on single configs of a topic or of
// a broker layer; the config module applies Kafka's rules, this file the resource plumbing.
#include "config/topic_config.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "protocol/messages/incremental_alter_configs.h"

#include <fmt/format.h>

namespace samsa::kafka {

namespace {

using protocol::error_code;
using alter_resource = protocol::incremental_alter_configs_request::alter_configs_resource;

config::config_result<std::vector<config::alter_op>> to_ops(const alter_resource& r)
{
    std::vector<config::alter_op> ops;
    for (auto& c : r.configs) {
        SAMSA_CONFIG_TRY_ASSIGN(auto type, config::alter_op_from_code(c.config_operation));
        ops.push_back({c.name, type, c.value});
    }
    return ops;
}

boost::asio::awaitable<kafka_result<void>> alter_topic(request_context& ctx, const std::string& topic,
                                                       const std::vector<config::alter_op>& ops, bool validate_only)
{
    auto* t = ctx.broker.topics.find(topic);
    if (!t) {
        co_return kafka_error(error_code::unknown_topic_or_partition, fmt::format("Topic '{}' does not exist.", topic));
    }
    auto next = config::alter_topic_overrides(t->overrides, ops, ctx.broker.config.current());
    if (!next) co_return to_kafka_failure(next.error());
    co_return co_await commit_topic_overrides(ctx.broker, topic, *next, validate_only);
}

boost::asio::awaitable<kafka_result<void>> alter_broker(request_context& ctx, const std::string& name,
                                                        const std::vector<config::alter_op>& ops, bool validate_only)
{
    auto scope = broker_scope(ctx.broker, name);
    if (!scope) co_return scope.error();
    auto next = ctx.broker.config.plan_incremental_alter(*scope, ops);
    if (!next) co_return to_kafka_failure(next.error());
    co_return co_await commit_broker_overrides(ctx.broker, *scope, std::move(*next), validate_only);
}

boost::asio::awaitable<kafka_result<void>> alter_resource_configs(request_context& ctx, const alter_resource& r,
                                                                  bool validate_only)
{
    auto ops = to_ops(r);
    if (!ops) co_return to_kafka_failure(ops.error());
    switch (static_cast<config_resource_type>(r.resource_type)) {
    case config_resource_type::topic: co_return co_await alter_topic(ctx, r.resource_name, *ops, validate_only);
    case config_resource_type::broker: co_return co_await alter_broker(ctx, r.resource_name, *ops, validate_only);
    case config_resource_type::broker_logger: break;
    }
    co_return kafka_error(
        error_code::invalid_request,
        fmt::format("IncrementalAlterConfigs is not supported for resource type {}", r.resource_type));
}

} // namespace

boost::asio::awaitable<bool> handle_incremental_alter_configs(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::incremental_alter_configs_request>(ctx);
    auto resp = co_await alter_each_resource<protocol::incremental_alter_configs_response>(
        req, [&](auto& r, bool validate_only) { return alter_resource_configs(ctx, r, validate_only); });
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
