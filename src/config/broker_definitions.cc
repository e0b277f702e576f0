#include "config/broker_definitions.h"

#include "config/listener.h"

#include <algorithm>
#include <array>

namespace samsa::config {
namespace detail {

void add(config_def& d, std::string name, config_type type, std::optional<std::string> dflt, validator v,
         importance level, update_mode mode, std::string doc)
{
    d.define(config_key{std::move(name), type, std::move(dflt), std::move(v), level, mode, std::move(doc), {}});
}

namespace {

const std::vector<std::string> protocols = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};

} // namespace

void define_server_configs(config_def& d)
{
    using enum config_type;
    using enum importance;
    using enum update_mode;
    const auto none = validator{};
    const auto at_least = validator::at_least;

    // Identity and roles.
    add(d, "node.id", int32, "-1", at_least(-1), high, read_only,
        "Id of this node; -1 (or unset) means 0 on a single-node cluster. Must equal broker.id when both are set.");
    add(d, "broker.id", int32, "-1", at_least(-1), high, read_only,
        "Older name for node.id, accepted for ZooKeeper-era configuration files.");
    add(d, "process.roles", list, "", validator::list_of({"broker", "controller"}, true), high, read_only,
        "Roles this node plays in KRaft mode: broker, controller or both. Samsa always runs both.");
    add(d, "controller.quorum.voters", list, "", none, high, read_only,
        "KRaft voter set as id@host:port entries; accepted for compatibility, Samsa runs a single node.");
    add(d, "controller.quorum.bootstrap.servers", list, "", none, high, read_only,
        "host:port entries used to discover the KRaft quorum; accepted for compatibility.");
    add(d, "controller.listener.names", string, std::nullopt, none, high, read_only,
        "Listener names used by the controller; left out of the advertised listeners.");
    add(d, "zookeeper.connect", string, std::nullopt, none, high, read_only,
        "ZooKeeper connection string; when absent the node keeps its metadata itself (single node).");
    add(d, "zookeeper.session.timeout.ms", int32, "18000", none, high, read_only,
        "ZooKeeper session timeout in milliseconds.");
    add(d, "zookeeper.connection.timeout.ms", int32, std::nullopt, none, high, read_only,
        "Longest wait for a ZooKeeper connection in ms; unset means zookeeper.session.timeout.ms.");
    add(d, "zookeeper.max.in.flight.requests", int32, "10", at_least(1), high, read_only,
        "Most unacknowledged requests sent to ZooKeeper at once.");
    add(d, "broker.id.generation.enable", boolean, "true", none, medium, read_only,
        "In ZooKeeper mode, a broker without broker.id (or a stored one) takes a generated id above "
        "reserved.broker.max.id.");
    add(d, "reserved.broker.max.id", int32, "1000", at_least(0), medium, read_only,
        "Largest broker.id that may be configured; generated ids start above it.");
    add(d, "broker.rack", string, std::nullopt, none, medium, read_only,
        "Rack of this broker, used by rack-aware replica assignment.");

    // Listeners and sockets.
    add(d, "listeners", string, "PLAINTEXT://:9092", listener_syntax_validator(true), high, per_broker,
        "Comma-separated NAME://host:port addresses to accept connections on; an empty host binds every interface.");
    add(d, "advertised.listeners", string, std::nullopt, listener_syntax_validator(false), high, per_broker,
        "Addresses given to clients in metadata; unset means the listeners minus the controller listeners.");
    add(d, "listener.security.protocol.map", string, std::string(default_security_protocol_map),
        protocol_map_validator(), low, per_broker, "Security protocol of each listener name, as NAME:PROTOCOL pairs.");
    add(d, "inter.broker.listener.name", string, std::nullopt, none, medium, read_only,
        "Listener brokers use to talk to each other.");
    add(d, "control.plane.listener.name", string, std::nullopt, none, medium, read_only,
        "Listener the controller uses to reach brokers; unset means the inter-broker listener.");
    add(d, "security.inter.broker.protocol", string, "PLAINTEXT", validator::one_of(protocols), medium, read_only,
        "Security protocol brokers use to talk to each other when no listener name is given.");
    add(d, "num.network.threads", int32, "3", at_least(1), high, cluster_wide,
        "Threads that read requests from and write responses to sockets.");
    add(d, "num.io.threads", int32, "8", at_least(1), high, cluster_wide,
        "Threads that execute requests, including disk I/O.");
    add(d, "background.threads", int32, "10", at_least(1), high, cluster_wide,
        "Threads for background work such as deleting old segments.");
    add(d, "queued.max.requests", int32, "500", at_least(1), high, read_only,
        "Requests that may wait for an I/O thread before the network threads stop reading.");
    add(d, "queued.max.request.bytes", int64, "-1", none, medium, read_only,
        "Bytes of queued requests before reading stops; -1 means no byte limit.");
    add(d, "socket.send.buffer.bytes", int32, "102400", none, high, read_only,
        "SO_SNDBUF of accepted sockets; -1 keeps the operating system default.");
    add(d, "socket.receive.buffer.bytes", int32, "102400", none, high, read_only,
        "SO_RCVBUF of accepted sockets; -1 keeps the operating system default.");
    add(d, "socket.request.max.bytes", int32, "104857600", at_least(1), high, read_only,
        "Largest request the broker reads; bigger ones close the connection.");
    add(d, "socket.listen.backlog.size", int32, "50", at_least(1), medium, read_only,
        "Backlog of pending connections on each listening socket.");
    add(d, "connections.max.idle.ms", int64, "600000", none, medium, read_only,
        "Connections idle for longer than this are closed.");
    add(d, "max.connections", int32, "2147483647", at_least(0), medium, cluster_wide,
        "Most connections the broker accepts in total.");
    add(d, "max.connections.per.ip", int32, "2147483647", at_least(0), medium, cluster_wide,
        "Most connections accepted from one IP address.");
    add(d, "max.connections.per.ip.overrides", string, "", none, medium, cluster_wide,
        "Per-host limits overriding max.connections.per.ip, as host:count pairs.");

    // Security settings Samsa accepts (and hides) but does not act on yet.
    add(d, "ssl.keystore.location", string, std::nullopt, none, medium, per_broker, "Path of the key store file.");
    add(d, "ssl.keystore.password", password, std::nullopt, none, medium, per_broker, "Password of the key store.");
    add(d, "ssl.key.password", password, std::nullopt, none, medium, per_broker,
        "Password of the private key in the key store.");
    add(d, "ssl.truststore.location", string, std::nullopt, none, medium, per_broker, "Path of the trust store file.");
    add(d, "ssl.truststore.password", password, std::nullopt, none, medium, per_broker, "Password of the trust store.");
    add(d, "ssl.client.auth", string, "none", validator::one_of({"required", "requested", "none"}), medium, per_broker,
        "Whether TLS clients must, may or need not present a certificate.");
    add(d, "sasl.enabled.mechanisms", list, "GSSAPI", none, medium, per_broker, "SASL mechanisms the broker accepts.");
}

void define_replication_configs(config_def& d)
{
    using enum config_type;
    using enum importance;
    using enum update_mode;
    const auto none = validator{};
    const auto at_least = validator::at_least;

    add(d, "default.replication.factor", int32, "1", at_least(1), medium, read_only,
        "Replication factor of topics created without one (including auto-created topics).");
    add(d, "leader.replication.throttled.rate", int64, "9223372036854775807", at_least(0), medium, per_broker,
        "Bytes per second a leader sends to followers of its throttled replicas "
        "(leader.replication.throttled.replicas), all of them together.");
    add(d, "follower.replication.throttled.rate", int64, "9223372036854775807", at_least(0), medium, per_broker,
        "Bytes per second a follower fetches for its throttled replicas "
        "(follower.replication.throttled.replicas), all of them together.");
    add(d, "replica.alter.log.dirs.io.max.bytes.per.second", int64, "9223372036854775807", at_least(0), medium,
        per_broker,
        "Accepted for compatibility (Kafka's reassignment tool clears it with the other throttles): replicas "
        "never move between log directories here, so nothing is throttled by it.");
    add(d, "replica.lag.time.max.ms", int64, "30000", none, high, read_only,
        "A follower that has not caught up for this long leaves the in-sync replica set.");
    add(d, "replica.socket.timeout.ms", int32, "30000", none, high, read_only, "Socket timeout of replica fetches.");
    add(d, "replica.socket.receive.buffer.bytes", int32, "65536", none, high, read_only,
        "SO_RCVBUF of replica fetch connections.");
    add(d, "replica.fetch.max.bytes", int32, "1048576", at_least(0), medium, read_only,
        "Bytes a follower asks for per partition in one fetch.");
    add(d, "replica.fetch.wait.max.ms", int32, "500", none, high, read_only,
        "Longest a follower fetch waits for data; keep below replica.lag.time.max.ms.");
    add(d, "replica.fetch.min.bytes", int32, "1", none, high, read_only,
        "Bytes a follower fetch waits for before the leader answers.");
    add(d, "replica.fetch.backoff.ms", int32, "1000", at_least(0), medium, read_only,
        "Pause after a failed follower fetch.");
    add(d, "replica.fetch.response.max.bytes", int32, "10485760", at_least(0), medium, read_only,
        "Bytes a follower asks for in one whole fetch response.");
    add(d, "num.replica.fetchers", int32, "1", at_least(1), high, cluster_wide,
        "Fetcher threads per source broker on a follower.");
    add(d, "replica.high.watermark.checkpoint.interval.ms", int64, "5000", none, high, read_only,
        "How often high watermarks are written to disk.");
    add(d, "auto.leader.rebalance.enable", boolean, "true", none, high, read_only,
        "Move leadership back to preferred replicas in the background.");
    add(d, "leader.imbalance.check.interval.seconds", int64, "300", at_least(1), high, read_only,
        "How often leader balance is checked.");
    add(d, "leader.imbalance.per.broker.percentage", int32, "10", none, high, read_only,
        "Share of non-preferred leaders per broker that triggers a rebalance.");
    add(d, "unclean.leader.election.enable", boolean, "false", none, high, cluster_wide,
        "Allow an out-of-sync replica to become leader as a last resort, at the cost of losing data.");
    add(d, "controlled.shutdown.enable", boolean, "true", none, medium, read_only,
        "Hand leadership over before the broker shuts down.");
    add(d, "controlled.shutdown.max.retries", int32, "3", none, medium, read_only,
        "Attempts of a controlled shutdown before giving up.");
    add(d, "controlled.shutdown.retry.backoff.ms", int64, "5000", none, medium, read_only,
        "Pause between controlled shutdown attempts.");
    add(d, "fetch.max.bytes", int32, "57671680", at_least(1024), medium, read_only,
        "Most bytes one fetch response may return.");
    add(d, "max.incremental.fetch.session.cache.slots", int32, "1000", at_least(0), medium, read_only,
        "Incremental fetch sessions the broker keeps.");
}

} // namespace detail

