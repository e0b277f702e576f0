#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace samsa::protocol {

/// Every Kafka error code: X(snake_name, code, KAFKA_NAME, retriable, short message).
/// The numbers are Kafka's; the messages are ours.
#define SAMSA_KAFKA_ERRORS(X) \
    X(unknown_server_error, -1, "UNKNOWN_SERVER_ERROR", false, "Unexpected server error while processing the request.") \
    X(none, 0, "NONE", false, "No error.") \
    X(offset_out_of_range, 1, "OFFSET_OUT_OF_RANGE", false, "The offset is outside the range the partition holds.") \
    X(corrupt_message, 2, "CORRUPT_MESSAGE", true, "A record failed its CRC or size check, or is otherwise corrupt.") \
    X(unknown_topic_or_partition, 3, "UNKNOWN_TOPIC_OR_PARTITION", true, "This broker does not host the topic or partition.") \
    X(invalid_fetch_size, 4, "INVALID_FETCH_SIZE", false, "The fetch size is invalid.") \
    X(leader_not_available, 5, "LEADER_NOT_AVAILABLE", true, "The partition has no leader right now (election in progress).") \
    X(not_leader_or_follower, 6, "NOT_LEADER_OR_FOLLOWER", true, "This broker is not the leader (or a replica) of the partition.") \
    X(request_timed_out, 7, "REQUEST_TIMED_OUT", true, "The request timed out.") \
    X(broker_not_available, 8, "BROKER_NOT_AVAILABLE", false, "The broker is not available.") \
    X(replica_not_available, 9, "REPLICA_NOT_AVAILABLE", true, "The replica is not available for the partition.") \
    X(message_too_large, 10, "MESSAGE_TOO_LARGE", false, "A message is larger than the broker accepts.") \
    X(stale_controller_epoch, 11, "STALE_CONTROLLER_EPOCH", false, "The controller has moved to another broker.") \
    X(offset_metadata_too_large, 12, "OFFSET_METADATA_TOO_LARGE", false, "The committed offset metadata is too large.") \
    X(network_exception, 13, "NETWORK_EXCEPTION", true, "The connection closed before a response arrived.") \
    X(coordinator_load_in_progress, 14, "COORDINATOR_LOAD_IN_PROGRESS", true, "The coordinator is still loading its state.") \
    X(coordinator_not_available, 15, "COORDINATOR_NOT_AVAILABLE", true, "The coordinator is not available.") \
    X(not_coordinator, 16, "NOT_COORDINATOR", true, "This broker is not the coordinator for the key.") \
    X(invalid_topic_exception, 17, "INVALID_TOPIC_EXCEPTION", false, "The topic name is invalid or the operation is not allowed on it.") \
    X(record_list_too_large, 18, "RECORD_LIST_TOO_LARGE", false, "A batch is larger than the segment size.") \
    X(not_enough_replicas, 19, "NOT_ENOUGH_REPLICAS", true, "Too few in-sync replicas to accept the write.") \
    X(not_enough_replicas_after_append, 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true, "Written, but to fewer in-sync replicas than required.") \
    X(invalid_required_acks, 21, "INVALID_REQUIRED_ACKS", false, "The acks value is invalid.") \
    X(illegal_generation, 22, "ILLEGAL_GENERATION", false, "The group generation id is not valid.") \
    X(inconsistent_group_protocol, 23, "INCONSISTENT_GROUP_PROTOCOL", false, "The member's protocols do not match the group's.") \
    X(invalid_group_id, 24, "INVALID_GROUP_ID", false, "The group id is invalid.") \
    X(unknown_member_id, 25, "UNKNOWN_MEMBER_ID", false, "The coordinator does not know this member.") \
    X(invalid_session_timeout, 26, "INVALID_SESSION_TIMEOUT", false, "The session timeout is outside the allowed range.") \
    X(rebalance_in_progress, 27, "REBALANCE_IN_PROGRESS", false, "The group is rebalancing; rejoin.") \
    X(invalid_commit_offset_size, 28, "INVALID_COMMIT_OFFSET_SIZE", false, "The committed offset data size is invalid.") \
    X(topic_authorization_failed, 29, "TOPIC_AUTHORIZATION_FAILED", false, "Not authorized for the topic.") \
    X(group_authorization_failed, 30, "GROUP_AUTHORIZATION_FAILED", false, "Not authorized for the group.") \
    X(cluster_authorization_failed, 31, "CLUSTER_AUTHORIZATION_FAILED", false, "Not authorized for the cluster.") \
    X(invalid_timestamp, 32, "INVALID_TIMESTAMP", false, "A timestamp is outside the accepted range.") \
    X(unsupported_sasl_mechanism, 33, "UNSUPPORTED_SASL_MECHANISM", false, "The SASL mechanism is not supported.") \
    X(illegal_sasl_state, 34, "ILLEGAL_SASL_STATE", false, "The request is not valid in the current SASL state.") \
    X(unsupported_version, 35, "UNSUPPORTED_VERSION", false, "The API version is not supported.") \
    X(topic_already_exists, 36, "TOPIC_ALREADY_EXISTS", false, "A topic with this name already exists.") \
    X(invalid_partitions, 37, "INVALID_PARTITIONS", false, "The partition count is invalid.") \
    X(invalid_replication_factor, 38, "INVALID_REPLICATION_FACTOR", false, "The replication factor is invalid.") \
    X(invalid_replica_assignment, 39, "INVALID_REPLICA_ASSIGNMENT", false, "The replica assignment is invalid.") \
    X(invalid_config, 40, "INVALID_CONFIG", false, "The configuration is invalid.") \
    X(not_controller, 41, "NOT_CONTROLLER", true, "This broker is not the controller.") \
    X(invalid_request, 42, "INVALID_REQUEST", false, "The request is malformed or not valid for this broker.") \
    X(unsupported_for_message_format, 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false, "The message format does not support the request.") \
    X(policy_violation, 44, "POLICY_VIOLATION", false, "The request violates a configured policy.") \
    X(out_of_order_sequence_number, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false, "The producer sequence number is out of order.") \
    X(duplicate_sequence_number, 46, "DUPLICATE_SEQUENCE_NUMBER", false, "The producer sequence number is a duplicate.") \
    X(invalid_producer_epoch, 47, "INVALID_PRODUCER_EPOCH", false, "The producer epoch is old.") \
    X(invalid_txn_state, 48, "INVALID_TXN_STATE", false, "The transactional operation is invalid in the current state.") \
    X(invalid_producer_id_mapping, 49, "INVALID_PRODUCER_ID_MAPPING", false, "The producer id is not assigned to this transactional id.") \
    X(invalid_transaction_timeout, 50, "INVALID_TRANSACTION_TIMEOUT", false, "The transaction timeout is larger than allowed.") \
    X(concurrent_transactions, 51, "CONCURRENT_TRANSACTIONS", false, "Another operation on this transaction is in progress.") \
    X(transaction_coordinator_fenced, 52, "TRANSACTION_COORDINATOR_FENCED", false, "The transaction coordinator is no longer current.") \
    X(transactional_id_authorization_failed, 53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false, "Not authorized for the transactional id.") \
    X(security_disabled, 54, "SECURITY_DISABLED", false, "Security features are disabled.") \
    X(operation_not_attempted, 55, "OPERATION_NOT_ATTEMPTED", false, "Not attempted because another part of the batch failed.") \
    X(kafka_storage_error, 56, "KAFKA_STORAGE_ERROR", true, "A disk error occurred while accessing the log.") \
    X(log_dir_not_found, 57, "LOG_DIR_NOT_FOUND", false, "The log directory is not configured on this broker.") \
    X(sasl_authentication_failed, 58, "SASL_AUTHENTICATION_FAILED", false, "SASL authentication failed.") \
    X(unknown_producer_id, 59, "UNKNOWN_PRODUCER_ID", false, "The broker has no state for this producer id.") \
    X(reassignment_in_progress, 60, "REASSIGNMENT_IN_PROGRESS", false, "A partition reassignment is in progress.") \
    X(delegation_token_auth_disabled, 61, "DELEGATION_TOKEN_AUTH_DISABLED", false, "Delegation tokens are not enabled.") \
    X(delegation_token_not_found, 62, "DELEGATION_TOKEN_NOT_FOUND", false, "The delegation token does not exist.") \
    X(delegation_token_owner_mismatch, 63, "DELEGATION_TOKEN_OWNER_MISMATCH", false, "The principal is not the token's owner or renewer.") \
    X(delegation_token_request_not_allowed, 64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false, "Delegation token requests are not allowed on this channel.") \
    X(delegation_token_authorization_failed, 65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false, "Not authorized for delegation tokens.") \
    X(delegation_token_expired, 66, "DELEGATION_TOKEN_EXPIRED", false, "The delegation token has expired.") \
    X(invalid_principal_type, 67, "INVALID_PRINCIPAL_TYPE", false, "The principal type is not supported.") \
    X(non_empty_group, 68, "NON_EMPTY_GROUP", false, "The group still has members.") \
    X(group_id_not_found, 69, "GROUP_ID_NOT_FOUND", false, "The group does not exist.") \
    X(fetch_session_id_not_found, 70, "FETCH_SESSION_ID_NOT_FOUND", true, "The fetch session does not exist.") \
    X(invalid_fetch_session_epoch, 71, "INVALID_FETCH_SESSION_EPOCH", true, "The fetch session epoch is wrong.") \
    X(listener_not_found, 72, "LISTENER_NOT_FOUND", true, "The leader has no listener matching the request's listener.") \
    X(topic_deletion_disabled, 73, "TOPIC_DELETION_DISABLED", false, "Topic deletion is disabled.") \
    X(fenced_leader_epoch, 74, "FENCED_LEADER_EPOCH", true, "The request's leader epoch is older than the broker's.") \
    X(unknown_leader_epoch, 75, "UNKNOWN_LEADER_EPOCH", true, "The request's leader epoch is newer than the broker's.") \
    X(unsupported_compression_type, 76, "UNSUPPORTED_COMPRESSION_TYPE", false, "The client cannot read the partition's compression type.") \
    X(stale_broker_epoch, 77, "STALE_BROKER_EPOCH", false, "The broker epoch is stale.") \
    X(offset_not_available, 78, "OFFSET_NOT_AVAILABLE", true, "The new leader's high watermark has not caught up yet.") \
    X(member_id_required, 79, "MEMBER_ID_REQUIRED", false, "The member must rejoin with the member id it was given.") \
    X(preferred_leader_not_available, 80, "PREFERRED_LEADER_NOT_AVAILABLE", true, "The preferred leader is not available.") \
    X(group_max_size_reached, 81, "GROUP_MAX_SIZE_REACHED", false, "The group is full.") \
    X(fenced_instance_id, 82, "FENCED_INSTANCE_ID", false, "Another member registered with the same group.instance.id.") \
    X(eligible_leaders_not_available, 83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true, "No eligible leader is available.") \
    X(election_not_needed, 84, "ELECTION_NOT_NEEDED", true, "No leader election is needed.") \
    X(no_reassignment_in_progress, 85, "NO_REASSIGNMENT_IN_PROGRESS", false, "No partition reassignment is in progress.") \
    X(group_subscribed_to_topic, 86, "GROUP_SUBSCRIBED_TO_TOPIC", false, "The group is subscribed to the topic whose offsets would be deleted.") \
    X(invalid_record, 87, "INVALID_RECORD", false, "A record failed broker-side validation.") \
    X(unstable_offset_commit, 88, "UNSTABLE_OFFSET_COMMIT", true, "Pending transactional offsets must be resolved first.") \
    X(throttling_quota_exceeded, 89, "THROTTLING_QUOTA_EXCEEDED", true, "The throttling quota is exhausted.") \
    X(producer_fenced, 90, "PRODUCER_FENCED", false, "A newer producer with the same transactional id fenced this one.") \
    X(resource_not_found, 91, "RESOURCE_NOT_FOUND", false, "The referenced resource does not exist.") \
    X(duplicate_resource, 92, "DUPLICATE_RESOURCE", false, "The request names the same resource twice.") \
    X(unacceptable_credential, 93, "UNACCEPTABLE_CREDENTIAL", false, "The credential does not meet the acceptance rules.") \
    X(inconsistent_voter_set, 94, "INCONSISTENT_VOTER_SET", false, "The sender or receiver is not an expected voter.") \
    X(invalid_update_version, 95, "INVALID_UPDATE_VERSION", false, "The update version is invalid.") \
    X(feature_update_failed, 96, "FEATURE_UPDATE_FAILED", false, "Updating the finalized features failed.") \
    X(principal_deserialization_failure, 97, "PRINCIPAL_DESERIALIZATION_FAILURE", false, "The forwarded principal could not be decoded.") \
    X(snapshot_not_found, 98, "SNAPSHOT_NOT_FOUND", false, "The snapshot does not exist.") \
    X(position_out_of_range, 99, "POSITION_OUT_OF_RANGE", false, "The position is outside the snapshot.") \
    X(unknown_topic_id, 100, "UNKNOWN_TOPIC_ID", true, "This broker does not host the topic id.") \
    X(duplicate_broker_registration, 101, "DUPLICATE_BROKER_REGISTRATION", false, "The broker id is already registered.") \
    X(broker_id_not_registered, 102, "BROKER_ID_NOT_REGISTERED", false, "The broker id is not registered.") \
    X(inconsistent_topic_id, 103, "INCONSISTENT_TOPIC_ID", true, "The log's topic id differs from the request's.") \
    X(inconsistent_cluster_id, 104, "INCONSISTENT_CLUSTER_ID", false, "The cluster id differs from the server's.") \
    X(transactional_id_not_found, 105, "TRANSACTIONAL_ID_NOT_FOUND", false, "The transactional id does not exist.") \
    X(fetch_session_topic_id_error, 106, "FETCH_SESSION_TOPIC_ID_ERROR", true, "The fetch session mixes topic ids inconsistently.") \
    X(ineligible_replica, 107, "INELIGIBLE_REPLICA", false, "The new ISR contains an ineligible replica.") \
    X(new_leader_elected, 108, "NEW_LEADER_ELECTED", false, "The partition state was updated but the leader changed.") \
    X(offset_moved_to_tiered_storage, 109, "OFFSET_MOVED_TO_TIERED_STORAGE", false, "The offset has moved to tiered storage.") \
    X(fenced_member_epoch, 110, "FENCED_MEMBER_EPOCH", false, "The member epoch is fenced; rejoin with no partitions.") \
    X(unreleased_instance_id, 111, "UNRELEASED_INSTANCE_ID", false, "Another member still uses the instance id.") \
    X(unsupported_assignor, 112, "UNSUPPORTED_ASSIGNOR", false, "The group does not support the assignor.") \
    X(stale_member_epoch, 113, "STALE_MEMBER_EPOCH", false, "The member epoch is stale.") \
    X(mismatched_endpoint_type, 114, "MISMATCHED_ENDPOINT_TYPE", false, "The request reached an endpoint of the wrong type.") \
    X(unsupported_endpoint_type, 115, "UNSUPPORTED_ENDPOINT_TYPE", false, "The endpoint type is not supported.") \
    X(unknown_controller_id, 116, "UNKNOWN_CONTROLLER_ID", false, "The controller id is unknown.") \
    X(unknown_subscription_id, 117, "UNKNOWN_SUBSCRIPTION_ID", false, "The telemetry subscription id is unknown.") \
    X(telemetry_too_large, 118, "TELEMETRY_TOO_LARGE", false, "The telemetry payload is too large.") \
    X(invalid_registration, 119, "INVALID_REGISTRATION", false, "The controller registration is invalid.") \
    X(transaction_abortable, 120, "TRANSACTION_ABORTABLE", false, "The transaction must be aborted.") \
    X(invalid_record_state, 121, "INVALID_RECORD_STATE", false, "The record state does not allow the operation.") \
    X(share_session_not_found, 122, "SHARE_SESSION_NOT_FOUND", true, "The share session does not exist.") \
    X(invalid_share_session_epoch, 123, "INVALID_SHARE_SESSION_EPOCH", true, "The share session epoch is wrong.") \
    X(fenced_state_epoch, 124, "FENCED_STATE_EPOCH", false, "The share state epoch is fenced.") \
    X(invalid_voter_key, 125, "INVALID_VOTER_KEY", false, "The voter key does not match.") \
    X(duplicate_voter, 126, "DUPLICATE_VOTER", false, "The voter is already in the voter set.") \
    X(voter_not_found, 127, "VOTER_NOT_FOUND", false, "The voter is not in the voter set.") \
    X(invalid_regular_expression, 128, "INVALID_REGULAR_EXPRESSION", false, "The regular expression is invalid.") \
    X(rebootstrap_required, 129, "REBOOTSTRAP_REQUIRED", false, "The client must rebootstrap its metadata.") \
    X(streams_invalid_topology, 130, "STREAMS_INVALID_TOPOLOGY", false, "The streams topology is invalid.") \
    X(streams_invalid_topology_epoch, 131, "STREAMS_INVALID_TOPOLOGY_EPOCH", false, "The streams topology epoch is invalid.") \
    X(streams_topology_fenced, 132, "STREAMS_TOPOLOGY_FENCED", false, "Another member fenced this streams topology.") \
    X(share_session_limit_reached, 133, "SHARE_SESSION_LIMIT_REACHED", true, "The broker has no room for another share session.")

