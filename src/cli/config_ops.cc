#include "cli/config_ops.h"

#include <fmt/format.h>

#include <algorithm>

namespace samsa::cli {

namespace {

config_entry to_entry(const rd_kafka_ConfigEntry_t* e)
{
    config_entry out;
    out.name = rd_kafka_ConfigEntry_name(e);
    if (const char* v = rd_kafka_ConfigEntry_value(e)) out.value = v;
    out.source = rd_kafka_ConfigEntry_source(e);
    out.sensitive = rd_kafka_ConfigEntry_is_sensitive(e);
    out.read_only = rd_kafka_ConfigEntry_is_read_only(e);
    out.is_default = rd_kafka_ConfigEntry_is_default(e);
    size_t n = 0;
    const rd_kafka_ConfigEntry_t** syn = rd_kafka_ConfigEntry_synonyms(e, &n);
    for (size_t i = 0; i < n; ++i) out.synonyms.push_back(to_entry(syn[i]));
    return out;
}

/// Owns the ConfigResource objects of one request.
struct resource_array {
    std::vector<rd_kafka_ConfigResource_t*> items;
    resource_array() = default;
    resource_array(const resource_array&) = delete;
    resource_array& operator=(const resource_array&) = delete;
    ~resource_array()
    {
        for (auto* r : items) rd_kafka_ConfigResource_destroy(r);
    }
    rd_kafka_ConfigResource_t* add(rd_kafka_ResourceType_t type, const std::string& name)
    {
        auto* r = rd_kafka_ConfigResource_new(type, name.c_str());
        if (!r) throw cli_error(fmt::format("Invalid config resource name '{}'", name));
        items.push_back(r);
        return r;
    }
};

std::string resource_label(rd_kafka_ResourceType_t type, const std::string& name)
{
    if (type == RD_KAFKA_RESOURCE_TOPIC) return fmt::format("topic '{}'", name);
    return name.empty() ? std::string("the broker defaults") : fmt::format("broker {}", name);
}

std::vector<resource_configs> describe_batch(const admin_client& admin, rd_kafka_ResourceType_t type,
                                             const std::vector<std::string>& names)
{
    resource_array res;
    for (auto& n : names) res.add(type, n);
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, "DescribeConfigs failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_DescribeConfigs(rk, res.items.data(), res.items.size(), o, q);
                        });
    size_t n = 0;
    auto* result = rd_kafka_event_DescribeConfigs_result(ev.get());
    const rd_kafka_ConfigResource_t** out = rd_kafka_DescribeConfigs_result_resources(result, &n);
    std::vector<resource_configs> described;
    for (size_t i = 0; i < n; ++i) {
        std::string name = rd_kafka_ConfigResource_name(out[i]);
        if (auto err = rd_kafka_ConfigResource_error(out[i])) {
            const char* msg = rd_kafka_ConfigResource_error_string(out[i]);
            throw cli_error(fmt::format("Cannot describe the configs of {}: {}", resource_label(type, name),
                                        msg && *msg ? msg : error_text(err)));
        }
        resource_configs rc{name, {}};
        size_t cnt = 0;
        const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(out[i], &cnt);
        for (size_t j = 0; j < cnt; ++j) rc.entries.push_back(to_entry(entries[j]));
        std::sort(rc.entries.begin(), rc.entries.end(), [](auto& a, auto& b) { return a.name < b.name; });
        described.push_back(std::move(rc));
    }
    return described;
}

} // namespace

std::vector<resource_configs> describe_configs(const admin_client& admin, rd_kafka_ResourceType_t type,
                                               const std::vector<std::string>& names)
{
    if (names.empty()) return {};
    if (type != RD_KAFKA_RESOURCE_BROKER) return describe_batch(admin, type, names);
    std::vector<resource_configs> out;
    for (auto& n : names) {
        auto one = describe_batch(admin, type, {n});
        out.insert(out.end(), one.begin(), one.end());
    }
    return out;
}

void alter_configs(const admin_client& admin, rd_kafka_ResourceType_t type, const std::string& name,
                   const std::map<std::string, std::string>& configs)
{
    resource_array res;
    auto* r = res.add(type, name);
    for (auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(r, k.c_str(), v.c_str());
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, "AlterConfigs failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_AlterConfigs(rk, res.items.data(), res.items.size(), o, q);
                        });
    size_t n = 0;
    auto* result = rd_kafka_event_AlterConfigs_result(ev.get());
    const rd_kafka_ConfigResource_t** out = rd_kafka_AlterConfigs_result_resources(result, &n);
    for (size_t i = 0; i < n; ++i) {
        if (auto err = rd_kafka_ConfigResource_error(out[i])) {
            const char* msg = rd_kafka_ConfigResource_error_string(out[i]);
            throw cli_error(fmt::format("Cannot alter the configs of {}: {}", resource_label(type, name),
                                        msg && *msg ? msg : error_text(err)));
        }
    }
}

rd_kafka_ConfigSource_t dynamic_source(rd_kafka_ResourceType_t type, const std::string& name)
{
    if (type == RD_KAFKA_RESOURCE_TOPIC) return RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
    return name.empty() ? RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG
                        : RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG;
}

std::map<std::string, std::string> parse_add_config(std::string_view text)
{
    std::map<std::string, std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        // One pair: up to the next comma outside square brackets.
        size_t j = i;
        int depth = 0;
        for (; j < text.size(); ++j) {
            if (text[j] == '[')
                ++depth;
            else if (text[j] == ']' && depth > 0)
                --depth;
            else if (text[j] == ',' && depth == 0)
                break;
        }
        std::string_view pair = text.substr(i, j - i);
        i = j + 1;
        if (pair.empty()) continue;
        auto [k, v] = split_key_value(pair, "add-config");
        if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
        out[k] = v;
    }
    return out;
}

} // namespace samsa::cli
