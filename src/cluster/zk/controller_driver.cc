#include "cluster/zk/controller_driver.h"

#include "base/clock.h"
#include "base/logging.h"
#include "cluster/zk/registration.h"
#include "cluster/zk/tasks.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"
#include "protocol/messages/update_metadata.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <exception>

namespace samsa::cluster::zk {

namespace asio = boost::asio;

namespace {
constexpr logger log{"controller"};

std::vector<node_id> nodes(const std::vector<int32_t>& v)
{
    std::vector<node_id> out;
    for (auto n : v) out.push_back(node_id(n));
    return out;
}

/// Appends each partition of `r` to its topic's entry of `topics` (one per topic, in the order
/// first seen), with the fields LeaderAndIsr and UpdateMetadata share; `more` sets the rest.
template<typename Topics, typename More>
void add_partition_states(Topics& topics, const controller_request& r, More more)
{
    std::map<std::string, size_t> at;
    for (auto& p : r.partitions) {
        auto [it, fresh] = at.emplace(p.tp.topic, topics.size());
        if (fresh) {
            auto& t = topics.emplace_back();
            t.topic_name = p.tp.topic;
            t.topic_id = p.topic_id;
        }
        typename std::decay_t<decltype(topics.front().partition_states)>::value_type s;
        s.partition_index = p.tp.partition();
        s.controller_epoch = r.controller_epoch;
        s.leader = p.state.leader();
        s.leader_epoch = p.state.epoch();
        s.isr = raw_ids(p.state.isr);
        s.replicas = raw_ids(p.replicas);
        more(s, p);
        topics[it->second].partition_states.push_back(std::move(s));
    }
}

broker_info info_of(const broker_registration& b)
{
    broker_info i;
    i.id = node_id(b.id);
    i.rack = b.rack;
    i.epoch = b.epoch;
    for (auto& e : b.endpoints) i.endpoints.push_back({e.listener, e.host, e.port});
    return i;
}

/// Deletes `path` and everything below it.
asio::awaitable<result<void>> remove_recursive(session& zk, std::string path)
{
    auto kids = co_await zk.children(path);
    if (!kids) {
        if (is(kids.error(), session_errc::no_node)) co_return ok();
        co_return kids.error();
    }
    for (auto& k : *kids) {
        auto child = path + "/" + k;
        if (auto r = co_await remove_recursive(zk, child); !r) co_return r;
    }
    auto r = co_await zk.remove(path, -1);
    if (!r && !is(r.error(), session_errc::no_node)) co_return r.error();
    co_return ok();
}

/// Gets every path, up to `window` at a time (ZooKeeper answers in order, so a window keeps
/// its connection busy instead of waiting a round trip per znode); the results in order.
asio::awaitable<std::vector<result<znode>>> get_all(session& zk, const std::vector<std::string>& paths, size_t window = 64)
{
    struct shared {
        std::vector<result<znode>> out;
        size_t next = 0;
        size_t running = 0;
        std::optional<asio::steady_timer> done;
    };
    auto st = std::make_shared<shared>();
    st->out.resize(paths.size(), result<znode>(make_error_code(session_errc::no_node)));
    if (paths.empty()) co_return std::move(st->out);
    auto ex = co_await asio::this_coro::executor;
    st->done.emplace(ex, asio::steady_timer::time_point::max());
    auto worker = [](session& zk, const std::vector<std::string>& paths, std::shared_ptr<shared> st) -> asio::awaitable<void> {
        while (st->next < paths.size()) {
            auto i = st->next++;
            st->out[i] = co_await zk.get(paths[i]);
        }
        if (--st->running == 0) st->done->cancel();
    };
    st->running = std::min(window, paths.size());
    for (size_t k = 0, n = st->running; k < n; ++k) asio::co_spawn(ex, worker(zk, paths, st), asio::detached);
    co_await st->done->async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::move(st->out);
}
} // namespace

namespace {
asio::awaitable<std::optional<config::property_map>> read_config(session& zk, std::string path)
{
    auto n = co_await zk.get(path);
    if (!n) co_return std::nullopt;
    auto c = decode_config(n->data);
    if (!c) {
        log.warn("ignoring malformed {}: {}", path, c.error().message());
        co_return std::nullopt;
    }
    co_return config::property_map(c->begin(), c->end());
}
} // namespace

asio::awaitable<std::optional<config::property_map>> read_topic_config(session& zk, std::string topic)
{
    co_return co_await read_config(zk, paths::topic_config(topic));
}

asio::awaitable<std::optional<config::property_map>> read_broker_config(session& zk, std::string broker)
{
    co_return co_await read_config(zk, paths::broker_config(broker));
}

namespace {
controller_state::options with_backoff(controller_state::options o, int64_t backoff_ms)
{
    o.retry_backoff_ms = backoff_ms;
    return o;
}
} // namespace

controller_driver::controller_driver(asio::io_context& io, member& m, node_id self, int32_t epoch, options o)
  : _io(io), _member(m), _self(self), _opts(std::move(o)),
    _state(self, epoch, with_backoff(_opts.state, _opts.retry_backoff_ms))
{}

controller_driver::~controller_driver() { *_alive = false; }

void controller_driver::spawn(asio::awaitable<void> task) { spawn_task(_io.get_executor(), _tasks, std::move(task), "controller"); }

session::watcher controller_driver::rewatch(std::function<asio::awaitable<void>()> what)
{
    return [this, alive = _alive, what = std::move(what)] {
        if (*alive && active()) spawn(what());
    };
}

void controller_driver::retry(std::function<asio::awaitable<void>()> what, const std::error_code& why)
{
    if (!active() || is(why, session_errc::session_expired) || is(why, session_errc::closed)) return;
    spawn(later(std::move(what)));
}

asio::awaitable<void> controller_driver::later(std::function<asio::awaitable<void>()> what)
{
    auto alive = _alive;
    co_await pause(_io.get_executor(), std::chrono::milliseconds(_opts.retry_backoff_ms));
    if (*alive && active()) spawn(what());
}

void controller_driver::start()
{
    log.info("broker {} takes over as controller (epoch {})", _self(), _state.epoch());
    spawn(load());
    spawn(ticker());
}

void controller_driver::stop()
{
    if (_stopped) return;
    _stopped = true;
    log.info("broker {} stops being controller (epoch {})", _self(), _state.epoch());
    for (auto& [id, c] : _clients) c->close();
    _tasks.close();
}

void controller_driver::brokers_changed(const std::vector<broker_registration>& live)
{
    if (_stopped) return;
    std::map<int32_t, broker_registration> next;
    std::vector<broker_info> infos;
    for (auto& b : live) {
        next[b.id] = b;
        infos.push_back(info_of(b));
    }
    for (auto& [id, b] : _brokers) {
        auto n = next.find(id);
        if (n == next.end() || n->second.endpoints != b.endpoints || n->second.epoch != b.epoch) {
            // Gone, moved or restarted: a new connection next time (the queue keeps what is for a
            // new session).
            if (auto c = _clients.find(id); c != _clients.end()) {
                c->second->close();
                _clients.erase(c);
            }
            if (n == next.end()) _queues.erase(id);
        }
    }
    _brokers = std::move(next);
    _state.brokers_changed(std::move(infos));
    pump();
}

asio::awaitable<void> controller_driver::load()
{
    auto& zk = _member.zk();
    for (auto p : {paths::broker_topics, paths::delete_topics, paths::isr_change_notification}) {
        if (auto r = co_await zk.ensure_path(std::string(p)); !r) {
            log.error("cannot create {}: {}", p, r.error().message());
        }
    }
    co_await watch_topics();
    if (!active()) co_return;
    co_await watch_deletions();
    if (!active()) co_return;
    co_await watch_isr_changes();
    if (!active()) co_return;
    _loaded = true;
    spawn(watch_reassign_znode());
    _state.loaded();
    log.info("controller loaded {} topic(s) and {} live broker(s)", _state.topics().size(), _state.live_brokers().size());
    pump();
}

asio::awaitable<void> controller_driver::watch_topics()
{
    // (Watchers are named first: g++ 12 miscompiles a std::function temporary inside co_await.)
    auto again = rewatch([this] { return watch_topics(); });
    auto names = co_await _member.zk().children(std::string(paths::broker_topics), std::move(again));
    if (!active()) co_return;
    if (!names) {
        log.warn("cannot list {}: {}; retrying", paths::broker_topics, names.error().message());
        retry([this] { return watch_topics(); }, names.error());
        co_return;
    }
    std::set<std::string> now(names->begin(), names->end());
    for (auto& n : _known_topics) {
        if (!now.count(n)) _state.topic_removed(n);
    }
    for (auto& n : now) {
        if (_known_topics.count(n)) continue;
        // At load, read each in turn so the controller knows all before acting.
        if (!_loaded) co_await read_topic(n, true);
        else spawn(read_topic(n, true));
    }
    _known_topics = std::move(now);
    pump();
}

asio::awaitable<void> controller_driver::read_topic(std::string name, bool initial)
{
    auto& zk = _member.zk();
    auto path = paths::topic(name);
    auto again = rewatch([this, name] { return read_topic(name, false); });
    auto n = co_await zk.get(path, std::move(again));
    if (!active()) co_return;
    if (!n) {
        if (is(n.error(), session_errc::no_node)) co_return;
        log.warn("cannot read {}: {}; retrying", path, n.error().message());
        retry([this, name, initial] { return read_topic(name, initial); }, n.error());
        co_return;
    }
    auto a = decode_topic(n->data);
    if (!a) {
        log.warn("ignoring malformed {} ({})", path, a.error().message());
        co_return;
    }
    auto id = uuid_from_base64(a->topic_id);
    if (!id) {
        // Written by a tool that predates topic ids: the controller gives it one (as Kafka does).
        id = random_uuid();
        a->topic_id = id->to_string();
        auto set = co_await zk.set(path, encode_topic(*a), n->version);
        if (!active()) co_return;
        if (!set) {
            // Changed meanwhile: the data watch reads it again. Otherwise, once more.
            if (!is(set.error(), session_errc::bad_version)) {
                retry([this, name, initial] { return read_topic(name, initial); }, set.error());
            }
            co_return;
        }
        n->version = *set;
        log.info("topic {}: assigned topic id {}", name, a->topic_id);
    }
    std::map<int32_t, std::vector<node_id>> parts;
    for (auto& [p, reps] : a->partitions) parts[p] = nodes(reps);
    std::map<int32_t, std::pair<std::vector<node_id>, std::vector<node_id>>> moving;
    for (auto& [p, reps] : a->adding_replicas) moving[p].first = nodes(reps);
    for (auto& [p, reps] : a->removing_replicas) moving[p].second = nodes(reps);
    auto known = _state.topics().find(name);
    std::set<int32_t> had;
    if (known != _state.topics().end()) {
        for (auto& [p, cp] : known->second.partitions) had.insert(p);
    }
    // The new partitions' states are read first, all together, and the state machine hears of
    // the topic and its states at once: a topic of many partitions is then elected in one go.
    std::vector<topic_partition> fresh;
    std::vector<std::string> state_paths;
    for (auto& [p, reps] : parts) {
        if (had.count(p) && !initial) continue;
        fresh.push_back(topic_partition{name, partition_id(p)});
        state_paths.push_back(paths::partition_state(name, p));
    }
    auto states = co_await get_all(zk, state_paths);
    if (!active()) co_return;
    std::optional<config::property_map> cfg;
    if (known == _state.topics().end()) {
        cfg = co_await read_topic_config(zk, name);
        if (!active()) co_return;
    }
    _state.topic_assigned(name, *id, parts, moving, n->version);
    if (cfg) topic_config_changed(name, *cfg);
    for (size_t i = 0; i < fresh.size(); ++i) state_read(fresh[i], states[i]);
    pump();
}

asio::awaitable<void> controller_driver::reread_state(topic_partition tp)
{
    auto n = co_await _member.zk().get(paths::partition_state(tp.topic, tp.partition()));
    if (!active()) co_return;
    state_read(tp, n);
}

void controller_driver::state_read(const topic_partition& tp, const result<znode>& n)
{
    auto path = paths::partition_state(tp.topic, tp.partition());
    if (!n) {
        if (is(n.error(), session_errc::no_node)) _state.state_read(tp, std::nullopt, -1);
        else {
            // Until read, the state machine holds what it had, which may be old (an ISR grown
            // since, a failed write's): read it again.
            log.warn("cannot read {}: {}; retrying", path, n.error().message());
            retry([this, tp] { return reread_state(tp); }, n.error());
        }
        return;
    }
    auto s = decode_partition_state(n->data);
    if (!s) {
        log.warn("ignoring malformed {} ({}): electing it again", path, s.error().message());
        _state.state_read(tp, std::nullopt, -1);
        return;
    }
    partition_state ps{node_id(s->leader), leader_epoch(s->leader_epoch), nodes(s->isr), n->version};
    _state.state_read(tp, ps, n->version);
}

asio::awaitable<void> controller_driver::watch_deletions()
{
    auto again = rewatch([this] { return watch_deletions(); });
    auto names = co_await _member.zk().children(std::string(paths::delete_topics), std::move(again));
    if (!active()) co_return;
    if (!names) {
        log.warn("cannot list {}: {}; retrying", paths::delete_topics, names.error().message());
        retry([this] { return watch_deletions(); }, names.error());
        co_return;
    }
    for (auto& n : *names) _state.deletion_requested(n);
    pump();
}

asio::awaitable<void> controller_driver::watch_isr_changes()
{
    // Leaders changed in-sync sets in the partition state znodes: read those states again (the
    // state machine then tells the brokers) and remove the notifications.
    auto again = rewatch([this] { return watch_isr_changes(); });
    auto names = co_await _member.zk().children(std::string(paths::isr_change_notification), std::move(again));
    if (!active()) co_return;
    if (!names) {
        log.warn("cannot list {}: {}; retrying", paths::isr_change_notification, names.error().message());
        retry([this] { return watch_isr_changes(); }, names.error());
        co_return;
    }
    auto failed = co_await handle_isr_changes(std::move(*names));
    if (!active()) co_return;
    if (failed) retry([this] { return retry_isr_changes(); }, failed);
    pump();
}

asio::awaitable<void> controller_driver::retry_isr_changes()
{
    auto names = co_await _member.zk().children(std::string(paths::isr_change_notification));
    if (!active()) co_return;
    std::error_code failed;
    if (names) failed = co_await handle_isr_changes(std::move(*names));
    else failed = names.error();
    if (!active()) co_return;
    if (failed) retry([this] { return retry_isr_changes(); }, failed);
    pump();
}

asio::awaitable<std::error_code> controller_driver::handle_isr_changes(std::vector<std::string> names)
{
    auto& zk = _member.zk();
    std::sort(names.begin(), names.end());
    for (auto& n : names) {
        auto path = std::string(paths::isr_change_notification) + "/" + n;
        auto got = co_await zk.get(path);
        if (!active()) co_return std::error_code();
        if (!got && !is(got.error(), session_errc::no_node)) {
            log.warn("cannot read {}: {}; retrying", path, got.error().message());
            co_return got.error();
        }
        if (got) {
            auto refs = decode_isr_change(got->data);
            if (!refs) log.warn("ignoring malformed {}: {}", path, refs.error().message());
            else {
                for (auto& r : *refs) {
                    topic_partition tp;
                    tp.topic = r.topic;
                    tp.partition = partition_id(r.partition);
                    if (!_state.topics().count(tp.topic)) continue;
                    co_await reread_state(tp); // retries by itself if it fails
                    if (!active()) co_return std::error_code();
                }
            }
        }
        auto removed = co_await zk.remove(path, -1);
        if (!active()) co_return std::error_code();
        if (!removed && !is(removed.error(), session_errc::no_node)) {
            log.warn("cannot remove {}: {}; retrying", path, removed.error().message());
            co_return removed.error();
        }
    }
    co_return std::error_code();
}

void controller_driver::pump()
{
    if (_stopped || !_loaded) return;
    auto a = _state.take_actions();
    for (auto& tp : a.unclean) {
        log.warn("unclean leader election for {}-{}: a replica outside the in-sync set leads; records only the "
                 "in-sync replicas had are lost",
                 tp.topic, tp.partition());
    }
    for (auto& w : a.writes) spawn(write_state(std::move(w)));
    for (auto& r : a.requests) {
        auto to = r.to();
        _queues[to].push_back(std::move(r));
        if (!_sending.count(to)) {
            _sending.insert(to);
            spawn(send_loop(to));
        }
    }
    for (auto& n : a.deleted) spawn(remove_topic(n, false));
    for (auto& n : a.unknown_deletions) spawn(remove_topic(n, true));
    for (auto& w : a.assignments) spawn(write_assignment(std::move(w)));
    if (a.reassign_znode_done) spawn(remove_reassign_znode());
}

asio::awaitable<void> controller_driver::write_assignment(assignment_write w)
{
    topic_assignment z;
    z.topic_id = w.id.to_string();
    for (auto& [p, set] : w.partitions) {
        z.partitions[p] = raw_ids(set.replicas);
        if (!set.adding.empty()) z.adding_replicas[p] = raw_ids(set.adding);
        if (!set.removing.empty()) z.removing_replicas[p] = raw_ids(set.removing);
    }
    auto path = paths::topic(w.topic);
    auto s = co_await _member.zk().set(path, encode_topic(z), w.expected_version);
    if (!active()) co_return;
    if (!s && !is(s.error(), session_errc::bad_version)) log.warn("cannot write {}: {}", path, s.error().message());
    std::optional<int32_t> version;
    if (s) version = *s;
    _state.assignment_written(w.topic, version);
    if (s) {
        for (auto& [p, set] : w.partitions) {
            if (set.adding.empty() && set.removing.empty()) continue;
            log.info("{}-{}: reassigning to [{}] (adding [{}], removing [{}])", w.topic, p, fmt::join(raw_ids(set.replicas), ","),
                     fmt::join(raw_ids(set.adding), ","), fmt::join(raw_ids(set.removing), ","));
        }
    }
    pump();
}

asio::awaitable<void> controller_driver::watch_reassign_znode()
{
    // /admin/reassign_partitions: read when it appears or changes, its reassignments started;
    // removed by the controller once they are all over.
    auto again = rewatch([this] { return watch_reassign_znode(); });
    auto present = co_await _member.zk().exists(std::string(paths::reassign_partitions), std::move(again));
    if (!active()) co_return;
    if (!present) {
        log.warn("cannot read {}: {}; retrying", paths::reassign_partitions, present.error().message());
        retry([this] { return watch_reassign_znode(); }, present.error());
        co_return;
    }
    if (*present) co_await read_reassign_znode();
}

asio::awaitable<void> controller_driver::read_reassign_znode()
{
    auto n = co_await _member.zk().get(std::string(paths::reassign_partitions));
    if (!active()) co_return;
    if (!n) {
        // Gone meanwhile: the watch set tells. Otherwise read it again (the watch stays set,
        // so only the read is retried).
        if (!is(n.error(), session_errc::no_node)) {
            log.warn("cannot read {}: {}; retrying", paths::reassign_partitions, n.error().message());
            retry([this] { return read_reassign_znode(); }, n.error());
        }
        co_return;
    }
    auto parts = decode_reassignment(n->data);
    if (!parts) {
        log.warn("ignoring malformed {} ({}); removing it", paths::reassign_partitions, parts.error().message());
        spawn(remove_reassign_znode());
        co_return;
    }
    std::vector<std::pair<topic_partition, std::vector<node_id>>> targets;
    for (auto& r : *parts) targets.emplace_back(topic_partition{r.topic, partition_id(r.partition)}, nodes(r.replicas));
    log.info("{}: {} reassignment(s) asked", paths::reassign_partitions, targets.size());
    _state.znode_reassignments(targets);
    pump();
}

asio::awaitable<void> controller_driver::remove_reassign_znode()
{
    auto r = co_await _member.zk().remove(std::string(paths::reassign_partitions), -1);
    if (!active()) co_return;
    if (!r && !is(r.error(), session_errc::no_node)) {
        log.warn("cannot remove {}: {}; retrying", paths::reassign_partitions, r.error().message());
        retry([this] { return remove_reassign_znode(); }, r.error());
    }
}

asio::awaitable<std::optional<std::vector<std::pair<topic_partition, controller_state::reassign_outcome>>>>
controller_driver::alter_reassignments(std::vector<std::pair<topic_partition, std::optional<std::vector<node_id>>>> asked,
                                       std::chrono::milliseconds wait)
{
    if (!active() || !_loaded) co_return std::nullopt;
    auto alive = _alive;
    std::vector<std::pair<topic_partition, controller_state::reassign_outcome>> out;
    for (auto& [tp, target] : asked) out.emplace_back(tp, _state.reassign(tp, target));
    pump();
    // Answered once the started ones are in the topic znodes (Kafka answers then too).
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
        bool pending = std::any_of(out.begin(), out.end(), [&](auto& o) { return _state.reassign_pending(o.first); });
        if (!pending) break;
        co_await pause(_io.get_executor(), std::chrono::milliseconds(10));
        if (!*alive || !active()) co_return std::nullopt;
    }
    co_return out;
}

