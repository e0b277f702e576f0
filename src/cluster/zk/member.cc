#include "cluster/zk/member.h"

#include "base/logging.h"
#include "cluster/zk/registration.h"
#include "cluster/zk/tasks.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>

namespace samsa::cluster::zk {

namespace asio = boost::asio;

namespace {
constexpr logger log{"zookeeper"};

int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

asio::awaitable<result<int32_t>> generate_broker_id(session& zk, int32_t reserved_max)
{
    const std::string path(paths::broker_seqid);
    auto v = co_await zk.set(path, "", -1);
    if (!v && is(v.error(), session_errc::no_node)) {
        if (auto r = co_await zk.ensure_path(path); !r) co_return r.error();
        v = co_await zk.set(path, "", -1);
    }
    if (!v) co_return v.error();
    co_return reserved_max + *v;
}

member::member(asio::any_io_executor ex, std::shared_ptr<session> zk, options opts, listeners l)
  : _ex(std::move(ex)), _zk(std::move(zk)), _opts(std::move(opts)), _l(std::move(l))
{}

member::~member() { *_alive = false; }

void member::spawn(asio::awaitable<void> task) { spawn_task(_ex, _tasks, std::move(task), "ZooKeeper membership"); }

void member::hook_session(uint64_t gen)
{
    _zk->on_state([this, alive = _alive, gen](session::state s) {
        if (*alive) on_session_state(s, gen);
    });
}

asio::awaitable<result<void>> member::start()
{
    hook_session(_gen);
    // A broker restarted soon after a crash finds its previous run's registration still there
    // until that session expires: wait for it (a session outlives its owner by at most its
    // timeout), then refuse the id as held by another live broker. A connection lost meanwhile
    // is waited out too, within the same bound (the session reconnects by itself).
    auto bound = std::max(_opts.session_timeout, _opts.connection_timeout) + std::chrono::seconds(2);
    auto give_up = std::chrono::steady_clock::now() + bound;
    const uint64_t gen = _gen;
    for (bool waited = false;;) {
        _opts.self.timestamp_ms = now_ms();
        auto r = co_await register_broker(*_zk, _opts.self);
        if (gen != _gen) {
            // The session expired meanwhile (the process was paused, or cut off for longer than
            // the session timeout): rejoin() registers with a new one and starts the watches.
            while (!_registered && !_stopped && std::chrono::steady_clock::now() < give_up) {
                co_await pause(_ex, std::chrono::milliseconds(250));
            }
            if (_registered) co_return ok();
            co_return make_error_code(session_errc::session_expired);
        }
        if (r) break;
        bool lost = is(r.error(), session_errc::connection_loss) || is(r.error(), session_errc::timeout);
        if ((!lost && !is(r.error(), session_errc::node_exists)) || std::chrono::steady_clock::now() >= give_up) {
            co_return r.error();
        }
        if (lost) {
            log.warn("registering broker {}: {}; retrying", _opts.self.id, r.error().message());
        } else if (!waited) {
            log.warn("broker {} is registered by another ZooKeeper session ({}); waiting up to {} ms for it to expire "
                     "(a previous run of this broker?)",
                     _opts.self.id, paths::broker(_opts.self.id), bound.count());
            waited = true;
        }
        co_await pause(_ex, std::chrono::milliseconds(250));
    }
    _registered = true;
    log.info("registered broker {} at {}", _opts.self.id, paths::broker(_opts.self.id));
    spawn(watch_brokers(_gen));
    spawn(watch_controller(_gen));
    co_return ok();
}

void member::stop()
{
    if (_stopped) return;
    _stopped = true;
    ++_gen;
    set_controller({}, false);
    _zk->close();
    _tasks.close();
}

session::watcher member::rewatch(asio::awaitable<void> (member::*what)(uint64_t), uint64_t gen)
{
    return [this, alive = _alive, what, gen] {
        if (*alive && gen == _gen && !_stopped) spawn((this->*what)(gen));
    };
}

asio::awaitable<void> member::watch_brokers(uint64_t gen)
{
    std::vector<std::string> skipped;
    // (Named first: g++ 12 miscompiles a std::function temporary inside co_await.)
    auto again = rewatch(&member::watch_brokers, gen);
    auto live = co_await live_brokers(*_zk, &skipped, std::move(again));
    if (gen != _gen || _stopped) co_return;
    for (auto& s : skipped) log.warn("ignoring malformed broker registration {}/{}", paths::broker_ids, s);
    if (!live) {
        if (is(live.error(), session_errc::session_expired) || is(live.error(), session_errc::closed)) co_return;
        log.warn("cannot read {}: {}; retrying", paths::broker_ids, live.error().message());
        co_await pause(_ex, std::chrono::milliseconds(500));
        if (gen == _gen && !_stopped) spawn(watch_brokers(gen));
        co_return;
    }
    _brokers = std::move(*live);
    if (_l.brokers) _l.brokers(_brokers);
}

asio::awaitable<void> member::watch_controller(uint64_t gen)
{
    const std::string path(paths::controller);
    for (int attempt = 0; gen == _gen && !_stopped; ++attempt) {
        auto again = rewatch(&member::watch_controller, gen);
        auto cur = co_await _zk->get(path, std::move(again));
        if (gen != _gen || _stopped) co_return;
        if (cur) {
            auto c = decode_controller(cur->data);
            if (!c) {
                log.warn("ignoring malformed {} ({}): no controller known until it changes", path, cur->data);
                set_controller({}, false);
                co_return;
            }
            bool mine = c->broker_id == _opts.self.id && cur->ephemeral_owner == _zk->session_id();
            if (mine && _is_controller) co_return; // elected by this session: the epoch is known
            auto epoch = co_await _zk->get(std::string(paths::controller_epoch));
            if (gen != _gen || _stopped) co_return;
            int32_t e = 0;
            if (epoch) {
                if (auto d = decode_controller_epoch(epoch->data)) e = *d;
            }
            set_controller({c->broker_id, e}, false);
            co_return;
        }
        if (is(cur.error(), session_errc::no_node)) {
            co_await elect(gen);
            continue; // read it again, with a watch
        }
        if (is(cur.error(), session_errc::session_expired) || is(cur.error(), session_errc::closed)) co_return;
        log.warn("cannot read {}: {}; retrying", path, cur.error().message());
        co_await pause(_ex, std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 4))));
    }
}

