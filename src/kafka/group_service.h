#pragma once

#include "coordinator/group_coordinator.h"
#include "kafka/broker_context.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <memory>

namespace samsa::kafka {

/// Runs the group coordinator state machine for this broker: owns `__consumer_offsets`
/// (created, as in Kafka, by the first FindCoordinator, with offsets.topic.* settings,
/// compacted; until then group writes fail with COORDINATOR_NOT_AVAILABLE), replays the partitions
/// it leads (at startup, or when it becomes their leader) and forgets those it stops leading,
/// persists what the state machine asks for before its responses go out, and parks requests
/// whose responses come later (JoinGroup and SyncGroup wait for the rebalance). Used on the
/// broker's thread only.
class group_service {
public:
    static constexpr const char* offsets_topic = "__consumer_offsets";

    group_service(broker_context& b, coordinator::coordinator_config cfg);
    ~group_service();

    /// Replays the partitions of __consumer_offsets this broker leads.
    result<void> start();
    /// Whether this broker coordinates `group`: none when it leads the group's partition of
    /// __consumer_offsets (replayed here the first time it is asked after becoming leader),
    /// NOT_COORDINATOR when another broker does, COORDINATOR_NOT_AVAILABLE before the topic.
    protocol::error_code coordinator_for(const std::string& group);
    /// Creates __consumer_offsets through the controller if missing. False (after logging)
    /// when that fails.
    boost::asio::awaitable<bool> ensure_offsets_topic();

    /// Runs `op` with a fresh request id, persists and delivers its outcome, then waits for
    /// this request's response (which may come from a later call or tick()).
    boost::asio::awaitable<coordinator::response> call(std::function<coordinator::outcome(coordinator::request_id)> op);
    boost::asio::awaitable<coordinator::response>
    call_many(std::function<std::vector<coordinator::outcome>(coordinator::request_id)> op);

    /// The periodic timer's entry point (session timeouts, rebalance deadlines, expiry).
    void tick();

    coordinator::group_coordinator& state() { return _coordinator; }
    int32_t offsets_partitions() const;

private:
    struct waiter;
    /// Where an outcome's records went: its partition and the offset after them (none when
    /// there were no records).
    struct persisted {
        std::shared_ptr<cluster::partition> part;
        offset end{-1};
    };
    void process(coordinator::outcome& o);
    result<persisted> persist(const std::string& group, const std::vector<coordinator::offsets_record>& records,
                              const std::optional<coordinator::txn_producer>& txn);
    /// Hands each completion to the request waiting for it.
    void deliver(std::vector<coordinator::completion>& completions);
    /// Delivers once the high watermark covers `end` (the in-sync replicas have the records);
    /// a commit whose records are not committed within offsets.commit.timeout.ms fails.
    boost::asio::awaitable<void> deliver_when_committed(std::shared_ptr<cluster::partition> part, offset end,
                                                        std::vector<coordinator::completion> completions);
    void load_partition(int32_t p, cluster::partition& part);
    /// Forgets the groups of a partition this broker no longer leads.
    void release(int32_t p);

    broker_context& _broker;
    coordinator::group_coordinator _coordinator;
    coordinator::request_id _next_id = 1;
    std::map<coordinator::request_id, std::shared_ptr<waiter>> _waiters;
    /// Offsets partitions whose groups are loaded, with the leader epoch they were loaded at.
    std::map<int32_t, int32_t> _loaded;
};

/// Kafka's client host form for group members: "/" + the peer's IP address.
std::string client_host_of(const std::string& peer);

} // namespace samsa::kafka