asio::awaitable<void> controller_driver::write_state(state_write w)
{
    auto& zk = _member.zk();
    auto path = paths::partition_state(w.tp.topic, w.tp.partition());
    partition_state_znode z;
    z.leader = w.state.leader();
    z.leader_epoch = w.state.epoch();
    z.isr = raw_ids(w.state.isr);
    z.controller_epoch = w.controller_epoch;
    std::optional<int32_t> version;
    if (w.expected_version < 0) {
        auto parent = path.substr(0, path.rfind('/'));
        auto ensured = co_await zk.ensure_path(parent);
        // (No co_await inside ?: — g++ 12 miscompiles it.)
        result<std::string> c = ensured.has_error() ? result<std::string>(ensured.error()) : result<std::string>(std::string());
        if (ensured) c = co_await zk.create(path, encode_partition_state(z), create_mode::persistent);
        if (c) version = 0;
        else if (!is(c.error(), session_errc::node_exists)) log.warn("cannot create {}: {}", path, c.error().message());
    } else {
        auto s = co_await zk.set(path, encode_partition_state(z), w.expected_version);
        if (s) version = *s;
        else if (!is(s.error(), session_errc::bad_version)) log.warn("cannot write {}: {}", path, s.error().message());
    }
    if (!active()) co_return;
    _state.state_written(w.tp, version);
    if (!version) co_await reread_state(w.tp);
    if (!active()) co_return;
    if (version) {
        log.info("{}: leader {}, epoch {}, isr [{}]", w.tp, z.leader, z.leader_epoch, fmt::join(z.isr, ","));
    }
    pump();
}

