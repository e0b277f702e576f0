#pragma once

#include "config/config_def.h"

#include <string_view>
#include <vector>

namespace samsa::config {

/// What `log.message.format.version` and the topic's `message.format.version` describe as:
/// deprecated in Kafka 3.0 and ignored (batches are stored as the producer sent them).
inline constexpr std::string_view ignored_message_format_version = "3.0-IV1";

/// Every broker config Samsa knows, with Kafka's names, types, defaults, validators and
/// dynamic update modes (read_only / per_broker / cluster_wide as Kafka classifies them).
/// Built once, immutable afterwards.
const config_def& broker_config_definitions();

/// The broker configs that together decide one value, highest precedence first, as Kafka's
/// DescribeConfigs lists them: `log.retention.ms` → {ms, minutes, hours}, `log.roll.hours` →
/// {log.roll.ms, log.roll.hours}, `log.flush.interval.ms` → {itself, log.flush.scheduler.interval.ms};
/// any other name → {name}.
std::vector<std::string_view> broker_synonym_chain(std::string_view name);

/// Thread-pool sizes that a dynamic update may change only within [current/2, current*2].
bool is_thread_pool_config(std::string_view name);

namespace detail {
/// Appends one broker key to `d` (the table files use it).
void add(config_def& d, std::string name, config_type type, std::optional<std::string> dflt, validator v,
         importance level, update_mode mode, std::string doc);
void define_server_configs(config_def& d);
void define_replication_configs(config_def& d);
void define_log_configs(config_def& d);
void define_coordinator_configs(config_def& d);
} // namespace detail

} // namespace samsa::config
