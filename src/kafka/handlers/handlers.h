#pragma once

#include "kafka/errors.h"
#include "kafka/handler.h"

#include <set>
#include <string>
#include <utility>

namespace samsa::kafka {

// One function per served API, each in handlers/<api>.cc. The registry (handlers.cc) lists
// them with the versions they serve.
boost::asio::awaitable<bool> handle_api_versions(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_metadata(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_produce(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_fetch(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_list_offsets(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_offset_for_leader_epoch(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_create_topics(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_delete_topics(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_delete_records(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_describe_configs(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_alter_configs(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_create_partitions(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_incremental_alter_configs(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_describe_cluster(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_init_producer_id(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_describe_producers(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_add_partitions_to_txn(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_add_offsets_to_txn(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_end_txn(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_write_txn_markers(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_txn_offset_commit(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_describe_transactions(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_list_transactions(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_leader_and_isr(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_stop_replica(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_update_metadata(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_controlled_shutdown(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_elect_leaders(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_describe_log_dirs(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_alter_partition_reassignments(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_list_partition_reassignments(request_context& ctx, protocol::writer& out);

// Shared by the config handlers (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs);
// defined in alter_configs.cc.

/// Kafka's ConfigResource.Type numbers.
enum class config_resource_type : int8_t { topic = 2, broker = 4, broker_logger = 8 };

/// The dynamic layer a BROKER resource name addresses: "" is the cluster default, this node's
/// id the broker itself. INVALID_REQUEST for another id or a name that is not a number.
kafka_result<config::dynamic_scope> broker_scope(const broker_context& b, const std::string& resource_name);

/// A config module failure as clients see it (config::kafka_error_code and its message).
kafka_failure to_kafka_failure(const config::config_failure& f);

/// Validates a complete override map for a broker scope and, unless validate_only, persists
/// it (metadata_store::save_broker_overrides; in ZooKeeper mode /config/brokers/<id> or
/// <default>, which every broker applies through /config/changes), applies it and
/// re-resolves the logs' settings.
boost::asio::awaitable<kafka_result<void>> commit_broker_overrides(broker_context& b, config::dynamic_scope scope,
                                                                   config::property_map overrides, bool validate_only);

/// Replaces a topic's overrides with a validated map (through the controller), unless
/// validate_only. UNKNOWN_TOPIC_OR_PARTITION when the topic does not exist.
boost::asio::awaitable<kafka_result<void>> commit_topic_overrides(broker_context& b, std::string topic,
                                                                  config::property_map overrides, bool validate_only);

/// The body of AlterConfigs and IncrementalAlterConfigs: `alter(resource, validate_only)` for each
/// resource of `req`, one response entry each, in order. A resource named twice in one request
/// gets INVALID_REQUEST for every occurrence, as Kafka answers.
template <typename Response, typename Request, typename Alter>
boost::asio::awaitable<Response> alter_each_resource(const Request& req, Alter alter)
{
    std::multiset<std::pair<int8_t, std::string>> seen;
    for (auto& r : req.resources) seen.emplace(r.resource_type, r.resource_name);
    Response resp;
    for (auto& r : req.resources) {
        auto& rr = resp.responses.emplace_back();
        rr.resource_type = r.resource_type;
        rr.resource_name = r.resource_name;
        rr.error_message = std::nullopt;
        // (g++ 12 cannot compile a co_await inside ?:.)
        kafka_result<void> done = kafka_error(protocol::error_code::invalid_request, "Duplicate resource in request.");
        if (seen.count({r.resource_type, r.resource_name}) == 1) done = co_await alter(r, req.validate_only);
        if (!done) {
            rr.error_code = code(done.error().code);
            rr.error_message = done.error().message;
        }
    }
    co_return resp;
}

} // namespace samsa::kafka
