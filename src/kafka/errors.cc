#include "kafka/errors.h"

#include "cluster/errc.h"
#include "protocol/record_batch.h"
#include "storage/errc.h"

namespace samsa::kafka {

using protocol::error_code;

namespace {

error_code from_storage(storage::errc e)
{
    switch (e) {
    case storage::errc::io_error:
    case storage::errc::no_space:
    case storage::errc::log_offline:
    case storage::errc::corrupt: return error_code::kafka_storage_error;
    case storage::errc::not_found: return error_code::unknown_topic_or_partition;
    case storage::errc::already_exists: return error_code::topic_already_exists;
    case storage::errc::offset_out_of_range: return error_code::offset_out_of_range;
    case storage::errc::invalid_batch: return error_code::corrupt_message;
    case storage::errc::invalid_offset: return error_code::invalid_record;
    case storage::errc::batch_too_large: return error_code::record_list_too_large;
    case storage::errc::invalid_argument: return error_code::invalid_request;
    case storage::errc::too_many_open_files:
    case storage::errc::permission_denied:
    case storage::errc::read_only:
    case storage::errc::name_too_long:
    case storage::errc::not_a_directory: return error_code::kafka_storage_error;
    case storage::errc::out_of_order_sequence: return error_code::out_of_order_sequence_number;
    case storage::errc::invalid_producer_epoch: return error_code::invalid_producer_epoch;
    case storage::errc::coordinator_fenced: return error_code::transaction_coordinator_fenced;
    }
    return error_code::unknown_server_error;
}

error_code from_batch(protocol::batch_errc e)
{
    switch (e) {
    case protocol::batch_errc::truncated:
    case protocol::batch_errc::invalid_length:
    case protocol::batch_errc::crc_mismatch:
    case protocol::batch_errc::decompression_failed: return error_code::corrupt_message;
    case protocol::batch_errc::unsupported_magic:
    case protocol::batch_errc::unsupported_compression: return error_code::unsupported_for_message_format;
    case protocol::batch_errc::invalid_record_count:
    case protocol::batch_errc::invalid_record:
    case protocol::batch_errc::decompressed_too_large:
    case protocol::batch_errc::invalid_offsets: return error_code::invalid_record;
    case protocol::batch_errc::invalid_timestamp: return error_code::invalid_timestamp;
    }
    return error_code::unknown_server_error;
}

error_code from_cluster(cluster::errc e)
{
    switch (e) {
    case cluster::errc::not_leader: return error_code::not_leader_or_follower;
    case cluster::errc::fenced_leader_epoch: return error_code::fenced_leader_epoch;
    case cluster::errc::unknown_leader_epoch: return error_code::unknown_leader_epoch;
    case cluster::errc::timeout: return error_code::request_timed_out;
    case cluster::errc::not_enough_replicas: return error_code::not_enough_replicas;
    case cluster::errc::not_enough_replicas_after_append: return error_code::not_enough_replicas_after_append;
    case cluster::errc::offset_out_of_range: return error_code::offset_out_of_range;
    case cluster::errc::policy_violation: return error_code::policy_violation;
    // The partition stopped under the request (deleted, moved away): the client looks the
    // leader up again.
    case cluster::errc::shutting_down: return error_code::not_leader_or_follower;
    case cluster::errc::topic_exists: return error_code::topic_already_exists;
    case cluster::errc::unknown_topic: return error_code::unknown_topic_or_partition;
    case cluster::errc::invalid_topic: return error_code::invalid_topic_exception;
    case cluster::errc::invalid_partitions: return error_code::invalid_partitions;
    case cluster::errc::invalid_replication_factor: return error_code::invalid_replication_factor;
    case cluster::errc::invalid_replica_assignment: return error_code::invalid_replica_assignment;
    case cluster::errc::invalid_config: return error_code::invalid_config;
    case cluster::errc::invalid_request: return error_code::invalid_request;
    case cluster::errc::deletion_disabled: return error_code::topic_deletion_disabled;
    case cluster::errc::metadata_write_failed: return error_code::kafka_storage_error;
    case cluster::errc::not_controller: return error_code::not_controller;
    case cluster::errc::stale_epoch: return error_code::stale_controller_epoch;
    }
    return error_code::unknown_server_error;
}

} // namespace

error_code to_kafka_error(std::error_code ec)
{
    if (!ec) return error_code::none;
    if (ec.category() == storage::storage_category()) return from_storage(static_cast<storage::errc>(ec.value()));
    if (ec.category() == cluster::cluster_category()) return from_cluster(static_cast<cluster::errc>(ec.value()));
    if (ec.category() == protocol::batch_category()) return from_batch(static_cast<protocol::batch_errc>(ec.value()));
    return error_code::unknown_server_error;
}

} // namespace samsa::kafka
