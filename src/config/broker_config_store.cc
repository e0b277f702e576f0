#include "config/broker_config_store.h"

#include "config/broker_definitions.h"

#include <fmt/format.h>

#include <algorithm>

namespace samsa::config {
namespace {

const config_def& defs() { return broker_config_definitions(); }

/// A key's value in Kafka's rendering: parsed and formatted again ("TRUE " → "true").
std::optional<std::string> normalise(const config_key& key, const std::string& raw)
{
    auto parsed = parse_value(key, raw);
    return parsed ? format_value(*parsed) : std::optional<std::string>(raw);
}

std::optional<std::string> hide_if_sensitive(const config_key& key, std::optional<std::string> v)
{
    return key.sensitive() ? std::nullopt : std::move(v);
}

config_result<void> check_scope(dynamic_scope scope, const config_key& key)
{
    if (key.mode == update_mode::read_only) {
        return make_failure(
            errc::read_only,
            fmt::format("Configuration {} is read-only: it cannot be changed without a restart", key.name));
    }
    if (key.mode == update_mode::per_broker && scope == dynamic_scope::cluster_default) {
        return make_failure(
            errc::per_broker_only,
            fmt::format("Configuration {} can only be set per broker, not as a cluster default", key.name));
    }
    return {};
}

} // namespace

broker_config_store::broker_config_store(const property_map& static_props)
{
    for (const auto& [k, v] : static_props) {
        if (defs().find(k)) {
            _static.emplace(k, v);
        } else {
            _warnings.push_back(unknown_config_warning(k));
        }
    }
    _current = build_broker_config(_static).value();
}

property_map& broker_config_store::layer(dynamic_scope scope)
{
    return scope == dynamic_scope::broker ? _dynamic_broker : _dynamic_default;
}

const property_map& broker_config_store::dynamic_overrides(dynamic_scope scope) const
{
    return scope == dynamic_scope::broker ? _dynamic_broker : _dynamic_default;
}

property_map broker_config_store::merged(const property_map* broker_layer, const property_map* default_layer) const
{
    property_map out = _static;
    for (const auto& [k, v] : *default_layer) out[k] = v;
    for (const auto& [k, v] : *broker_layer) out[k] = v;
    return out;
}

std::optional<std::string> broker_config_store::raw_value(std::string_view name) const
{
    const config_key* key = defs().find(name);
    if (!key) return std::nullopt;
    for (const property_map* m : {&_dynamic_broker, &_dynamic_default, &_static}) {
        if (auto it = m->find(key->name); it != m->end()) return it->second;
    }
    return key->default_value;
}

config_source broker_config_store::source(std::string_view name) const
{
    std::string n(name);
    if (_dynamic_broker.contains(n)) return config_source::dynamic_broker_config;
    if (_dynamic_default.contains(n)) return config_source::dynamic_default_broker_config;
    if (_static.contains(n)) return config_source::static_broker_config;
    return config_source::default_config;
}

std::vector<config_synonym> broker_config_store::synonyms(std::string_view name) const
{
    std::vector<config_synonym> out;
    auto chain = broker_synonym_chain(name);
    const std::pair<const property_map*, config_source> layers[] = {
        {&_dynamic_broker, config_source::dynamic_broker_config},
        {&_dynamic_default, config_source::dynamic_default_broker_config},
        {&_static, config_source::static_broker_config},
    };
    for (const auto& [m, src] : layers) {
        for (auto n : chain) {
            auto it = m->find(std::string(n));
            const config_key* key = defs().find(n);
            if (it != m->end() && key)
                out.push_back({key->name, hide_if_sensitive(*key, normalise(*key, it->second)), src});
        }
    }
    for (auto n : chain) {
        const config_key* key = defs().find(n);
        if (key && key->default_value) {
            out.push_back({key->name, hide_if_sensitive(*key, normalise(*key, *key->default_value)),
                           config_source::default_config});
        }
    }
    return out;
}

std::map<std::string, std::optional<std::string>> broker_config_store::effective_values() const
{
    std::map<std::string, std::optional<std::string>> out;
    for (const auto& key : defs().keys()) {
        auto raw = raw_value(key.name);
        out.emplace(key.name, raw ? normalise(key, *raw) : std::nullopt);
    }
    return out;
}

std::vector<config_entry> broker_config_store::describe(const std::vector<std::string>& names,
                                                        describe_options opts) const
{
    std::vector<const config_key*> keys;
    if (names.empty()) {
        for (const auto& k : defs().keys()) keys.push_back(&k);
        std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return a->name < b->name; });
    } else {
        for (const auto& n : names) {
            if (const config_key* k = defs().find(n)) keys.push_back(k);
        }
    }
    std::vector<config_entry> out;
    for (const config_key* k : keys) {
        config_entry e;
        e.name = k->name;
        auto raw = raw_value(k->name);
        e.value = hide_if_sensitive(*k, raw ? normalise(*k, *raw) : std::nullopt);
        // Unset ids describe as the id the broker runs with (as Kafka shows broker.id), not -1.
        if ((k->name == "broker.id" || k->name == "node.id") && e.value == "-1") {
            e.value = std::to_string(current().node_id);
        }
        e.source = source(k->name);
        e.read_only = k->mode == update_mode::read_only;
        e.sensitive = k->sensitive();
        if (opts.include_synonyms) e.synonyms = synonyms(k->name);
        e.type = k->type;
        if (opts.include_documentation) e.documentation = k->documentation;
        out.push_back(std::move(e));
    }
    return out;
}

