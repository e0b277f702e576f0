#include "cluster/controller_state.h"

#include <algorithm>

namespace samsa::cluster {

controller_state::controller_state(node_id self, int32_t controller_epoch, options o)
  : _self(self), _epoch(controller_epoch), _opts(o)
{}

bool controller_state::is_live(node_id b) const
{
    return std::any_of(_brokers.begin(), _brokers.end(), [&](auto& x) { return x.id == b; });
}

void controller_state::brokers_changed(std::vector<broker_info> live)
{
    std::sort(live.begin(), live.end(), [](auto& a, auto& b) { return a.id < b.id; });
    // A broker whose epoch changed stopped and registered again between two looks at the live
    // set (a quick restart): it left and came back, a new member with nothing of the old one's.
    auto same = [](const broker_info& x, const broker_info& y) { return x.id == y.id && x.epoch == y.epoch; };
    for (auto& b : _brokers) {
        bool stays = std::any_of(live.begin(), live.end(), [&](auto& x) { return same(x, b); });
        if (stays) continue;
        _full_sync.erase(b.id());
        _resync_at.erase(b.id());
        _shutting_down.erase(b.id()); // a broker that comes back is a new member
        for (auto& [name, t] : _topics) t.stopping.erase(b.id()); // resent when it returns
    }
    for (auto& b : live) {
        bool was = std::any_of(_brokers.begin(), _brokers.end(), [&](auto& x) { return same(x, b); });
        if (!was) _full_sync.insert(b.id());
    }
    if (live != _brokers) {
        _brokers_changed = true;
        _elect_all = true;
    }
    _brokers = std::move(live);
}

namespace {
bool contains(const std::vector<node_id>& v, node_id x) { return std::find(v.begin(), v.end(), x) != v.end(); }

/// `a` without the members of `b`, in order.
std::vector<node_id> minus(const std::vector<node_id>& a, const std::vector<node_id>& b)
{
    std::vector<node_id> out;
    for (auto x : a) {
        if (!contains(b, x)) out.push_back(x);
    }
    return out;
}
} // namespace

std::vector<node_id> controlled_partition::target() const { return minus(replicas, removing); }

void controller_state::topic_assigned(const std::string& name, protocol::uuid id,
                                      const std::map<int32_t, std::vector<node_id>>& partitions,
                                      const std::map<int32_t, std::pair<std::vector<node_id>, std::vector<node_id>>>& moving,
                                      int32_t version)
{
    auto& t = _topics[name];
    t.id = id;
    t.version = version;
    t.assignment_stale = false;
    for (auto& [p, replicas] : partitions) {
        auto& cp = t.partitions[p];
        topic_partition tp{name, partition_id(p)};
        auto m = moving.find(p);
        replica_set now{replicas, m == moving.end() ? std::vector<node_id>{} : m->second.first,
                        m == moving.end() ? std::vector<node_id>{} : m->second.second};
        bool moved = cp.state && replica_set{cp.replicas, cp.adding, cp.removing} != now;
        cp.replicas = std::move(now.replicas);
        cp.adding = std::move(now.adding);
        cp.removing = std::move(now.removing);
        if (cp.reassigning() || cp.next) _moving.insert(tp);
        _to_elect.insert(tp);
        if (moved) _changed_partitions.insert(tp);
    }
    _changed.insert(name);
}

void controller_state::assignment_written(const std::string& topic, std::optional<int32_t> version)
{
    auto t = _topics.find(topic);
    if (t == _topics.end() || !t->second.assignment_writing) return;
    auto written = std::move(*t->second.assignment_writing);
    t->second.assignment_writing.reset();
    if (!version) {
        t->second.assignment_stale = true;
        return;
    }
    t->second.version = *version;
    for (auto& [p, set] : written) {
        auto& cp = t->second.partitions.at(p);
        cp.replicas = set.replicas;
        cp.adding = set.adding;
        cp.removing = set.removing;
        if (cp.next == set) cp.next.reset();
        topic_partition tp{topic, partition_id(p)};
        if (!cp.reassigning() && !cp.next) _moving.erase(tp);
        _to_elect.insert(tp);
        _changed_partitions.insert(tp);
    }
    _changed.insert(topic);
}

controlled_partition* controller_state::find(const topic_partition& tp)
{
    return const_cast<controlled_partition*>(std::as_const(*this).find(tp));
}

controller_state::reassign_outcome controller_state::reassign(const topic_partition& tp,
                                                              const std::optional<std::vector<node_id>>& target)
{
    auto* cp = find(tp);
    if (!cp || _topics.at(tp.topic).deleting) return reassign_outcome::unknown_partition;
    auto original = minus(cp->replicas, cp->adding);
    if (!target) {
        if (!cp->reassigning()) {
            if (!cp->next) return reassign_outcome::not_in_progress;
            cp->next.reset(); // not written yet: nothing started
            return reassign_outcome::cancelled;
        }
        cp->next = replica_set{original, {}, {}};
        _moving.insert(tp);
        _to_elect.insert(tp);
        return reassign_outcome::cancelled;
    }
    std::set<int32_t> seen;
    for (auto r : *target) {
        if (!seen.insert(r()).second || !is_live(r)) return reassign_outcome::invalid_assignment;
    }
    if (target->empty()) return reassign_outcome::invalid_assignment;
    if (*target == original && !cp->reassigning()) {
        cp->next.reset();
        return reassign_outcome::started; // already there
    }
    replica_set next;
    next.replicas = *target;
    for (auto r : original) {
        if (!contains(*target, r)) next.replicas.push_back(r);
    }
    next.adding = minus(*target, original);
    next.removing = minus(original, *target);
    cp->next = std::move(next);
    _moving.insert(tp);
    _to_elect.insert(tp);
    return reassign_outcome::started;
}

bool controller_state::reassign_pending(const topic_partition& tp) const
{
    auto* cp = find(tp);
    if (!cp) return false;
    auto& t = _topics.at(tp.topic);
    return cp->next || (t.assignment_writing && t.assignment_writing->count(tp.partition()));
}

void controller_state::znode_reassignments(const std::vector<std::pair<topic_partition, std::vector<node_id>>>& targets)
{
    for (auto& [tp, replicas] : targets) {
        auto o = reassign(tp, replicas);
        if (o == reassign_outcome::started) _znode_reassignments.insert(tp);
    }
    _znode_reassigning = true;
}

std::vector<std::pair<topic_partition, replica_set>>
controller_state::reassignments(const std::optional<std::vector<topic_partition>>& only) const
{
    std::vector<std::pair<topic_partition, replica_set>> out;
    for (auto& tp : _moving) {
        if (only && std::find(only->begin(), only->end(), tp) == only->end()) continue;
        auto* cp = find(tp);
        if (cp && cp->reassigning()) out.emplace_back(tp, replica_set{cp->replicas, cp->adding, cp->removing});
    }
    return out;
}

void controller_state::check_reassignments()
{
    for (auto& tp : _moving) {
        auto* cp = find(tp);
        if (!cp || cp->next || !cp->reassigning() || !cp->state) continue;
        auto target = cp->target();
        bool in_sync = std::all_of(target.begin(), target.end(), [&](node_id r) { return contains(cp->state->isr, r); });
        if (!in_sync) continue;
        cp->next = replica_set{target, {}, {}};
        _to_elect.insert(tp);
    }
}

void controller_state::write_assignments(controller_actions& out)
{
    std::map<std::string, std::vector<int32_t>> ready;
    for (auto& tp : _moving) {
        auto* cp = find(tp);
        auto& t = _topics.at(tp.topic);
        if (!cp || !cp->next || cp->writing || t.deleting || t.assignment_writing || t.assignment_stale) continue;
        // What the new set drops must be out of the partition's state first.
        auto dropped = minus(cp->replicas, cp->next->replicas);
        if (cp->state && (contains(dropped, cp->state->leader) ||
                          std::any_of(dropped.begin(), dropped.end(), [&](node_id r) { return contains(cp->state->isr, r); }))) {
            continue;
        }
        ready[tp.topic].push_back(tp.partition());
    }
    for (auto& [name, parts] : ready) {
        auto& t = _topics.at(name);
        assignment_write w{name, t.id, {}, t.version};
        for (auto& [p, cp] : t.partitions) w.partitions[p] = replica_set{cp.replicas, cp.adding, cp.removing};
        std::map<int32_t, replica_set> writing;
        for (auto p : parts) {
            w.partitions[p] = *t.partitions.at(p).next;
            writing[p] = *t.partitions.at(p).next;
        }
        t.assignment_writing = std::move(writing);
        out.assignments.push_back(std::move(w));
    }
    if (_znode_reassigning) {
        std::erase_if(_znode_reassignments, [&](auto& tp) {
            auto* cp = find(tp);
            return !cp || (!cp->next && !cp->reassigning());
        });
        if (_znode_reassignments.empty()) {
            _znode_reassigning = false;
            out.reassign_znode_done = true;
        }
    }
}

void controller_state::state_read(const topic_partition& tp, std::optional<partition_state> s, int32_t version)
{
    auto t = _topics.find(tp.topic);
    if (t == _topics.end()) return;
    auto& cp = t->second.partitions[tp.partition()];
    if (s) s->partition_epoch = version;
    cp.state = std::move(s);
    cp.version = cp.state ? version : -1;
    write_done(t->second, cp);
    _changed.insert(tp.topic);
    _changed_partitions.insert(tp);
    _to_elect.insert(tp);
}

void controller_state::state_written(const topic_partition& tp, std::optional<int32_t> version)
{
    auto t = _topics.find(tp.topic);
    if (t == _topics.end()) return;
    auto p = t->second.partitions.find(tp.partition());
    if (p == t->second.partitions.end() || !p->second.writing) return;
    auto& cp = p->second;
    if (version) {
        cp.state = std::move(cp.writing);
        cp.state->partition_epoch = *version;
        cp.version = *version;
        _changed.insert(tp.topic);
        _changed_partitions.insert(tp);
        _to_elect.insert(tp);
    }
    write_done(t->second, cp); // failed: the driver reads the znode again (state_read)
}

void controller_state::deletion_requested(const std::string& name)
{
    if (!_loaded) {
        _pending_deletions.insert(name);
        return;
    }
    start_deletion(name);
}

void controller_state::start_deletion(const std::string& name)
{
    auto t = _topics.find(name);
    if (t == _topics.end()) {
        _pending_deletions.insert(name); // reported as unknown by take_actions
        return;
    }
    if (t->second.deleting) return;
    t->second.deleting = true;
    for (auto& [p, cp] : t->second.partitions) {
        for (auto r : cp.replicas) t->second.replicas_to_delete.insert(r());
    }
    _changed.insert(name);
}

void controller_state::topic_removed(const std::string& name)
{
    _topics.erase(name);
    _changed.erase(name);
    std::erase_if(_changed_partitions, [&](auto& tp) { return tp.topic == name; });
    std::erase_if(_to_elect, [&](auto& tp) { return tp.topic == name; });
    std::erase_if(_wanted_leader, [&](auto& w) { return w.first.topic == name; });
    std::erase_if(_unclean_once, [&](auto& tp) { return tp.topic == name; });
    std::erase_if(_moving, [&](auto& tp) { return tp.topic == name; });
    std::erase_if(_znode_reassignments, [&](auto& tp) { return tp.topic == name; });
}

void controller_state::controlled_shutdown(node_id b)
{
    if (!is_live(b) || !_shutting_down.insert(b()).second) return;
    for (auto& [name, t] : _topics) {
        for (auto& [p, cp] : t.partitions) {
            if (std::find(cp.replicas.begin(), cp.replicas.end(), b) != cp.replicas.end()) {
                _to_elect.insert(topic_partition{name, partition_id(p)});
            }
        }
    }
}

bool controller_state::shutting_down(node_id b) const { return _shutting_down.count(b()) > 0; }

std::vector<topic_partition> controller_state::still_led_by(node_id b) const
{
    std::vector<topic_partition> out;
    for (auto& [name, t] : _topics) {
        if (t.deleting) continue;
        for (auto& [p, cp] : t.partitions) {
            if (cp.replicas.size() < 2) continue; // nowhere to move it (Kafka does not count these)
            if (cp.state && cp.state->leader == b) out.push_back(topic_partition{name, partition_id(p)});
        }
    }
    return out;
}

bool controller_state::writes_out() const
{
    return std::any_of(_topics.begin(), _topics.end(), [](auto& t) { return t.second.writes_out > 0; });
}

void controller_state::loaded()
{
    _loaded = true;
    _elect_all = true;
    for (auto& b : _brokers) _full_sync.insert(b.id());
}

void controller_state::request_done(uint64_t id, bool ok, int64_t now_ms)
{
    auto it = _in_flight.find(id);
    if (it == _in_flight.end()) return;
    auto r = std::move(it->second);
    _in_flight.erase(it);
    if (r.what == controller_request::kind::stop_replica) {
        std::set<std::string> names;
        for (auto& p : r.partitions) names.insert(p.tp.topic);
        for (auto& n : names) {
            auto t = _topics.find(n);
            if (t == _topics.end()) continue;
            t->second.stopping.erase(r.to());
            if (ok) t->second.replicas_to_delete.erase(r.to());
        }
    }
    if (!ok && is_live(r.to)) {
        auto& at = _resync_at[r.to()];
        at = at == 0 ? now_ms + _opts.retry_backoff_ms : std::min(at, now_ms + _opts.retry_backoff_ms);
    }
}

void controller_state::tick(int64_t now_ms)
{
    for (auto it = _resync_at.begin(); it != _resync_at.end();) {
        if (it->second > now_ms) {
            ++it;
            continue;
        }
        if (is_live(node_id(it->first))) _full_sync.insert(it->first);
        it = _resync_at.erase(it);
    }
    if (!_opts.auto_leader_rebalance || !_loaded) return;
    if (_next_imbalance_check < 0) _next_imbalance_check = now_ms + _opts.imbalance_check_interval_ms;
    if (now_ms < _next_imbalance_check) return;
    _next_imbalance_check = now_ms + _opts.imbalance_check_interval_ms;
    for (auto& b : _brokers) {
        if (shutting_down(b.id)) continue;
        if (auto parts = imbalanced(b.id); !parts.empty()) elect_preferred(parts);
    }
}

std::vector<topic_partition> controller_state::imbalanced(node_id b) const
{
    std::vector<topic_partition> elsewhere;
    size_t preferred = 0;
    for (auto& [name, t] : _topics) {
        if (t.deleting) continue;
        for (auto& [p, cp] : t.partitions) {
            if (cp.replicas.empty() || cp.replicas.front() != b || !cp.state) continue;
            ++preferred;
            if (cp.state->leader != b) elsewhere.push_back(topic_partition{name, partition_id(p)});
        }
    }
    if (preferred == 0 || elsewhere.size() * 100 <= preferred * static_cast<size_t>(_opts.imbalance_percentage)) {
        return {};
    }
    return elsewhere;
}

void controller_state::elect_preferred(const std::vector<topic_partition>& partitions)
{
    for (auto& tp : partitions) {
        auto t = _topics.find(tp.topic);
        if (t == _topics.end()) continue;
        auto cp = t->second.partitions.find(tp.partition());
        if (cp == t->second.partitions.end() || cp->second.replicas.empty()) continue;
        _wanted_leader[tp] = cp->second.replicas.front();
        _to_elect.insert(tp);
    }
}

const controlled_partition* controller_state::find(const topic_partition& tp) const
{
    auto t = _topics.find(tp.topic);
    if (t == _topics.end()) return nullptr;
    auto p = t->second.partitions.find(tp.partition());
    return p == t->second.partitions.end() ? nullptr : &p->second;
}

void controller_state::elect_topic(const std::string& name)
{
    auto t = _topics.find(name);
    if (t == _topics.end()) return;
    for (auto& [p, cp] : t->second.partitions) _to_elect.insert(topic_partition{name, partition_id(p)});
}

void controller_state::topic_unclean(const std::string& name, std::optional<bool> enabled)
{
    auto t = _topics.find(name);
    if (t == _topics.end() || t->second.unclean == enabled) return;
    t->second.unclean = enabled;
    if (unclean_enabled(t->second)) elect_topic(name);
}

void controller_state::unclean_default(bool enabled)
{
    if (_opts.unclean_leader_election == enabled) return;
    _opts.unclean_leader_election = enabled;
    if (enabled) _elect_all = true;
}

bool controller_state::settling(const topic_partition& tp) const
{
    auto* cp = find(tp);
    if (!cp) return false;
    return cp->writing || _to_elect.count(tp) || _wanted_leader.count(tp) || _unclean_once.count(tp);
}

std::vector<std::pair<topic_partition, controller_state::election_outcome>>
controller_state::request_election(election_type type, const std::optional<std::vector<topic_partition>>& partitions)
{
    std::vector<topic_partition> asked;
    if (partitions) {
        asked = *partitions;
    } else {
        for (auto& [name, t] : _topics) {
            if (t.deleting) continue;
            for (auto& [p, cp] : t.partitions) asked.push_back(topic_partition{name, partition_id(p)});
        }
    }
    std::vector<std::pair<topic_partition, election_outcome>> out;
    for (auto& tp : asked) {
        auto* cp = find(tp);
        auto outcome = election_outcome::unknown_partition;
        if (cp && !_topics.at(tp.topic).deleting) {
            auto live_leader = cp->state && cp->state->leader() >= 0 && is_live(cp->state->leader);
            if (type == election_type::preferred) {
                auto preferred = cp->replicas.empty() ? node_id(-1) : cp->replicas.front();
                bool in_sync = cp->state && std::find(cp->state->isr.begin(), cp->state->isr.end(), preferred) !=
                                                cp->state->isr.end();
                if (cp->state && cp->state->leader == preferred) {
                    outcome = election_outcome::not_needed;
                } else if (!in_sync || !is_live(preferred) || shutting_down(preferred)) {
                    outcome = election_outcome::not_available;
                } else {
                    _wanted_leader[tp] = preferred;
                    outcome = election_outcome::started;
                }
            } else if (live_leader) {
                outcome = election_outcome::not_needed;
            } else if (std::none_of(cp->replicas.begin(), cp->replicas.end(), [&](node_id r) { return is_live(r); })) {
                outcome = election_outcome::not_available;
            } else {
                _unclean_once.insert(tp);
                outcome = election_outcome::started;
            }
            if (outcome == election_outcome::started) _to_elect.insert(tp);
        }
        if (!partitions && outcome == election_outcome::not_needed) continue;
        out.emplace_back(tp, outcome);
    }
    return out;
}

controller_state::election_outcome controller_state::election_result(election_type type, const topic_partition& tp) const
{
    auto* cp = find(tp);
    if (!cp) return election_outcome::unknown_partition;
    if (!cp->state) return election_outcome::not_available;
    bool done = type == election_type::preferred
                    ? !cp->replicas.empty() && cp->state->leader == cp->replicas.front()
                    : cp->state->leader() >= 0 && is_live(cp->state->leader);
    return done ? election_outcome::elected : election_outcome::not_available;
}

std::optional<partition_state> controller_state::elect(const controlled_partition& cp, std::optional<node_id> wanted,
                                                       bool unclean) const
{
    if (!cp.state) {
        partition_state s;
        for (auto r : cp.replicas) {
            if (is_live(r)) s.isr.push_back(r);
        }
        if (s.isr.empty()) return std::nullopt; // stays new until a replica is live
        s.leader = s.isr.front();
        return s;
    }
    auto s = *cp.state;
    // A replica set about to be written drops these: they leave the ISR and leadership first,
    // as long as a member of the new set is in sync.
    auto dropped = cp.next ? minus(cp.replicas, cp.next->replicas) : std::vector<node_id>{};
    auto& order = cp.next ? cp.next->replicas : cp.replicas;
    std::vector<node_id> isr;
    for (auto r : s.isr) {
        if (is_live(r)) isr.push_back(r);
    }
    if (!dropped.empty()) {
        auto kept = minus(isr, dropped);
        if (!kept.empty()) isr = kept;
    }
    // The last in-sync replica stays in the ISR though dead: when it returns it may lead again.
    if (isr.empty() && !s.isr.empty()) isr.push_back(s.isr.back());
    // Controlled shutdown: a broker shutting down leaves the ISR, and hands over leadership,
    // as long as another live member stays in it.
    std::vector<node_id> staying;
    for (auto r : isr) {
        if (is_live(r) && !shutting_down(r)) staying.push_back(r);
    }
    if (!staying.empty()) isr = staying;
    auto in_isr = [&](node_id r) { return std::find(isr.begin(), isr.end(), r) != isr.end(); };
    node_id leader = s.leader;
    if (leader() < 0 || !is_live(leader) || (shutting_down(leader) && !staying.empty()) || !in_isr(leader)) {
        leader = node_id(-1);
        for (auto r : order) {
            if (is_live(r) && !shutting_down(r) && in_isr(r)) {
                leader = r;
                break;
            }
        }
        for (auto r : order) {
            if (leader() >= 0) break;
            if (is_live(r) && in_isr(r)) leader = r; // only brokers shutting down are left
        }
    }
    // Preferred leader election: only to a live, in-sync replica not shutting down.
    if (wanted && *wanted != leader && is_live(*wanted) && !shutting_down(*wanted) && in_isr(*wanted)) leader = *wanted;
    // Unclean election: no ISR member is live, so the first live replica leads (one not
    // shutting down if there is one), alone in the ISR; what only the ISR had is lost.
    if (leader() < 0 && unclean) {
        for (int pass = 0; pass < 2 && leader() < 0; ++pass) {
            for (auto r : cp.replicas) {
                if (is_live(r) && (pass == 1 || !shutting_down(r))) {
                    leader = r;
                    break;
                }
            }
        }
        if (leader() >= 0) isr = {leader};
    }
    if (leader == s.leader && isr == s.isr) return s;
    s.leader = leader;
    s.isr = std::move(isr);
    s.epoch = leader_epoch(s.epoch() + 1);
    return s;
}

partition_info controller_state::info_of(const std::string& topic, const controlled_topic& t, int32_t p) const
{
    auto& cp = t.partitions.at(p);
    partition_info i;
    i.tp = topic_partition{topic, partition_id(p)};
    i.topic_id = t.id;
    if (cp.state) i.state = *cp.state;
    i.replicas = cp.replicas;
    for (auto r : cp.replicas) {
        if (!is_live(r)) i.offline_replicas.push_back(r);
    }
    i.version = std::max(0, cp.version);
    if (t.deleting) i.state.leader = node_id(leader_during_delete);
    return i;
}

void controller_state::emit(controller_request r, controller_actions& out)
{
    r.id = _next_id++;
    r.controller_epoch = _epoch;
    _in_flight.emplace(r.id, r);
    out.requests.push_back(std::move(r));
}

void controller_state::write_done(controlled_topic& t, controlled_partition& cp)
{
    if (!cp.writing) return;
    cp.writing.reset();
    --t.writes_out;
}

void controller_state::elect_into(const std::string& name, controlled_topic& t, int32_t p, controlled_partition& cp,
                                  controller_actions& out)
{
    if (t.deleting || cp.writing) return;
    std::optional<node_id> wanted;
    if (auto w = _wanted_leader.find(topic_partition{name, partition_id(p)}); w != _wanted_leader.end()) {
        wanted = w->second;
        _wanted_leader.erase(w);
    }
    topic_partition tp{name, partition_id(p)};
    bool asked_unclean = _unclean_once.erase(tp) > 0;
    bool unclean = asked_unclean || unclean_enabled(t);
    auto next = elect(cp, wanted, unclean);
    if (!next || (cp.state && *next == *cp.state)) return;
    if (cp.state && next->leader() >= 0 &&
        std::find(cp.state->isr.begin(), cp.state->isr.end(), next->leader) == cp.state->isr.end()) {
        out.unclean.push_back(tp);
    }
    cp.writing = next;
    ++t.writes_out;
    out.writes.push_back({topic_partition{name, partition_id(p)}, *next, _epoch, cp.state ? cp.version : -1});
}

controller_actions controller_state::take_actions()
{
    controller_actions out;
    if (!_loaded) return out;
    for (auto& name : std::exchange(_pending_deletions, {})) {
        if (_topics.count(name)) start_deletion(name);
        else out.unknown_deletions.push_back(name);
    }
    check_reassignments();
    // Elections and ISR changes: written first; brokers hear of them once written. Only the
    // partitions something happened to are looked at, so a pump costs what changed.
    if (std::exchange(_elect_all, false)) {
        for (auto& [name, t] : _topics) {
            for (auto& [p, cp] : t.partitions) elect_into(name, t, p, cp, out);
        }
    } else {
        for (auto& tp : _to_elect) {
            auto t = _topics.find(tp.topic);
            if (t == _topics.end()) continue;
            auto cp = t->second.partitions.find(tp.partition());
            if (cp != t->second.partitions.end()) elect_into(tp.topic, t->second, cp->first, cp->second, out);
        }
    }
    _to_elect.clear();
    write_assignments(out);
    auto settled = [](const controlled_topic& t) { return t.writes_out == 0 && !t.assignment_writing; };
    std::vector<std::string> changed;
    for (auto& n : _changed) {
        auto t = _topics.find(n);
        if (t != _topics.end() && settled(t->second)) changed.push_back(n);
    }
    // LeaderAndIsr: to each replica, the partitions it hosts whose state changed (or all).
    std::map<int32_t, std::vector<partition_info>> lair;
    auto add_replicas = [&](const std::string& name, const controlled_topic& t, int32_t p,
                            const controlled_partition& cp, bool changed_here) {
        if (t.deleting || !settled(t) || !cp.state) return;
        for (auto r : cp.replicas) {
            if (!is_live(r) || !(changed_here || _full_sync.count(r()))) continue;
            lair[r()].push_back(info_of(name, t, p));
        }
    };
    if (!_full_sync.empty()) {
        for (auto& [name, t] : _topics) {
            for (auto& [p, cp] : t.partitions) {
                add_replicas(name, t, p, cp, _changed_partitions.count(topic_partition{name, partition_id(p)}) > 0);
            }
        }
    } else {
        for (auto& tp : _changed_partitions) {
            auto t = _topics.find(tp.topic);
            if (t == _topics.end()) continue;
            auto cp = t->second.partitions.find(tp.partition());
            if (cp != t->second.partitions.end()) add_replicas(tp.topic, t->second, cp->first, cp->second, true);
        }
    }
    std::erase_if(_changed_partitions, [&](auto& tp) {
        auto t = _topics.find(tp.topic);
        return t == _topics.end() || settled(t->second);
    });
    for (auto& [b, parts] : lair) {
        controller_request r;
        r.what = controller_request::kind::leader_and_isr;
        r.to = node_id(b);
        std::set<int32_t> leaders;
        for (auto& p : parts) {
            if (p.state.leader() >= 0) leaders.insert(p.state.leader());
        }
        for (auto& br : _brokers) {
            if (leaders.count(br.id())) r.brokers.push_back(br);
        }
        r.partitions = std::move(parts);
        emit(std::move(r), out);
    }
    // UpdateMetadata: every live broker, with every partition of the changed topics (all
    // topics for a broker that needs the whole picture).
    for (auto& b : _brokers) {
        bool full = _full_sync.count(b.id()) > 0;
        controller_request r;
        r.what = controller_request::kind::update_metadata;
        r.to = b.id;
        r.brokers = _brokers;
        auto add_topic = [&](const std::string& name, const controlled_topic& t) {
            for (auto& [p, cp] : t.partitions) r.partitions.push_back(info_of(name, t, p));
        };
        if (full) {
            for (auto& [name, t] : _topics) {
                if (settled(t)) add_topic(name, t);
            }
        } else {
            for (auto& n : changed) add_topic(n, _topics.at(n));
        }
        if (r.partitions.empty() && !full && !_brokers_changed) continue;
        emit(std::move(r), out);
    }
    for (auto& n : changed) _changed.erase(n);
    _brokers_changed = false;
    _full_sync.clear();
    // StopReplica with deletion, to each live replica not yet done; finished topics go.
    std::map<int32_t, std::vector<partition_info>> stops;
    for (auto it = _topics.begin(); it != _topics.end();) {
        auto& [name, t] = *it;
        if (!t.deleting) {
            ++it;
            continue;
        }
        if (t.replicas_to_delete.empty()) {
            out.deleted.push_back(name);
            _changed.erase(name);
            it = _topics.erase(it);
            continue;
        }
        for (auto b : t.replicas_to_delete) {
            if (!is_live(node_id(b)) || t.stopping.count(b)) continue;
            for (auto& [p, cp] : t.partitions) {
                if (std::find(cp.replicas.begin(), cp.replicas.end(), node_id(b)) != cp.replicas.end()) {
                    stops[b].push_back(info_of(name, t, p));
                }
            }
            t.stopping.insert(b);
        }
        ++it;
    }
    for (auto& [b, parts] : stops) {
        controller_request r;
        r.what = controller_request::kind::stop_replica;
        r.to = node_id(b);
        r.delete_partitions = true;
        r.partitions = std::move(parts);
        emit(std::move(r), out);
    }
    return out;
}

} // namespace samsa::cluster
