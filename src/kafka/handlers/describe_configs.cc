// DescribeConfigs: the configs of topics and of this broker (or the cluster-wide dynamic
// defaults), with their sources, synonyms, types and documentation as the version allows.
#include "cluster/topic_table.h"
#include "config/topic_config.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "protocol/messages/describe_configs.h"

#include <algorithm>
#include <fmt/format.h>

namespace samsa::kafka {

namespace {

using protocol::error_code;
using resource_result = protocol::describe_configs_response::describe_configs_result;
using config_result_entry = protocol::describe_configs_response::describe_configs_resource_result;
using describe_resource = protocol::describe_configs_request::describe_configs_resource;

config_result_entry to_wire(const config::config_entry& e)
{
    config_result_entry out;
    out.name = e.name;
    out.value = e.value;
    out.read_only = e.read_only;
    out.is_default = e.source == config::config_source::default_config; // v0
    out.config_source = static_cast<int8_t>(e.source);                  // v1+
    out.is_sensitive = e.sensitive;
    for (auto& s : e.synonyms) out.synonyms.push_back({s.name, s.value, static_cast<int8_t>(s.source)});
    out.config_type = static_cast<int8_t>(e.type);
    out.documentation = e.documentation;
    return out;
}

/// The cluster-wide resource "": only the dynamic defaults that are set, as Kafka answers.
std::vector<config::config_entry> describe_cluster_defaults(const config::broker_config_store& store,
                                                            const std::vector<std::string>& names,
                                                            config::describe_options opts)
{
    const auto& defaults = store.dynamic_overrides(config::dynamic_scope::cluster_default);
    std::vector<std::string> keys;
    for (auto& [name, value] : defaults) {
        if (names.empty() || std::find(names.begin(), names.end(), name) != names.end()) keys.push_back(name);
    }
    std::vector<config::config_entry> out;
    if (keys.empty()) return out;
    for (auto e : store.describe(keys, opts)) {
        e.source = config::config_source::dynamic_default_broker_config;
        if (!e.sensitive) e.value = defaults.at(e.name);
        std::erase_if(e.synonyms,
                      [](auto& s) { return s.source == config::config_source::dynamic_broker_config; });
        out.push_back(std::move(e));
    }
    return out;
}

kafka_result<std::vector<config::config_entry>> describe(request_context& ctx, const describe_resource& r,
                                                                  config::describe_options opts)
{
    auto& b = ctx.broker;
    std::vector<std::string> names;
    if (r.configuration_keys) names = *r.configuration_keys;
    switch (static_cast<config_resource_type>(r.resource_type)) {
    case config_resource_type::topic: {
        if (auto bad = cluster::validate_topic_name(r.resource_name)) {
            return kafka_error(error_code::invalid_topic_exception, *bad);
        }
        auto* t = b.topics.find(r.resource_name);
        if (!t) {
            return kafka_error(error_code::unknown_topic_or_partition,
                                        fmt::format("Topic '{}' does not exist.", r.resource_name));
        }
        return config::describe_topic_config(t->overrides, b.config, names, opts);
    }
    case config_resource_type::broker: {
        auto scope = broker_scope(b, r.resource_name);
        if (!scope) return scope.error();
        if (*scope == config::dynamic_scope::cluster_default) return describe_cluster_defaults(b.config, names, opts);
        return b.config.describe(names, opts);
    }
    case config_resource_type::broker_logger: {
        // Loggers are not configurable at runtime: this node has none to describe.
        auto scope = broker_scope(b, r.resource_name);
        if (!scope) return scope.error();
        if (*scope != config::dynamic_scope::broker) {
            return kafka_error(error_code::invalid_request, "A broker logger resource names one broker.");
        }
        return std::vector<config::config_entry>{};
    }
    }
    return kafka_error(error_code::invalid_request,
                                fmt::format("Unsupported resource type {} for resource {}", r.resource_type,
                                            r.resource_name));
}

} // namespace

boost::asio::awaitable<bool> handle_describe_configs(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::describe_configs_request>(ctx);
    config::describe_options opts{req.include_synonyms, req.include_documentation};
    protocol::describe_configs_response resp;
    for (auto& r : req.resources) {
        resource_result rr;
        rr.resource_type = r.resource_type;
        rr.resource_name = r.resource_name;
        rr.error_message = std::nullopt;
        auto entries = describe(ctx, r, opts);
        if (!entries) {
            rr.error_code = code(entries.error().code);
            rr.error_message = entries.error().message;
        } else {
            for (auto& e : *entries) rr.configs.push_back(to_wire(e));
        }
        resp.results.push_back(std::move(rr));
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
