#pragma once

#include "base/clock.h"
#include "coordinator/group.h"
#include "coordinator/offsets_records.h"
#include "protocol/error_code.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/sync_group.h"
#include "protocol/messages/txn_offset_commit.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace samsa::coordinator {

/// A response some request is waiting for.
using response = std::variant<protocol::join_group_response, protocol::sync_group_response,
                              protocol::heartbeat_response, protocol::leave_group_response,
                              protocol::offset_commit_response, protocol::delete_groups_response,
                              protocol::offset_delete_response, protocol::txn_offset_commit_response>;

struct completion {
    request_id id;
    response resp;
};

/// A record for the group's partition of __consumer_offsets (value nullopt: tombstone).
struct offsets_record {
    bytes key;
    std::optional<bytes> value;
};

/// Offsets of one commit, applied once persisted (commit_persisted).
struct commit_token {
    std::string group;
    std::vector<topic_partition> partitions;
    /// A TxnOffsetCommit: the producer whose transaction the offsets belong to.
    std::optional<int64_t> txn_producer_id;
};

/// The producer of a transactional write to __consumer_offsets: its records go into one
/// transactional batch with this id and epoch.
struct txn_producer {
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
};

/// What a call produced. The caller appends `records` to the partition of __consumer_offsets
/// that `group` maps to and only then sends the `completions` (answers to this request and to
/// others that were waiting, in any order). With a `commit`, it then calls commit_persisted.
struct outcome {
    std::string group;
    std::vector<offsets_record> records;
    std::vector<completion> completions;
    std::optional<commit_token> commit;
    std::optional<txn_producer> txn;
};

struct coordinator_config {
    int32_t min_session_timeout_ms = 6000;          // group.min.session.timeout.ms
    int32_t max_session_timeout_ms = 1800000;       // group.max.session.timeout.ms
    int32_t initial_rebalance_delay_ms = 3000;      // group.initial.rebalance.delay.ms
    int32_t max_group_size = INT32_MAX;             // group.max.size
    int64_t offsets_retention_ms = 7 * 24 * 3600 * 1000ll; // offsets.retention.minutes
    int32_t offset_metadata_max_bytes = 4096;       // offset.metadata.max.bytes
};

/// An (Txn)OffsetCommit response failing every partition of the request's topics with `error`.
template<typename Response, typename Request>
Response every_partition_failed(const Request& req, int16_t error)
{
    Response resp;
    for (auto& t : req.topics) {
        auto& rt = resp.topics.emplace_back();
        rt.name = t.name;
        for (auto& p : t.partitions) rt.partitions.push_back({p.partition_index, error});
    }
    return resp;
}

/// Who sent a membership request (for DescribeGroups and group metadata).
struct client_info {
    std::string client_id;
    std::string client_host;
};

/// The group coordinator of the classic consumer-group protocol, as an I/O-free state machine:
/// inputs are requests (with a caller-chosen request id) and tick(); outputs are responses
/// (completions, possibly for requests that arrived earlier and were waiting) and records to
/// persist in __consumer_offsets. It reads time from a clock (manual in tests) and never blocks.
/// Every request it accepts gets exactly one completion eventually (the join and sync phases
/// hold theirs until the rebalance moves on). Single-threaded.
class group_coordinator {
public:
    group_coordinator(coordinator_config cfg, const clock& clk);

    outcome join_group(request_id id, const protocol::join_group_request& req, int16_t version, const client_info& c);
    outcome sync_group(request_id id, const protocol::sync_group_request& req, int16_t version);
    outcome heartbeat(request_id id, const protocol::heartbeat_request& req, int16_t version);
    outcome leave_group(request_id id, const protocol::leave_group_request& req, int16_t version);

