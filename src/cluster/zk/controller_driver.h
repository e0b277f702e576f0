#pragma once

#include "base/gate.h"
#include "cluster/controller_state.h"
#include "cluster/zk/member.h"
#include "net/client.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace boost::asio {
class io_context;
}

namespace samsa::cluster::zk {

/// The elected controller's I/O around controller_state: it reads the cluster from ZooKeeper
/// (topics in /brokers/topics with their partition states, deletions in /admin/delete_topics,
/// leaders' in-sync set changes in /isr_change_notification) and watches it, feeds the live brokers from the membership, writes partition states with
/// conditional updates, sends LeaderAndIsr / UpdateMetadata / StopReplica to each broker in
/// order over its inter-broker listener (one connection and one queue per broker), and removes
/// a deleted topic's znodes once every replica acknowledged. One driver per term: created when
/// this broker is elected, stopped when it resigns.
class controller_driver {
public:
    struct options {
        /// The listener requests go to (inter.broker.listener.name / control.plane.listener.name);
        /// empty: each broker's first endpoint.
        std::string listener;
        std::chrono::milliseconds request_timeout{30000};
        int64_t retry_backoff_ms = 500;
        /// The state machine's options (its retry backoff is retry_backoff_ms).
        controller_state::options state;
    };

    controller_driver(boost::asio::io_context& io, member& m, node_id self, int32_t epoch, options o);
    ~controller_driver();
    controller_driver(const controller_driver&) = delete;
    controller_driver& operator=(const controller_driver&) = delete;

    void start();
    void brokers_changed(const std::vector<broker_registration>& live);
    /// ControlledShutdown from broker `b`: moves its leadership and ISR memberships away
    /// (controller_state::controlled_shutdown), waits (at most `wait`) for the state writes and
    /// briefly (500 ms) for the requests they lead to, and returns the partitions it still leads;
    /// nullopt when this term has ended or `b` is not a live broker.
    boost::asio::awaitable<std::optional<std::vector<topic_partition>>>
    controlled_shutdown(node_id b, std::chrono::milliseconds wait);
    /// ElectLeaders: starts the elections (controller_state::request_election) and waits (at
    /// most `wait`) for the started ones to be written; each partition's outcome, with
    /// `timed_out` set for those still being written. nullopt when this term has ended.
    struct election_answer {
        topic_partition tp;
        controller_state::election_outcome outcome;
        bool timed_out = false;
    };
    boost::asio::awaitable<std::optional<std::vector<election_answer>>>
    elect_leaders(controller_state::election_type type, std::optional<std::vector<topic_partition>> partitions,
                  std::chrono::milliseconds wait);
    /// AlterPartitionReassignments: starts (a target) or cancels (nullopt) each partition's
    /// reassignment and waits (at most `wait`) until the started ones are written to their topic
    /// znodes; nullopt when this term has ended.
    boost::asio::awaitable<std::optional<std::vector<std::pair<topic_partition, controller_state::reassign_outcome>>>>
    alter_reassignments(std::vector<std::pair<topic_partition, std::optional<std::vector<node_id>>>> asked,
                        std::chrono::milliseconds wait);
    bool loaded() const { return _loaded && active(); }
    /// A topic's configs changed (/config/topics/<t>): its unclean.leader.election.enable.
    void topic_config_changed(const std::string& name, const config::property_map& overrides);
    /// unclean.leader.election.enable of the broker configs changed.
    void unclean_default(bool enabled);
    /// Ends the term: nothing more is written or sent; tasks() empties once the last operation
    /// in flight returns.
    void stop();
    gate& tasks() { return _tasks; }
    const controller_state& state() const { return _state; }

private:
    boost::asio::awaitable<void> load();
    boost::asio::awaitable<void> watch_topics();
    boost::asio::awaitable<void> read_topic(std::string name, bool initial);
    boost::asio::awaitable<void> watch_deletions();
    boost::asio::awaitable<void> watch_isr_changes();
    /// Reads the ISR change notifications named, then removes them; the ZooKeeper error that
    /// stopped it on one (which stays, for a retry), or none.
    boost::asio::awaitable<std::error_code> handle_isr_changes(std::vector<std::string> names);
    /// Lists the notifications again without a watch (the one set stays) and handles them;
    /// through retry() until that succeeds.
    boost::asio::awaitable<void> retry_isr_changes();
    boost::asio::awaitable<void> write_state(state_write w);
    boost::asio::awaitable<void> write_assignment(assignment_write w);
    boost::asio::awaitable<void> watch_reassign_znode();
    boost::asio::awaitable<void> read_reassign_znode();
    boost::asio::awaitable<void> remove_reassign_znode();
    boost::asio::awaitable<void> reread_state(topic_partition tp);
    /// Hands a state znode as read (or the error reading it) to the state machine.
    void state_read(const topic_partition& tp, const result<znode>& n);
    boost::asio::awaitable<void> send_loop(int32_t broker);
    boost::asio::awaitable<void> remove_topic(std::string name, bool only_request);
    boost::asio::awaitable<void> ticker();
    boost::asio::awaitable<bool> send(const controller_request& r);
    void pump();
    void spawn(boost::asio::awaitable<void> task);
    session::watcher rewatch(std::function<boost::asio::awaitable<void>()> what);
    /// After a ZooKeeper error other than the session's end (a connection lost, a timeout),
    /// runs `what` again after the retry backoff while this is the controller: a read that
    /// failed set no watch, so without it the controller would stop hearing of that path.
    void retry(std::function<boost::asio::awaitable<void>()> what, const std::error_code& why);
    boost::asio::awaitable<void> later(std::function<boost::asio::awaitable<void>()> what);
    bool active() const { return !_stopped; }
    net::client* client_for(int32_t broker);

