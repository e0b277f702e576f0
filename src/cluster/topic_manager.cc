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
    SAMSA_TRY_ASSIGN(auto loaded, _store.load_topics());
    for (auto& [name, t] : loaded) {
        if (t.deleting) {
            log.info("topic {}: finishing its deletion, interrupted by a restart", name);
            queue_deletion(std::move(t));
            continue;
        }
        if (!config::validate_topic_overrides(t.overrides)) {
            log.warn("topic {}: stored config overrides are no longer valid; ignoring them", name);
            t.overrides.clear();
        }
        auto [it, inserted] = _topics.emplace(name, std::move(t));
        // Logs found on disk open now; those a crash kept from being created are queued, to be
        // created in steps once the broker serves (set_scheduler), or by reconcile().
        size_t missing = 0;
        for (auto& a : it->second.partitions) {
            topic_partition tp{name, a.id};
            if (a.leader != _self) continue;
            if (_logs.get(tp)) {
                open_one(tp);
            } else {
                enqueue(pending_op::kind::open, std::move(tp));
                ++missing;
            }
        }
        if (missing) log.info("topic {}: {} partition log(s) still to create", name, missing);
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

kafka_result<void> topic_manager::check_file_budget(int64_t count) const
{
    if (_budget.limit == 0 || count <= 0) return {};
    auto in_use = static_cast<int64_t>(_budget.in_use ? _budget.in_use() : 0);
    auto limit = static_cast<int64_t>(_budget.limit);
    auto reserve = static_cast<int64_t>(_budget.reserve);
    int64_t need = count * static_cast<int64_t>(file_budget::per_partition);
    int64_t free = std::max<int64_t>(0, limit - in_use - reserve);
    if (need <= free) return {};
    return kafka_error(error_code::invalid_partitions,
                       fmt::format("Creating {} partition(s) needs about {} file descriptors ({} each), but only {} "
                                   "of this broker's open-file limit of {} are free ({} in use, {} kept in reserve); "
                                   "raise the limit (ulimit -n, LimitNOFILE) or create fewer partitions.",
                                   count, need, file_budget::per_partition, free, limit, in_use, reserve));
}

void topic_manager::enqueue(pending_op::kind what, topic_partition tp, protocol::uuid topic_id)
{
    ++_pending_by_topic[tp.topic];
    _pending.push_back({what, std::move(tp), topic_id});
}

void topic_manager::queue_opens(const topic_info& t, size_t first)
{
    size_t n = 0;
    for (size_t i = first; i < t.partitions.size(); ++i) {
        if (t.partitions[i].leader != _self) continue;
        enqueue(pending_op::kind::open, topic_partition{t.name, t.partitions[i].id});
        ++n;
    }
    if (n > 0) run_or_schedule(n);
}

void topic_manager::queue_deletion(topic_info t)
{
    for (auto& a : t.partitions) {
        topic_partition tp{t.name, a.id};
        if (auto it = _partitions.find(tp); it != _partitions.end()) {
            it->second->stop(); // requests holding it (an acks=-1 wait, a long poll) end now
            _partitions.erase(it);
        }
        enqueue(pending_op::kind::remove, std::move(tp));
    }
    enqueue(pending_op::kind::forget, topic_partition{t.name, partition_id(0)}, t.id);
    size_t n = t.partitions.size() + 1;
    auto name = t.name;
    _deleting.insert_or_assign(name, std::move(t));
    run_or_schedule(n);
}

void topic_manager::run_or_schedule(size_t ops)
{
    if (_reconciling) return; // the running reconcile() loop picks the new work up
    if (!_schedule || (_pending.size() == ops && ops <= step_ops)) {
        while (reconcile(_pending.size())) {
        }
        return;
    }
    _schedule();
}

bool topic_manager::reconcile(size_t max_ops)
{
    _reconciling = true;
    size_t done = 0;
    while (!_pending.empty() && done < max_ops) {
        auto op = std::move(_pending.front());
        _pending.pop_front();
        ++done;
        const auto& name = op.tp.topic;
        switch (op.what) {
        case pending_op::kind::open: open_one(op.tp); break;
        case pending_op::kind::remove:
            if (_logs.get(op.tp)) {
                if (auto r = _logs.retire(op.tp); !r) log.error("cannot delete log {}: {}", op.tp, r.error().message());
            }
            break;
        case pending_op::kind::forget: {
            if (auto r = _logs.settle_retired(); !r) log.warn("topic {}: settling its deletion: {}", name, r.error().message());
            auto d = _deleting.find(name);
            if (d != _deleting.end() && d->second.id == op.topic_id) {
                if (auto r = _store.remove_topic(name); !r) {
                    log.error("topic {}: cannot remove its metadata: {}", name, r.error().message());
                }
                _deleting.erase(d);
                log.info("deleted topic {}", name);
            }
            break;
        }
        }
        auto c = _pending_by_topic.find(name);
        if (c != _pending_by_topic.end() && --c->second == 0) {
            _pending_by_topic.erase(c);
            _creating.erase(name);
        }
    }
    _reconciling = false;
    return !_pending.empty();
}

void topic_manager::open_one(const topic_partition& tp)
{
    auto it = _topics.find(tp.topic);
    if (it == _topics.end()) return; // deleted since
    auto& t = it->second;
    auto idx = static_cast<size_t>(tp.partition());
    if (idx >= t.partitions.size() || t.partitions[idx].leader != _self || _partitions.count(tp)) return;
    auto cfg = log_config_for(t);
    auto l = _logs.get_or_create(tp, cfg);
    if (!l) {
        auto why = l.error().message();
        log.error("cannot create log {}: {}", tp, why);
        _creation_failures[t.name] = why;
        if (!_creating.count(t.name)) return; // added partitions of a live topic: stay offline
        // A new topic whose logs cannot all be created is rolled back, as a deletion.
        log.error("topic {}: rolling its creation back", t.name);
        auto doomed = std::move(t);
        _topics.erase(it);
        _resolved.erase(doomed.name);
        doomed.deleting = true;
        if (auto r = _store.save_topic(doomed); !r) log.error("topic {}: {}", doomed.name, r.error().message());
        queue_deletion(std::move(doomed));
        return;
    }
    (*l)->set_config(cfg);
    auto& a = t.partitions[idx];
    _partitions.emplace(tp, std::make_shared<partition>(tp, _logs.share(tp), a.replicas, a.state(), _self));
}

bool topic_manager::settled(const std::string& name) const
{
    return !_pending_by_topic.count(name) && !_deleting.count(name);
}

std::optional<std::string> topic_manager::take_creation_failure(const std::string& name)
{
    auto it = _creation_failures.find(name);
    if (it == _creation_failures.end()) return std::nullopt;
    auto why = std::move(it->second);
    _creation_failures.erase(it);
    return why;
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
    if (_deleting.count(req.name)) {
        return kafka_error(error_code::topic_already_exists, fmt::format("Topic '{}' is marked for deletion.", req.name));
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
    // Before anything is allocated for the partitions: a request may ask for 2^31-1 of them.
    if (auto b = check_file_budget(req.assignments.empty() ? req.partitions : static_cast<int64_t>(req.assignments.size()));
        !b) {
        return b.error();
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
    auto name = t.name;
    auto [it, inserted] = _topics.emplace(name, std::move(t));
    _creation_failures.erase(name);
    _creating.insert(name);
    log.info("created topic {} with {} partition(s), replication factor {}", name, it->second.partitions.size(),
             it->second.replication_factor);
    queue_opens(it->second, 0); // may finish (or roll back) the creation before returning
    if (settled(name)) {
        if (auto why = take_creation_failure(name)) {
            return kafka_error(error_code::kafka_storage_error, "Cannot create the topic's logs: " + *why);
        }
    }
    auto found = _topics.find(name);
    if (found == _topics.end()) return kafka_error(error_code::kafka_storage_error, "Cannot create the topic's logs");
    return &found->second;
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
    auto doomed = it->second;
    doomed.deleting = true;
    // From this write on, the deletion finishes even across a crash (see start()).
    if (auto r = _store.save_topic(doomed); !r) {
        return kafka_error(error_code::kafka_storage_error, "Cannot mark the topic for deletion: " + r.error().message());
    }
    _topics.erase(it);
    _resolved.erase(name);
    _creating.erase(name);
    log.info("deleting topic {} ({} partition(s))", name, doomed.partitions.size());
    queue_deletion(std::move(doomed));
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
    if (auto b = check_file_budget(static_cast<int64_t>(count) - current); !b) return b.error();
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
    log.info("topic {} now has {} partitions", name, count);
    _creation_failures.erase(name);
    queue_opens(t, static_cast<size_t>(current));
    if (settled(name)) {
        if (auto why = take_creation_failure(name)) {
            return kafka_error(error_code::kafka_storage_error, "Cannot create the new partitions' logs: " + *why);
        }
    }
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
