#pragma once

#include "config/properties.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace samsa::app {

/// The whole broker, wired: configuration, log directories and their meta.properties, the
/// log manager, topics, the Kafka request dispatcher and the network server, on one thread.
/// run() returns after SIGTERM/SIGINT (or stop()) once everything was flushed and closed.
class broker {
public:
    /// Throws config::config_error or std::runtime_error with a one-line message when the
    /// configuration is invalid or the log directories cannot be used.
    explicit broker(config::property_map props);
    ~broker();

    /// Starts listening and serves until stopped; returns the process exit code.
    int run();
    /// Asks run() to finish (thread-safe).
    void stop();

    struct impl;

private:
    std::unique_ptr<impl> _impl;
};

/// What a log directory's `meta.properties` says (nothing when it has none).
struct stored_identity {
    std::optional<int32_t> node_id;
    std::string cluster_id;
};
stored_identity read_meta_properties(const std::string& dir);
/// Writes `meta.properties` (ZooKeeper mode: Kafka's version 0 with broker.id; else version 1).
void write_meta_properties(const std::string& dir, int32_t node_id, const std::string& cluster_id, bool zookeeper);

/// Reads or creates `meta.properties` in a log directory (cluster.id, node.id) and checks it
/// matches this broker; returns the cluster id. Throws std::runtime_error on a mismatch.
std::string ensure_meta_properties(const std::string& dir, int32_t node_id, const std::string& cluster_id_hint);

} // namespace samsa::app
