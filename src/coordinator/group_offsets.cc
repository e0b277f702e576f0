// Committed offsets and group administration: OffsetCommit, OffsetFetch, ListGroups,
// DescribeGroups, DeleteGroups, OffsetDelete, offset expiry (KIP-211).
#include "base/logging.h"
#include "base/saturating.h"
#include "protocol/error_code.h"
#include "coordinator/group_coordinator.h"

#include <algorithm>
#include <cctype>

namespace samsa::coordinator {

namespace {
constexpr logger log{"coordinator"};
using protocol::error_code;
int16_t E(error_code e) { return static_cast<int16_t>(e); }

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}
} // namespace

outcome group_coordinator::commit_offsets(request_id id, const protocol::offset_commit_request& req, int16_t version,
                                          const std::function<bool(const topic_partition&)>& partition_exists)
{
    outcome out;
    out.group = req.group_id;
    auto respond_all = [&](error_code e) {
        out.completions.push_back({id, every_partition_failed<protocol::offset_commit_response>(req, E(e))});
        return out;
    };
    protocol::offset_commit_response resp;
    int32_t generation = version >= 1 ? req.generation_id_or_member_epoch : -1;
    const std::string member_id = version >= 1 ? req.member_id : std::string();
    if (req.group_id.empty()) return respond_all(error_code::invalid_group_id);
    auto it = _groups.find(req.group_id);
    if (it == _groups.end() && generation >= 0) return respond_all(error_code::illegal_generation);
    group& g = get_or_create(req.group_id);
    if (g.state == group_state::dead) return respond_all(error_code::coordinator_not_available);
    if (req.group_instance_id) {
        auto s = g.static_members.find(*req.group_instance_id);
        if (s != g.static_members.end() && s->second != member_id) return respond_all(error_code::fenced_instance_id);
    }
    if (!(generation < 0 && g.state == group_state::empty)) {
        if (g.state == group_state::completing_rebalance) return respond_all(error_code::rebalance_in_progress);
        if (!g.has_member(member_id)) return respond_all(error_code::unknown_member_id);
        if (generation != g.generation) return respond_all(error_code::illegal_generation);
        g.members.at(member_id).last_heartbeat_ms = now();
    }
    commit_token token{g.id, {}};
    int64_t t = now();
    for (auto& rt : req.topics) {
        protocol::offset_commit_response::offset_commit_response_topic ot;
        ot.name = rt.name;
        for (auto& p : rt.partitions) {
            committed_offset c;
            c.offset = p.committed_offset;
            c.leader_epoch = version >= 6 ? p.committed_leader_epoch : -1;
            c.metadata = p.committed_metadata.value_or("");
            c.commit_timestamp_ms = (version == 1 && p.commit_timestamp >= 0) ? p.commit_timestamp : t;
            if (version >= 2 && version <= 4 && req.retention_time_ms >= 0) {
                c.expire_timestamp_ms = saturating_add(c.commit_timestamp_ms, req.retention_time_ms);
            }
            auto e = stage_offset(g, {rt.name, partition_id(p.partition_index)}, std::move(c), partition_exists, token, out);
            ot.partitions.push_back({p.partition_index, E(e)});
        }
        resp.topics.push_back(std::move(ot));
    }
    out.completions.push_back({id, std::move(resp)});
    if (!token.partitions.empty()) out.commit = std::move(token);
    return out;
}

error_code group_coordinator::stage_offset(group& g, const topic_partition& tp, committed_offset c,
                                           const std::function<bool(const topic_partition&)>& partition_exists,
                                           commit_token& token, outcome& out)
{
    if (!partition_exists(tp)) return error_code::unknown_topic_or_partition;
    if (static_cast<int64_t>(c.metadata.size()) > _cfg.offset_metadata_max_bytes) return error_code::offset_metadata_too_large;
    out.records.push_back({encode_key(offset_key{g.id, tp}), encode_offset_value(c)});
    g.pending_offsets[tp] = std::move(c);
    token.partitions.push_back(tp);
    return error_code::none;
}

void group_coordinator::commit_persisted(const commit_token& t, bool ok)
{
    auto it = _groups.find(t.group);
    if (it == _groups.end()) return;
    auto& g = it->second;
    for (auto& tp : t.partitions) {
        auto p = g.pending_offsets.find(tp);
        if (p == g.pending_offsets.end()) continue;
        if (ok && t.txn_producer_id) g.txn_offsets[*t.txn_producer_id][tp] = p->second;
        else if (ok) g.offsets[tp] = p->second;
        g.pending_offsets.erase(p);
    }
}

