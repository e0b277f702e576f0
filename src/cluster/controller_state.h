#pragma once

#include "base/ids.h"
#include "cluster/metadata_cache.h"
#include "cluster/topic_table.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace samsa::cluster {

/// Kafka's leader during deletion (UpdateMetadata tells brokers a partition is being deleted).
inline constexpr int32_t leader_during_delete = -2;

/// A partition's replicas as the topic znode lists them: during a reassignment `replicas` is
/// the whole set (the target first, then the replicas leaving), `adding` the target's new
/// members and `removing` the members leaving.
struct replica_set {
    std::vector<node_id> replicas;
    std::vector<node_id> adding;
    std::vector<node_id> removing;
    bool operator==(const replica_set&) const = default;
};

/// One partition as the cluster controller tracks it.
struct controlled_partition {
    std::vector<node_id> replicas;
    /// A reassignment in progress (as in the topic znode): replicas joining and leaving.
    std::vector<node_id> adding;
    std::vector<node_id> removing;
    /// A replica set to write to the topic znode: a reassignment starting, completing (its
    /// target in sync) or cancelled. Written once the partition's state names no replica it
    /// drops (the state is changed first: leadership moves off, the ISR shrinks).
    std::optional<replica_set> next;
    bool reassigning() const { return !adding.empty() || !removing.empty(); }
    /// The reassignment's target (the replicas when none is in progress).
    std::vector<node_id> target() const;
    /// As last read from or written to its state znode; nullopt: no znode yet.
    std::optional<partition_state> state;
    /// The state znode's version (-1: no znode).
    int32_t version = -1;
    /// The state of a write that is out (emitted, its outcome not reported yet).
    std::optional<partition_state> writing;
};

struct controlled_topic {
    protocol::uuid id;
    std::map<int32_t, controlled_partition> partitions;
    bool deleting = false;
    /// The topic's unclean.leader.election.enable override (nullopt: the broker default).
    std::optional<bool> unclean;
    /// The topic znode's version (-1: not known).
    int32_t version = -1;
    /// A topic znode write out: the partitions whose `next` it writes.
    std::optional<std::map<int32_t, replica_set>> assignment_writing;
    /// A topic znode write failed: wait for the znode to be read again before the next one.
    bool assignment_stale = false;
    /// Partitions with a state write out (`writing` set): the topic is settled at 0.
    int writes_out = 0;
    /// Brokers that still have to acknowledge StopReplica with deletion.
    std::set<int32_t> replicas_to_delete;
    /// Of those, the ones a StopReplica is out to.
    std::set<int32_t> stopping;
};

/// A partition state the driver writes to ZooKeeper: created (expected_version -1) or set
/// conditionally on the version the controller last saw.
struct state_write {
    topic_partition tp;
    partition_state state;
    int32_t controller_epoch = 0;
    int32_t expected_version = -1;
};

/// One partition in a request to a broker.
/// The topic znode with new replica sets, set conditionally on the version last read.
struct assignment_write {
    std::string topic;
    protocol::uuid id;
    std::map<int32_t, replica_set> partitions;
    int32_t expected_version = -1;
};

struct partition_info {
    topic_partition tp;
    protocol::uuid topic_id;
    /// leader_during_delete while the topic is deleted; leader -1 while none is elected.
    partition_state state;
    std::vector<node_id> replicas;
    std::vector<node_id> offline_replicas;
    int32_t version = 0;
    bool operator==(const partition_info&) const = default;
};

/// A request the controller sends to one broker. Requests to one broker are sent in the order
/// given, each after the previous one was answered.
struct controller_request {
    enum class kind { leader_and_isr, update_metadata, stop_replica };
    kind what = kind::update_metadata;
    node_id to{-1};
    /// For request_done().
    uint64_t id = 0;
    int32_t controller_epoch = 0;
    /// leader_and_isr: the partitions `to` hosts; update_metadata: every partition of each
    /// topic that changed (all of them when `to` needs a full picture); stop_replica: the
    /// partitions of deleted topics `to` hosts.
    std::vector<partition_info> partitions;
    /// update_metadata: every live broker; leader_and_isr: the leaders named.
    std::vector<broker_info> brokers;
    bool delete_partitions = false;
};

struct controller_actions {
    std::vector<state_write> writes;
    std::vector<controller_request> requests;
    /// Topics whose deletion is complete: remove /brokers/topics/<t>, /config/topics/<t> and
    /// /admin/delete_topics/<t>.
    std::vector<std::string> deleted;
    /// Deletions asked for topics that do not exist: remove /admin/delete_topics/<t>.
    std::vector<std::string> unknown_deletions;
    /// Unclean elections among `writes` (a replica outside the ISR leads: records may be lost),
    /// for the log.
    std::vector<topic_partition> unclean;
    /// Topic znodes to write (reassignments).
    std::vector<assignment_write> assignments;
    /// Every reassignment /admin/reassign_partitions asked for is over: remove the znode.
    bool reassign_znode_done = false;
    bool empty() const
    {
        return writes.empty() && requests.empty() && deleted.empty() && unknown_deletions.empty() && assignments.empty() &&
               !reassign_znode_done;
    }
};