    /// `partition_exists` tells which committed partitions are real (others get
    /// UNKNOWN_TOPIC_OR_PARTITION).
    outcome commit_offsets(request_id id, const protocol::offset_commit_request& req, int16_t version,
                           const std::function<bool(const topic_partition&)>& partition_exists);
    /// TxnOffsetCommit: the offsets are written as part of the producer's transaction and
    /// become visible when its COMMIT marker reaches the group's partition (complete_txn).
    outcome txn_commit_offsets(request_id id, const protocol::txn_offset_commit_request& req, int16_t version,
                               const std::function<bool(const topic_partition&)>& partition_exists);
    /// A COMMIT (or ABORT) marker of `producer_id` was written to (or replayed from) the
    /// offsets partition `offsets_partition`: applies (or drops) its transactional offsets of
    /// the groups there.
    void complete_txn(int64_t producer_id, bool commit, int32_t offsets_partition, int32_t offsets_partitions);
    /// Whether a group has transactional offsets awaiting their marker for this partition
    /// (OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT).
    bool has_pending_txn_offset(const std::string& group, const topic_partition& tp) const;
    /// After the commit's records were (or failed to be) written: applies or drops its offsets.
    void commit_persisted(const commit_token& t, bool ok);
    protocol::offset_fetch_response fetch_offsets(const protocol::offset_fetch_request& req, int16_t version) const;
    protocol::list_groups_response list_groups(const protocol::list_groups_request& req, int16_t version) const;
    protocol::describe_groups_response describe_groups(const protocol::describe_groups_request& req,
                                                       int16_t version) const;
    /// One outcome per group (records go to each group's own partition).
    std::vector<outcome> delete_groups(request_id id, const protocol::delete_groups_request& req, int16_t version);
    outcome delete_offsets(request_id id, const protocol::offset_delete_request& req, int16_t version);

    /// Timers: session expiry, the end of join phases and initial delays, offset retention.
    std::vector<outcome> tick();

    /// Startup: replays __consumer_offsets records in log order, then load_complete().
    /// Records of a transactional batch carry its producer id: their offsets wait for its marker.
    void load_record(bytes_view key, std::optional<bytes_view> value, std::optional<int64_t> txn_producer_id = std::nullopt);
    /// Ends a replay: members of the groups just loaded start their sessions now.
    void load_complete();
    /// This broker stopped leading offsets partition `offsets_partition`: forgets its groups
    /// (another coordinator owns them now); their waiting joins and syncs get NOT_COORDINATOR.
    outcome unload_partition(int32_t offsets_partition, int32_t offsets_partitions);

    const group* find(const std::string& id) const;
    const coordinator_config& config() const { return _cfg; }

private:
    group& get_or_create(const std::string& id);
    std::string new_member_id(const std::string& client_id);
    void prepare_rebalance(group& g, outcome& out);
    void maybe_complete_join(group& g, outcome& out);
    void complete_join(group& g, outcome& out);
    void fail_pending_syncs(group& g, outcome& out, int16_t error);
    void reply_join(group& g, member& m, outcome& out);
    void remove_member_and_rebalance(group& g, const std::string& member_id, outcome& out);
    outcome join_unknown_member(request_id id, group& g, const protocol::join_group_request& req, int16_t version,
                                const client_info& c);
    outcome join_known_member(request_id id, group& g, const protocol::join_group_request& req, int16_t version,
                              const client_info& c);
    void add_member_and_rebalance(request_id id, group& g, const std::string& mid, const protocol::join_group_request& req,
                                  int16_t version, const client_info& c, outcome& out);
    outcome rejoin_static_member(request_id id, group& g, const std::string& old_id, const protocol::join_group_request& req,
                                 int16_t version, const client_info& c);
    void persist_group(const group& g, outcome& out) const;
    /// Checks one partition of an (Txn)OffsetCommit and stages its offset and record.
    protocol::error_code stage_offset(group& g, const topic_partition& tp, committed_offset c,
                                      const std::function<bool(const topic_partition&)>& partition_exists,
                                      commit_token& token, outcome& out);
    void expire_offsets(group& g, outcome& out, int64_t now);
    int64_t now() const { return _clock.now_ms()(); }

    coordinator_config _cfg;
    const clock& _clock;
    std::map<std::string, group> _groups;
    std::set<std::string> _just_loaded;
    uint64_t _member_seq = 0;
};

} // namespace samsa::coordinator