const config_def& broker_config_definitions()
{
    static const config_def defs = [] {
        config_def d;
        detail::define_server_configs(d);
        detail::define_replication_configs(d);
        detail::define_log_configs(d);
        detail::define_coordinator_configs(d);
        return d;
    }();
    return defs;
}

std::vector<std::string_view> broker_synonym_chain(std::string_view name)
{
    static constexpr std::array<std::array<std::string_view, 3>, 3> groups = {{
        {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
        {"log.roll.ms", "log.roll.hours", ""},
        {"log.roll.jitter.ms", "log.roll.jitter.hours", ""},
    }};
    for (const auto& g : groups) {
        if (std::find(g.begin(), g.end(), name) == g.end()) continue;
        std::vector<std::string_view> out;
        for (auto n : g) {
            if (!n.empty()) out.push_back(n);
        }
        return out;
    }
    if (name == "log.flush.interval.ms") return {name, "log.flush.scheduler.interval.ms"};
    return {name};
}

bool is_thread_pool_config(std::string_view name)
{
    static constexpr std::array<std::string_view, 6> pools = {
        "num.network.threads", "num.io.threads", "num.replica.fetchers", "num.recovery.threads.per.data.dir",
        "background.threads", "log.cleaner.threads"};
    return std::find(pools.begin(), pools.end(), name) != pools.end();
}

} // namespace samsa::config
