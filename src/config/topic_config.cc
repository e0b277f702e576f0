#include "config/topic_config.h"

#include "base/assert.h"
#include "config/broker_definitions.h"

#include <fmt/format.h>

#include <algorithm>

namespace samsa::config {
namespace {

using broker_value_fn = config_value (*)(const broker_config&);

/// How each topic config reads its fallback from the typed broker config.
struct topic_binding {
    std::string_view name;
    broker_value_fn from_broker;
};

/// "partition:broker" entries, or the single "*".
std::optional<std::pair<int32_t, int32_t>> throttled_entry(std::string_view e)
{
    auto colon = e.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto num = [](std::string_view s) -> std::optional<int32_t> {
        if (s.empty() || s.size() > 9) return std::nullopt;
        int32_t v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
        }
        return v;
    };
    auto p = num(e.substr(0, colon));
    auto b = num(e.substr(colon + 1));
    if (!p || !b) return std::nullopt;
    return std::pair{*p, *b};
}

validator throttled_replicas_validator()
{
    return validator{[](const config_value& v) -> std::optional<violation> {
        auto* items = std::get_if<std::vector<std::string>>(&v);
        if (!items) return std::nullopt;
        if (items->size() == 1 && items->front() == "*") return std::nullopt;
        for (auto& e : *items) {
            if (!throttled_entry(e)) {
                return violation{"must be * or a list of partition:broker entries", e};
            }
        }
        return std::nullopt;
    }, "[partition:broker,...] or *"};
}

config_value cleanup_list(const cleanup_policy& p)
{
    std::vector<std::string> items;
    if (p.compact_enabled) items.emplace_back("compact");
    if (p.delete_enabled) items.emplace_back("delete");
    return items;
}

std::string compression_name(broker_compression c)
{
    switch (c) {
    case broker_compression::producer: return "producer";
    case broker_compression::uncompressed: return "uncompressed";
    case broker_compression::gzip: return "gzip";
    case broker_compression::snappy: return "snappy";
    case broker_compression::lz4: return "lz4";
    case broker_compression::zstd: return "zstd";
    }
    return "producer";
}

std::string timestamp_name(message_timestamp_type t)
{
    return t == message_timestamp_type::log_append_time ? "LogAppendTime" : "CreateTime";
}

using bc = const broker_config&;

// clang-format off
const topic_binding bindings[] = {
    {"cleanup.policy", [](bc b) -> config_value { return cleanup_list(b.log_cleanup_policy); }},
    {"compression.type", [](bc b) -> config_value { return compression_name(b.compression_type); }},
    {"delete.retention.ms", [](bc b) -> config_value { return b.log_cleaner_delete_retention_ms; }},
    {"file.delete.delay.ms", [](bc b) -> config_value { return b.log_segment_delete_delay_ms; }},
    {"flush.messages", [](bc b) -> config_value { return b.log_flush_interval_messages; }},
    {"flush.ms", [](bc b) -> config_value { return b.log_flush_interval_ms; }},
    {"index.interval.bytes", [](bc b) -> config_value { return b.log_index_interval_bytes; }},
    {"max.compaction.lag.ms", [](bc b) -> config_value { return b.log_cleaner_max_compaction_lag_ms; }},
    {"max.message.bytes", [](bc b) -> config_value { return b.message_max_bytes; }},
    {"message.downconversion.enable", [](bc b) -> config_value { return b.log_message_downconversion_enable; }},
    {"message.format.version", [](bc) -> config_value { return std::string(ignored_message_format_version); }},
    {"message.timestamp.difference.max.ms", [](bc b) -> config_value { return b.log_message_timestamp_difference_max_ms; }},
    {"message.timestamp.type", [](bc b) -> config_value { return timestamp_name(b.log_message_timestamp_type); }},
    {"min.cleanable.dirty.ratio", [](bc b) -> config_value { return b.log_cleaner_min_cleanable_ratio; }},
    {"min.compaction.lag.ms", [](bc b) -> config_value { return b.log_cleaner_min_compaction_lag_ms; }},
    {"min.insync.replicas", [](bc b) -> config_value { return int64_t{b.min_insync_replicas}; }},
    {"preallocate", [](bc b) -> config_value { return b.log_preallocate; }},
    {"retention.bytes", [](bc b) -> config_value { return b.log_retention_bytes; }},
    {"retention.ms", [](bc b) -> config_value { return b.log_retention_ms; }},
    {"segment.bytes", [](bc b) -> config_value { return b.log_segment_bytes; }},
    {"segment.index.bytes", [](bc b) -> config_value { return b.log_index_size_max_bytes; }},
    {"segment.jitter.ms", [](bc b) -> config_value { return b.log_roll_jitter_ms; }},
    {"segment.ms", [](bc b) -> config_value { return b.log_roll_ms; }},
    {"unclean.leader.election.enable", [](bc b) -> config_value { return b.unclean_leader_election_enable; }},
    {"leader.replication.throttled.replicas", [](bc) -> config_value { return std::vector<std::string>{}; }},
    {"follower.replication.throttled.replicas", [](bc) -> config_value { return std::vector<std::string>{}; }},
};
// clang-format on

const topic_binding& binding(std::string_view name)
{
    auto it = std::find_if(std::begin(bindings), std::end(bindings), [&](const auto& b) { return b.name == name; });
    SAMSA_ASSERT(it != std::end(bindings), "topic config {} has no broker binding", name);
    return *it;
}

void add(config_def& d, std::string name, config_type type, validator v, std::string synonym, std::string doc)
{
    d.define(config_key{std::move(name), type, std::nullopt, std::move(v), importance::medium,
                        update_mode::cluster_wide, std::move(doc), std::move(synonym)});
}

config_def build_topic_definitions()
{
    using enum config_type;
    const auto none = validator{};
    const auto at_least = validator::at_least;
    config_def d;
    add(d, "cleanup.policy", list, validator::list_of({"compact", "delete"}, false), "log.cleanup.policy",
        "delete removes old segments, compact keeps the latest record per key; both may be given.");
    add(d, "compression.type", string, validator::one_of({"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"}),
        "compression.type", "Codec of stored batches; producer keeps whatever the producer used.");
    add(d, "delete.retention.ms", int64, at_least(0), "log.cleaner.delete.retention.ms",
        "How long tombstones stay after compaction.");
    add(d, "file.delete.delay.ms", int64, at_least(0), "log.segment.delete.delay.ms",
        "Delay before the files of a deleted segment are removed.");
    add(d, "flush.messages", int64, at_least(1), "log.flush.interval.messages",
        "Records appended before the partition is fsynced.");
    add(d, "flush.ms", int64, at_least(0), "log.flush.interval.ms", "Longest time data stays unsynced.");
    add(d, "follower.replication.throttled.replicas", list, throttled_replicas_validator(), "",
        "Replicas (partition:broker, or *) whose follower side of replication is throttled to "
        "follower.replication.throttled.rate.");
    add(d, "index.interval.bytes", int32, at_least(0), "log.index.interval.bytes",
        "Bytes of records between two offset index entries.");
    add(d, "leader.replication.throttled.replicas", list, throttled_replicas_validator(), "",
        "Replicas (partition:broker, or *) whose leader side of replication is throttled to "
        "leader.replication.throttled.rate.");
    add(d, "max.compaction.lag.ms", int64, at_least(1), "log.cleaner.max.compaction.lag.ms",
        "Oldest a record may get before it must be compacted.");
    add(d, "max.message.bytes", int32, at_least(0), "message.max.bytes", "Largest record batch this topic accepts.");
    add(d, "message.downconversion.enable", boolean, none, "log.message.downconversion.enable",
        "Convert batches to older formats for old consumers.");
    add(d, "message.format.version", string, none, "log.message.format.version",
        "Deprecated and ignored (as in Kafka 3.x): batches are stored in the format the producer sent.");
    add(d, "message.timestamp.difference.max.ms", int64, at_least(0), "log.message.timestamp.difference.max.ms",
        "Largest gap allowed between a CreateTime timestamp and the broker's clock.");
    add(d, "message.timestamp.type", string, validator::one_of({"CreateTime", "LogAppendTime"}),
        "log.message.timestamp.type", "CreateTime keeps the producer's timestamps, LogAppendTime stamps on append.");
    add(d, "min.cleanable.dirty.ratio", float64, validator::between(0, 1), "log.cleaner.min.cleanable.ratio",
        "Share of the log that must be uncompacted before compaction runs.");
    add(d, "min.compaction.lag.ms", int64, at_least(0), "log.cleaner.min.compaction.lag.ms",
        "Youngest a record may be and still be compacted.");
    add(d, "min.insync.replicas", int32, at_least(1), "min.insync.replicas",
        "In-sync replicas needed before an acks=all produce succeeds.");
    add(d, "preallocate", boolean, none, "log.preallocate", "Preallocate segment files.");
    add(d, "retention.bytes", int64, none, "log.retention.bytes",
        "Partition size beyond which old segments are deleted; -1 means no limit.");
    add(d, "retention.ms", int64, at_least(-1), "log.retention.ms",
        "How long segments are kept; -1 keeps them forever.");
    add(d, "segment.bytes", int32, at_least(14), "log.segment.bytes", "Size at which the active segment is rolled.");
    add(d, "segment.index.bytes", int32, at_least(4), "log.index.size.max.bytes", "Largest size of an index file.");
    add(d, "segment.jitter.ms", int64, at_least(0), "log.roll.jitter.ms",
        "Random amount subtracted from segment.ms per segment.");
    add(d, "segment.ms", int64, at_least(1), "log.roll.ms", "Age at which the active segment is rolled.");
    add(d, "unclean.leader.election.enable", boolean, none, "unclean.leader.election.enable",
        "Allow an out-of-sync replica to become leader, at the cost of losing data.");
    return d;
}

/// The typed value of one topic config: the override when present, else the broker's.
config_value effective(const config_key& key, const property_map& overrides, const broker_config& broker)
{
    auto it = overrides.find(key.name);
    if (it == overrides.end()) return binding(key.name).from_broker(broker);
    auto parsed = parse_value(key, it->second);
    SAMSA_ASSERT(parsed.has_value(), "unvalidated topic override: {}", parsed.error().message);
    return std::move(*parsed);
}

} // namespace