config_result<void> broker_config_store::check_thread_pool(const config_key& key, std::string_view raw) const
{
    auto next = as_int(parse_value(key, raw).value());
    auto now = as_int(parse_value(key, *raw_value(key.name)).value());
    if (next == now) return {};
    auto fail = [&](std::string_view why) {
        return make_failure(
            errc::invalid_value,
            fmt::format("Invalid value {} for configuration {}: {} (current value {})", raw, key.name, why, now));
    };
    if (next < 1) return fail("a thread pool needs at least 1 thread");
    if (next < now / 2) return fail("a dynamic update may at most halve the thread count");
    if (next > now * 2) return fail("a dynamic update may at most double the thread count");
    return {};
}

config_result<broker_config> broker_config_store::build_with(dynamic_scope scope, const property_map& overrides) const
{
    bool broker = scope == dynamic_scope::broker;
    return build_broker_config(merged(broker ? &overrides : &_dynamic_broker, broker ? &_dynamic_default : &overrides));
}

config_result<void> broker_config_store::validate_dynamic(dynamic_scope scope, const property_map& overrides) const
{
    for (const auto& [name, raw] : overrides) {
        const config_key* key = defs().find(name);
        if (!key) return make_failure(errc::unknown_config, fmt::format("Unknown broker config name: {}", name));
        SAMSA_CONFIG_TRY(check_scope(scope, *key));
        SAMSA_CONFIG_TRY(parse_value(*key, raw));
        if (is_thread_pool_config(name)) SAMSA_CONFIG_TRY(check_thread_pool(*key, raw));
    }
    SAMSA_CONFIG_TRY(build_with(scope, overrides));
    return {};
}

config_result<void> broker_config_store::replace_dynamic(dynamic_scope scope, property_map overrides)
{
    SAMSA_CONFIG_TRY(validate_dynamic(scope, overrides));
    SAMSA_CONFIG_TRY_ASSIGN(auto built, build_with(scope, overrides));
    layer(scope) = std::move(overrides);
    _current = std::move(built);
    ++_generation;
    return {};
}

config_result<property_map> broker_config_store::plan_incremental_alter(dynamic_scope scope,
                                                                        std::span<const alter_op> ops) const
{
    auto inherited = [this, scope](const config_key& key) -> config_value {
        // A list op on a key this layer does not set starts from the value below this layer.
        const property_map* below[] = {scope == dynamic_scope::broker ? &_dynamic_default : nullptr, &_static};
        for (const property_map* m : below) {
            if (!m) continue;
            if (auto it = m->find(key.name); it != m->end()) return parse_value(key, it->second).value();
        }
        return default_value(key);
    };
    SAMSA_CONFIG_TRY_ASSIGN(auto next, apply_alter_ops(defs(), "broker", dynamic_overrides(scope), ops, inherited));
    SAMSA_CONFIG_TRY(validate_dynamic(scope, next));
    return next;
}

config_result<void> broker_config_store::incremental_alter(dynamic_scope scope, std::span<const alter_op> ops)
{
    SAMSA_CONFIG_TRY_ASSIGN(auto next, plan_incremental_alter(scope, ops));
    return replace_dynamic(scope, std::move(next));
}

config_result<void> broker_config_store::set_dynamic(dynamic_scope scope, std::string_view name, std::string_view value)
{
    alter_op op{std::string(name), alter_op_type::set, std::string(value)};
    return incremental_alter(scope, std::span(&op, 1));
}

config_result<void> broker_config_store::delete_dynamic(dynamic_scope scope, std::string_view name)
{
    alter_op op{std::string(name), alter_op_type::remove, std::nullopt};
    return incremental_alter(scope, std::span(&op, 1));
}

loaded_broker_config load_broker_config(const property_map& props)
{
    broker_config_store store(props);
    return {store.current(), store.warnings()};
}

} // namespace samsa::config
