#include "cluster/partition.h"

#include <vector>

namespace samsa::cluster {

partition::partition(topic_partition tp, storage::log& log, partition_assignment a)
  : _tp(std::move(tp)), _log(log), _assignment(std::move(a))
{
    _log.set_high_watermark(_log.log_end_offset());
}

void partition::on_appended()
{
    _log.set_high_watermark(_log.log_end_offset());
    if (_listeners.empty()) return;
    // Callbacks may unsubscribe themselves (or others): run a snapshot.
    std::vector<std::function<void()>> cbs;
    cbs.reserve(_listeners.size());
    for (auto& [id, cb] : _listeners) cbs.push_back(cb);
    for (auto& cb : cbs) cb();
}

partition::subscription partition::on_append(std::function<void()> cb)
{
    uint64_t id = _next_listener++;
    _listeners.emplace(id, std::move(cb));
    return subscription(weak_from_this(), id);
}

partition::subscription& partition::subscription::operator=(subscription&& o) noexcept
{
    if (this != &o) {
        if (auto p = _p.lock(); p && _id) p->_listeners.erase(_id);
        _p = std::move(o._p);
        _id = o._id;
        o._id = 0;
    }
    return *this;
}

partition::subscription::~subscription()
{
    if (auto p = _p.lock(); p && _id) p->_listeners.erase(_id);
}

} // namespace samsa::cluster