/// The elected controller's decisions, I/O-free: the driver feeds it what ZooKeeper says (live
/// brokers, topic assignments, partition states, deletion requests) and what brokers answered,
/// and carries out what take_actions() returns (state znode writes, requests to brokers, znode
/// removals). Nothing is emitted until loaded(), so a new controller first knows the whole
/// cluster, then sends every live broker the full picture.
///
/// Elections follow Kafka's ZooKeeper controller: a new partition's leader is its first live
/// replica and its ISR the live replicas; when a broker goes, every partition it led elects the
/// first live replica (in assignment order) that is in the ISR, and it leaves every ISR (but
/// the last member stays, leader -1, so a clean election is possible when it returns); each
/// change bumps the leader epoch. No live ISR member: the partition is offline (leader -1),
/// unless unclean leader election is enabled (for the topic, or by default) or asked for: then
/// the first live replica leads, alone in the ISR. Used on one shard.
class controller_state {
public:
    struct options {
        /// Failed requests are sent again after this long.
        int64_t retry_backoff_ms = 100;
        /// auto.leader.rebalance.enable: every imbalance_check_interval_ms
        /// (leader.imbalance.check.interval.seconds), a broker whose share of preferred
        /// partitions led by others is above imbalance_percentage
        /// (leader.imbalance.per.broker.percentage) gets them back where it is in sync.
        bool auto_leader_rebalance = false;
        int64_t imbalance_check_interval_ms = 300000;
        int32_t imbalance_percentage = 10;
        /// unclean.leader.election.enable for topics without an override.
        bool unclean_leader_election = false;
    };
    enum class election_type : int8_t { preferred = 0, unclean = 1 };
    /// How an asked election turned out (ElectLeaders' per-partition errors).
    enum class election_outcome {
        /// Started: the new state is being written.
        started,
        /// A started election took effect (election_result).
        elected,
        /// The preferred replica leads already (preferred); a live leader exists (unclean).
        not_needed,
        /// The preferred replica is not live or not in sync (preferred); no replica is live
        /// (unclean).
        not_available,
        unknown_partition,
    };
    controller_state(node_id self, int32_t controller_epoch, options o);
    controller_state(node_id self, int32_t controller_epoch) : controller_state(self, controller_epoch, options{}) {}

    void brokers_changed(std::vector<broker_info> live);
    /// /brokers/topics/<t> as read (a new topic, or partitions added), with the reassignments in
    /// progress (adding, removing replicas by partition) and the znode's version.
    void topic_assigned(const std::string& name, protocol::uuid id, const std::map<int32_t, std::vector<node_id>>& partitions,
                        const std::map<int32_t, std::pair<std::vector<node_id>, std::vector<node_id>>>& moving = {},
                        int32_t version = -1);
    /// The outcome of an assignment write: the znode's new version, or nullopt when it failed
    /// (the driver's watch then reads the znode again).
    void assignment_written(const std::string& topic, std::optional<int32_t> version);
    /// A partition's state znode as read (nullopt: none yet).
    void state_read(const topic_partition& tp, std::optional<partition_state> s, int32_t version);
    /// The outcome of a write from take_actions(): its new version, or nullopt when it failed
    /// (the driver then reads the znode again and reports it through state_read).
    void state_written(const topic_partition& tp, std::optional<int32_t> version);
    /// /admin/delete_topics/<t> appeared.
    void deletion_requested(const std::string& name);
    /// /brokers/topics/<t> is gone.
    void topic_removed(const std::string& name);
    /// Every broker, topic and state was read: from now on, act.
    void loaded();
    /// ControlledShutdown from broker `b`: every partition it leads elects another leader from
    /// its ISR and `b` leaves every ISR, where another live member stays (Kafka's controlled
    /// shutdown selector); until `b` leaves the live set.
    void controlled_shutdown(node_id b);
    bool shutting_down(node_id b) const;
    /// Partitions of replication factor 2+ that `b` still leads (a move not written yet
    /// counts): what ControlledShutdown answers as remaining.
    std::vector<topic_partition> still_led_by(node_id b) const;
    /// Whether any partition state write is out.
    bool writes_out() const;
    /// A request from take_actions() was answered without error (ok), or not (failed to send,
    /// or an error code): the broker is then sent the whole picture again after the backoff,
    /// unless it left.
    void request_done(uint64_t id, bool ok, int64_t now_ms);
    /// Brokers whose requests failed get everything again once their backoff has passed; the
    /// leader imbalance check when due.
    void tick(int64_t now_ms);
    /// Preferred leader election for these partitions: each one whose first replica is live,
    /// in sync and not shutting down moves its leadership there.
    void elect_preferred(const std::vector<topic_partition>& partitions);
    /// The partitions whose preferred replica is `b` but which another broker leads, where the
    /// share of such partitions is above the configured percentage (else none).
    std::vector<topic_partition> imbalanced(node_id b) const;
    /// ElectLeaders: starts the elections of these partitions (all of every topic's when
    /// nullopt, whose not_needed ones are left out), returning each one's outcome.
    std::vector<std::pair<topic_partition, election_outcome>>
    request_election(election_type type, const std::optional<std::vector<topic_partition>>& partitions);
    /// The outcome of an election request_election started, once its write is done: elected,
    /// or not_available when the partition's state changed under it.
    election_outcome election_result(election_type type, const topic_partition& tp) const;
    /// Whether a state write for `tp` is out or about to be emitted.
    bool settling(const topic_partition& tp) const;
    enum class reassign_outcome { started, cancelled, not_in_progress, unknown_partition, invalid_assignment };
    /// AlterPartitionReassignments for one partition: moves it to `target` (new replicas join,
    /// catch up and enter the ISR; then leadership moves into the target if needed and the
    /// others leave), or cancels the one in progress (nullopt: back to the original replicas).
    /// invalid_assignment: empty, duplicates, or a broker that is not live.
    reassign_outcome reassign(const topic_partition& tp, const std::optional<std::vector<node_id>>& target);
    /// Whether a started reassignment or cancellation is not written yet.
    bool reassign_pending(const topic_partition& tp) const;
    /// /admin/reassign_partitions: reassignments asked through the znode, removed once all are over.
    void znode_reassignments(const std::vector<std::pair<topic_partition, std::vector<node_id>>>& targets);
    /// The partitions being reassigned (of `only` when given).
    std::vector<std::pair<topic_partition, replica_set>> reassignments(const std::optional<std::vector<topic_partition>>& only) const;
    /// A topic's unclean.leader.election.enable override changed (nullopt: none); enabling it
    /// elects its offline partitions.
    void topic_unclean(const std::string& name, std::optional<bool> enabled);
    /// The broker default of unclean.leader.election.enable changed.
    void unclean_default(bool enabled);