protocol::offset_fetch_response group_coordinator::fetch_offsets(const protocol::offset_fetch_request& req,
                                                                 int16_t version) const
{
    using resp_t = protocol::offset_fetch_response;
    protocol::offset_fetch_response resp;
    auto lookup = [&](const std::string& gid, const topic_partition& tp) {
        committed_offset c;
        if (auto* g = find(gid)) {
            if (auto it = g->offsets.find(tp); it != g->offsets.end()) c = it->second;
        }
        return c;
    };
    // KIP-447: a read_committed consumer (require_stable) waits while a transaction that
    // commits offsets of the partition is still open.
    bool stable = version >= 7 && req.require_stable;
    auto unstable = [&](const std::string& gid, const std::string& topic, int32_t p) -> int16_t {
        return stable && has_pending_txn_offset(gid, {topic, partition_id(p)}) ? E(error_code::unstable_offset_commit) : 0;
    };
    auto all_topics = [&](const std::string& gid) {
        std::map<std::string, std::vector<std::pair<int32_t, committed_offset>>> by_topic;
        if (auto* g = find(gid)) {
            for (auto& [tp, c] : g->offsets) by_topic[tp.topic].emplace_back(tp.partition(), c);
        }
        return by_topic;
    };
    if (version < 8) {
        auto by_topic = all_topics(req.group_id);
        if (req.topics) {
            by_topic.clear();
            for (auto& t : *req.topics) {
                for (auto p : t.partition_indexes) by_topic[t.name].emplace_back(p, lookup(req.group_id, {t.name, partition_id(p)}));
            }
        }
        for (auto& [topic, parts] : by_topic) {
            resp_t::offset_fetch_response_topic rt;
            rt.name = topic;
            for (auto& [p, c] : parts) rt.partitions.push_back({p, c.offset, c.leader_epoch, c.metadata, unstable(req.group_id, topic, p)});
            resp.topics.push_back(std::move(rt));
        }
        return resp;
    }
    for (auto& g : req.groups) {
        resp_t::offset_fetch_response_group rg;
        rg.group_id = g.group_id;
        auto by_topic = all_topics(g.group_id);
        if (g.topics) {
            by_topic.clear();
            for (auto& t : *g.topics) {
                for (auto p : t.partition_indexes) by_topic[t.name].emplace_back(p, lookup(g.group_id, {t.name, partition_id(p)}));
            }
        }
        for (auto& [topic, parts] : by_topic) {
            resp_t::offset_fetch_response_topics rt;
            rt.name = topic;
            for (auto& [p, c] : parts) rt.partitions.push_back({p, c.offset, c.leader_epoch, c.metadata, unstable(g.group_id, topic, p)});
            rg.topics.push_back(std::move(rt));
        }
        resp.groups.push_back(std::move(rg));
    }
    return resp;
}

protocol::list_groups_response group_coordinator::list_groups(const protocol::list_groups_request& req,
                                                              int16_t version) const
{
    protocol::list_groups_response resp;
    for (auto& [gid, g] : _groups) {
        if (g.state == group_state::dead) continue;
        std::string state = to_string(g.state);
        if (version >= 4 && !req.states_filter.empty() &&
            std::none_of(req.states_filter.begin(), req.states_filter.end(), [&](auto& s) { return iequals(s, state); })) {
            continue;
        }
        protocol::list_groups_response::listed_group lg;
        lg.group_id = gid;
        lg.protocol_type = g.protocol_type;
        lg.group_state = state;
        resp.groups.push_back(std::move(lg));
    }
    return resp;
}

protocol::describe_groups_response group_coordinator::describe_groups(const protocol::describe_groups_request& req,
                                                                      int16_t version) const
{
    protocol::describe_groups_response resp;
    for (auto& gid : req.groups) {
        protocol::describe_groups_response::described_group dg;
        dg.group_id = gid;
        auto* g = find(gid);
        if (!g) {
            dg.group_state = to_string(group_state::dead);
        } else {
            dg.group_state = to_string(g->state);
            dg.protocol_type = g->protocol_type;
            bool stable = g->state == group_state::stable && g->protocol_name;
            if (stable) dg.protocol_data = *g->protocol_name;
            for (auto& id : g->join_order) {
                auto& m = g->members.at(id);
                protocol::describe_groups_response::described_group_member dm;
                dm.member_id = m.id;
                dm.group_instance_id = m.instance_id;
                dm.client_id = m.client_id;
                dm.client_host = m.client_host;
                if (stable) {
                    if (auto* meta = m.metadata_for(*g->protocol_name)) dm.member_metadata = *meta;
                    dm.member_assignment = m.assignment;
                }
                dg.members.push_back(std::move(dm));
            }
        }
        if (req.include_authorized_operations) dg.authorized_operations = (1 << 3) | (1 << 6) | (1 << 8);
        resp.groups.push_back(std::move(dg));
    }
    return resp;
}

