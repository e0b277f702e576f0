// AlterConfigs (non-incremental): each resource's override set is replaced by the request's
// entries. Also the helpers the three config handlers share: broker resource names, the
// mapping of config failures, and committing new override maps.
#include "base/logging.h"
#include "config/topic_config.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "protocol/messages/alter_configs.h"

#include <charconv>
#include <fmt/format.h>

namespace samsa::kafka {

namespace {

constexpr logger log{"kafka"};
using protocol::error_code;
using alter_resource = protocol::alter_configs_request::alter_configs_resource;

/// The request's entries as an override map. Kafka rejects null values and names given twice.
kafka_result<config::property_map> entries_to_map(const alter_resource& r)
{
    config::property_map m;
    std::string nulls;
    for (auto& c : r.configs) {
        if (!c.value) {
            nulls += (nulls.empty() ? "" : ",") + c.name;
            continue;
        }
        if (!m.emplace(c.name, *c.value).second) {
            return kafka_error(error_code::invalid_request, "Error due to duplicate config keys");
        }
    }
    if (!nulls.empty()) {
        return kafka_error(error_code::invalid_request, "Null value not supported for : " + nulls);
    }
    return m;
}

boost::asio::awaitable<kafka_result<void>> alter_resource_configs(request_context& ctx, const alter_resource& r,
                                                                  bool validate_only)
{
    auto m = entries_to_map(r);
    if (!m) co_return m.error();
    switch (static_cast<config_resource_type>(r.resource_type)) {
    case config_resource_type::topic:
        co_return co_await commit_topic_overrides(ctx.broker, r.resource_name, *m, validate_only);
    case config_resource_type::broker: {
        auto scope = broker_scope(ctx.broker, r.resource_name);
        if (!scope) co_return scope.error();
        co_return co_await commit_broker_overrides(ctx.broker, *scope, std::move(*m), validate_only);
    }
    case config_resource_type::broker_logger: break;
    }
    co_return kafka_error(error_code::invalid_request,
                          fmt::format("AlterConfigs is not supported for resource type {}", r.resource_type));
}

} // namespace

kafka_result<config::dynamic_scope> broker_scope(const broker_context& b, const std::string& resource_name)
{
    if (resource_name.empty()) return config::dynamic_scope::cluster_default;
    int32_t id = 0;
    auto* end = resource_name.data() + resource_name.size();
    auto [ptr, ec] = std::from_chars(resource_name.data(), end, id);
    if (ec != std::errc{} || ptr != end) {
        return kafka_error(error_code::invalid_request,
                                    fmt::format("Broker id must be an integer, but it is: {}", resource_name));
    }
    if (id != b.self()) {
        return kafka_error(error_code::invalid_request,
                                    fmt::format("Unexpected broker id, expected {} or empty string, but received {}",
                                                b.self(), resource_name));
    }
    return config::dynamic_scope::broker;
}

kafka_failure to_kafka_failure(const config::config_failure& f)
{
    auto ec = error_code::invalid_request;
    if (f.code.category() == config::config_category()) {
        ec = static_cast<error_code>(config::kafka_error_code(static_cast<config::errc>(f.code.value())));
    }
    return {ec, f.message};
}

boost::asio::awaitable<kafka_result<void>> commit_broker_overrides(broker_context& b, config::dynamic_scope scope,
                                                                   config::property_map overrides, bool validate_only)
{
    if (auto v = b.config.validate_dynamic(scope, overrides); !v) co_return to_kafka_failure(v.error());
    if (validate_only) co_return kafka_result<void>{};
    bool broker = scope == config::dynamic_scope::broker;
    if (auto* admin = b.topics.controller().admin()) {
        // ZooKeeper mode: every broker applies it from /config/changes; this one at once too.
        auto entity = broker ? std::to_string(b.self()) : std::string("<default>");
        auto r = co_await admin->set_broker_overrides(entity, overrides);
        if (!r) co_return to_kafka_failure(r.error());
    } else if (auto r = b.store.save_broker_overrides(broker ? std::to_string(b.self()) : "", overrides); !r) {
        log.error("cannot persist broker config overrides: {}", r.error().message());
        co_return kafka_error(error_code::kafka_storage_error,
                              "Cannot persist the broker configuration: " + r.error().message());
    }
    if (auto r = b.config.replace_dynamic(scope, overrides); !r) co_return to_kafka_failure(r.error());
    b.topics.broker_config_changed();
    co_return kafka_result<void>{};
}

boost::asio::awaitable<kafka_result<void>> commit_topic_overrides(broker_context& b, std::string topic,
                                                                  config::property_map overrides, bool validate_only)
{
    if (!b.topics.find(topic)) {
        co_return kafka_error(error_code::unknown_topic_or_partition, fmt::format("Topic '{}' does not exist.", topic));
    }
    if (auto v = config::validate_topic_overrides(overrides); !v) co_return to_kafka_failure(v.error());
    if (validate_only) co_return kafka_result<void>{};
    auto done = co_await b.topics.controller().set_topic_overrides(topic, std::move(overrides));
    if (!done) co_return to_kafka_failure(done.error());
    co_return kafka_result<void>{};
}

boost::asio::awaitable<bool> handle_alter_configs(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::alter_configs_request>(ctx);
    auto resp = co_await alter_each_resource<protocol::alter_configs_response>(
        req, [&](auto& r, bool validate_only) { return alter_resource_configs(ctx, r, validate_only); });
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
