// samsa configs: kafka-configs.sh for topics and brokers.
//
// librdkafka 2.0.2 has no IncrementalAlterConfigs, so --alter reads the resource's dynamic
// configs, applies the additions and deletions, and writes the whole set back with
// AlterConfigs (what kafka-configs.sh did before Kafka 2.3).
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/config_ops.h"
#include "cli/output.h"

#include "config/errors.h"
#include "config/properties.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace samsa::cli {

namespace {

command_spec configs_spec()
{
    command_spec s{
        "configs",
        "Describes or changes the dynamic configs of topics and brokers. Without --all, --describe "
        "shows only the configs set dynamically on the entity (with their synonyms).",
        "  samsa configs --bootstrap-server localhost:9092 --describe --entity-type topics --entity-name t\n"
        "  samsa configs --describe --topic t --all\n"
        "  samsa configs --alter --topic t --add-config retention.ms=60000,cleanup.policy=[compact,delete]\n"
        "  samsa configs --alter --topic t --delete-config retention.ms\n"
        "  samsa configs --alter --entity-type brokers --entity-default --add-config log.retention.ms=3600000\n"
        "  samsa configs --describe --broker 0\n",
        {
            {"describe", arity::flag, "", "List the configs of the entity."},
            {"alter", arity::flag, "", "Change the configs of the entity."},
            {"entity-type", arity::one, "topics|brokers", "The type of entity."},
            {"entity-name", arity::one, "name", "The topic name or broker id."},
            {"entity-default", arity::flag, "", "The cluster-wide broker defaults (--entity-type brokers)."},
            {"topic", arity::one, "topic", "Same as --entity-type topics --entity-name <topic>."},
            {"broker", arity::one, "id", "Same as --entity-type brokers --entity-name <id>."},
            {"broker-defaults", arity::flag, "", "Same as --entity-type brokers --entity-default."},
            {"add-config", arity::one, "k=v,k2=[v1,v2]", "Configs to set (repeatable)."},
            {"add-config-file", arity::one, "file", "A properties file of configs to set."},
            {"delete-config", arity::one, "k,k2", "Configs to remove (repeatable)."},
            {"all", arity::flag, "", "With --describe: every config, including defaults."},
        }};
    add_client_options(s);
    return s;
}

/// The entity a command line names. `name` empty with type brokers: the cluster defaults;
/// with type topics and --describe: every topic.
struct entity {
    rd_kafka_ResourceType_t type = RD_KAFKA_RESOURCE_TOPIC;
    std::optional<std::string> name;
    bool is_default = false;
};

entity parse_entity(const parsed_args& a)
{
    int given = a.has("topic") + a.has("broker") + a.has("broker-defaults") + a.has("entity-type");
    if (given != 1) {
        throw usage_error("Exactly one of --entity-type, --topic, --broker or --broker-defaults must be specified");
    }
    entity e;
    if (a.has("topic")) return {RD_KAFKA_RESOURCE_TOPIC, a.value("topic"), false};
    if (a.has("broker")) return {RD_KAFKA_RESOURCE_BROKER, a.value("broker"), false};
    if (a.has("broker-defaults")) return {RD_KAFKA_RESOURCE_BROKER, std::string(), true};
    auto t = *a.value("entity-type");
    if (t == "topics")
        e.type = RD_KAFKA_RESOURCE_TOPIC;
    else if (t == "brokers")
        e.type = RD_KAFKA_RESOURCE_BROKER;
    else
        throw usage_error(fmt::format("Invalid entity-type {}, should be one of topics, brokers", t));
    if (a.has("entity-default")) {
        if (e.type != RD_KAFKA_RESOURCE_BROKER)
            throw usage_error("--entity-default is only valid with --entity-type brokers");
        if (a.has("entity-name")) throw usage_error("--entity-name and --entity-default cannot be used together");
        e.name = std::string();
        e.is_default = true;
    } else {
        e.name = a.value("entity-name");
    }
    if (e.type == RD_KAFKA_RESOURCE_BROKER && e.name && !e.is_default && !parse_int(*e.name)) {
        throw usage_error(fmt::format("The broker's entity name must be a broker id, not '{}'", *e.name));
    }
    return e;
}

std::string entity_label(const entity& e, const std::string& name)
{
    if (e.type == RD_KAFKA_RESOURCE_TOPIC) return "topic " + name;
    return name.empty() ? "brokers in the cluster" : "broker " + name;
}

std::string entry_text(const config_entry& c)
{
    auto value = c.sensitive ? std::string("null") : c.value.value_or("null");
    std::vector<std::string> syn;
    for (auto& s : c.synonyms) {
        syn.push_back(fmt::format("{}:{}={}", rd_kafka_ConfigSource_name(s.source), s.name,
                                  s.sensitive ? std::string("null") : s.value.value_or("null")));
    }
    return fmt::format("  {}={} sensitive={} synonyms={{{}}}\n", c.name, value, c.sensitive ? "true" : "false",
                       join(syn, ", "));
}

/// The names to describe: the given one, or every topic / every broker. The cluster-wide
/// broker defaults are read through the first broker (librdkafka cannot address the empty
/// resource name).
std::vector<std::string> describe_targets(const admin_client& admin, const entity& e)
{
    auto md = admin.metadata();
    std::vector<std::string> names;
    if (e.is_default) {
        if (md->broker_cnt == 0) throw cli_error("The cluster reported no brokers");
        names.push_back(std::to_string(md->brokers[0].id));
        return names;
    }
    if (e.name) {
        if (e.type == RD_KAFKA_RESOURCE_TOPIC) find_topic(*md, *e.name);
        names.push_back(*e.name);
        return names;
    }
    if (e.type == RD_KAFKA_RESOURCE_TOPIC) {
        for (int i = 0; i < md->topic_cnt; ++i) {
            if (!md->topics[i].err) names.push_back(md->topics[i].topic);
        }
    } else {
        for (int i = 0; i < md->broker_cnt; ++i) names.push_back(std::to_string(md->brokers[i].id));
    }
    std::sort(names.begin(), names.end());
    return names;
}

/// The entry itself or its own value from `source` (the same name in another layer: the
/// cluster-wide default of a config also set per broker), if any. Synonyms under other names
/// (log.retention.ms for log.retention.hours) are not the entry: they have entries of their own.
std::optional<config_entry> from_source(const config_entry& c, rd_kafka_ConfigSource_t source)
{
    if (c.source == source) return c;
    for (auto& s : c.synonyms) {
        if (s.source != source || s.name != c.name) continue;
        config_entry out = s;
        out.synonyms = c.synonyms;
        return out;
    }
    return std::nullopt;
}

int describe(const admin_client& admin, const entity& e, bool all)
{
    auto source = e.type == RD_KAFKA_RESOURCE_TOPIC ? RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG
                  : e.is_default                    ? RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG
                                                    : RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG;
    for (auto& rc : describe_configs(admin, e.type, describe_targets(admin, e))) {
        if (e.is_default)
            write_out("Default configs for brokers in the cluster are:\n");
        else
            write_out(fmt::format("{} configs for {} are:\n", all ? "All" : "Dynamic", entity_label(e, rc.name)));
        for (auto& c : rc.entries) {
            if (all && !e.is_default)
                write_out(entry_text(c));
            else if (auto d = from_source(c, source))
                write_out(entry_text(*d));
        }
    }
    return 0;
}

/// The additions of --add-config (repeatable) and --add-config-file.
std::map<std::string, std::string> additions(const parsed_args& a)
{
    std::map<std::string, std::string> add;
    for (auto& text : a.values("add-config")) {
        for (auto& [k, v] : parse_add_config(text)) add[k] = v;
    }
    if (auto f = a.value("add-config-file")) {
        try {
            for (auto& [k, v] : config::load_properties_file(*f)) add[k] = v;
        } catch (const config::config_error& err) {
            throw cli_error(err.what());
        }
    }
    return add;
}

std::set<std::string> deletions(const parsed_args& a)
{
    std::set<std::string> del;
    for (auto& text : a.values("delete-config")) {
        for (auto& k : split(text, ',')) {
            if (!k.empty()) del.insert(k);
        }
    }
    return del;
}

int alter(const admin_client& admin, const entity& e, const parsed_args& a)
{
    if (e.is_default) {
        throw cli_error("Altering the cluster-wide broker defaults is not possible with librdkafka 2.0.2 (it cannot "
                        "address the empty resource name); alter each broker with --broker <id> instead");
    }
    if (!e.name) throw usage_error("--alter needs an entity name (--entity-name, --topic or --broker)");
    auto add = additions(a);
    auto del = deletions(a);
    if (add.empty() && del.empty()) {
        throw usage_error(
            "At least one of --add-config, --add-config-file or --delete-config must be specified with --alter");
    }
    for (auto& k : del) {
        if (add.count(k)) throw usage_error(fmt::format("Config {} is both added and deleted", k));
    }
    if (e.type == RD_KAFKA_RESOURCE_TOPIC) find_topic(*admin.metadata(*e.name), *e.name);
    auto current = describe_configs(admin, e.type, {*e.name});
    auto source = dynamic_source(e.type, *e.name);
    std::map<std::string, std::string> next;
    std::vector<std::string> invalid;
    for (auto& c : current.empty() ? std::vector<config_entry>{} : current.front().entries) {
        if (c.source != source || del.count(c.name) || add.count(c.name)) continue;
        if (c.sensitive || !c.value) {
            throw cli_error(fmt::format("Cannot alter {}: the sensitive config {} would be lost (its value cannot be "
                                        "read back)",
                                        entity_label(e, *e.name), c.name));
        }
        next[c.name] = *c.value;
    }
    for (auto& k : del) {
        bool set = !current.empty() && std::any_of(current.front().entries.begin(), current.front().entries.end(),
                                                   [&](auto& c) { return c.name == k && c.source == source; });
        if (!set) invalid.push_back(k);
    }
    if (!invalid.empty()) throw cli_error("Invalid config(s): " + join(invalid, ","));
    for (auto& [k, v] : add) next[k] = v;
    alter_configs(admin, e.type, *e.name, next);
    if (e.is_default)
        std::printf("Completed updating default config for brokers in the cluster.\n");
    else
        std::printf("Completed updating config for %s.\n", entity_label(e, *e.name).c_str());
    return 0;
}

} // namespace

int run_configs(const std::vector<std::string>& args)
{
    auto spec = configs_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    require_one_action(a, {"describe", "alter"});
    auto e = parse_entity(a);
    if (a.has("all") && !a.has("describe")) throw usage_error("--all can only be used with --describe");
    if (a.has("describe") && (a.has("add-config") || a.has("delete-config") || a.has("add-config-file"))) {
        throw usage_error("--add-config and --delete-config can only be used with --alter");
    }
    admin_client admin(client_config::from_args(a));
    return a.has("describe") ? describe(admin, e, a.has("all")) : alter(admin, e, a);
}

} // namespace samsa::cli