std::vector<outcome> group_coordinator::delete_groups(request_id id, const protocol::delete_groups_request& req,
                                                      int16_t version)
{
    std::vector<outcome> outs;
    protocol::delete_groups_response resp;
    for (auto& gid : req.groups_names) {
        outcome out;
        out.group = gid;
        error_code e = error_code::none;
        auto it = _groups.find(gid);
        if (it == _groups.end() || it->second.state == group_state::dead) {
            e = error_code::group_id_not_found;
        } else if (it->second.state != group_state::empty || !it->second.members.empty()) {
            e = error_code::non_empty_group;
        } else {
            for (auto& [tp, c] : it->second.offsets) out.records.push_back({encode_key(offset_key{gid, tp}), std::nullopt});
            out.records.push_back({encode_key(group_key{gid}), std::nullopt});
            _groups.erase(it);
            log.info("group {} deleted", gid);
        }
        resp.results.push_back({gid, E(e)});
        outs.push_back(std::move(out));
    }
    if (outs.empty()) outs.emplace_back();
    outs.back().completions.push_back({id, std::move(resp)});
    return outs;
}

outcome group_coordinator::delete_offsets(request_id id, const protocol::offset_delete_request& req, int16_t version)
{
    outcome out;
    out.group = req.group_id;
    protocol::offset_delete_response resp;
    auto it = _groups.find(req.group_id);
    if (it == _groups.end() || it->second.state == group_state::dead) {
        resp.error_code = E(error_code::group_id_not_found);
        out.completions.push_back({id, std::move(resp)});
        return out;
    }
    auto& g = it->second;
    bool has_members = !g.members.empty();
    if (has_members && g.protocol_type != "consumer") {
        resp.error_code = E(error_code::non_empty_group);
        out.completions.push_back({id, std::move(resp)});
        return out;
    }
    auto subscribed = g.subscribed_topics();
    for (auto& t : req.topics) {
        protocol::offset_delete_response::offset_delete_response_topic rt;
        rt.name = t.name;
        bool in_use = has_members && subscribed.count(t.name);
        for (auto& p : t.partitions) {
            topic_partition tp{t.name, partition_id(p.partition_index)};
            if (!in_use && g.offsets.erase(tp)) out.records.push_back({encode_key(offset_key{g.id, tp}), std::nullopt});
            rt.partitions.push_back({p.partition_index, E(in_use ? error_code::group_subscribed_to_topic : error_code::none)});
        }
        resp.topics.push_back(std::move(rt));
    }
    out.completions.push_back({id, std::move(resp)});
    return out;
}

void group_coordinator::expire_offsets(group& g, outcome& out, int64_t t)
{
    int64_t retention = _cfg.offsets_retention_ms;
    std::set<std::string> subscribed;
    bool consumer_group = !g.protocol_type.empty();
    if (g.state == group_state::stable && g.protocol_type == "consumer") subscribed = g.subscribed_topics();
    std::vector<topic_partition> expired;
    for (auto& [tp, c] : g.offsets) {
        bool gone = false;
        if (c.expire_timestamp_ms >= 0) {
            gone = t >= c.expire_timestamp_ms;
        } else if (g.state == group_state::empty) {
            // KIP-211: a consumer group's offsets expire together, retention after it emptied;
            // a standalone group's (no protocol) each by its own commit time.
            int64_t base = consumer_group ? g.state_timestamp_ms : c.commit_timestamp_ms;
            gone = t >= saturating_add(base, retention);
        } else if (g.state == group_state::stable && g.protocol_type == "consumer" && !subscribed.count(tp.topic)) {
            gone = t >= saturating_add(c.commit_timestamp_ms, retention);
        }
        if (gone) expired.push_back(tp);
    }
    for (auto& tp : expired) {
        g.offsets.erase(tp);
        out.records.push_back({encode_key(offset_key{g.id, tp}), std::nullopt});
    }
    if (!expired.empty()) log.info("group {}: {} committed offset(s) expired", g.id, expired.size());
}

} // namespace samsa::coordinator
