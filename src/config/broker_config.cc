#include "config/broker_config.h"

#include "base/assert.h"
#include "config/broker_definitions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace samsa::config {
namespace {

constexpr int64_t ms_per_minute = 60'000;
constexpr int64_t ms_per_hour = 3'600'000;

/// Typed reads of the parsed value of every defined key.
class value_reader {
public:
    explicit value_reader(std::map<std::string, config_value, std::less<>> values) : _values(std::move(values)) {}

    const config_value& at(std::string_view name) const
    {
        auto it = _values.find(name);
        SAMSA_ASSERT(it != _values.end(), "config {} is not defined", name);
        return it->second;
    }
    bool null(std::string_view n) const { return is_null(at(n)); }
    bool b(std::string_view n) const { return as_bool(at(n)); }
    int64_t i64(std::string_view n) const { return as_int(at(n)); }
    int32_t i32(std::string_view n) const { return static_cast<int32_t>(as_int(at(n))); }
    int16_t i16(std::string_view n) const { return static_cast<int16_t>(as_int(at(n))); }
    double d(std::string_view n) const { return as_double(at(n)); }
    const std::string& s(std::string_view n) const { return as_string(at(n)); }
    const std::vector<std::string>& l(std::string_view n) const { return as_list(at(n)); }
    std::optional<std::string> opt_s(std::string_view n) const
    {
        return null(n) ? std::nullopt : std::optional<std::string>(s(n));
    }

private:
    std::map<std::string, config_value, std::less<>> _values;
};

config_result<value_reader> parse_all(const property_map& raw)
{
    std::map<std::string, config_value, std::less<>> values;
    for (const auto& key : broker_config_definitions().keys()) {
        auto it = raw.find(key.name);
        if (it == raw.end()) {
            values.emplace(key.name, default_value(key));
            continue;
        }
        auto parsed = parse_value(key, it->second);
        if (!parsed) return parsed.error();
        values.emplace(key.name, std::move(*parsed));
    }
    return value_reader(std::move(values));
}

config_failure conflict(std::string message) { return make_failure(errc::conflicting_values, std::move(message)); }

config_result<int32_t> resolve_node_id(const value_reader& r)
{
    int32_t node = r.i32("node.id");
    int32_t broker = r.i32("broker.id");
    if (node != -1 && broker != -1 && node != broker) {
        return conflict(fmt::format("Configurations node.id ({}) and broker.id ({}) must be equal when both are set",
                                    node, broker));
    }
    if (node != -1) return node;
    return broker != -1 ? broker : 0;
}

int64_t resolve_retention_ms(const value_reader& r)
{
    int64_t ms = !r.null("log.retention.ms")        ? r.i64("log.retention.ms")
                 : !r.null("log.retention.minutes") ? r.i64("log.retention.minutes") * ms_per_minute
                                                    : r.i64("log.retention.hours") * ms_per_hour;
    return ms < 0 ? -1 : ms;
}

int64_t ms_or_hours(const value_reader& r, std::string_view ms_key, std::string_view hours_key)
{
    return r.null(ms_key) ? r.i64(hours_key) * ms_per_hour : r.i64(ms_key);
}

bool has_name(const std::vector<listener>& ls, std::string_view name)
{
    return std::any_of(ls.begin(), ls.end(), [&](const listener& l) { return l.name == name; });
}

config_result<std::vector<listener>> resolve_advertised(const value_reader& r, const broker_config& c)
{
    if (r.null("advertised.listeners")) {
        std::vector<listener> out;
        for (const auto& l : c.listeners) {
            auto& ctl = c.controller_listener_names;
            if (std::find(ctl.begin(), ctl.end(), l.name) == ctl.end()) out.push_back(l);
        }
        return out;
    }
    SAMSA_CONFIG_TRY_ASSIGN(auto adv, parse_listeners("advertised.listeners", r.s("advertised.listeners"),
                                                &c.listener_security_protocol_map, false));
    for (const auto& a : adv) {
        if (a.host == "0.0.0.0") {
            return make_failure(errc::invalid_value, fmt::format("Invalid value {} for configuration "
                                                                 "advertised.listeners: 0.0.0.0 is not a routable "
                                                                 "address to advertise",
                                                                 r.s("advertised.listeners")));
        }
        if (!has_name(c.listeners, a.name)) {
            return conflict(
                fmt::format("advertised.listeners names listener {} which listeners does not define", a.name));
        }
    }
    return adv;
}

config_result<void> fill_network(const value_reader& r, const property_map& raw, broker_config& c)
{
    SAMSA_CONFIG_TRY_ASSIGN(c.listener_security_protocol_map,
                      parse_security_protocol_map(r.s("listener.security.protocol.map")));
    SAMSA_CONFIG_TRY_ASSIGN(c.listeners,
                      parse_listeners("listeners", r.s("listeners"), &c.listener_security_protocol_map, true));
    if (c.listeners.empty()) {
        return make_failure(errc::invalid_value, "Invalid value  for configuration listeners: at least one listener "
                                                 "is needed");
    }
    if (!r.null("controller.listener.names")) {
        for (const auto& n : split_list(r.s("controller.listener.names"))) {
            std::string upper(n);
            std::transform(upper.begin(), upper.end(), upper.begin(),
                           [](unsigned char ch) { return std::toupper(ch); });
            c.controller_listener_names.push_back(std::move(upper));
        }
    }
    SAMSA_CONFIG_TRY_ASSIGN(c.advertised_listeners, resolve_advertised(r, c));
    c.inter_broker_listener_name = r.opt_s("inter.broker.listener.name");
    if (c.inter_broker_listener_name) {
        if (raw.contains("security.inter.broker.protocol")) {
            return conflict("Only one of inter.broker.listener.name and security.inter.broker.protocol may be set");
        }
        if (!has_name(c.advertised_listeners, *c.inter_broker_listener_name)) {
            return conflict(fmt::format("inter.broker.listener.name {} is not one of the advertised listeners",
                                        *c.inter_broker_listener_name));
        }
    }
    c.control_plane_listener_name = r.opt_s("control.plane.listener.name");
    if (c.control_plane_listener_name && !has_name(c.listeners, *c.control_plane_listener_name)) {
        return conflict(fmt::format("control.plane.listener.name {} is not one of the listeners",
                                    *c.control_plane_listener_name));
    }
    c.num_network_threads = r.i32("num.network.threads");
    c.num_io_threads = r.i32("num.io.threads");
    c.background_threads = r.i32("background.threads");
    c.queued_max_requests = r.i32("queued.max.requests");
    c.queued_max_request_bytes = r.i64("queued.max.request.bytes");
    c.socket_send_buffer_bytes = r.i32("socket.send.buffer.bytes");
    c.socket_receive_buffer_bytes = r.i32("socket.receive.buffer.bytes");
    c.socket_request_max_bytes = r.i64("socket.request.max.bytes");
    c.socket_listen_backlog_size = r.i32("socket.listen.backlog.size");
    c.connections_max_idle_ms = r.i64("connections.max.idle.ms");
    c.max_connections = r.i32("max.connections");
    c.max_connections_per_ip = r.i32("max.connections.per.ip");
    return {};
}

void fill_log_retention(const value_reader& r, broker_config& c)
{
    c.log_dirs = r.null("log.dirs") ? r.l("log.dir") : r.l("log.dirs");
    c.log_segment_bytes = r.i64("log.segment.bytes");
    c.log_roll_ms = ms_or_hours(r, "log.roll.ms", "log.roll.hours");
    c.log_roll_jitter_ms = ms_or_hours(r, "log.roll.jitter.ms", "log.roll.jitter.hours");
    c.log_retention_ms = resolve_retention_ms(r);
    c.log_retention_bytes = r.i64("log.retention.bytes");
    c.log_retention_check_interval_ms = r.i64("log.retention.check.interval.ms");
    c.log_cleanup_policy = parse_cleanup_policy(r.l("log.cleanup.policy"));
    c.log_index_size_max_bytes = r.i64("log.index.size.max.bytes");
    c.log_index_interval_bytes = r.i64("log.index.interval.bytes");
    c.log_flush_interval_messages = r.i64("log.flush.interval.messages");
    c.log_flush_scheduler_interval_ms = r.i64("log.flush.scheduler.interval.ms");
    c.log_flush_interval_ms =
        r.null("log.flush.interval.ms") ? c.log_flush_scheduler_interval_ms : r.i64("log.flush.interval.ms");
    c.log_flush_offset_checkpoint_interval_ms = r.i64("log.flush.offset.checkpoint.interval.ms");
    c.log_flush_start_offset_checkpoint_interval_ms = r.i64("log.flush.start.offset.checkpoint.interval.ms");
    c.log_segment_delete_delay_ms = r.i64("log.segment.delete.delay.ms");
    c.log_preallocate = r.b("log.preallocate");
}

void fill_log(const value_reader& r, broker_config& c)
{
    fill_log_retention(r, c);
    c.num_partitions = r.i32("num.partitions");
    c.default_replication_factor = r.i16("default.replication.factor");
    c.auto_create_topics_enable = r.b("auto.create.topics.enable");
    c.delete_topic_enable = r.b("delete.topic.enable");
    c.message_max_bytes = r.i64("message.max.bytes");
    c.log_cleaner_enable = r.b("log.cleaner.enable");
    c.log_cleaner_threads = r.i32("log.cleaner.threads");
    c.log_cleaner_io_max_bytes_per_second = r.d("log.cleaner.io.max.bytes.per.second");
    c.log_cleaner_dedupe_buffer_size = r.i64("log.cleaner.dedupe.buffer.size");
    c.log_cleaner_io_buffer_size = r.i64("log.cleaner.io.buffer.size");
    c.log_cleaner_io_buffer_load_factor = r.d("log.cleaner.io.buffer.load.factor");
    c.log_cleaner_backoff_ms = r.i64("log.cleaner.backoff.ms");
    c.log_cleaner_min_cleanable_ratio = r.d("log.cleaner.min.cleanable.ratio");
    c.log_cleaner_delete_retention_ms = r.i64("log.cleaner.delete.retention.ms");
    c.log_cleaner_min_compaction_lag_ms = r.i64("log.cleaner.min.compaction.lag.ms");
    c.log_cleaner_max_compaction_lag_ms = r.i64("log.cleaner.max.compaction.lag.ms");
    c.num_recovery_threads_per_data_dir = r.i32("num.recovery.threads.per.data.dir");
    c.min_insync_replicas = r.i32("min.insync.replicas");
    c.log_message_timestamp_type = parse_timestamp_type(r.s("log.message.timestamp.type"));
    c.log_message_timestamp_difference_max_ms = r.i64("log.message.timestamp.difference.max.ms");
    c.log_message_downconversion_enable = r.b("log.message.downconversion.enable");
    c.compression_type = parse_compression(r.s("compression.type"));
}

void fill_replication(const value_reader& r, broker_config& c)
{
    c.unclean_leader_election_enable = r.b("unclean.leader.election.enable");
    c.auto_leader_rebalance_enable = r.b("auto.leader.rebalance.enable");
    c.leader_imbalance_check_interval_seconds = r.i64("leader.imbalance.check.interval.seconds");
    c.leader_imbalance_per_broker_percentage = r.i32("leader.imbalance.per.broker.percentage");
    c.controlled_shutdown_enable = r.b("controlled.shutdown.enable");
    c.controlled_shutdown_max_retries = r.i32("controlled.shutdown.max.retries");
    c.controlled_shutdown_retry_backoff_ms = r.i64("controlled.shutdown.retry.backoff.ms");
    c.replica_lag_time_max_ms = r.i64("replica.lag.time.max.ms");
    c.leader_replication_throttled_rate = r.i64("leader.replication.throttled.rate");
    c.follower_replication_throttled_rate = r.i64("follower.replication.throttled.rate");
    c.num_replica_fetchers = r.i32("num.replica.fetchers");
    c.replica_fetch_max_bytes = r.i64("replica.fetch.max.bytes");
    c.replica_fetch_response_max_bytes = r.i64("replica.fetch.response.max.bytes");
    c.replica_fetch_wait_max_ms = r.i64("replica.fetch.wait.max.ms");
    c.replica_fetch_backoff_ms = r.i64("replica.fetch.backoff.ms");
    c.replica_fetch_min_bytes = r.i32("replica.fetch.min.bytes");
    c.replica_high_watermark_checkpoint_interval_ms = r.i64("replica.high.watermark.checkpoint.interval.ms");
    c.fetch_max_bytes = r.i64("fetch.max.bytes");
    c.max_incremental_fetch_session_cache_slots = r.i32("max.incremental.fetch.session.cache.slots");
}

void fill_coordinators(const value_reader& r, broker_config& c)
{
    c.group_min_session_timeout_ms = r.i64("group.min.session.timeout.ms");
    c.group_max_session_timeout_ms = r.i64("group.max.session.timeout.ms");
    c.group_initial_rebalance_delay_ms = r.i64("group.initial.rebalance.delay.ms");
    c.group_max_size = r.i32("group.max.size");
    c.offset_metadata_max_bytes = r.i32("offset.metadata.max.bytes");
    c.offsets_topic_num_partitions = r.i32("offsets.topic.num.partitions");
    c.offsets_topic_replication_factor = r.i16("offsets.topic.replication.factor");
    c.offsets_topic_segment_bytes = r.i64("offsets.topic.segment.bytes");
    c.offsets_load_buffer_size = r.i64("offsets.load.buffer.size");
    c.offsets_retention_ms = r.i64("offsets.retention.minutes") * ms_per_minute;
    c.offsets_retention_check_interval_ms = r.i64("offsets.retention.check.interval.ms");
    c.offsets_commit_timeout_ms = r.i64("offsets.commit.timeout.ms");
    c.transaction_state_log_num_partitions = r.i32("transaction.state.log.num.partitions");
    c.transaction_state_log_replication_factor = r.i16("transaction.state.log.replication.factor");
    c.transaction_state_log_min_isr = r.i32("transaction.state.log.min.isr");
    c.transaction_state_log_segment_bytes = r.i64("transaction.state.log.segment.bytes");
    c.transaction_state_log_load_buffer_size = r.i64("transaction.state.log.load.buffer.size");
    c.transactional_id_expiration_ms = r.i64("transactional.id.expiration.ms");
    c.transaction_partition_verification_enable = r.b("transaction.partition.verification.enable");
    c.transaction_max_timeout_ms = r.i64("transaction.max.timeout.ms");
    c.transaction_abort_timed_out_transaction_cleanup_interval_ms =
        r.i64("transaction.abort.timed.out.transaction.cleanup.interval.ms");
    c.transaction_remove_expired_transaction_cleanup_interval_ms =
        r.i64("transaction.remove.expired.transaction.cleanup.interval.ms");
    c.producer_id_expiration_ms = r.i64("producer.id.expiration.ms");
    c.producer_id_expiration_check_interval_ms = r.i64("producer.id.expiration.check.interval.ms");
}

} // namespace