net::client* controller_driver::client_for(int32_t broker)
{
    if (auto c = _clients.find(broker); c != _clients.end()) return c->second.get();
    auto b = _brokers.find(broker);
    if (b == _brokers.end() || b->second.endpoints.empty()) return nullptr;
    const broker_registration::endpoint* ep = &b->second.endpoints.front();
    for (auto& e : b->second.endpoints) {
        if (!_opts.listener.empty() && e.listener == _opts.listener) ep = &e;
    }
    net::client_config cfg;
    cfg.host = ep->host;
    cfg.port = static_cast<uint16_t>(ep->port);
    cfg.client_id = "samsa-controller-" + std::to_string(_self());
    cfg.request_timeout = _opts.request_timeout;
    cfg.connect_timeout = std::chrono::milliseconds(5000);
    auto& c = _clients[broker];
    c = std::make_unique<net::client>(_io, cfg);
    return c.get();
}

asio::awaitable<bool> controller_driver::send(const controller_request& r)
{
    auto* c = client_for(r.to());
    if (!c) co_return false;
    using kind = controller_request::kind;
    switch (r.what) {
    case kind::leader_and_isr: {
        protocol::leader_and_isr_request q;
        q.controller_id = _self();
        q.controller_epoch = r.controller_epoch;
        add_partition_states(q.topic_states, r, [](auto& s, const partition_info& p) { s.partition_epoch = p.version; });
        for (auto& b : r.brokers) {
            if (b.endpoints.empty()) continue;
            q.live_leaders.push_back({b.id(), b.endpoints.front().host, b.endpoints.front().port});
        }
        auto resp = co_await c->send<protocol::leader_and_isr_api>(q, protocol::leader_and_isr_api::max_version);
        if (!resp) co_return false;
        if ((*resp)->error_code != 0) co_return false;
        co_return true;
    }
    case kind::update_metadata: {
        protocol::update_metadata_request q;
        q.controller_id = _self();
        q.controller_epoch = r.controller_epoch;
        add_partition_states(q.topic_states, r, [](auto& s, const partition_info& p) {
            s.zk_version = p.version;
            s.offline_replicas = raw_ids(p.offline_replicas);
        });
        for (auto& b : r.brokers) {
            protocol::update_metadata_request::update_metadata_broker ub;
            ub.id = b.id();
            ub.rack = b.rack;
            for (auto& e : b.endpoints) ub.endpoints.push_back({e.port, e.host, e.listener, 0});
            q.live_brokers.push_back(std::move(ub));
        }
        auto resp = co_await c->send<protocol::update_metadata_api>(q, protocol::update_metadata_api::max_version);
        co_return resp && (*resp)->error_code == 0;
    }
    case kind::stop_replica: {
        protocol::stop_replica_request q;
        q.controller_id = _self();
        q.controller_epoch = r.controller_epoch;
        std::map<std::string, size_t> at;
        for (auto& p : r.partitions) {
            auto [it, fresh] = at.emplace(p.tp.topic, q.topic_states.size());
            if (fresh) q.topic_states.push_back({p.tp.topic, {}});
            q.topic_states[it->second].partition_states.push_back({p.tp.partition(), -1, r.delete_partitions});
        }
        auto resp = co_await c->send<protocol::stop_replica_api>(q, protocol::stop_replica_api::max_version);
        if (!resp || (*resp)->error_code != 0) co_return false;
        for (auto& e : (*resp)->partition_errors) {
            if (e.error_code != 0) co_return false;
        }
        co_return true;
    }
    }
    co_return false;
}

