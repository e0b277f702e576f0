#pragma once

#include "cli/args.h"

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace samsa::cli {

// Owning handles for librdkafka objects.
struct kafka_deleter {
    void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
};
struct event_deleter {
    void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
};
struct metadata_deleter {
    void operator()(const rd_kafka_metadata_t* p) const { rd_kafka_metadata_destroy(p); }
};
struct partition_list_deleter {
    void operator()(rd_kafka_topic_partition_list_t* p) const { rd_kafka_topic_partition_list_destroy(p); }
};
struct queue_deleter {
    void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
};
struct options_deleter {
    void operator()(rd_kafka_AdminOptions_t* p) const { rd_kafka_AdminOptions_destroy(p); }
};
using kafka_ptr = std::unique_ptr<rd_kafka_t, kafka_deleter>;
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

inline partition_list_ptr new_partition_list(int size = 0)
{
    return partition_list_ptr(rd_kafka_topic_partition_list_new(size));
}

/// The client properties of one tool run, in the order given (later wins): bootstrap servers,
/// --command-config, then the tool's own files and k=v flags. A few Java-client-only keys are
/// understood here instead of being passed to librdkafka: default.api.timeout.ms (how long the
/// tool waits for the broker, default 10 s) and the (de)serializer classes (ignored: the tools
/// move raw bytes). Other keys librdkafka does not know draw one warning line and are skipped.
class client_config {
public:
    /// --bootstrap-server (default localhost:9092) and --command-config. A deprecated
    /// --broker-list (where the tool has it) draws a warning and is used only without
    /// --bootstrap-server, as in Kafka.
    static client_config from_args(const parsed_args& a);

    void set(const std::string& key, const std::string& value);
    /// Sets the key only when nothing set it before.
    void set_default(const std::string& key, const std::string& value);
    std::optional<std::string> get(const std::string& key) const;
    /// Loads a Java properties file; cli_error when it cannot be read or parsed.
    void load_file(const std::string& path);
    /// Adds "k=v" words (from a repeatable flag such as --producer-property).
    void add_pairs(const std::vector<std::string>& pairs, std::string_view flag);

    int timeout_ms() const { return _timeout_ms; }
    const std::string& bootstrap() const { return _bootstrap; }

    /// Checks the bootstrap.servers syntax and that one of them accepts a TCP connection
    /// (broker_socket.h), so that a typo, an unknown host or a refused connection fails at once
    /// with its cause instead of after the whole timeout. cli_error otherwise.
    void check_brokers() const;

    /// Creates a librdkafka handle after check_brokers(); `customize` may add callbacks to the
    /// conf first. librdkafka's own log lines are silenced unless a `debug` property is set.
    kafka_ptr create(rd_kafka_type_t type, const std::function<void(rd_kafka_conf_t*)>& customize = {}) const;

private:
    std::vector<std::pair<std::string, std::string>> _props;
    std::string _bootstrap = "localhost:9092";
    int _timeout_ms = 10000;
};

/// Fetches metadata for every topic (topic empty) or one topic. Throws cli_error naming the
/// bootstrap servers when the broker cannot be reached within the timeout.
metadata_ptr fetch_metadata(rd_kafka_t* rk, const client_config& cfg, const std::string& topic = {});

/// The partitions of `topic` in `md`, nullptr when the broker does not know it; cli_error for
/// another error reported for it.
const rd_kafka_metadata_topic_t* lookup_topic(const rd_kafka_metadata_t& md, const std::string& topic);

/// The partitions of `topic` in `md`, or cli_error "Topic 'x' does not exist" (also when the
/// broker reports an error for it).
const rd_kafka_metadata_topic_t& find_topic(const rd_kafka_metadata_t& md, const std::string& topic);

/// Low and high watermarks of one partition.
std::pair<int64_t, int64_t> query_watermarks(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                                             int timeout_ms);

/// Kafka's names for internal topics (--exclude-internal).
bool is_internal_topic(const std::string& name);

/// A librdkafka admin client (a producer-type handle) that checks on creation that the broker
/// answers, and runs admin requests synchronously with the configured timeout.
class admin_client {
public:
    explicit admin_client(const client_config& cfg);

    rd_kafka_t* handle() const { return _rk.get(); }
    const client_config& config() const { return _cfg; }

    using starter = std::function<void(rd_kafka_t*, const rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>;
    /// Issues one admin request through `start` and waits for its result event. Throws
    /// cli_error("<what>: <reason>") on a request-level error or a timeout.
    event_ptr run(rd_kafka_admin_op_t op, const std::string& what, const starter& start) const;
    metadata_ptr metadata(const std::string& topic = {}) const { return fetch_metadata(_rk.get(), _cfg, topic); }
    std::pair<int64_t, int64_t> watermarks(const std::string& topic, int32_t partition) const
    {
        return query_watermarks(_rk.get(), topic, partition, _cfg.timeout_ms());
    }

private:
    client_config _cfg;
    kafka_ptr _rk;
};

/// Text of a librdkafka error code.
std::string error_text(rd_kafka_resp_err_t err);

} // namespace samsa::cli
