// Membership of the classic group protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and
// the timers that drive rebalances (see group_coordinator.h; offsets are in group_offsets.cc).
#include "coordinator/group_coordinator.h"
#include "coordinator/offsets_records.h"

#include "base/logging.h"
#include "protocol/error_code.h"

#include <fmt/format.h>
#include <random>

namespace samsa::coordinator {

namespace {
constexpr logger log{"coordinator"};
using protocol::error_code;
int16_t E(error_code e) { return static_cast<int16_t>(e); }

std::vector<std::pair<std::string, bytes>> protocols_of(const protocol::join_group_request& req)
{
    std::vector<std::pair<std::string, bytes>> out;
    for (auto& p : req.protocols) out.emplace_back(p.name, p.metadata);
    return out;
}

protocol::join_group_response join_error(error_code e, const std::string& member_id = {})
{
    protocol::join_group_response r;
    r.error_code = E(e);
    r.member_id = member_id;
    r.generation_id = -1;
    r.protocol_name = std::nullopt;
    return r;
}

protocol::sync_group_response sync_error(error_code e)
{
    protocol::sync_group_response r;
    r.error_code = E(e);
    return r;
}
} // namespace

group_coordinator::group_coordinator(coordinator_config cfg, const clock& clk) : _cfg(cfg), _clock(clk) {}

const group* group_coordinator::find(const std::string& id) const
{
    auto it = _groups.find(id);
    return it == _groups.end() ? nullptr : &it->second;
}

group& group_coordinator::get_or_create(const std::string& id)
{
    auto [it, inserted] = _groups.try_emplace(id);
    if (inserted) {
        it->second.id = id;
        it->second.state_timestamp_ms = now();
    }
    return it->second;
}

std::string group_coordinator::new_member_id(const std::string& client_id)
{
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    uint64_t a = rng(), b = rng();
    return fmt::format("{}-{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", client_id, a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                       0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffull);
}

void group_coordinator::persist_group(const group& g, outcome& out) const
{
    group_metadata md;
    md.protocol_type = g.protocol_type;
    md.generation = g.generation;
    md.protocol_name = g.protocol_name;
    md.leader = g.leader;
    md.state_timestamp_ms = g.state_timestamp_ms;
    for (auto& id : g.join_order) {
        auto& m = g.members.at(id);
        const bytes* sub = g.protocol_name ? m.metadata_for(*g.protocol_name) : nullptr;
        md.members.push_back({m.id, m.instance_id, m.client_id, m.client_host, m.rebalance_timeout_ms,
                              m.session_timeout_ms, sub ? *sub : bytes{}, m.assignment});
    }
    out.records.push_back({encode_key(group_key{g.id}), encode_group_value(md)});
}

void group_coordinator::fail_pending_syncs(group& g, outcome& out, int16_t error)
{
    for (auto& [id, m] : g.members) {
        if (m.pending_sync) {
            auto r = sync_error(static_cast<error_code>(error));
            out.completions.push_back({*m.pending_sync, r});
            m.pending_sync.reset();
        }
        m.assignment.clear();
    }
}

void group_coordinator::prepare_rebalance(group& g, outcome& out)
{
    if (g.state == group_state::completing_rebalance) fail_pending_syncs(g, out, E(error_code::rebalance_in_progress));
    bool was_empty = g.state == group_state::empty;
    g.state = group_state::preparing_rebalance;
    g.state_timestamp_ms = now();
    int64_t timeout = std::max(g.max_rebalance_timeout(), 0);
    if (was_empty && _cfg.initial_rebalance_delay_ms > 0) {
        g.initial_delay_until_ms = now() + std::min<int64_t>(_cfg.initial_rebalance_delay_ms, timeout);
        g.initial_delay_limit_ms = now() + timeout;
        g.new_member_during_delay = false;
        g.join_deadline_ms = g.initial_delay_limit_ms;
    } else {
        g.initial_delay_until_ms = 0;
        g.join_deadline_ms = now() + timeout;
    }
    log.debug("group {}: preparing rebalance (generation {})", g.id, g.generation);
    maybe_complete_join(g, out);
}

void group_coordinator::maybe_complete_join(group& g, outcome& out)
{
    if (g.state != group_state::preparing_rebalance || g.initial_delay_until_ms > 0) return;
    if (g.all_members_joined()) complete_join(g, out);
}

void group_coordinator::reply_join(group& g, member& m, outcome& out)
{
    protocol::join_group_response r;
    r.generation_id = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = g.leader.value_or("");
    r.member_id = m.id;
    if (g.leader == m.id) {
        for (auto& id : g.join_order) {
            auto& other = g.members.at(id);
            const bytes* meta = other.metadata_for(*g.protocol_name);
            r.members.push_back({other.id, other.instance_id, meta ? *meta : bytes{}});
        }
    }
    out.completions.push_back({*m.pending_join, std::move(r)});
    m.pending_join.reset();
}

void group_coordinator::complete_join(group& g, outcome& out)
{
    std::vector<std::string> missing;
    for (auto& [id, m] : g.members) {
        if (!m.pending_join) missing.push_back(id);
    }
    for (auto& id : missing) {
        log.info("group {}: member {} did not rejoin in time; removing it", g.id, id);
        g.remove_member(id);
    }
    g.pending_members.clear();
    g.initial_delay_until_ms = 0;
    ++g.generation;
    g.state_timestamp_ms = now();
    if (g.members.empty()) {
        g.state = group_state::empty;
        g.protocol_name.reset();
        g.leader.reset();
        log.info("group {}: empty at generation {}", g.id, g.generation);
        persist_group(g, out);
        return;
    }
    g.protocol_name = g.select_protocol();
    if (!g.leader || !g.has_member(*g.leader)) g.leader = g.join_order.front();
    g.state = group_state::completing_rebalance;
    log.info("group {}: generation {} with {} member(s), protocol {}, leader {}", g.id, g.generation, g.members.size(),
             g.protocol_name.value_or("?"), *g.leader);
    for (auto& id : g.join_order) {
        auto& m = g.members.at(id);
        m.last_heartbeat_ms = now();
        reply_join(g, m, out);
    }
}

void group_coordinator::remove_member_and_rebalance(group& g, const std::string& member_id, outcome& out)
{
    auto& m = g.members.at(member_id);
    if (m.pending_join) out.completions.push_back({*m.pending_join, join_error(error_code::unknown_member_id, member_id)});
    if (m.pending_sync) out.completions.push_back({*m.pending_sync, sync_error(error_code::unknown_member_id)});
    g.remove_member(member_id);
    switch (g.state) {
    case group_state::stable:
    case group_state::completing_rebalance: prepare_rebalance(g, out); break;
    case group_state::preparing_rebalance: maybe_complete_join(g, out); break;
    case group_state::empty:
    case group_state::dead: break;
    }
}

outcome group_coordinator::join_group(request_id id, const protocol::join_group_request& req, int16_t version,
                                      const client_info& c)
{
    outcome out;
    out.group = req.group_id;
    auto fail = [&](error_code e) {
        out.completions.push_back({id, join_error(e, req.member_id)});
        return out;
    };
    if (req.group_id.empty()) return fail(error_code::invalid_group_id);
    if (req.session_timeout_ms < _cfg.min_session_timeout_ms || req.session_timeout_ms > _cfg.max_session_timeout_ms) {
        return fail(error_code::invalid_session_timeout);
    }
    auto it = _groups.find(req.group_id);
    if (it == _groups.end() && !req.member_id.empty()) return fail(error_code::unknown_member_id);
    group& g = get_or_create(req.group_id);
    if (g.state == group_state::dead) return fail(error_code::coordinator_not_available);
    if (!g.supports_protocols(req.protocol_type, protocols_of(req))) return fail(error_code::inconsistent_group_protocol);
    if (req.member_id.empty()) {
        if (static_cast<int64_t>(g.members.size() + g.pending_members.size()) >= _cfg.max_group_size &&
            !(req.group_instance_id && g.static_members.count(*req.group_instance_id))) {
            return fail(error_code::group_max_size_reached);
        }
        return join_unknown_member(id, g, req, version, c);
    }
    return join_known_member(id, g, req, version, c);
}

outcome group_coordinator::join_unknown_member(request_id id, group& g, const protocol::join_group_request& req,
                                               int16_t version, const client_info& c)
{
    outcome out;
    out.group = g.id;
    if (req.group_instance_id) {
        if (auto s = g.static_members.find(*req.group_instance_id); s != g.static_members.end()) {
            return rejoin_static_member(id, g, s->second, req, version, c);
        }
    }
    std::string mid = new_member_id(c.client_id);
    if (!req.group_instance_id && version >= 4) {
        // KIP-394: the member must come back with the id it is given.
        g.pending_members[mid] = now() + req.session_timeout_ms;
        out.completions.push_back({id, join_error(error_code::member_id_required, mid)});
        return out;
    }
    add_member_and_rebalance(id, g, mid, req, version, c, out);
    return out;
}

void group_coordinator::add_member_and_rebalance(request_id id, group& g, const std::string& mid,
                                                 const protocol::join_group_request& req, int16_t version,
                                                 const client_info& c, outcome& out)
{
    member m;
    m.id = mid;
    m.instance_id = req.group_instance_id;
    m.client_id = c.client_id;
    m.client_host = c.client_host;
    m.session_timeout_ms = req.session_timeout_ms;
    m.rebalance_timeout_ms = version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
    m.protocol_type = req.protocol_type;
    m.protocols = protocols_of(req);
    m.last_heartbeat_ms = now();
    m.pending_join = id;
    m.pending_join_version = version;
    if (g.state == group_state::preparing_rebalance && g.initial_delay_until_ms > 0) g.new_member_during_delay = true;
    g.add_member(std::move(m));
    if (g.state == group_state::preparing_rebalance) maybe_complete_join(g, out);
    else prepare_rebalance(g, out);
}

outcome group_coordinator::join_known_member(request_id id, group& g, const protocol::join_group_request& req,
                                             int16_t version, const client_info& c)
{
    outcome out;
    out.group = g.id;
    const auto& mid = req.member_id;
    if (auto p = g.pending_members.find(mid); p != g.pending_members.end()) {
        g.pending_members.erase(p);
        add_member_and_rebalance(id, g, mid, req, version, c, out);
        return out;
    }
    if (req.group_instance_id) {
        auto s = g.static_members.find(*req.group_instance_id);
        if (s != g.static_members.end() && s->second != mid) {
            out.completions.push_back({id, join_error(error_code::fenced_instance_id, mid)});
            return out;
        }
    }
    if (!g.has_member(mid)) {
        out.completions.push_back({id, join_error(error_code::unknown_member_id, mid)});
        return out;
    }
    auto& m = g.members.at(mid);
    if (m.pending_join) {
        // A repeated join while one is waiting: the older request is answered, never dropped.
        out.completions.push_back({*m.pending_join, join_error(error_code::rebalance_in_progress, mid)});
        m.pending_join.reset();
    }
    auto protos = protocols_of(req);
    bool changed = !m.same_protocols(protos);
    m.last_heartbeat_ms = now();
    auto update = [&] {
        m.protocols = protos;
        m.session_timeout_ms = req.session_timeout_ms;
        m.rebalance_timeout_ms = version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
        m.pending_join = id;
        m.pending_join_version = version;
    };
    switch (g.state) {
    case group_state::preparing_rebalance:
        update();
        maybe_complete_join(g, out);
        break;
    case group_state::completing_rebalance:
    case group_state::stable:
        if (changed || (g.state == group_state::stable && g.leader == mid)) {
            update();
            prepare_rebalance(g, out);
        } else {
            // Nothing changed: the current generation stands.
            m.pending_join = id;
            reply_join(g, m, out);
        }
        break;
    case group_state::empty:
    case group_state::dead: out.completions.push_back({id, join_error(error_code::unknown_member_id, mid)}); break;
    }
    return out;
}

outcome group_coordinator::rejoin_static_member(request_id id, group& g, const std::string& old_id,
                                                const protocol::join_group_request& req, int16_t version,
                                                const client_info& c)
{
    outcome out;
    out.group = g.id;
    std::string new_id = new_member_id(c.client_id);
    auto old = g.members.at(old_id);
    // The old incarnation is fenced: whatever it still waits for is answered.
    if (old.pending_join) out.completions.push_back({*old.pending_join, join_error(error_code::fenced_instance_id, old_id)});
    if (old.pending_sync) out.completions.push_back({*old.pending_sync, sync_error(error_code::fenced_instance_id)});
    auto current_leader = g.leader;
    member m = old;
    m.id = new_id;
    m.pending_join.reset();
    m.pending_sync.reset();
    m.client_id = c.client_id;
    m.client_host = c.client_host;
    m.session_timeout_ms = req.session_timeout_ms;
    m.rebalance_timeout_ms = version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
    auto protos = protocols_of(req);
    bool changed = !m.same_protocols(protos);
    m.protocols = protos;
    m.last_heartbeat_ms = now();
    g.members.erase(old_id);
    for (auto& j : g.join_order) {
        if (j == old_id) j = new_id;
    }
    if (g.leader == old_id) g.leader = new_id;
    g.static_members[*req.group_instance_id] = new_id;
    auto& nm = g.members.emplace(new_id, std::move(m)).first->second;
    log.info("group {}: static member {} rejoined as {}", g.id, *req.group_instance_id, new_id);
    if (g.state == group_state::stable && !changed) {
        // KIP-345: a restarted static member takes its old place without a rebalance. The old
        // leader id is returned so the member does not run an assignment of its own.
        persist_group(g, out);
        protocol::join_group_response r;
        r.generation_id = g.generation;
        r.protocol_type = g.protocol_type;
        r.protocol_name = g.protocol_name;
        r.leader = current_leader == old_id ? old_id : current_leader.value_or("");
        r.member_id = new_id;
        out.completions.push_back({id, std::move(r)});
        return out;
    }
    nm.pending_join = id;
    nm.pending_join_version = version;
    if (g.state == group_state::preparing_rebalance || g.state == group_state::empty) {
        if (g.state == group_state::empty) prepare_rebalance(g, out);
        else maybe_complete_join(g, out);
    } else {
        prepare_rebalance(g, out);
    }
    return out;
}

outcome group_coordinator::sync_group(request_id id, const protocol::sync_group_request& req, int16_t version)
{
    outcome out;
    out.group = req.group_id;
    auto fail = [&](error_code e) {
        out.completions.push_back({id, sync_error(e)});
        return out;
    };
    auto it = _groups.find(req.group_id);
    if (it == _groups.end()) return fail(error_code::unknown_member_id);
    group& g = it->second;
    if (g.state == group_state::dead) return fail(error_code::coordinator_not_available);
    if (req.group_instance_id) {
        auto s = g.static_members.find(*req.group_instance_id);
        if (s != g.static_members.end() && s->second != req.member_id) return fail(error_code::fenced_instance_id);
    }
    if (!g.has_member(req.member_id)) return fail(error_code::unknown_member_id);
    if (req.generation_id != g.generation) return fail(error_code::illegal_generation);
    if ((req.protocol_type && *req.protocol_type != g.protocol_type) ||
        (req.protocol_name && g.protocol_name && *req.protocol_name != *g.protocol_name)) {
        return fail(error_code::inconsistent_group_protocol);
    }
    auto& m = g.members.at(req.member_id);
    m.last_heartbeat_ms = now();
    auto answer = [&](member& mm) {
        protocol::sync_group_response r;
        r.protocol_type = g.protocol_type;
        r.protocol_name = g.protocol_name;
        r.assignment = mm.assignment;
        out.completions.push_back({*mm.pending_sync, std::move(r)});
        mm.pending_sync.reset();
    };
    switch (g.state) {
    case group_state::empty: return fail(error_code::unknown_member_id);
    case group_state::preparing_rebalance: return fail(error_code::rebalance_in_progress);
    case group_state::dead: return fail(error_code::coordinator_not_available);
    case group_state::stable:
        m.pending_sync = id;
        answer(m);
        return out;
    case group_state::completing_rebalance:
        if (m.pending_sync) out.completions.push_back({*m.pending_sync, sync_error(error_code::rebalance_in_progress)});
        m.pending_sync = id;
        if (g.leader != req.member_id) return out;
        for (auto& [mid, mm] : g.members) mm.assignment.clear();
        for (auto& a : req.assignments) {
            if (auto f = g.members.find(a.member_id); f != g.members.end()) f->second.assignment = a.assignment;
        }
        g.state = group_state::stable;
        g.state_timestamp_ms = now();
        persist_group(g, out);
        for (auto& [mid, mm] : g.members) {
            if (mm.pending_sync) answer(mm);
        }
        return out;
    }
    return out;
}

outcome group_coordinator::heartbeat(request_id id, const protocol::heartbeat_request& req, int16_t version)
{
    outcome out;
    out.group = req.group_id;
    auto reply = [&](error_code e) {
        protocol::heartbeat_response r;
        r.error_code = E(e);
        out.completions.push_back({id, r});
        return out;
    };
    auto it = _groups.find(req.group_id);
    if (it == _groups.end()) return reply(error_code::unknown_member_id);
    group& g = it->second;
    if (g.state == group_state::dead) return reply(error_code::coordinator_not_available);
    if (req.group_instance_id) {
        auto s = g.static_members.find(*req.group_instance_id);
        if (s != g.static_members.end() && s->second != req.member_id) return reply(error_code::fenced_instance_id);
    }
    if (!g.has_member(req.member_id)) return reply(error_code::unknown_member_id);
    if (req.generation_id != g.generation) return reply(error_code::illegal_generation);
    g.members.at(req.member_id).last_heartbeat_ms = now();
    switch (g.state) {
    case group_state::preparing_rebalance: return reply(error_code::rebalance_in_progress);
    case group_state::completing_rebalance:
    case group_state::stable: return reply(error_code::none);
    case group_state::empty:
    case group_state::dead: return reply(error_code::unknown_member_id);
    }
    return out;
}

outcome group_coordinator::leave_group(request_id id, const protocol::leave_group_request& req, int16_t version)
{
    outcome out;
    out.group = req.group_id;
    protocol::leave_group_response resp;
    std::vector<std::pair<std::string, std::optional<std::string>>> who;
    if (version < 3) who.emplace_back(req.member_id, std::nullopt);
    for (auto& m : req.members) who.emplace_back(m.member_id, m.group_instance_id);
    auto it = _groups.find(req.group_id);
    for (auto& [mid, instance] : who) {
        protocol::leave_group_response::member_response mr;
        mr.member_id = mid;
        mr.group_instance_id = instance;
        error_code e = error_code::none;
        if (it == _groups.end() || it->second.state == group_state::dead) {
            e = error_code::unknown_member_id;
        } else {
            group& g = it->second;
            std::string target = mid;
            if (instance) {
                auto s = g.static_members.find(*instance);
                if (s == g.static_members.end()) e = error_code::unknown_member_id;
                else if (!mid.empty() && s->second != mid) e = error_code::fenced_instance_id;
                else target = s->second;
            }
            if (e == error_code::none) {
                if (g.pending_members.erase(target)) {
                    maybe_complete_join(g, out);
                } else if (!g.has_member(target)) {
                    e = error_code::unknown_member_id;
                } else {
                    log.info("group {}: member {} left", g.id, target);
                    remove_member_and_rebalance(g, target, out);
                }
            }
        }
        mr.error_code = E(e);
        if (version < 3) resp.error_code = E(e);
        resp.members.push_back(std::move(mr));
    }
    out.completions.push_back({id, std::move(resp)});
    return out;
}

std::vector<outcome> group_coordinator::tick()
{
    std::vector<outcome> outs;
    int64_t t = now();
    std::vector<std::string> dead_groups;
    for (auto& [gid, g] : _groups) {
        outcome out;
        out.group = gid;
        std::vector<std::string> expired;
        for (auto& [mid, m] : g.members) {
            if (!m.pending_join && !m.pending_sync && t > m.last_heartbeat_ms + m.session_timeout_ms) expired.push_back(mid);
        }
        for (auto& mid : expired) {
            if (!g.has_member(mid)) continue;
            log.info("group {}: member {} missed its session timeout; removing it", gid, mid);
            remove_member_and_rebalance(g, mid, out);
        }
        std::erase_if(g.pending_members, [&](auto& kv) { return t > kv.second; });
        if (g.state == group_state::preparing_rebalance) {
            if (g.initial_delay_until_ms > 0 && t >= g.initial_delay_until_ms) {
                if (g.new_member_during_delay && t < g.initial_delay_limit_ms) {
                    g.initial_delay_until_ms = std::min<int64_t>(t + _cfg.initial_rebalance_delay_ms, g.initial_delay_limit_ms);
                    g.new_member_during_delay = false;
                } else {
                    complete_join(g, out);
                }
            } else if (g.initial_delay_until_ms == 0) {
                if (g.all_members_joined() || t >= g.join_deadline_ms) complete_join(g, out);
            }
        }
        expire_offsets(g, out, t);
        if (g.state == group_state::empty && g.members.empty() && g.offsets.empty() && g.pending_offsets.empty() && g.txn_offsets.empty() &&
            g.pending_members.empty()) {
            if (g.generation > 0 || !g.protocol_type.empty()) out.records.push_back({encode_key(group_key{gid}), std::nullopt});
            dead_groups.push_back(gid);
        }
        if (!out.records.empty() || !out.completions.empty()) outs.push_back(std::move(out));
    }
    for (auto& gid : dead_groups) _groups.erase(gid);
    return outs;
}

void group_coordinator::load_record(bytes_view key, std::optional<bytes_view> value, std::optional<int64_t> txn_producer_id)
{
    try {
        auto k = decode_key(key);
        _just_loaded.insert(std::visit([](auto& kk) { return kk.group; }, k));
        if (auto* ok = std::get_if<offset_key>(&k)) {
            if (value && txn_producer_id) get_or_create(ok->group).txn_offsets[*txn_producer_id][ok->tp] = decode_offset_value(*value);
            else if (value) get_or_create(ok->group).offsets[ok->tp] = decode_offset_value(*value);
            else if (auto it = _groups.find(ok->group); it != _groups.end()) it->second.offsets.erase(ok->tp);
            return;
        }
        auto& gid = std::get<group_key>(k).group;
        if (!value) {
            if (auto it = _groups.find(gid); it != _groups.end()) {
                auto offsets = std::move(it->second.offsets);
                _groups.erase(it);
                if (!offsets.empty()) get_or_create(gid).offsets = std::move(offsets);
            }
            return;
        }
        auto md = decode_group_value(*value);
        group& g = get_or_create(gid);
        auto offsets = std::move(g.offsets);
        auto txn_offsets = std::move(g.txn_offsets);
        g = group{};
        g.id = gid;
        g.offsets = std::move(offsets);
        g.txn_offsets = std::move(txn_offsets);
        g.protocol_type = md.protocol_type;
        g.generation = md.generation;
        g.protocol_name = md.protocol_name;
        g.state_timestamp_ms = md.state_timestamp_ms >= 0 ? md.state_timestamp_ms : now();
        for (auto& e : md.members) {
            member m;
            m.id = e.member_id;
            m.instance_id = e.instance_id;
            m.client_id = e.client_id;
            m.client_host = e.client_host;
            m.session_timeout_ms = e.session_timeout_ms;
            m.rebalance_timeout_ms = e.rebalance_timeout_ms >= 0 ? e.rebalance_timeout_ms : e.session_timeout_ms;
            m.protocol_type = md.protocol_type;
            if (md.protocol_name) m.protocols.emplace_back(*md.protocol_name, e.subscription);
            m.assignment = e.assignment;
            g.add_member(std::move(m));
        }
        g.leader = md.leader;
        g.state = g.members.empty() ? group_state::empty : group_state::stable;
    } catch (const std::exception& e) {
        log.warn("skipping an unreadable __consumer_offsets record: {}", e.what());
    }
}

void group_coordinator::load_complete()
{
    size_t loaded = 0;
    for (auto& gid : _just_loaded) {
        auto it = _groups.find(gid);
        if (it == _groups.end()) continue;
        ++loaded;
        for (auto& [mid, m] : it->second.members) m.last_heartbeat_ms = now();
    }
    _just_loaded.clear();
    log.info("loaded {} group(s)", loaded);
}

outcome group_coordinator::unload_partition(int32_t offsets_partition, int32_t offsets_partitions)
{
    outcome out;
    size_t unloaded = 0;
    for (auto it = _groups.begin(); it != _groups.end();) {
        if (partition_for_group(it->first, offsets_partitions) != offsets_partition) {
            ++it;
            continue;
        }
        for (auto& [mid, m] : it->second.members) {
            if (m.pending_join) out.completions.push_back({*m.pending_join, join_error(error_code::not_coordinator, mid)});
            if (m.pending_sync) out.completions.push_back({*m.pending_sync, sync_error(error_code::not_coordinator)});
        }
        it = _groups.erase(it);
        ++unloaded;
    }
    if (unloaded) log.info("unloaded {} group(s) of __consumer_offsets-{}", unloaded, offsets_partition);
    return out;
}

} // namespace samsa::coordinator
