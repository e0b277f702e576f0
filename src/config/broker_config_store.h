#pragma once

#include "config/alter_ops.h"
#include "config/broker_config.h"
#include "config/config_entry.h"
#include "config/properties.h"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::config {

/// The two levels AlterConfigs can write on the broker resource: the broker's own id
/// ("<id>", DYNAMIC_BROKER_CONFIG) and the cluster default ("", DYNAMIC_DEFAULT_BROKER_CONFIG).
enum class dynamic_scope : int8_t { broker, cluster_default };

/// The broker's configuration in layers, highest precedence first: dynamic per-broker
/// overrides, dynamic cluster-default overrides, the static properties (server.properties
/// plus --override), Kafka's defaults. Holds the typed effective snapshot, answers
/// DescribeConfigs for the broker resource and applies AlterConfigs /
/// IncrementalAlterConfigs to the dynamically updatable keys.
///
/// Not thread-safe: one owner (the shard that serves admin requests) mutates it; others get
/// copies of current(). Invariant: current() is always build_broker_config() of the layers.
class broker_config_store {
public:
    /// Startup. Keeps the known keys of `static_props`, warns once per unknown key (see
    /// warnings()) and throws config_error when a value is invalid or values conflict.
    explicit broker_config_store(const property_map& static_props);

    const broker_config& current() const { return _current; }
    /// Bumped whenever current() changes, so values derived from it can be cached.
    uint64_t generation() const { return _generation; }
    /// "The configuration 'x' was supplied but isn't a known config." per unknown key.
    const std::vector<std::string>& warnings() const { return _warnings; }

    /// DescribeConfigs on the broker resource: the named keys in request order (unknown names
    /// skipped) or, when `names` is empty, every known key in name order. Each value is the
    /// key's own (normalised) value, nullopt when null or sensitive.
    std::vector<config_entry> describe(const std::vector<std::string>& names, describe_options opts) const;

    /// The layers that set any config of broker_synonym_chain(name), in Kafka's order: all
    /// dynamic per-broker ones, then dynamic default, static, and Kafka defaults that are not
    /// null. Sensitive values are hidden.
    std::vector<config_synonym> synonyms(std::string_view name) const;
    /// The layer that supplies `name`'s own value (default_config when none sets it).
    config_source source(std::string_view name) const;
    /// `name`'s own effective raw value, nullopt when null or not a known key.
    std::optional<std::string> raw_value(std::string_view name) const;
    /// Every known key's normalised effective value (passwords included: for internal use).
    std::map<std::string, std::optional<std::string>> effective_values() const;

    /// Checks a complete override map for `scope` against the other layers without applying
    /// it. Failures: errc::unknown_config, errc::read_only, errc::per_broker_only,
    /// errc::invalid_value (bad value, or a thread pool resized beyond half/double its current
    /// size), errc::conflicting_values.
    config_result<void> validate_dynamic(dynamic_scope scope, const property_map& overrides) const;
    /// AlterConfigs (non-incremental) and startup restore of persisted overrides: validates,
    /// then replaces the whole layer. Same failures as validate_dynamic.
    config_result<void> replace_dynamic(dynamic_scope scope, property_map overrides);
    /// IncrementalAlterConfigs: the layer as it would be after `ops` (validate_only callers stop
    /// here). Failures: those of apply_alter_ops and validate_dynamic.
    config_result<property_map> plan_incremental_alter(dynamic_scope scope, std::span<const alter_op> ops) const;
    /// plan_incremental_alter, then applies the result.
    config_result<void> incremental_alter(dynamic_scope scope, std::span<const alter_op> ops);
    /// One SET / one DELETE at `scope`.
    config_result<void> set_dynamic(dynamic_scope scope, std::string_view name, std::string_view value);
    config_result<void> delete_dynamic(dynamic_scope scope, std::string_view name);

    /// The overrides stored at `scope` (what the broker persists).
    const property_map& dynamic_overrides(dynamic_scope scope) const;

private:
    property_map& layer(dynamic_scope scope);
    property_map merged(const property_map* broker_layer, const property_map* default_layer) const;
    config_result<void> check_thread_pool(const config_key& key, std::string_view raw) const;
    config_result<broker_config> build_with(dynamic_scope scope, const property_map& overrides) const;

    property_map _static;
    property_map _dynamic_default;
    property_map _dynamic_broker;
    broker_config _current;
    uint64_t _generation = 0;
    std::vector<std::string> _warnings;
};

/// The brief's startup helper: builds the store and returns its snapshot and warnings.
/// Throws config_error like the store's constructor.
struct loaded_broker_config {
    broker_config config;
    std::vector<std::string> warnings;
};
loaded_broker_config load_broker_config(const property_map& props);

} // namespace samsa::config
