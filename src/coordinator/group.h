#pragma once

#include "base/ids.h"
#include "bytes/bytes.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace samsa::coordinator {

/// Identifies one request waiting for its response (chosen by the caller).
using request_id = uint64_t;

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };
/// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
const char* to_string(group_state s);

/// One member of a classic-protocol group.
struct member {
    std::string id;
    std::optional<std::string> instance_id; // static membership (group.instance.id)
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    /// Protocol name → member metadata, in the member's order of preference.
    std::vector<std::pair<std::string, bytes>> protocols;
    bytes assignment;
    int64_t last_heartbeat_ms = 0;
    /// A JoinGroup or SyncGroup of this member waiting for the rebalance to progress.
    std::optional<request_id> pending_join;
    int16_t pending_join_version = 0;
    std::optional<request_id> pending_sync;

    const bytes* metadata_for(const std::string& protocol) const;
    bool same_protocols(const std::vector<std::pair<std::string, bytes>>& other) const { return protocols == other; }
};

/// A committed offset (OffsetCommit / __consumer_offsets value).
struct committed_offset {
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
    int64_t commit_timestamp_ms = 0;
    /// -1 unless the client gave a retention time (OffsetCommit v2-v4).
    int64_t expire_timestamp_ms = -1;
    bool operator==(const committed_offset&) const = default;
};

/// One consumer group: classic-protocol membership and committed offsets.
struct group {
    std::string id;
    group_state state = group_state::empty;
    int32_t generation = 0;
    std::string protocol_type;
    std::optional<std::string> protocol_name;
    std::optional<std::string> leader;
    /// Members in join order (leader election prefers the earliest).
    std::map<std::string, member> members;
    std::vector<std::string> join_order;
    /// group.instance.id → member id.
    std::map<std::string, std::string> static_members;
    /// Member ids handed out with MEMBER_ID_REQUIRED, waiting for the member to join with
    /// them, and when they expire (issue time + the request's session timeout).
    std::map<std::string, int64_t> pending_members;
    /// When the join phase ends at the latest (rebalance timeout), and for a first rebalance of
    /// an empty group, when the initial delay ends and how far it may still be extended.
    int64_t join_deadline_ms = 0;
    int64_t initial_delay_until_ms = 0;
    int64_t initial_delay_limit_ms = 0;
    bool new_member_during_delay = false;
    int64_t state_timestamp_ms = 0;
    std::map<topic_partition, committed_offset> offsets;
    /// Offsets committed but not yet persisted (see group_coordinator::commit_persisted).
    std::map<topic_partition, committed_offset> pending_offsets;
    /// TxnOffsetCommit offsets by producer id: written, applied by the transaction's COMMIT
    /// marker, dropped by its ABORT (see group_coordinator::complete_txn).
    std::map<int64_t, std::map<topic_partition, committed_offset>> txn_offsets;

    bool has_member(const std::string& id) const { return members.count(id) > 0; }
    bool all_members_joined() const;
    int32_t max_rebalance_timeout() const;
    /// The protocol every member supports that most members prefer (Kafka's vote).
    std::optional<std::string> select_protocol() const;
    /// Whether every member (or the group, when empty) supports one of `protocols`.
    bool supports_protocols(const std::string& type, const std::vector<std::pair<std::string, bytes>>& protocols) const;
    void add_member(member m);
    void remove_member(const std::string& id);
    /// Topics the members subscribe to (consumer protocol only), for OffsetDelete.
    std::set<std::string> subscribed_topics() const;
};

} // namespace samsa::coordinator