asio::awaitable<void> controller_driver::send_loop(int32_t broker)
{
    while (active()) {
        auto q = _queues.find(broker);
        if (q == _queues.end() || q->second.empty()) break;
        auto r = std::move(q->second.front());
        q->second.pop_front();
        bool ok = co_await send(r);
        if (!active()) co_return;
        if (!ok) log.debug("controller request {} to broker {} failed; resyncing it after the backoff", r.id, broker);
        _state.request_done(r.id, ok, system_clock::instance().monotonic_ms());
        pump();
    }
    _sending.erase(broker);
}

asio::awaitable<void> controller_driver::remove_topic(std::string name, bool only_request)
{
    auto& zk = _member.zk();
    std::vector<std::string> gone;
    if (!only_request) {
        log.info("topic {}: every replica deleted; removing its znodes", name);
        gone.push_back(paths::topic(name));
        gone.push_back(paths::topic_config(name));
    }
    gone.push_back(std::string(paths::delete_topics) + "/" + name);
    for (auto& path : gone) {
        auto r = co_await remove_recursive(zk, path);
        if (!r) log.warn("cannot remove {}: {}", path, r.error().message());
    }
}

asio::awaitable<std::optional<std::vector<topic_partition>>>
controller_driver::controlled_shutdown(node_id b, std::chrono::milliseconds wait)
{
    if (!active() || !_loaded || !_state.is_live(b)) co_return std::nullopt;
    auto alive = _alive;
    log.info("controlled shutdown of broker {}: moving its leadership ({} partition(s))", b(),
             _state.still_led_by(b).size());
    _state.controlled_shutdown(b);
    pump();
    // Settled once the new states are written; then, briefly, until the brokers have been told
    // (the requests answered), so the shutting broker mostly stops after the new leaders know
    // they lead. Not longer: a request to a broker that just died waits for its timeout, and
    // clients retry NOT_LEADER_OR_FOLLOWER anyway (Kafka does not wait for these at all).
    auto now = std::chrono::steady_clock::now();
    auto written_by = now + wait;
    auto told_by = written_by;
    while (std::chrono::steady_clock::now() < std::min(written_by, told_by)) {
        if (!*alive || !active()) co_return std::nullopt;
        if (!_state.writes_out()) {
            if (_state.in_flight() == 0) break;
            if (told_by == written_by) told_by = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
        }
        co_await pause(_io.get_executor(), std::chrono::milliseconds(10));
    }
    if (!*alive || !active()) co_return std::nullopt;
    auto left = _state.still_led_by(b);
    log.info("controlled shutdown of broker {}: {} partition(s) left on it", b(), left.size());
    co_return left;
}

