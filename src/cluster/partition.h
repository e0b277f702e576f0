#pragma once

#include "base/ids.h"
#include "cluster/topic_table.h"
#include "storage/log.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace samsa::cluster {

/// This node's replica of one partition, as leader: the log plus what the broker needs around
/// it — the leader epoch, and callbacks for fetches waiting on new data. On a single node the
/// in-sync replica set is this node alone, so every append is committed at once and the high
/// watermark follows the log end offset.
/// Owned by the topic_manager; used only on its shard.
class partition : public std::enable_shared_from_this<partition> {
public:
    partition(topic_partition tp, storage::log& log, partition_assignment a);

    const topic_partition& tp() const { return _tp; }
    storage::log& log() { return _log; }
    const partition_assignment& assignment() const { return _assignment; }
    leader_epoch epoch() const { return _assignment.epoch; }

    /// To call after every successful append: moves the high watermark (single node: to the
    /// log end) and wakes the fetches waiting on this partition.
    void on_appended();

    /// Registers a callback run (on this shard) after each append, until the returned handle
    /// goes away. Safe if the partition is deleted first.
    class subscription {
    public:
        subscription() = default;
        subscription(std::weak_ptr<partition> p, uint64_t id) : _p(std::move(p)), _id(id) {}
        subscription(subscription&& o) noexcept : _p(std::move(o._p)), _id(o._id) { o._id = 0; }
        subscription& operator=(subscription&& o) noexcept;
        ~subscription();

    private:
        std::weak_ptr<partition> _p;
        uint64_t _id = 0;
    };
    subscription on_append(std::function<void()> cb);

private:
    topic_partition _tp;
    storage::log& _log;
    partition_assignment _assignment;
    uint64_t _next_listener = 1;
    std::map<uint64_t, std::function<void()>> _listeners;
};

} // namespace samsa::cluster