const config_def& topic_config_definitions()
{
    static const config_def defs = build_topic_definitions();
    return defs;
}

config_result<void> validate_topic_overrides(const property_map& overrides)
{
    const auto& defs = topic_config_definitions();
    for (const auto& [name, raw] : overrides) {
        const config_key* key = defs.find(name);
        if (!key) return make_failure(errc::unknown_config, fmt::format("Unknown topic config name: {}", name));
        SAMSA_CONFIG_TRY(parse_value(*key, raw));
    }
    auto min_lag = overrides.find("min.compaction.lag.ms");
    auto max_lag = overrides.find("max.compaction.lag.ms");
    if (min_lag != overrides.end() && max_lag != overrides.end()) {
        auto lo = as_int(parse_value(*defs.find(min_lag->first), min_lag->second).value());
        auto hi = as_int(parse_value(*defs.find(max_lag->first), max_lag->second).value());
        if (lo > hi) {
            return make_failure(
                errc::conflicting_values,
                fmt::format("min.compaction.lag.ms ({}) must not exceed max.compaction.lag.ms ({})", lo, hi));
        }
    }
    return {};
}

throttled_replicas parse_throttled_replicas(const std::vector<std::string>& items)
{
    throttled_replicas t;
    if (items.size() == 1 && items.front() == "*") {
        t.all = true;
        return t;
    }
    for (auto& e : items) {
        if (auto x = throttled_entry(e)) t.replicas.insert(*x);
    }
    return t;
}

