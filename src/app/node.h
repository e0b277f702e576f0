#pragma once

#include "config/properties.h"
#include "kafka/broker_context.h"
#include "net/server.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace samsa::storage {
class file_ops;
class log_manager;
} // namespace samsa::storage

namespace samsa::cluster {
class topic_manager;
class metadata_store;
namespace zk {
class session;
class member;
} // namespace zk
} // namespace samsa::cluster

namespace samsa::config {
class broker_config_store;
struct broker_config;
} // namespace samsa::config

namespace samsa::kafka {
class dispatcher;
class group_service;
} // namespace samsa::kafka

namespace samsa::app {

struct node_options {
    /// Where every file access goes (must outlive the node); null: posix.
    storage::file_ops* fs = nullptr;
    /// The io_context the node runs on (must outlive the node; several nodes may share one);
    /// null: the node owns one (io()).
    boost::asio::io_context* io = nullptr;
    /// Opens the listeners of the configuration; off: no sockets, requests go straight to
    /// dispatcher() and clients are told about `endpoints`.
    bool listen = true;
    /// What Metadata advertises when `listen` is off.
    std::vector<kafka::advertised_endpoint> endpoints;
    /// Worker threads (the CPU pool for produced batches, the background file pool, the
    /// cleaner), the periodic tick (every 200 ms) and large topic operations in steps. Off:
    /// everything runs inline on the node's thread when asked for and nothing runs by itself,
    /// so a test can run the io_context until it has no work left (tick by hand).
    bool background = true;
    /// The cluster id; empty: a random one (samsa-server passes meta.properties's).
    std::string cluster_id;
    /// ZooKeeper mode (zookeeper.connect set): the connected session the broker resolved its
    /// identity with; join_cluster() registers through it.
    std::shared_ptr<cluster::zk::session> zookeeper;
    /// The metadata store's directory; empty: `<first log dir>/__samsa_metadata`.
    std::string metadata_dir;
    /// How long shutdown() waits for requests in flight before closing their connections.
    std::chrono::milliseconds drain_timeout{5000};
    /// Called on the node's thread at each step of shutdown() ("draining", "drained",
    /// "tasks stopped", "pools joined", "logs closed"), for tests and logs.
    std::function<void(std::string_view step)> on_shutdown_step;
};

/// One broker node, assembled: the broker config store, the metadata store, the log manager,
/// the topic manager, the broker context, the group service, the Kafka dispatcher, the CPU and
/// background pools, the cleaner and (optionally) the network server. samsa-server is a node
/// plus signals, the log-directory locks and meta.properties; tests build nodes in process.
///
/// Runs on one io_context's thread (the shard): start(), shutdown() and every accessor's
/// object are used there only. Every detached task holds a gate (the node's, the server's);
/// shutdown() closes them in order, so once it completes nothing of the node is left in the
/// io_context and the node may be destroyed.
class node {
public:
    /// Only reads the configuration (throws config::config_error when it is invalid).
    node(config::property_map props, node_options opts = {});
    ~node();
    node(const node&) = delete;
    node& operator=(const node&) = delete;

    /// Throws std::runtime_error (one line) for what a node cannot serve yet: (listen) listeners
    /// with a security protocol other than PLAINTEXT.
    static void check_supported(const config::broker_config& cfg, bool listen);

    /// Loads the logs, topics and consumer groups, starts the pools, the periodic task and
    /// (listen) the listeners. Throws std::runtime_error with a one-line message on failure.
    /// Call before the io_context runs or on its thread.
    void start();
    /// ZooKeeper mode, after start(): registers this broker in /brokers/ids, stands for
    /// controller and follows the live brokers and the controller from then on. Throws
    /// std::runtime_error when the broker.id is held by another live broker (or ZooKeeper fails).
    boost::asio::awaitable<void> join_cluster();
    /// The ZooKeeper membership once joined (else null).
    cluster::zk::member* membership();

    /// The ordered shutdown: stop accepting and reading requests, answer those in flight
    /// (within drain_timeout, then their connections close), stop the periodic task and wait
    /// for the node's other tasks, join the pools, then flush and close the logs and write the
    /// clean-shutdown markers. True when the logs closed cleanly. Call once, on the node's
    /// thread, after start() (a node never started shuts down at once).
    boost::asio::awaitable<bool> shutdown();
    /// Whether shutdown() has begun.
    bool shutting_down() const;

    boost::asio::io_context& io();
    kafka::broker_context& context();
    cluster::topic_manager& topics();
    storage::log_manager& logs();
    config::broker_config_store& config();
    cluster::metadata_store& store();
    kafka::dispatcher& dispatcher();
    kafka::group_service& groups();
    /// The network server, or null when not listening.
    net::server* server();
    /// Where each listener is bound (port 0 resolved); empty when not listening.
    std::vector<net::server::bound> listeners() const;
    const std::string& cluster_id() const;
    node_id self() const;

    struct impl;

private:
    std::unique_ptr<impl> _impl;
};

} // namespace samsa::app
