#include "cluster/metadata_cache.h"

namespace samsa::cluster {

const broker_endpoint* broker_info::endpoint_for(const std::string& listener) const
{
    for (auto& e : endpoints) {
        if (e.listener == listener) return &e;
    }
    return endpoints.empty() ? nullptr : &endpoints.front();
}

void metadata_cache::apply(const topic_record& r)
{
    auto& t = r.topic;
    // Forget the old partition states first: the partition count may have changed.
    if (auto old = _topics.find(t.name); old != _topics.end()) {
        for (auto& a : old->second.partitions) _states.erase(topic_partition{t.name, a.id});
    }
    if (t.deleting) {
        _topics.erase(t.name);
        _deleting.insert_or_assign(t.name, t);
        return;
    }
    _deleting.erase(t.name);
    for (size_t i = 0; i < t.partitions.size(); ++i) {
        partition_state s = i < r.states.size() ? r.states[i] : partition_state{};
        _states.insert_or_assign(topic_partition{t.name, t.partitions[i].id}, std::move(s));
    }
    _topics.insert_or_assign(t.name, t);
}

void metadata_cache::remove(const std::string& name)
{
    if (auto it = _topics.find(name); it != _topics.end()) {
        for (auto& a : it->second.partitions) _states.erase(topic_partition{name, a.id});
        _topics.erase(it);
    }
    _deleting.erase(name);
}

const topic_info* metadata_cache::find(const std::string& name) const
{
    auto it = _topics.find(name);
    return it == _topics.end() ? nullptr : &it->second;
}

const topic_info* metadata_cache::find(const protocol::uuid& id) const
{
    for (auto& [n, t] : _topics) {
        if (t.id == id) return &t;
    }
    return nullptr;
}

const topic_info* metadata_cache::find_deleting(const std::string& name) const
{
    auto it = _deleting.find(name);
    return it == _deleting.end() ? nullptr : &it->second;
}

const partition_state* metadata_cache::state(const topic_partition& tp) const
{
    auto it = _states.find(tp);
    return it == _states.end() ? nullptr : &it->second;
}

std::vector<partition_state> metadata_cache::states_of(const std::string& name) const
{
    std::vector<partition_state> out;
    auto* t = find(name);
    if (!t) return out;
    for (auto& a : t->partitions) {
        auto* s = state(topic_partition{name, a.id});
        out.push_back(s ? *s : partition_state{});
    }
    return out;
}

const broker_info* metadata_cache::broker(node_id id) const
{
    for (auto& b : _brokers) {
        if (b.id == id) return &b;
    }
    return nullptr;
}

std::vector<node_id> metadata_cache::live_brokers() const
{
    if (_brokers.empty()) return {_self};
    std::vector<node_id> out;
    for (auto& b : _brokers) out.push_back(b.id);
    return out;
}

} // namespace samsa::cluster