enum class error_code : int16_t {
#define SAMSA_ERROR_ENUM(name, code, kafka_name, retriable, message) name = code,
    SAMSA_KAFKA_ERRORS(SAMSA_ERROR_ENUM)
#undef SAMSA_ERROR_ENUM
};

/// The highest error code in the table.
inline constexpr int16_t max_error_code = 133;

/// Kafka's name of the code ("OFFSET_OUT_OF_RANGE"), "UNKNOWN" for codes outside the table.
std::string_view to_string(error_code e);
/// A short human-readable description.
std::string_view message(error_code e);
/// Whether a client may retry the operation as is (Kafka's RetriableException family).
bool is_retriable(error_code e);
/// True for codes in the table.
bool is_known(error_code e);
/// The code for a wire value, nullopt when it is not in the table.
std::optional<error_code> error_code_from_int(int16_t v);

} // namespace samsa::protocol

template<>
struct fmt::formatter<samsa::protocol::error_code> : fmt::formatter<std::string_view> {
    auto format(samsa::protocol::error_code e, format_context& ctx) const
    {
        if (!samsa::protocol::is_known(e)) {
            return fmt::format_to(ctx.out(), "UNKNOWN({})", static_cast<int16_t>(e));
        }
        return fmt::formatter<std::string_view>::format(samsa::protocol::to_string(e), ctx);
    }
};