asio::awaitable<void> member::elect(uint64_t gen)
{
    controller_znode me{_opts.self.id, now_ms()};
    auto created = co_await _zk->create(std::string(paths::controller), encode_controller(me), create_mode::ephemeral);
    if (gen != _gen || _stopped) co_return;
    if (!created) {
        if (!is(created.error(), session_errc::node_exists)) {
            log.warn("controller election failed: {}", created.error().message());
        }
        co_return; // someone else won (read next)
    }
    auto epoch = co_await bump_epoch();
    if (gen != _gen || _stopped) co_return;
    if (!epoch) {
        // Without a new epoch this broker cannot fence the old controller: give the seat back.
        log.error("elected controller but cannot bump {}: {}; resigning", paths::controller_epoch,
                  epoch.error().message());
        co_await _zk->remove(std::string(paths::controller), -1);
        co_return;
    }
    log.info("broker {} is the controller, epoch {}", _opts.self.id, *epoch);
    set_controller({_opts.self.id, *epoch}, true);
}

asio::awaitable<result<int32_t>> member::bump_epoch()
{
    const std::string path(paths::controller_epoch);
    for (int attempt = 0; attempt < 10; ++attempt) {
        auto cur = co_await _zk->get(path);
        if (!cur && is(cur.error(), session_errc::no_node)) {
            auto created = co_await _zk->create(path, encode_controller_epoch(1), create_mode::persistent);
            if (created) co_return 1;
            if (is(created.error(), session_errc::node_exists)) continue;
            co_return created.error();
        }
        if (!cur) co_return cur.error();
        auto e = decode_controller_epoch(cur->data);
        if (!e) co_return e.error();
        auto set = co_await _zk->set(path, encode_controller_epoch(*e + 1), cur->version);
        if (set) co_return *e + 1;
        if (!is(set.error(), session_errc::bad_version)) co_return set.error();
    }
    co_return make_error_code(session_errc::bad_version);
}

void member::set_controller(controller_view v, bool mine)
{
    bool was_mine = _is_controller;
    bool changed = v != _controller || mine != was_mine;
    _controller = v;
    _is_controller = mine;
    if (!changed) return;
    if (was_mine && !mine && _l.resigned) _l.resigned();
    if (_l.controller) _l.controller(v);
    if (mine && !was_mine && _l.elected) _l.elected(v.epoch);
}

void member::on_session_state(session::state s, uint64_t gen)
{
    if (gen != _gen || _stopped) return;
    if (s != session::state::expired) return;
    log.warn("ZooKeeper session 0x{:x} expired: registering again with a new session", _zk->session_id());
    ++_gen;
    set_controller({}, false);
    spawn(rejoin(_gen));
}

asio::awaitable<void> member::rejoin(uint64_t gen)
{
    for (int attempt = 0; gen == _gen && !_stopped; ++attempt) {
        if (attempt > 0) co_await pause(_ex, std::chrono::milliseconds(1000));
        if (gen != _gen || _stopped) co_return;
        _zk->close();
        // Kept, not destroyed: this member's coroutines still waiting on the old session's
        // operations (they complete as closed) resume inside its member functions.
        _retired.push_back(std::move(_zk));
        _zk = std::make_shared<session>(_ex, _opts.connect, _opts.session_timeout);
        hook_session(gen);
        auto c = co_await _zk->wait_connected(_opts.connection_timeout);
        if (gen != _gen || _stopped) co_return;
        if (!c) {
            log.warn("cannot reconnect to ZooKeeper at {}: {}", _opts.connect, c.error().message());
            continue;
        }
        _opts.self.timestamp_ms = now_ms();
        auto r = co_await register_broker(*_zk, _opts.self);
        if (gen != _gen || _stopped) co_return;
        if (!r) {
            log.error("cannot register broker {} again: {}", _opts.self.id, r.error().message());
            continue;
        }
        _registered = true;
        log.info("registered broker {} again (session 0x{:x})", _opts.self.id, _zk->session_id());
        spawn(watch_brokers(gen));
        spawn(watch_controller(gen));
        co_return;
    }
}

} // namespace samsa::cluster::zk