message_timestamp_type parse_timestamp_type(std::string_view s)
{
    return s == "LogAppendTime" ? message_timestamp_type::log_append_time : message_timestamp_type::create_time;
}

broker_compression parse_compression(std::string_view s)
{
    if (s == "uncompressed") return broker_compression::uncompressed;
    if (s == "gzip") return broker_compression::gzip;
    if (s == "snappy") return broker_compression::snappy;
    if (s == "lz4") return broker_compression::lz4;
    if (s == "zstd") return broker_compression::zstd;
    return broker_compression::producer;
}

cleanup_policy parse_cleanup_policy(const std::vector<std::string>& items)
{
    auto has = [&](std::string_view p) { return std::find(items.begin(), items.end(), p) != items.end(); };
    return cleanup_policy{has("delete"), has("compact")};
}

config_result<broker_config> build_broker_config(const property_map& raw)
{
    SAMSA_CONFIG_TRY_ASSIGN(auto r, parse_all(raw));
    broker_config c;
    SAMSA_CONFIG_TRY_ASSIGN(c.node_id, resolve_node_id(r));
    c.process_roles = r.l("process.roles");
    c.zookeeper_connect = r.opt_s("zookeeper.connect");
    c.zookeeper_session_timeout_ms = r.i64("zookeeper.session.timeout.ms");
    c.zookeeper_connection_timeout_ms = r.null("zookeeper.connection.timeout.ms")
                                            ? c.zookeeper_session_timeout_ms
                                            : r.i64("zookeeper.connection.timeout.ms");
    c.configured_node_id = r.i32("node.id") != -1 ? r.i32("node.id") : r.i32("broker.id");
    c.broker_id_generation_enable = r.b("broker.id.generation.enable");
    c.reserved_broker_max_id = r.i32("reserved.broker.max.id");
    c.broker_rack = r.opt_s("broker.rack");
    SAMSA_CONFIG_TRY(fill_network(r, raw, c));
    fill_log(r, c);
    fill_replication(r, c);
    fill_coordinators(r, c);
    return c;
}

std::string unknown_config_warning(std::string_view key)
{
    return fmt::format("The configuration '{}' was supplied but isn't a known config.", key);
}

} // namespace samsa::config
