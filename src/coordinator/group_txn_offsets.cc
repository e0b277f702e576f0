// Transactional offset commits (TxnOffsetCommit, KIP-98 and KIP-447): offsets written as part
// of a producer's transaction, applied by its COMMIT marker and dropped by its ABORT.
#include "coordinator/group_coordinator.h"
#include "protocol/error_code.h"

namespace samsa::coordinator {

namespace {
using protocol::error_code;
int16_t E(error_code e) { return static_cast<int16_t>(e); }
} // namespace

outcome group_coordinator::txn_commit_offsets(request_id id, const protocol::txn_offset_commit_request& req,
                                              int16_t version,
                                              const std::function<bool(const topic_partition&)>& partition_exists)
{
    outcome out;
    out.group = req.group_id;
    auto respond_all = [&](error_code e) {
        out.completions.push_back({id, every_partition_failed<protocol::txn_offset_commit_response>(req, E(e))});
        return out;
    };
    protocol::txn_offset_commit_response resp;
    if (req.group_id.empty()) return respond_all(error_code::invalid_group_id);
    // KIP-447: from v3 the producer names the consumer's member and generation, checked as an
    // OffsetCommit is; older producers (and -1 / "") skip the check.
    const std::string member_id = version >= 3 ? req.member_id : std::string();
    const int32_t generation = version >= 3 ? req.generation_id : -1;
    auto it = _groups.find(req.group_id);
    if (it == _groups.end() && generation >= 0) return respond_all(error_code::illegal_generation);
    group& g = get_or_create(req.group_id);
    if (g.state == group_state::dead) return respond_all(error_code::coordinator_not_available);
    if (version >= 3 && req.group_instance_id) {
        auto s = g.static_members.find(*req.group_instance_id);
        if (s != g.static_members.end() && s->second != member_id) return respond_all(error_code::fenced_instance_id);
    }
    if (!member_id.empty() && !g.has_member(member_id)) return respond_all(error_code::unknown_member_id);
    if (generation >= 0 && generation != g.generation) return respond_all(error_code::illegal_generation);

    commit_token token{g.id, {}, req.producer_id};
    int64_t t = now();
    for (auto& rt : req.topics) {
        protocol::txn_offset_commit_response::txn_offset_commit_response_topic ot;
        ot.name = rt.name;
        for (auto& p : rt.partitions) {
            committed_offset c;
            c.offset = p.committed_offset;
            c.leader_epoch = version >= 2 ? p.committed_leader_epoch : -1;
            c.metadata = p.committed_metadata.value_or("");
            c.commit_timestamp_ms = t;
            auto e = stage_offset(g, {rt.name, partition_id(p.partition_index)}, std::move(c), partition_exists, token, out);
            ot.partitions.push_back({p.partition_index, E(e)});
        }
        resp.topics.push_back(std::move(ot));
    }
    out.completions.push_back({id, std::move(resp)});
    if (!token.partitions.empty()) {
        out.commit = std::move(token);
        out.txn = txn_producer{req.producer_id, req.producer_epoch};
    }
    return out;
}

void group_coordinator::complete_txn(int64_t producer_id, bool commit, int32_t offsets_partition,
                                     int32_t offsets_partitions)
{
    for (auto& [gid, g] : _groups) {
        if (partition_for_group(gid, offsets_partitions) != offsets_partition) continue;
        auto it = g.txn_offsets.find(producer_id);
        if (it == g.txn_offsets.end()) continue;
        if (commit) {
            for (auto& [tp, c] : it->second) g.offsets[tp] = c;
        }
        g.txn_offsets.erase(it);
    }
}

bool group_coordinator::has_pending_txn_offset(const std::string& group, const topic_partition& tp) const
{
    auto* g = find(group);
    if (!g) return false;
    for (auto& [pid, offsets] : g->txn_offsets) {
        if (offsets.contains(tp)) return true;
    }
    return false;
}

} // namespace samsa::coordinator
