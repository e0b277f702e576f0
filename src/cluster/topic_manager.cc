#include "cluster/topic_manager.h"

#include "base/logging.h"

namespace samsa::cluster {
namespace {
constexpr logger log{"cluster"};
} // namespace

topic_manager::topic_manager(storage::log_manager& logs, config::broker_config_store& broker, metadata_store& store,
                             node_id self)
  : _logs(logs), _broker(broker), _store(store), _self(self), _cache(self), _configs(broker),
    _controller(_cache, store, broker), _partitions(logs, _cache, _configs, self)
{
    _partitions.on_replicas_deleted = [this](const std::string& name, const protocol::uuid& id) {
        _controller.replicas_deleted(name, id);
    };
    _partitions.on_creation_failed = [this](const std::string& name) { _controller.roll_back_creation(name); };
    _watch = _store.watch([this](const metadata_event& e) { on_store_event(e); });
}

topic_manager::~topic_manager() { _store.unwatch(_watch); }

void topic_manager::on_store_event(const metadata_event& e)
{
    switch (e.what) {
    case metadata_event::kind::topic_saved: {
        auto& r = *e.record;
        bool created = !_cache.find(e.name) && !r.topic.deleting;
        _cache.apply(r);
        _partitions.topic_changed(r.topic, r.states, created);
        break;
    }
    case metadata_event::kind::topic_removed: _cache.remove(e.name); break;
    }
}

result<void> topic_manager::start()
{
    SAMSA_TRY_ASSIGN(auto loaded, _store.load_topics());
    for (auto& [name, r] : loaded) {
        if (!r.topic.deleting && !config::validate_topic_overrides(r.topic.overrides)) {
            log.warn("topic {}: stored config overrides are no longer valid; ignoring them", name);
            r.topic.overrides.clear();
        }
        _cache.apply(r);
        _partitions.load(r.topic, r.states);
    }
    for (auto& [tp, l] : _logs.logs()) {
        auto* t = _cache.find(tp.topic);
        if (!t && _cache.find_deleting(tp.topic)) continue;
        if (!t || tp.partition() >= static_cast<int32_t>(t->partitions.size())) {
            log.warn("log {} belongs to no known topic; leaving it alone", tp);
        }
    }
    log.info("{} topic(s), {} partition(s) loaded", _cache.topics().size(), _partitions.size());
    return ok();
}

} // namespace samsa::cluster
