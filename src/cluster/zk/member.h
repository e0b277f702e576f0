#pragma once

#include "base/gate.h"
#include "base/result.h"
#include "cluster/zk/session.h"
#include "cluster/zk/znodes.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace samsa::cluster::zk {

/// The next generated broker id: /brokers/seqid's version after an unconditional write, above
/// `reserved_max` (Kafka's scheme: the first generated id is reserved.broker.max.id + 1).
boost::asio::awaitable<result<int32_t>> generate_broker_id(session& zk, int32_t reserved_max);

/// Who the controller is, as /controller and /controller_epoch say.
struct controller_view {
    int32_t id = -1; // -1: none elected (or /controller unreadable)
    int32_t epoch = 0;
    bool operator==(const controller_view&) const = default;
};

/// One broker's membership of a ZooKeeper cluster: its ephemeral registration in
/// /brokers/ids, the controller election through the ephemeral /controller (the winner bumps
/// /controller_epoch with a conditional write), and watches on both, re-armed as they fire.
/// When the session expires (ephemerals and watches gone) a new session is opened with the same
/// connect string, and the broker registers and stands for election again, as Kafka's brokers do.
///
/// Listeners run on the executor: `brokers` with every live registration (sorted by id, malformed
/// ones skipped with a warning) whenever /brokers/ids changes, `controller` whenever the
/// controller changes, `elected(epoch)` when this broker becomes controller and `resigned` when
/// it stops being one (its session lost, or stop()).
class member {
public:
    struct listeners {
        std::function<void(const std::vector<broker_registration>&)> brokers;
        std::function<void(controller_view)> controller;
        std::function<void(int32_t epoch)> elected;
        std::function<void()> resigned;
    };
    struct options {
        std::string connect;
        std::chrono::milliseconds session_timeout{18000};
        std::chrono::milliseconds connection_timeout{18000};
        broker_registration self;
    };

    /// `zk`: a connected session (the one the broker resolved its identity with).
    member(boost::asio::any_io_executor ex, std::shared_ptr<session> zk, options opts, listeners l);
    ~member();
    member(const member&) = delete;
    member& operator=(const member&) = delete;

    /// Registers this broker (session_errc::node_exists: another live broker holds the id),
    /// reads the brokers and the controller, and stands for election.
    boost::asio::awaitable<result<void>> start();
    /// Ends the membership: the session closes, its ephemerals (registration, /controller) go at
    /// once, so the others see this broker leave without waiting for the session timeout. The
    /// member's tasks then end on the executor: wait for tasks() to empty before destroying it.
    void stop();
    gate& tasks() { return _tasks; }

    session& zk() { return *_zk; }
    std::shared_ptr<session> zk_shared() { return _zk; }
    controller_view controller() const { return _controller; }
    bool is_controller() const { return _controller.id == _opts.self.id && _is_controller; }
    /// start() registered this broker (a broker that never did has no leadership to hand over).
    bool registered() const { return _registered; }
    const std::vector<broker_registration>& brokers() const { return _brokers; }

private:
    boost::asio::awaitable<void> watch_brokers(uint64_t gen);
    boost::asio::awaitable<void> watch_controller(uint64_t gen);
    /// Tries to become controller (the ephemeral /controller, then a bumped epoch).
    boost::asio::awaitable<void> elect(uint64_t gen);
    boost::asio::awaitable<result<int32_t>> bump_epoch();
    boost::asio::awaitable<void> rejoin(uint64_t gen);
    void on_session_state(session::state s, uint64_t gen);
    void set_controller(controller_view v, bool mine);
    void spawn(boost::asio::awaitable<void> task);
    void hook_session(uint64_t gen);
    /// A watcher that runs `what(gen)` again when it fires (if the member is still that session's).
    session::watcher rewatch(boost::asio::awaitable<void> (member::*what)(uint64_t), uint64_t gen);

    boost::asio::any_io_executor _ex;
    std::shared_ptr<session> _zk;
    options _opts;
    listeners _l;
    /// Bumped with each new session and at stop(): watches and tasks of an older one end quietly.
    uint64_t _gen = 1;
    std::vector<std::shared_ptr<session>> _retired; // closed sessions of earlier terms (see rejoin)
    bool _registered = false;
    bool _stopped = false;
    bool _is_controller = false;
    controller_view _controller;
    std::vector<broker_registration> _brokers;
    /// Held by every task of the member (their frames reference it).
    gate _tasks;
    /// Cleared at destruction: watchers and session listeners (not tasks) may still fire.
    std::shared_ptr<bool> _alive = std::make_shared<bool>(true);
};

} // namespace samsa::cluster::zk
