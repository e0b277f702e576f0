#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string_view>

namespace samsa::protocol {

/// Every Kafka API key: X(snake_name, key, KafkaName, first flexible version or -1).
///
/// The flexible version decides the request header version (see headers.h), so it is kept
/// here for every API, including the ones Samsa has no schema for; the generated traits of
/// the APIs with schemas must agree with this table (checked by messages_test).
#define SAMSA_KAFKA_APIS(X)                                                                        \
    X(produce, 0, "Produce", 9) \
    X(fetch, 1, "Fetch", 12) \
    X(list_offsets, 2, "ListOffsets", 6) \
    X(metadata, 3, "Metadata", 9) \
    X(leader_and_isr, 4, "LeaderAndIsr", 4) \
    X(stop_replica, 5, "StopReplica", 2) \
    X(update_metadata, 6, "UpdateMetadata", 6) \
    X(controlled_shutdown, 7, "ControlledShutdown", 3) \
    X(offset_commit, 8, "OffsetCommit", 8) \
    X(offset_fetch, 9, "OffsetFetch", 6) \
    X(find_coordinator, 10, "FindCoordinator", 3) \
    X(join_group, 11, "JoinGroup", 6) \
    X(heartbeat, 12, "Heartbeat", 4) \
    X(leave_group, 13, "LeaveGroup", 4) \
    X(sync_group, 14, "SyncGroup", 4) \
    X(describe_groups, 15, "DescribeGroups", 5) \
    X(list_groups, 16, "ListGroups", 3) \
    X(sasl_handshake, 17, "SaslHandshake", -1) \
    X(api_versions, 18, "ApiVersions", 3) \
    X(create_topics, 19, "CreateTopics", 5) \
    X(delete_topics, 20, "DeleteTopics", 4) \
    X(delete_records, 21, "DeleteRecords", 2) \
    X(init_producer_id, 22, "InitProducerId", 2) \
    X(offset_for_leader_epoch, 23, "OffsetForLeaderEpoch", 4) \
    X(add_partitions_to_txn, 24, "AddPartitionsToTxn", 3) \
    X(add_offsets_to_txn, 25, "AddOffsetsToTxn", 3) \
    X(end_txn, 26, "EndTxn", 3) \
    X(write_txn_markers, 27, "WriteTxnMarkers", 1) \
    X(txn_offset_commit, 28, "TxnOffsetCommit", 3) \
    X(describe_acls, 29, "DescribeAcls", 2) \
    X(create_acls, 30, "CreateAcls", 2) \
    X(delete_acls, 31, "DeleteAcls", 2) \
    X(describe_configs, 32, "DescribeConfigs", 4) \
    X(alter_configs, 33, "AlterConfigs", 2) \
    X(alter_replica_log_dirs, 34, "AlterReplicaLogDirs", 2) \
    X(describe_log_dirs, 35, "DescribeLogDirs", 2) \
    X(sasl_authenticate, 36, "SaslAuthenticate", 2) \
    X(create_partitions, 37, "CreatePartitions", 2) \
    X(create_delegation_token, 38, "CreateDelegationToken", 2) \
    X(renew_delegation_token, 39, "RenewDelegationToken", 2) \
    X(expire_delegation_token, 40, "ExpireDelegationToken", 2) \
    X(describe_delegation_token, 41, "DescribeDelegationToken", 2) \
    X(delete_groups, 42, "DeleteGroups", 2) \
    X(elect_leaders, 43, "ElectLeaders", 2) \
    X(incremental_alter_configs, 44, "IncrementalAlterConfigs", 1) \
    X(alter_partition_reassignments, 45, "AlterPartitionReassignments", 0) \
    X(list_partition_reassignments, 46, "ListPartitionReassignments", 0) \
    X(offset_delete, 47, "OffsetDelete", -1) \
    X(describe_client_quotas, 48, "DescribeClientQuotas", 1) \
    X(alter_client_quotas, 49, "AlterClientQuotas", 1) \
    X(describe_user_scram_credentials, 50, "DescribeUserScramCredentials", 0) \
    X(alter_user_scram_credentials, 51, "AlterUserScramCredentials", 0) \
    X(vote, 52, "Vote", 0) \
    X(begin_quorum_epoch, 53, "BeginQuorumEpoch", 1) \
    X(end_quorum_epoch, 54, "EndQuorumEpoch", 1) \
    X(describe_quorum, 55, "DescribeQuorum", 0) \
    X(alter_partition, 56, "AlterPartition", 0) \
    X(update_features, 57, "UpdateFeatures", 0) \
    X(envelope, 58, "Envelope", 0) \
    X(fetch_snapshot, 59, "FetchSnapshot", 0) \
    X(describe_cluster, 60, "DescribeCluster", 0) \
    X(describe_producers, 61, "DescribeProducers", 0) \
    X(broker_registration, 62, "BrokerRegistration", 0) \
    X(broker_heartbeat, 63, "BrokerHeartbeat", 0) \
    X(unregister_broker, 64, "UnregisterBroker", 0) \
    X(describe_transactions, 65, "DescribeTransactions", 0) \
    X(list_transactions, 66, "ListTransactions", 0) \
    X(allocate_producer_ids, 67, "AllocateProducerIds", 0) \
    X(consumer_group_heartbeat, 68, "ConsumerGroupHeartbeat", 0) \
    X(consumer_group_describe, 69, "ConsumerGroupDescribe", 0) \
    X(controller_registration, 70, "ControllerRegistration", 0) \
    X(get_telemetry_subscriptions, 71, "GetTelemetrySubscriptions", 0) \
    X(push_telemetry, 72, "PushTelemetry", 0) \
    X(assign_replicas_to_dirs, 73, "AssignReplicasToDirs", 0) \
    X(list_client_metrics_resources, 74, "ListClientMetricsResources", 0) \
    X(describe_topic_partitions, 75, "DescribeTopicPartitions", 0) \
    X(share_group_heartbeat, 76, "ShareGroupHeartbeat", 0) \
    X(share_group_describe, 77, "ShareGroupDescribe", 0) \
    X(share_fetch, 78, "ShareFetch", 0) \
    X(share_acknowledge, 79, "ShareAcknowledge", 0) \
    X(add_raft_voter, 80, "AddRaftVoter", 0) \
    X(remove_raft_voter, 81, "RemoveRaftVoter", 0) \
    X(update_raft_voter, 82, "UpdateRaftVoter", 0) \
    X(initialize_share_group_state, 83, "InitializeShareGroupState", 0) \
    X(read_share_group_state, 84, "ReadShareGroupState", 0) \
    X(write_share_group_state, 85, "WriteShareGroupState", 0) \
    X(delete_share_group_state, 86, "DeleteShareGroupState", 0) \
    X(read_share_group_state_summary, 87, "ReadShareGroupStateSummary", 0)

enum class api_key : int16_t {
#define SAMSA_API_ENUM(name, key, kafka_name, flexible) name = key,
    SAMSA_KAFKA_APIS(SAMSA_API_ENUM)
#undef SAMSA_API_ENUM
};

/// Sentinel of first_flexible_version(): the API has no flexible version.
inline constexpr int16_t never_flexible = -1;

/// True for the API keys in the table above.
constexpr bool is_known(api_key k)
{
    switch (k) {
#define SAMSA_API_KNOWN(name, key, kafka_name, flexible)                                          \
    case api_key::name: return true;
        SAMSA_KAFKA_APIS(SAMSA_API_KNOWN)
#undef SAMSA_API_KNOWN
    }
    return false;
}

/// Kafka's name of the API ("Produce", "ApiVersions"), "Unknown" for unknown keys.
constexpr std::string_view to_string(api_key k)
{
    switch (k) {
#define SAMSA_API_NAME(name, key, kafka_name, flexible)                                           \
    case api_key::name: return kafka_name;
        SAMSA_KAFKA_APIS(SAMSA_API_NAME)
#undef SAMSA_API_NAME
    }
    return "Unknown";
}

/// The first version of the API that uses flexible (compact, tagged) encoding, or
/// never_flexible (also for unknown keys).
constexpr int16_t first_flexible_version(api_key k)
{
    switch (k) {
#define SAMSA_API_FLEX(name, key, kafka_name, flexible)                                           \
    case api_key::name: return flexible;
        SAMSA_KAFKA_APIS(SAMSA_API_FLEX)
#undef SAMSA_API_FLEX
    }
    return never_flexible;
}

constexpr bool is_flexible(api_key k, int16_t version)
{
    int16_t first = first_flexible_version(k);
    return first != never_flexible && version >= first;
}

} // namespace samsa::protocol

template<>
struct fmt::formatter<samsa::protocol::api_key> : fmt::formatter<std::string_view> {
    auto format(samsa::protocol::api_key k, format_context& ctx) const
    {
        if (!samsa::protocol::is_known(k)) {
            return fmt::format_to(ctx.out(), "Unknown({})", static_cast<int16_t>(k));
        }
        return fmt::formatter<std::string_view>::format(to_string(k), ctx);
    }
};
