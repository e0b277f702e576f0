#include "cluster/controller.h"

#include "cluster/assignment.h"

#include "base/logging.h"
#include "config/topic_config.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <random>
#include <set>

namespace samsa::cluster {
namespace {
constexpr logger log{"controller"};
} // namespace

controller::controller(metadata_cache& cache, metadata_store& store, config::broker_config_store& broker)
  : _cache(cache), _store(store), _broker(broker)
{}

boost::asio::awaitable<op_result<topic_info>> controller::create_topic(create_topic_request req, bool validate_only)
{
    if (!_admin) co_return create_now(std::move(req), validate_only);
    auto planned = create_now(std::move(req), true);
    if (!planned || validate_only) co_return planned;
    if (auto w = co_await _admin->create_topic(*planned); !w) co_return w.error();
    log.info("created topic {} with {} partition(s), replication factor {} in ZooKeeper", planned->name,
             planned->partitions.size(), planned->replication_factor);
    auto name = planned->name;
    auto id = planned->id;
    // (Named first: g++ 12 miscompiles a temporary std::function built inside co_await.)
    std::function<bool()> done = [this, name, id] {
        auto* t = _cache.find(name);
        return t && t->id == id;
    };
    auto p = co_await propagated(std::move(done), "the new topic " + name);
    if (!p) co_return p.error();
    co_return planned;
}

boost::asio::awaitable<op_result<void>> controller::delete_topic(std::string name)
{
    if (!_admin) co_return delete_now(name);
    if (!_cache.find(name)) co_return make_error(errc::unknown_topic, "This server does not host this topic-partition.");
    if (!_broker.current().delete_topic_enable) co_return make_error(errc::deletion_disabled, "Topic deletion is disabled.");
    if (auto w = co_await _admin->delete_topic(name); !w) co_return w.error();
    std::function<bool()> done = [this, name] { return !_cache.find(name); };
    co_return co_await propagated(std::move(done), "the deletion of " + name);
}

boost::asio::awaitable<op_result<void>> controller::create_partitions(std::string name, int32_t count,
                                                                      std::vector<std::vector<int32_t>> assignments,
                                                                      bool validate_only)
{
    if (!_admin) co_return grow_now(name, count, assignments, validate_only);
    if (auto v = grow_now(name, count, assignments, true); !v || validate_only) co_return v;
    auto updated = *_cache.find(name);
    create_topic_request req;
    req.replication_factor = updated.replication_factor;
    req.assignments = assignments;
    auto current = static_cast<int32_t>(updated.partitions.size());
    auto plan = plan_assignments(req, current, count - current);
    if (!plan) co_return plan.error();
    for (auto& a : *plan) updated.partitions.push_back(a);
    if (auto w = co_await _admin->add_partitions(updated); !w) co_return w.error();
    std::function<bool()> done = [this, name, count] {
        auto* t = _cache.find(name);
        return t && static_cast<int32_t>(t->partitions.size()) >= count;
    };
    co_return co_await propagated(std::move(done), "the new partitions of " + name);
}

boost::asio::awaitable<op_result<void>> controller::set_topic_overrides(std::string name, config::property_map overrides)
{
    if (!_admin) co_return set_overrides_now(name, std::move(overrides));
    if (!_cache.find(name)) co_return make_error(errc::unknown_topic, "This server does not host this topic-partition.");
    if (auto w = co_await _admin->set_topic_overrides(name, overrides); !w) co_return w.error();
    std::function<bool()> done = [this, name, overrides] {
        auto* t = _cache.find(name);
        return t && t->overrides == overrides;
    };
    co_return co_await propagated(std::move(done), "the new configs of " + name);
}

boost::asio::awaitable<op_result<void>> controller::propagated(std::function<bool()> done, const std::string& what)
{
    auto deadline = std::chrono::steady_clock::now() + _propagation;
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            co_return make_error(errc::timeout, fmt::format("Written to ZooKeeper, but {} has not reached this broker "
                                                            "within {} ms; it completes in the background.",
                                                            what, _propagation.count()));
        }
        t.expires_after(std::chrono::milliseconds(5));
        co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return op_result<void>{};
}

