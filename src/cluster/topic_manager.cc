#include "cluster/topic_manager.h"

#include "base/logging.h"

#include <fmt/format.h>
#include <set>

namespace samsa::cluster {
namespace {
constexpr logger log{"cluster"};
using protocol::error_code;
} // namespace

storage::log_config to_log_config(const config::topic_config& c)
{
    storage::log_config lc;
    lc.segment_bytes = static_cast<uint64_t>(c.segment_bytes);
    lc.segment_ms = c.segment_ms;
    lc.segment_jitter_ms = c.segment_jitter_ms;
    lc.index_interval_bytes = static_cast<size_t>(c.index_interval_bytes);
    lc.segment_index_bytes = static_cast<size_t>(c.segment_index_bytes);
    lc.retention_ms = c.retention_ms;
    lc.retention_bytes = c.retention_bytes;
    lc.flush_messages = c.flush_messages;
    lc.flush_ms = c.flush_ms;
    lc.file_delete_delay_ms = c.file_delete_delay_ms;
    lc.cleanup_delete = c.cleanup.delete_enabled;
    lc.cleanup_compact = c.cleanup.compact_enabled;
    lc.timestamp_type = c.message_timestamp == config::message_timestamp_type::log_append_time
                            ? protocol::timestamp_type::log_append_time
                            : protocol::timestamp_type::create_time;
    lc.max_message_bytes = static_cast<uint32_t>(c.max_message_bytes);
    lc.min_cleanable_dirty_ratio = c.min_cleanable_dirty_ratio;
    lc.min_compaction_lag_ms = c.min_compaction_lag_ms;
    lc.max_compaction_lag_ms = c.max_compaction_lag_ms;
    lc.delete_retention_ms = c.delete_retention_ms;
    return lc;
}

topic_manager::topic_manager(storage::log_manager& logs, config::broker_config_store& broker, metadata_store& store,
                             node_id self)
  : _logs(logs), _broker(broker), _store(store), _self(self)
{}

std::shared_ptr<const config::topic_config> topic_manager::effective_config(const topic_info& t) const
{
    // Resolving parses every override and looks up every key: too slow for each produce request.
    // The entry is keyed by what it was resolved from, so a stale one is never returned.
    auto it = _resolved.find(t.name);
    if (it != _resolved.end() && it->second.broker_generation == _broker.generation() &&
        it->second.overrides == t.overrides) {
        return it->second.config;
    }
    auto cfg = std::make_shared<const config::topic_config>(config::resolve_topic_config(t.overrides, _broker.current()));
    _resolved.insert_or_assign(t.name, resolved_config{_broker.generation(), t.overrides, cfg});
    return cfg;
}

storage::log_config topic_manager::log_config_for(const topic_info& t) const
{
    return to_log_config(*effective_config(t));
}

result<void> topic_manager::start()
{
    SAMSA_TRY_ASSIGN(_topics, _store.load_topics());
    for (auto& [name, t] : _topics) {
        if (!config::validate_topic_overrides(t.overrides)) {
            log.warn("topic {}: stored config overrides are no longer valid; ignoring them", name);
            t.overrides.clear();
        }
        SAMSA_TRY(open_partitions(t));
    }
    for (auto& [tp, l] : _logs.logs()) {
        auto it = _topics.find(tp.topic);
        if (it == _topics.end() || tp.partition() >= static_cast<int32_t>(it->second.partitions.size())) {
            log.warn("log {} belongs to no known topic; leaving it alone", tp);
        }
    }
    log.info("{} topic(s), {} partition(s) loaded", _topics.size(), _partitions.size());
    return ok();
}

result<void> topic_manager::open_partitions(const topic_info& t)
{
    auto cfg = log_config_for(t);
    for (auto& a : t.partitions) {
        topic_partition tp{t.name, a.id};
        if (_partitions.count(tp)) continue;
        if (a.leader != _self) continue;
        SAMSA_TRY_ASSIGN(auto* l, _logs.get_or_create(tp, cfg));
        l->set_config(cfg);
        _partitions.emplace(tp, std::make_shared<partition>(tp, *l, a));
    }
    return ok();
}

kafka_result<std::vector<partition_assignment>> topic_manager::plan_assignments(const create_topic_request& req,
                                                                                int32_t first, int32_t count) const
{
    auto live = live_brokers();
    std::set<int32_t> live_ids;
    for (auto n : live) live_ids.insert(n());
    std::vector<partition_assignment> out;
    if (!req.assignments.empty()) {
        size_t rf = req.assignments.front().size();
        for (size_t i = 0; i < req.assignments.size(); ++i) {
            auto& reps = req.assignments[i];
            std::set<int32_t> uniq(reps.begin(), reps.end());
            if (reps.empty() || uniq.size() != reps.size() || reps.size() != rf) {
                return kafka_error(error_code::invalid_replica_assignment,
                                   fmt::format("Invalid replica assignment for partition {}", first + i));
            }
            for (auto r : reps) {
                if (!live_ids.count(r)) {
                    return kafka_error(error_code::invalid_replica_assignment,
                                       fmt::format("Unknown broker {} in replica assignment", r));
                }
            }
            partition_assignment a;
            a.id = partition_id(first + static_cast<int32_t>(i));
            for (auto r : reps) a.replicas.push_back(node_id(r));
            a.isr = a.replicas;
            a.leader = a.replicas.front();
            out.push_back(std::move(a));
        }
        return out;
    }
    int16_t rf = req.replication_factor;
    for (int32_t i = 0; i < count; ++i) {
        partition_assignment a;
        a.id = partition_id(first + i);
        for (int16_t r = 0; r < rf; ++r) a.replicas.push_back(live[(static_cast<size_t>(first + i) + r) % live.size()]);
        a.isr = a.replicas;
        a.leader = a.replicas.front();
        out.push_back(std::move(a));
    }
    return out;
}

kafka_result<const topic_info*> topic_manager::create_topic(const create_topic_request& in, bool validate_only)
{
    auto req = in;
    if (_topics.count(req.name)) {
        return kafka_error(error_code::topic_already_exists, fmt::format("Topic '{}' already exists.", req.name));
    }
    if (auto bad = validate_topic_name(req.name)) return kafka_error(error_code::invalid_topic_exception, *bad);
    for (auto& [name, t] : _topics) {
        if (topic_names_collide(name, req.name)) {
            return kafka_error(error_code::invalid_topic_exception,
                               fmt::format("Topic '{}' collides with existing topic: {}", req.name, name));
        }
    }
    if (!req.assignments.empty() && (req.partitions != -1 || req.replication_factor != -1)) {
        return kafka_error(error_code::invalid_request,
                           "Both numPartitions or replicationFactor and replicasAssignments were set. "
                           "Both cannot be used at the same time.");
    }
    auto& bc = _broker.current();
    if (req.assignments.empty()) {
        if (req.partitions == -1) req.partitions = bc.num_partitions;
        if (req.replication_factor == -1) req.replication_factor = bc.default_replication_factor;
        if (req.partitions <= 0) {
            return kafka_error(error_code::invalid_partitions, "Number of partitions must be larger than 0.");
        }
        if (req.replication_factor <= 0) {
            return kafka_error(error_code::invalid_replication_factor, "Replication factor must be larger than 0.");
        }
        if (static_cast<size_t>(req.replication_factor) > live_brokers().size()) {
            return kafka_error(error_code::invalid_replication_factor,
                               fmt::format("Replication factor: {} larger than available brokers: {}.",
                                           req.replication_factor, live_brokers().size()));
        }
    }
    if (auto v = config::validate_topic_overrides(req.configs); !v) {
        return kafka_error(error_code::invalid_config, v.error().message);
    }
    auto plan = plan_assignments(req, 0, req.partitions);
    if (!plan) return plan.error();
    topic_info t;
    t.name = req.name;
    t.id = random_uuid();
    t.internal = req.internal;
    t.partitions = std::move(*plan);
    t.replication_factor = static_cast<int16_t>(t.partitions.front().replicas.size());
    t.overrides = req.configs;
    if (validate_only) {
        auto [it, inserted] = _validated.insert_or_assign(t.name, std::move(t));
        return &it->second;
    }
    if (auto r = _store.save_topic(t); !r) {
        return kafka_error(error_code::kafka_storage_error, "Cannot persist topic metadata: " + r.error().message());
    }
    auto [it, inserted] = _topics.emplace(t.name, std::move(t));
    if (auto r = open_partitions(it->second); !r) {
        log.error("topic {}: cannot create logs: {}; rolling the creation back", req.name, r.error().message());
        for (auto& a : it->second.partitions) {
            topic_partition tp{req.name, a.id};
            _partitions.erase(tp);
            if (_logs.get(tp)) (void)_logs.remove(tp);
        }
        (void)_store.remove_topic(req.name);
        _topics.erase(it);
        return kafka_error(error_code::kafka_storage_error, "Cannot create the topic's logs: " + r.error().message());
    }
    log.info("created topic {} with {} partition(s), replication factor {}", it->first, it->second.partitions.size(),
             it->second.replication_factor);
    return &it->second;
}

kafka_result<void> topic_manager::delete_topic(const std::string& name)
{
    auto it = _topics.find(name);
    if (it == _topics.end()) {
        return kafka_error(error_code::unknown_topic_or_partition, "This server does not host this topic-partition.");
    }
    if (!_broker.current().delete_topic_enable) {
        return kafka_error(error_code::topic_deletion_disabled, "Topic deletion is disabled.");
    }
    for (auto& a : it->second.partitions) {
        topic_partition tp{name, a.id};
        _partitions.erase(tp);
        if (_logs.get(tp)) {
            if (auto r = _logs.remove(tp); !r) {
                log.error("topic {}: cannot delete log {}: {}", name, tp, r.error().message());
                return kafka_error(error_code::kafka_storage_error, r.error().message());
            }
        }
    }
    if (auto r = _store.remove_topic(name); !r) {
        return kafka_error(error_code::kafka_storage_error, r.error().message());
    }
    _topics.erase(it);
    _resolved.erase(name);
    log.info("deleted topic {}", name);
    return {};
}

kafka_result<void> topic_manager::create_partitions(const std::string& name, int32_t count,
                                                    const std::vector<std::vector<int32_t>>& assignments,
                                                    bool validate_only)
{
    auto it = _topics.find(name);
    if (it == _topics.end()) {
        return kafka_error(error_code::unknown_topic_or_partition, "This server does not host this topic-partition.");
    }
    auto& t = it->second;
    auto current = static_cast<int32_t>(t.partitions.size());
    if (count <= current) {
        return kafka_error(error_code::invalid_partitions,
                           fmt::format("Topic currently has {} partitions, which is higher than the requested {}.",
                                       current, count));
    }
    if (!assignments.empty() && static_cast<int32_t>(assignments.size()) != count - current) {
        return kafka_error(error_code::invalid_replica_assignment,
                           fmt::format("Increasing the number of partitions by {} but {} assignments provided.",
                                       count - current, assignments.size()));
    }
    create_topic_request req;
    req.replication_factor = t.replication_factor;
    req.assignments = assignments;
    auto plan = plan_assignments(req, current, count - current);
    if (!plan) return plan.error();
    if (validate_only) return {};
    auto updated = t;
    for (auto& a : *plan) updated.partitions.push_back(a);
    if (auto r = _store.save_topic(updated); !r) return kafka_error(error_code::kafka_storage_error, r.error().message());
    t = std::move(updated);
    if (auto r = open_partitions(t); !r) return kafka_error(error_code::kafka_storage_error, r.error().message());
    log.info("topic {} now has {} partitions", name, count);
    return {};
}

kafka_result<void> topic_manager::set_topic_overrides(const std::string& name, config::property_map overrides)
{
    auto it = _topics.find(name);
    if (it == _topics.end()) {
        return kafka_error(error_code::unknown_topic_or_partition, "This server does not host this topic-partition.");
    }
    auto updated = it->second;
    updated.overrides = std::move(overrides);
    if (auto r = _store.save_topic(updated); !r) return kafka_error(error_code::kafka_storage_error, r.error().message());
    it->second = std::move(updated);
    auto cfg = log_config_for(it->second);
    for (auto& a : it->second.partitions) {
        if (auto* l = _logs.get({name, a.id})) l->set_config(cfg);
    }
    return {};
}

void topic_manager::broker_config_changed()
{
    for (auto& [name, t] : _topics) {
        auto cfg = log_config_for(t);
        for (auto& a : t.partitions) {
            if (auto* l = _logs.get({name, a.id})) l->set_config(cfg);
        }
    }
}

const topic_info* topic_manager::find(const std::string& name) const
{
    auto it = _topics.find(name);
    return it == _topics.end() ? nullptr : &it->second;
}

const topic_info* topic_manager::find(const protocol::uuid& id) const
{
    for (auto& [n, t] : _topics) {
        if (t.id == id) return &t;
    }
    return nullptr;
}

std::shared_ptr<partition> topic_manager::get(const topic_partition& tp) const
{
    auto it = _partitions.find(tp);
    return it == _partitions.end() ? nullptr : it->second;
}

} // namespace samsa::cluster
