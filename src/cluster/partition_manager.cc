#include "cluster/partition_manager.h"

#include "base/logging.h"

namespace samsa::cluster {
namespace {
constexpr logger log{"cluster"};
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

std::shared_ptr<const config::topic_config> topic_configs::effective(const topic_info& t) const
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

storage::log_config topic_configs::log_config_for(const topic_info& t) const
{
    return to_log_config(*effective(t));
}

partition_manager::partition_manager(storage::log_manager& logs, const metadata_cache& cache, topic_configs& configs,
                                     node_id self)
  : _logs(logs), _cache(cache), _configs(configs), _self(self)
{}

bool partition_manager::hosts(const replica_assignment& a) const
{
    return std::find(a.replicas.begin(), a.replicas.end(), _self) != a.replicas.end();
}

void partition_manager::load(const topic_info& t, const std::vector<partition_state>& states)
{
    if (t.deleting) {
        log.info("topic {}: finishing its deletion, interrupted by a restart", t.name);
        queue_deletion(t);
        return;
    }
    // Logs found on disk open now; those a crash kept from being created are queued, to be
    // created in steps once the broker serves (set_scheduler), or by reconcile().
    size_t missing = 0;
    drop_unhosted_logs(t);
    for (auto& a : t.partitions) {
        if (!hosts(a)) continue;
        topic_partition tp{t.name, a.id};
        if (_logs.get(tp)) {
            open_one(tp);
        } else {
            enqueue(pending_op::kind::open, std::move(tp));
            ++missing;
        }
    }
    if (missing) log.info("topic {}: {} partition log(s) still to create", t.name, missing);
}

void partition_manager::topic_changed(const topic_info& t, const std::vector<partition_state>& states, bool created)
{
    if (t.deleting) {
        if (_deleting.count(t.name)) return;
        log.info("deleting topic {} ({} partition(s))", t.name, t.partitions.size());
        queue_deletion(t);
        return;
    }
    drop_unhosted_logs(t);
    if (created) {
        _creation_failures.erase(t.name);
        _creating.insert(t.name);
        queue_opens(t, 0); // may finish (or roll back) the creation before returning
        return;
    }
    // Partitions added, states or configs changed.
    apply_config(t);
    size_t first = t.partitions.size();
    for (size_t i = 0; i < t.partitions.size(); ++i) {
        topic_partition tp{t.name, t.partitions[i].id};
        auto it = _partitions.find(tp);
        if (it == _partitions.end()) {
            if (!_queued_opens.count(tp)) first = std::min(first, i);
            continue;
        }
        if (!hosts(t.partitions[i])) {
            // Reassigned away: the controller moved leadership and the ISR off this broker
            // before it wrote the new replicas.
            std::string now;
            for (auto r : t.partitions[i].replicas) now += (now.empty() ? "" : ",") + std::to_string(r());
            log.info("{}: no longer a replica here (replicas now [{}]); removing its log", tp, now);
            it->second->stop();
            if (on_replica_changed) on_replica_changed(it->second);
            _partitions.erase(it);
            if (auto r = _logs.remove(tp); !r) log.error("cannot delete log {}: {}", tp, r.error().message());
            continue;
        }
        bool changed = false;
        if (it->second->replicas() != t.partitions[i].replicas) {
            it->second->set_replicas(t.partitions[i].replicas);
            changed = true;
        }
        if (i < states.size() && it->second->state() != states[i]) {
            it->second->apply_state(states[i]); // become leader / follower, new epoch or ISR
            changed = true;
        }
        if (changed && on_replica_changed) on_replica_changed(it->second);
    }
    if (first < t.partitions.size()) {
        _creation_failures.erase(t.name);
        queue_opens(t, first);
    }
}

void partition_manager::drop_unhosted_logs(const topic_info& t)
{
    // A replica reassigned away while this broker was down (or before its log was opened here)
    // left its log behind: the assignment says it is not ours, so it goes.
    for (auto& a : t.partitions) {
        if (hosts(a)) continue;
        topic_partition tp{t.name, a.id};
        if (_partitions.count(tp) || !_logs.get(tp)) continue;
        log.info("{}: not a replica here any more; removing the log left behind", tp);
        if (auto r = _logs.remove(tp); !r) log.error("cannot delete log {}: {}", tp, r.error().message());
    }
}

void partition_manager::apply_config(const topic_info& t)
{
    auto cfg = _configs.log_config_for(t);
    for (auto& a : t.partitions) {
        if (auto* l = _logs.get({t.name, a.id})) l->set_config(cfg);
    }
}

void partition_manager::broker_config_changed()
{
    for (auto& [name, t] : _cache.topics()) apply_config(t);
}

void partition_manager::enqueue(pending_op::kind what, topic_partition tp, protocol::uuid topic_id)
{
    ++_pending_by_topic[tp.topic];
    if (what == pending_op::kind::open) _queued_opens.insert(tp);
    _pending.push_back({what, std::move(tp), topic_id});
}

void partition_manager::queue_opens(const topic_info& t, size_t first)
{
    size_t n = 0;
    for (size_t i = first; i < t.partitions.size(); ++i) {
        if (!hosts(t.partitions[i])) continue;
        topic_partition tp{t.name, t.partitions[i].id};
        if (_partitions.count(tp) || _queued_opens.count(tp)) continue;
        enqueue(pending_op::kind::open, std::move(tp));
        ++n;
    }
    if (n > 0) run_or_schedule(n);
    else _creating.erase(t.name);
}

void partition_manager::queue_deletion(const topic_info& t)
{
    _deleting.insert(t.name);
    _creating.erase(t.name);
    _configs.forget(t.name);
    for (auto& a : t.partitions) {
        topic_partition tp{t.name, a.id};
        if (auto it = _partitions.find(tp); it != _partitions.end()) {
            it->second->stop(); // requests holding it (an acks=-1 wait, a long poll) end now
            if (on_replica_changed) on_replica_changed(it->second);
            _partitions.erase(it);
        }
        enqueue(pending_op::kind::remove, std::move(tp));
    }
    enqueue(pending_op::kind::forget, topic_partition{t.name, partition_id(0)}, t.id);
    run_or_schedule(t.partitions.size() + 1);
}

void partition_manager::run_or_schedule(size_t ops)
{
    if (_reconciling) return; // the running reconcile() loop picks the new work up
    if (!_schedule || (_pending.size() == ops && ops <= step_ops)) {
        while (reconcile(_pending.size())) {
        }
        return;
    }
    _schedule();
}

bool partition_manager::reconcile(size_t max_ops)
{
    _reconciling = true;
    size_t done = 0;
    while (!_pending.empty() && done < max_ops) {
        auto op = std::move(_pending.front());
        _pending.pop_front();
        ++done;
        const auto name = op.tp.topic;
        switch (op.what) {
        case pending_op::kind::open:
            _queued_opens.erase(op.tp);
            open_one(op.tp);
            break;
        case pending_op::kind::remove:
            if (_logs.get(op.tp)) {
                if (auto r = _logs.retire(op.tp); !r) log.error("cannot delete log {}: {}", op.tp, r.error().message());
            }
            break;
        case pending_op::kind::forget:
            if (auto r = _logs.settle_retired(); !r) log.warn("topic {}: settling its deletion: {}", name, r.error().message());
            _deleting.erase(name);
            if (on_replicas_deleted) on_replicas_deleted(name, op.topic_id);
            break;
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

void partition_manager::open_one(const topic_partition& tp)
{
    auto* t = _cache.find(tp.topic);
    if (!t) return; // deleted since
    auto idx = static_cast<size_t>(tp.partition());
    if (idx >= t->partitions.size() || !hosts(t->partitions[idx]) || _partitions.count(tp)) return;
    auto* state = _cache.state(tp);
    auto cfg = _configs.log_config_for(*t);
    auto l = _logs.get_or_create(tp, cfg);
    if (!l) {
        auto why = l.error().message();
        log.error("cannot create log {}: {}", tp, why);
        _creation_failures[t->name] = why;
        // Added partitions of a live topic stay offline; a new topic is rolled back.
        if (_creating.erase(t->name) && on_creation_failed) on_creation_failed(t->name);
        return;
    }
    (*l)->set_config(cfg);
    auto p = std::make_shared<partition>(tp, _logs.share(tp), t->partitions[idx].replicas,
                                         state ? *state : partition_state{}, _self);
    _partitions.emplace(tp, p);
    if (on_replica_changed) on_replica_changed(p);
}

bool partition_manager::settled(const std::string& name) const
{
    return !_pending_by_topic.count(name) && !_deleting.count(name);
}

std::optional<std::string> partition_manager::take_creation_failure(const std::string& name)
{
    auto it = _creation_failures.find(name);
    if (it == _creation_failures.end()) return std::nullopt;
    auto why = std::move(it->second);
    _creation_failures.erase(it);
    return why;
}

std::shared_ptr<partition> partition_manager::get(const topic_partition& tp) const
{
    auto it = _partitions.find(tp);
    return it == _partitions.end() ? nullptr : it->second;
}

void partition_manager::stop_all()
{
    for (auto& [tp, p] : _partitions) {
        p->stop();
        if (on_replica_changed) on_replica_changed(p);
    }
}

} // namespace samsa::cluster