topic_config resolve_topic_config(const property_map& overrides, const broker_config& broker)
{
    const auto& defs = topic_config_definitions();
    auto v = [&](std::string_view name) { return effective(*defs.find(name), overrides, broker); };
    topic_config t;
    t.cleanup = parse_cleanup_policy(as_list(v("cleanup.policy")));
    t.compression_type = parse_compression(as_string(v("compression.type")));
    t.delete_retention_ms = as_int(v("delete.retention.ms"));
    t.file_delete_delay_ms = as_int(v("file.delete.delay.ms"));
    t.flush_messages = as_int(v("flush.messages"));
    t.flush_ms = as_int(v("flush.ms"));
    t.index_interval_bytes = as_int(v("index.interval.bytes"));
    t.max_compaction_lag_ms = as_int(v("max.compaction.lag.ms"));
    t.max_message_bytes = as_int(v("max.message.bytes"));
    t.message_downconversion_enable = as_bool(v("message.downconversion.enable"));
    t.message_timestamp_difference_max_ms = as_int(v("message.timestamp.difference.max.ms"));
    t.message_timestamp = parse_timestamp_type(as_string(v("message.timestamp.type")));
    t.min_cleanable_dirty_ratio = as_double(v("min.cleanable.dirty.ratio"));
    t.min_compaction_lag_ms = as_int(v("min.compaction.lag.ms"));
    t.min_insync_replicas = static_cast<int32_t>(as_int(v("min.insync.replicas")));
    t.preallocate = as_bool(v("preallocate"));
    t.retention_bytes = as_int(v("retention.bytes"));
    t.retention_ms = as_int(v("retention.ms"));
    t.segment_bytes = as_int(v("segment.bytes"));
    t.segment_index_bytes = as_int(v("segment.index.bytes"));
    t.segment_jitter_ms = as_int(v("segment.jitter.ms"));
    t.segment_ms = as_int(v("segment.ms"));
    t.unclean_leader_election_enable = as_bool(v("unclean.leader.election.enable"));
    t.leader_throttled_replicas = parse_throttled_replicas(as_list(v("leader.replication.throttled.replicas")));
    t.follower_throttled_replicas = parse_throttled_replicas(as_list(v("follower.replication.throttled.replicas")));
    return t;
}

