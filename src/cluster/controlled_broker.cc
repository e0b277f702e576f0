#include "cluster/controlled_broker.h"

#include "base/logging.h"

#include <fmt/format.h>
#include <map>

namespace samsa::cluster {
namespace {
constexpr logger log{"cluster"};

bool is_internal(const std::string& name) { return name == "__consumer_offsets" || name == "__transaction_state"; }

partition_state state_of(const partition_info& p)
{
    auto s = p.state;
    s.partition_epoch = p.version;
    return s;
}
} // namespace

controlled_broker::controlled_broker(node_id self, metadata_store& store, metadata_cache& cache,
                                     storage::log_manager& logs, config_reader read_topic_config)
  : _self(self), _store(store), _cache(cache), _logs(logs), _read_config(std::move(read_topic_config))
{}

op_result<void> controlled_broker::check_epoch(int32_t epoch)
{
    if (epoch < _epoch) {
        return make_error(errc::stale_epoch, fmt::format("Received a request from controller epoch {}, older than the "
                                                         "current epoch {}.",
                                                         epoch, _epoch));
    }
    _epoch = epoch;
    return {};
}

void controlled_broker::save_if_changed(const topic_record& r)
{
    auto* cur = _cache.find(r.topic.name);
    if (cur && *cur == r.topic && _cache.states_of(r.topic.name) == r.states) return;
    if (auto w = _store.save_topic(r); !w) log.error("topic {}: cannot apply the controller's metadata: {}", r.topic.name, w.error().message());
}

void controlled_broker::mark_deleting(const std::string& name)
{
    auto* t = _cache.find(name);
    if (!t) return; // unknown, or already being deleted
    topic_record r{*t, _cache.states_of(name)};
    r.topic.deleting = true;
    log.info("topic {}: deleted by the controller; removing this broker's replicas", name);
    if (auto w = _store.save_topic(r); !w) log.error("topic {}: cannot mark it deleted: {}", name, w.error().message());
}

boost::asio::awaitable<op_result<void>> controlled_broker::update_metadata(int32_t controller_id, int32_t epoch,
                                                                          std::vector<broker_info> brokers,
                                                                          std::vector<partition_info> partitions)
{
    if (auto e = check_epoch(epoch); !e) co_return e.error();
    auto ids_of = [](const std::vector<broker_info>& bs) {
        std::vector<int32_t> ids;
        for (auto& b : bs) ids.push_back(b.id.value());
        std::sort(ids.begin(), ids.end());
        return ids;
    };
    if (auto ids = ids_of(brokers); ids != ids_of(_cache.brokers()))
        log.info("live brokers: {}", fmt::join(ids, ","));
    _cache.set_brokers(std::move(brokers));
    _cache.set_controller(node_id(controller_id));
    std::map<std::string, std::vector<partition_info>> by_topic;
    for (auto& p : partitions) by_topic[p.tp.topic].push_back(std::move(p));
    for (auto& [name, parts] : by_topic) {
        bool deleting = std::all_of(parts.begin(), parts.end(),
                                    [](auto& p) { return p.state.leader() == leader_during_delete; });
        if (deleting) {
            mark_deleting(name);
            continue;
        }
        auto* cur = _cache.find(name);
        topic_record r;
        if (cur && cur->id == parts.front().topic_id) {
            r.topic = *cur;
            r.states = _cache.states_of(name);
        } else {
            if (cur || _cache.find_deleting(name)) {
                // Recreated under the same name: the old one goes first; the controller sends
                // this again after its backoff.
                mark_deleting(name);
                co_return make_error(errc::topic_exists, "topic " + name + " is still being deleted here");
            }
            r.topic.name = name;
            r.topic.id = parts.front().topic_id;
            r.topic.internal = is_internal(name);
            std::optional<config::property_map> overrides;
            if (_read_config) overrides = co_await _read_config(name);
            if (overrides) r.topic.overrides = std::move(*overrides);
            if (_cache.find(name)) continue; // another UpdateMetadata applied it meanwhile
        }
        for (auto& p : parts) {
            auto idx = static_cast<size_t>(p.tp.partition());
            if (r.topic.partitions.size() <= idx) r.topic.partitions.resize(idx + 1);
            if (r.states.size() <= idx) r.states.resize(idx + 1);
            r.topic.partitions[idx] = replica_assignment{p.tp.partition, p.replicas};
            r.states[idx] = state_of(p);
        }
        for (size_t i = 0; i < r.topic.partitions.size(); ++i) {
            if (r.topic.partitions[i].replicas.empty()) {
                co_return make_error(errc::invalid_request,
                                     fmt::format("UpdateMetadata for {} leaves out partition {}", name, i));
            }
        }
        r.topic.replication_factor = static_cast<int16_t>(r.topic.partitions.front().replicas.size());
        save_if_changed(r);
    }
    co_return op_result<void>{};
}

op_result<std::vector<std::pair<topic_partition, std::error_code>>>
controlled_broker::leader_and_isr(int32_t epoch, std::vector<partition_info> partitions)
{
    if (auto e = check_epoch(epoch); !e) return e.error();
    std::vector<std::pair<topic_partition, std::error_code>> out;
    std::map<std::string, std::vector<partition_info>> by_topic;
    for (auto& p : partitions) by_topic[p.tp.topic].push_back(p);
    for (auto& [name, parts] : by_topic) {
        auto* cur = _cache.find(name);
        if (!cur || cur->id != parts.front().topic_id) {
            for (auto& p : parts) out.emplace_back(p.tp, std::error_code{}); // applied once UpdateMetadata names it
            continue;
        }
        topic_record r{*cur, _cache.states_of(name)};
        for (auto& p : parts) {
            auto idx = static_cast<size_t>(p.tp.partition());
            if (idx >= r.topic.partitions.size()) {
                out.emplace_back(p.tp, std::error_code{});
                continue;
            }
            r.topic.partitions[idx].replicas = p.replicas;
            r.states[idx] = state_of(p);
            out.emplace_back(p.tp, std::error_code{});
        }
        save_if_changed(r);
    }
    return out;
}

op_result<std::vector<std::pair<topic_partition, std::error_code>>>
controlled_broker::stop_replica(int32_t epoch, std::vector<topic_partition> partitions, bool remove)
{
    if (auto e = check_epoch(epoch); !e) return e.error();
    std::vector<std::pair<topic_partition, std::error_code>> out;
    for (auto& tp : partitions) {
        out.emplace_back(tp, std::error_code{});
        if (!remove) continue; // no fetchers to stop yet (replication)
        if (_cache.find(tp.topic)) {
            mark_deleting(tp.topic);
        } else if (!_cache.find_deleting(tp.topic) && _logs.get(tp)) {
            // Deleted while this broker was away: nothing here knows the topic but its log.
            log.info("removing log {} of a topic deleted while this broker was away", tp);
            if (auto r = _logs.remove(tp); !r) {
                log.error("cannot remove log {}: {}", tp, r.error().message());
                out.back().second = r.error();
            }
        }
    }
    return out;
}

} // namespace samsa::cluster
