#pragma once

#include "cli/client.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace samsa::cli {

/// One config entry as DescribeConfigs returns it.
struct config_entry {
    std::string name;
    std::optional<std::string> value; // nullopt: sensitive or unset
    rd_kafka_ConfigSource_t source = RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG;
    bool sensitive = false;
    bool read_only = false;
    bool is_default = false;
    std::vector<config_entry> synonyms;
};

/// The configs of one resource (a topic, a broker id, or "" for the cluster-wide broker
/// defaults), sorted by name.
struct resource_configs {
    std::string name;
    std::vector<config_entry> entries;
};

/// DescribeConfigs for resources of one type. Topics go in one request; brokers one request
/// each (librdkafka's rule). Throws cli_error naming the first resource the broker refused.
std::vector<resource_configs> describe_configs(const admin_client& admin, rd_kafka_ResourceType_t type,
                                               const std::vector<std::string>& names);

/// AlterConfigs (non-incremental: the request replaces every dynamic config of the resource
/// with `configs`). Throws cli_error with the broker's message on failure.
void alter_configs(const admin_client& admin, rd_kafka_ResourceType_t type, const std::string& name,
                   const std::map<std::string, std::string>& configs);

/// The source that marks a config as set dynamically on this resource: DYNAMIC_TOPIC_CONFIG for
/// topics, DYNAMIC_BROKER_CONFIG for one broker, DYNAMIC_DEFAULT_BROKER_CONFIG for "" (the
/// cluster default).
rd_kafka_ConfigSource_t dynamic_source(rd_kafka_ResourceType_t type, const std::string& name);

/// Kafka's --add-config syntax: "k1=v1,k2=[v1,v2,v3],k3=v3" (square brackets group a list value
/// that contains commas). usage_error on a pair without '='.
std::map<std::string, std::string> parse_add_config(std::string_view text);

} // namespace samsa::cli
