#include "coordinator/group.h"

#include "protocol/messages/consumer_protocol_subscription.h"

#include <algorithm>

namespace samsa::coordinator {

const char* to_string(group_state s)
{
    switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
    }
    return "Unknown";
}

const bytes* member::metadata_for(const std::string& protocol) const
{
    for (auto& [name, meta] : protocols) {
        if (name == protocol) return &meta;
    }
    return nullptr;
}

bool group::all_members_joined() const
{
    return std::all_of(members.begin(), members.end(), [](auto& kv) { return kv.second.pending_join.has_value(); }) &&
           pending_members.empty();
}

int32_t group::max_rebalance_timeout() const
{
    int32_t t = 0;
    for (auto& [id, m] : members) t = std::max(t, m.rebalance_timeout_ms);
    return t;
}

std::optional<std::string> group::select_protocol() const
{
    if (members.empty()) return std::nullopt;
    // Candidates: protocols every member supports.
    std::vector<std::string> candidates;
    for (auto& [name, meta] : members.begin()->second.protocols) {
        bool everyone = std::all_of(members.begin(), members.end(),
                                    [&](auto& kv) { return kv.second.metadata_for(name) != nullptr; });
        if (everyone) candidates.push_back(name);
    }
    if (candidates.empty()) return std::nullopt;
    // Each member votes for its most preferred candidate; ties go to the first candidate.
    std::map<std::string, int> votes;
    for (auto& [id, m] : members) {
        for (auto& [name, meta] : m.protocols) {
            if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
                ++votes[name];
                break;
            }
        }
    }
    std::string best = candidates.front();
    for (auto& c : candidates) {
        if (votes[c] > votes[best]) best = c;
    }
    return best;
}

bool group::supports_protocols(const std::string& type, const std::vector<std::pair<std::string, bytes>>& protos) const
{
    if (members.empty()) return !type.empty() && !protos.empty();
    if (type != protocol_type) return false;
    for (auto& [name, meta] : protos) {
        bool everyone = std::all_of(members.begin(), members.end(),
                                    [&](auto& kv) { return kv.second.metadata_for(name) != nullptr; });
        if (everyone) return true;
    }
    return false;
}

void group::add_member(member m)
{
    if (members.empty()) protocol_type = m.protocol_type;
    if (m.instance_id) static_members[*m.instance_id] = m.id;
    join_order.push_back(m.id);
    if (!leader) leader = m.id;
    members.emplace(m.id, std::move(m));
}

void group::remove_member(const std::string& id)
{
    auto it = members.find(id);
    if (it == members.end()) return;
    if (it->second.instance_id) {
        auto s = static_members.find(*it->second.instance_id);
        if (s != static_members.end() && s->second == id) static_members.erase(s);
    }
    members.erase(it);
    join_order.erase(std::remove(join_order.begin(), join_order.end(), id), join_order.end());
    if (leader == id) {
        leader.reset();
        if (!join_order.empty()) leader = join_order.front();
    }
}

std::set<std::string> group::subscribed_topics() const
{
    std::set<std::string> out;
    if (protocol_type != "consumer" || !protocol_name) return out;
    for (auto& [id, m] : members) {
        auto* meta = m.metadata_for(*protocol_name);
        if (!meta || meta->size() < 2) continue;
        try {
            protocol::reader r(*meta);
            int16_t v = r.read_int16();
            protocol::consumer_protocol_subscription sub;
            sub.decode(r, std::min<int16_t>(v, protocol::consumer_protocol_subscription::max_version));
            out.insert(sub.topics.begin(), sub.topics.end());
        } catch (const std::exception&) {
            // Undecodable subscriptions subscribe to nothing we can name.
        }
    }
    return out;
}

} // namespace samsa::coordinator