op_result<void> controller::check_file_budget(int64_t count) const
{
    if (_budget.limit == 0 || count <= 0) return {};
    auto in_use = static_cast<int64_t>(_budget.in_use ? _budget.in_use() : 0);
    auto limit = static_cast<int64_t>(_budget.limit);
    auto reserve = static_cast<int64_t>(_budget.reserve);
    int64_t need = count * static_cast<int64_t>(file_budget::per_partition);
    int64_t free = std::max<int64_t>(0, limit - in_use - reserve);
    if (need <= free) return {};
    return make_error(errc::invalid_partitions,
                      fmt::format("Creating {} partition(s) needs about {} file descriptors ({} each), but only {} "
                                  "of this broker's open-file limit of {} are free ({} in use, {} kept in reserve); "
                                  "raise the limit (ulimit -n, LimitNOFILE) or create fewer partitions.",
                                  count, need, file_budget::per_partition, free, limit, in_use, reserve));
}

op_result<std::vector<replica_assignment>> controller::plan_assignments(const create_topic_request& req, int32_t first,
                                                                        int32_t count) const
{
    auto live = _cache.live_brokers();
    std::set<int32_t> live_ids;
    for (auto n : live) live_ids.insert(n());
    std::vector<replica_assignment> out;
    if (!req.assignments.empty()) {
        size_t rf = req.assignments.front().size();
        for (size_t i = 0; i < req.assignments.size(); ++i) {
            auto& reps = req.assignments[i];
            std::set<int32_t> uniq(reps.begin(), reps.end());
            if (reps.empty() || uniq.size() != reps.size() || reps.size() != rf) {
                return make_error(errc::invalid_replica_assignment,
                                  fmt::format("Invalid replica assignment for partition {}", first + i));
            }
            for (auto r : reps) {
                if (!live_ids.count(r)) {
                    return make_error(errc::invalid_replica_assignment,
                                      fmt::format("Unknown broker {} in replica assignment", r));
                }
            }
            replica_assignment a;
            a.id = partition_id(first + static_cast<int32_t>(i));
            for (auto r : reps) a.replicas.push_back(node_id(r));
            out.push_back(std::move(a));
        }
        return out;
    }
    // Kafka's assignment (rack-aware when every broker has a rack), from a random start.
    std::vector<assignable_broker> bs;
    for (auto id : live) {
        auto* b = _cache.broker(id);
        bs.push_back({id, b ? b->rack : std::nullopt});
    }
    static thread_local std::mt19937 rng{std::random_device{}()};
    auto n = static_cast<int32_t>(bs.size());
    assignment_start start{static_cast<int32_t>(rng() % static_cast<uint32_t>(n)),
                           static_cast<int32_t>(rng() % static_cast<uint32_t>(n))};
    return assign_replicas(std::move(bs), count, req.replication_factor, start, first);
}

topic_record controller::record_for(const topic_info& t) const
{
    topic_record r{t, _cache.states_of(t.name)};
    r.states.resize(std::min(r.states.size(), t.partitions.size()));
    for (size_t i = r.states.size(); i < t.partitions.size(); ++i) {
        auto& reps = t.partitions[i].replicas;
        r.states.push_back(partition_state{reps.empty() ? node_id(-1) : reps.front(), leader_epoch(0), reps, 0});
    }
    return r;
}

op_result<void> controller::save(const topic_record& r, const char* what)
{
    if (auto w = _store.save_topic(r); !w) {
        return make_error(errc::metadata_write_failed, fmt::format("Cannot {}: {}", what, w.error().message()));
    }
    return {};
}