    boost::asio::io_context& _io;
    member& _member;
    node_id _self;
    options _opts;
    controller_state _state;
    bool _stopped = false;
    bool _loaded = false;
    std::map<int32_t, broker_registration> _brokers;
    std::map<int32_t, std::deque<controller_request>> _queues;
    std::set<int32_t> _sending;
    std::map<int32_t, std::unique_ptr<net::client>> _clients;
    std::set<std::string> _known_topics;
    gate _tasks;
    std::shared_ptr<bool> _alive = std::make_shared<bool>(true);
};

/// Every broker's watch on /config/changes: each new change notification naming topics/<t>
/// has /config/topics/<t> read and handed to `apply` (Kafka's config change notifications).
/// Notifications present at start are skipped: the configs they announce are read anyway when
/// the topics arrive.
class config_watcher {
public:
    enum class entity { topic, broker };
    /// `name`: the topic, or the broker id / "<default>"; `overrides` the whole new map.
    using apply_fn = std::function<void(entity kind, const std::string& name, config::property_map overrides)>;
    config_watcher(boost::asio::any_io_executor ex, member& m, apply_fn apply);
    ~config_watcher();
    void start();
    void stop();
    gate& tasks() { return _tasks; }

private:
    boost::asio::awaitable<void> watch();
    boost::asio::any_io_executor _ex;
    member& _member;
    apply_fn _apply;
    std::string _last; // the newest notification handled
    bool _started = false;
    bool _stopped = false;
    gate _tasks;
    std::shared_ptr<bool> _alive = std::make_shared<bool>(true);
};

/// /config/topics/<t> as a property map (nullopt when there is none or it is malformed).
boost::asio::awaitable<std::optional<config::property_map>> read_topic_config(session& zk, std::string topic);
/// /config/brokers/<b> (a broker id or "<default>") likewise.
boost::asio::awaitable<std::optional<config::property_map>> read_broker_config(session& zk, std::string broker);

} // namespace samsa::cluster::zk
