#pragma once

#include "base/gate.h"
#include "base/ids.h"
#include "cluster/partition.h"
#include "cluster/zk/member.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>

namespace boost::asio {
class io_context;
}

namespace samsa::cluster::zk {

/// A leader's changes of its in-sync replicas, as Kafka's ZooKeeper-mode leaders make them: every
/// `check_interval` each partition this broker leads is asked for the in-sync set it should have
/// (partition::isr_change: followers not caught up within replica.lag.time.max.ms leave, followers
/// that reached the high watermark join); a change is written to the partition's state znode —
/// only while it still names this broker as leader in this epoch, conditional on its version — then
/// applied to the partition and announced under /isr_change_notification, whose watch makes the
/// controller read the state again and tell every broker (UpdateMetadata). A write that loses a
/// race (a new state from the controller) is dropped: the LeaderAndIsr it brings decides.
class isr_writer {
public:
    struct options {
        node_id self{-1};
        int64_t lag_max_ms = 30000; // replica.lag.time.max.ms
        std::chrono::milliseconds check_interval{250};
        /// min.insync.replicas of a topic (a shrink below it is logged as a warning).
        std::function<int32_t(const std::string& topic)> min_insync;
    };
    isr_writer(boost::asio::io_context& io, member& m, options o);
    ~isr_writer();
    isr_writer(const isr_writer&) = delete;
    isr_writer& operator=(const isr_writer&) = delete;

    /// `p` opened, changed state or stopped: watched while it leads.
    void replica_changed(const std::shared_ptr<partition>& p);
    void start();
    void stop();
    gate& tasks() { return _tasks; }

private:
    boost::asio::awaitable<void> loop();
    boost::asio::awaitable<void> write(std::shared_ptr<partition> p, std::vector<node_id> isr);

    boost::asio::io_context& _io;
    member& _member;
    options _opts;
    std::map<topic_partition, std::weak_ptr<partition>> _leaders;
    std::set<topic_partition> _writing;
    bool _stopped = false;
    gate _tasks;
    std::shared_ptr<bool> _alive = std::make_shared<bool>(true);
};

} // namespace samsa::cluster::zk