namespace {
std::optional<bool> unclean_override(const config::property_map& overrides)
{
    auto v = overrides.find("unclean.leader.election.enable");
    if (v == overrides.end()) return std::nullopt;
    return v->second == "true" || v->second == "TRUE" || v->second == "True";
}
} // namespace

void controller_driver::topic_config_changed(const std::string& name, const config::property_map& overrides)
{
    if (!active()) return;
    auto unclean = unclean_override(overrides);
    auto t = _state.topics().find(name);
    if (t == _state.topics().end() || t->second.unclean == unclean) return;
    log.info("topic {}: unclean.leader.election.enable {}", name, unclean ? (*unclean ? "true" : "false") : "default");
    _state.topic_unclean(name, unclean);
    pump();
}

void controller_driver::unclean_default(bool enabled)
{
    if (!active()) return;
    _state.unclean_default(enabled);
    pump();
}

asio::awaitable<std::optional<std::vector<controller_driver::election_answer>>>
controller_driver::elect_leaders(controller_state::election_type type, std::optional<std::vector<topic_partition>> partitions,
                                 std::chrono::milliseconds wait)
{
    if (!active() || !_loaded) co_return std::nullopt;
    auto alive = _alive;
    auto started = _state.request_election(type, partitions);
    pump();
    std::vector<election_answer> out;
    std::vector<size_t> waiting;
    for (auto& [tp, o] : started) {
        if (o == controller_state::election_outcome::started) waiting.push_back(out.size());
        out.push_back({tp, o, false});
    }
    if (!waiting.empty()) {
        log.info("{} leader election of {} partition(s) asked", type == controller_state::election_type::preferred ? "preferred" : "unclean",
                 waiting.size());
    }
    auto until = std::chrono::steady_clock::now() + wait;
    while (!waiting.empty()) {
        std::erase_if(waiting, [&](size_t i) {
            if (_state.settling(out[i].tp)) return false;
            out[i].outcome = _state.election_result(type, out[i].tp);
            return true;
        });
        if (waiting.empty()) break;
        if (std::chrono::steady_clock::now() >= until) {
            for (auto i : waiting) out[i].timed_out = true;
            break;
        }
        co_await pause(_io.get_executor(), std::chrono::milliseconds(10));
        if (!*alive || !active()) co_return std::nullopt;
    }
    co_return out;
}