op_result<topic_info> controller::create_now(create_topic_request req, bool validate_only)
{
    if (_cache.find(req.name)) return make_error(errc::topic_exists, fmt::format("Topic '{}' already exists.", req.name));
    if (_cache.find_deleting(req.name)) {
        return make_error(errc::topic_exists, fmt::format("Topic '{}' is marked for deletion.", req.name));
    }
    if (auto bad = validate_topic_name(req.name)) return make_error(errc::invalid_topic, *bad);
    for (auto& [name, t] : _cache.topics()) {
        if (topic_names_collide(name, req.name)) {
            return make_error(errc::invalid_topic, fmt::format("Topic '{}' collides with existing topic: {}", req.name, name));
        }
    }
    if (!req.assignments.empty() && (req.partitions != -1 || req.replication_factor != -1)) {
        return make_error(errc::invalid_request, "Both numPartitions or replicationFactor and replicasAssignments were "
                                                 "set. Both cannot be used at the same time.");
    }
    auto& bc = _broker.current();
    auto live = _cache.live_brokers().size();
    if (req.assignments.empty()) {
        if (req.partitions == -1) req.partitions = bc.num_partitions;
        if (req.replication_factor == -1) req.replication_factor = bc.default_replication_factor;
        if (req.partitions <= 0) return make_error(errc::invalid_partitions, "Number of partitions must be larger than 0.");
        if (req.replication_factor <= 0) {
            return make_error(errc::invalid_replication_factor, "Replication factor must be larger than 0.");
        }
        if (static_cast<size_t>(req.replication_factor) > live) {
            return make_error(errc::invalid_replication_factor,
                              fmt::format("Replication factor: {} larger than available brokers: {}.",
                                          req.replication_factor, live));
        }
    }
    if (auto v = config::validate_topic_overrides(req.configs); !v) return make_error(errc::invalid_config, v.error().message);
    // Before anything is allocated for the partitions: a request may ask for 2^31-1 of them.
    auto count = req.assignments.empty() ? int64_t{req.partitions} : static_cast<int64_t>(req.assignments.size());
    if (auto b = check_file_budget(count); !b) return b.error();
    auto plan = plan_assignments(req, 0, req.partitions);
    if (!plan) return plan.error();
    topic_info t;
    t.name = req.name;
    t.id = random_uuid();
    t.internal = req.internal;
    t.partitions = std::move(*plan);
    t.replication_factor = static_cast<int16_t>(t.partitions.front().replicas.size());
    t.overrides = req.configs;
    if (validate_only) return t;
    if (auto s = save(record_for(t), "persist topic metadata"); !s) return s.error();
    log.info("created topic {} with {} partition(s), replication factor {}", t.name, t.partitions.size(),
             t.replication_factor);
    return t;
}

op_result<void> controller::delete_now(const std::string& name)
{
    auto* t = _cache.find(name);
    if (!t) return make_error(errc::unknown_topic, "This server does not host this topic-partition.");
    if (!_broker.current().delete_topic_enable) return make_error(errc::deletion_disabled, "Topic deletion is disabled.");
    auto r = record_for(*t);
    r.topic.deleting = true;
    // From this write on, the deletion finishes even across a crash (the partition manager
    // logs it as it begins).
    return save(r, "mark the topic for deletion");
}

void controller::roll_back_creation(const std::string& name)
{
    auto* t = _cache.find(name);
    if (!t) return;
    log.error("topic {}: rolling its creation back", name);
    auto r = record_for(*t);
    r.topic.deleting = true;
    if (auto s = save(r, "roll the creation back"); !s) log.error("topic {}: {}", name, s.error().message);
}

void controller::replicas_deleted(const std::string& name, const protocol::uuid& id)
{
    auto* t = _cache.find_deleting(name);
    if (!t || t->id != id) return; // recreated meanwhile, or never marked
    if (auto r = _store.remove_topic(name); !r) {
        log.error("topic {}: cannot remove its metadata: {}", name, r.error().message());
        return;
    }
    log.info("deleted topic {}", name);
}

op_result<void> controller::grow_now(const std::string& name, int32_t count,
                                     const std::vector<std::vector<int32_t>>& assignments, bool validate_only)
{
    auto* t = _cache.find(name);
    if (!t) return make_error(errc::unknown_topic, "This server does not host this topic-partition.");
    auto current = static_cast<int32_t>(t->partitions.size());
    if (count <= current) {
        return make_error(errc::invalid_partitions,
                          fmt::format("Topic currently has {} partitions, which is higher than the requested {}.",
                                      current, count));
    }
    if (!assignments.empty() && static_cast<int32_t>(assignments.size()) != count - current) {
        return make_error(errc::invalid_replica_assignment,
                          fmt::format("Increasing the number of partitions by {} but {} assignments provided.",
                                      count - current, assignments.size()));
    }
    if (auto b = check_file_budget(static_cast<int64_t>(count) - current); !b) return b.error();
    create_topic_request req;
    req.replication_factor = t->replication_factor;
    req.assignments = assignments;
    auto plan = plan_assignments(req, current, count - current);
    if (!plan) return plan.error();
    if (validate_only) return {};
    auto updated = *t;
    for (auto& a : *plan) updated.partitions.push_back(a);
    if (auto s = save(record_for(updated), "persist topic metadata"); !s) return s.error();
    log.info("topic {} now has {} partitions", name, count);
    return {};
}

op_result<void> controller::set_overrides_now(const std::string& name, config::property_map overrides)
{
    auto* t = _cache.find(name);
    if (!t) return make_error(errc::unknown_topic, "This server does not host this topic-partition.");
    auto updated = *t;
    updated.overrides = std::move(overrides);
    return save(record_for(updated), "persist topic configs");
}

} // namespace samsa::cluster
