#pragma once

#include "config/config_def.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace samsa::config {

/// Where a described value comes from, numbered as DescribeConfigs v1+ sends it.
enum class config_source : int8_t {
    unknown = 0,
    dynamic_topic_config = 1,          // a topic override
    dynamic_broker_config = 2,         // AlterConfigs on broker "<id>"
    dynamic_default_broker_config = 3, // AlterConfigs on the cluster default broker ""
    static_broker_config = 4,          // server.properties or --override
    default_config = 5,                // Kafka's default
    dynamic_broker_logger_config = 6,
};

/// One synonym of a described config: a config that supplies (or would supply) its value.
struct config_synonym {
    std::string name;
    std::optional<std::string> value; // nullopt for sensitive configs
    config_source source = config_source::unknown;

    bool operator==(const config_synonym&) const = default;
};

/// One row of a DescribeConfigs result, in the response's terms. `value` is nullopt for null
/// values and for sensitive ones; `documentation` is nullopt unless requested.
struct config_entry {
    std::string name;
    std::optional<std::string> value;
    config_source source = config_source::unknown;
    bool read_only = false;
    bool sensitive = false;
    std::vector<config_synonym> synonyms; // highest precedence first; empty unless requested
    config_type type = config_type::string;
    std::optional<std::string> documentation;
};

/// DescribeConfigs request flags (IncludeSynonyms v1+, IncludeDocumentation v3+).
struct describe_options {
    bool include_synonyms = false;
    bool include_documentation = false;
};

} // namespace samsa::config