std::vector<config_entry> describe_topic_config(const property_map& overrides, const broker_config_store& broker,
                                                const std::vector<std::string>& names, describe_options opts)
{
    const auto& defs = topic_config_definitions();
    std::vector<const config_key*> keys;
    if (names.empty()) {
        for (const auto& k : defs.keys()) keys.push_back(&k); // defined in name order
    } else {
        for (const auto& n : names) {
            if (const config_key* k = defs.find(n)) keys.push_back(k);
        }
    }
    std::vector<config_entry> out;
    for (const config_key* k : keys) {
        config_entry e;
        e.name = k->name;
        e.value = format_value(effective(*k, overrides, broker.current()));
        std::vector<config_synonym> syn;
        if (overrides.contains(k->name)) syn.push_back({k->name, e.value, config_source::dynamic_topic_config});
        auto from_broker = broker.synonyms(k->broker_synonym);
        syn.insert(syn.end(), from_broker.begin(), from_broker.end());
        e.source = syn.empty() ? config_source::default_config : syn.front().source;
        e.read_only = false;
        e.sensitive = k->sensitive();
        if (opts.include_synonyms) e.synonyms = std::move(syn);
        e.type = k->type;
        if (opts.include_documentation) e.documentation = k->documentation;
        out.push_back(std::move(e));
    }
    return out;
}

config_result<property_map> alter_topic_overrides(const property_map& current, std::span<const alter_op> ops,
                                                  const broker_config& broker)
{
    auto inherited = [&broker](const config_key& key) { return binding(key.name).from_broker(broker); };
    SAMSA_CONFIG_TRY_ASSIGN(auto next, apply_alter_ops(topic_config_definitions(), "topic", current, ops, inherited));
    SAMSA_CONFIG_TRY(validate_topic_overrides(next));
    return next;
}

std::string serialize_topic_overrides(const property_map& overrides) { return write_properties(overrides); }

config_result<property_map> parse_topic_overrides(std::string_view text)
{
    SAMSA_CONFIG_TRY_ASSIGN(auto entries, parse_properties(text, "topic overrides"));
    return to_map(entries);
}

} // namespace samsa::config