asio::awaitable<void> controller_driver::ticker()
{
    while (active()) {
        co_await pause(_io.get_executor(), std::chrono::milliseconds(100));
        if (!active()) break;
        _state.tick(system_clock::instance().monotonic_ms());
        pump();
    }
}

config_watcher::config_watcher(asio::any_io_executor ex, member& m, apply_fn apply)
  : _ex(std::move(ex)), _member(m), _apply(std::move(apply))
{}

config_watcher::~config_watcher() { *_alive = false; }

void config_watcher::start()
{
    spawn_task(_ex, _tasks, watch(), "config change");
}

void config_watcher::stop()
{
    _stopped = true;
    _tasks.close();
}

asio::awaitable<void> config_watcher::watch()
{
    auto& zk = _member.zk();
    if (!_started) co_await zk.ensure_path(std::string(paths::config_changes));
    if (_stopped) co_return;
    session::watcher again = [this, alive = _alive] {
        if (*alive && !_stopped) spawn_task(_ex, _tasks, watch(), "config change");
    };
    auto names = co_await zk.children(std::string(paths::config_changes), std::move(again));
    if (_stopped || !names) co_return;
    std::sort(names->begin(), names->end()); // sequence suffixes are zero-padded
    if (!_started) {
        _started = true;
        if (!names->empty()) _last = names->back();
        co_return;
    }
    for (auto& n : *names) {
        if (n <= _last) continue;
        _last = n;
        auto change = co_await zk.get(std::string(paths::config_changes) + "/" + n);
        if (_stopped) co_return;
        if (!change) continue;
        auto entity = decode_config_change(change->data);
        if (!entity) {
            log.warn("ignoring malformed config change {}: {}", n, entity.error().message());
            continue;
        }
        bool topic = entity->rfind("topics/", 0) == 0;
        if (!topic && entity->rfind("brokers/", 0) != 0) continue; // users, clients: not served
        auto name = entity->substr(topic ? 7 : 8);
        // Not `?:` around the co_awaits (g++ 12 miscompiles that).
        std::optional<config::property_map> cfg;
        if (topic) cfg = co_await read_topic_config(zk, name);
        else cfg = co_await read_broker_config(zk, name);
        if (_stopped) co_return;
        _apply(topic ? entity::topic : entity::broker, name, cfg ? *cfg : config::property_map{});
    }
}

} // namespace samsa::cluster::zk