    controller_actions take_actions();

    const std::map<std::string, controlled_topic>& topics() const { return _topics; }
    const std::vector<broker_info>& live_brokers() const { return _brokers; }
    int32_t epoch() const { return _epoch; }
    bool is_live(node_id b) const;
    /// Requests sent and not answered yet.
    size_t in_flight() const { return _in_flight.size(); }

private:
    /// The state `cp` should have now (its current one when nothing changes), or nullopt.
    /// `unclean`: a live replica outside the ISR may lead when no ISR member is live.
    std::optional<partition_state> elect(const controlled_partition& cp, std::optional<node_id> wanted = {},
                                         bool unclean = false) const;
    bool unclean_enabled(const controlled_topic& t) const { return t.unclean.value_or(_opts.unclean_leader_election); }
    const controlled_partition* find(const topic_partition& tp) const;
    controlled_partition* find(const topic_partition& tp);
    /// Reassigning partitions whose target is in sync get their completing `next`.
    void check_reassignments();
    /// Topic znode writes for the partitions whose `next` can be written.
    void write_assignments(controller_actions& out);
    void elect_topic(const std::string& name);
    /// Emits the state write `cp` needs, if any.
    void elect_into(const std::string& name, controlled_topic& t, int32_t p, controlled_partition& cp,
                    controller_actions& out);
    /// `cp` has no write out any more.
    static void write_done(controlled_topic& t, controlled_partition& cp);
    void start_deletion(const std::string& name);
    partition_info info_of(const std::string& topic, const controlled_topic& t, int32_t p) const;
    void emit(controller_request r, controller_actions& out);

    node_id _self;
    int32_t _epoch;
    options _opts;
    bool _loaded = false;
    std::vector<broker_info> _brokers;
    std::map<std::string, controlled_topic> _topics;
    /// Topics whose partitions changed since the last UpdateMetadata.
    std::set<std::string> _changed;
    /// Partitions whose state changed since the last LeaderAndIsr to their replicas.
    std::set<topic_partition> _changed_partitions;
    /// Partitions whose election is to be looked at again (their assignment or state changed);
    /// every partition when `_elect_all` (the live brokers changed, or loaded()).
    std::set<topic_partition> _to_elect;
    bool _elect_all = false;
    /// Brokers to send the whole picture to (new ones, and all at loaded()).
    std::set<int32_t> _full_sync;
    std::set<std::string> _pending_deletions;
    uint64_t _next_id = 1;
    std::map<uint64_t, controller_request> _in_flight;
    /// Brokers whose request failed: sent the whole picture again at this time (never the old
    /// request, which a newer one may have overtaken).
    std::map<int32_t, int64_t> _resync_at;
    /// The live brokers changed since the last UpdateMetadata.
    bool _brokers_changed = false;
    /// Brokers in a controlled shutdown.
    std::set<int32_t> _shutting_down;
    /// Preferred leader elections asked for, applied at the partitions' next election.
    std::map<topic_partition, node_id> _wanted_leader;
    /// Unclean elections asked for (ElectLeaders), applied at the partitions' next election.
    std::set<topic_partition> _unclean_once;
    /// Partitions being reassigned, or with a `next` replica set.
    std::set<topic_partition> _moving;
    /// Reassignments /admin/reassign_partitions asked for, not over yet.
    std::set<topic_partition> _znode_reassignments;
    bool _znode_reassigning = false;
    int64_t _next_imbalance_check = -1;
};

} // namespace samsa::cluster
