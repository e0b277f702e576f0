#pragma once

#include "base/gate.h"
#include "base/ids.h"
#include "cluster/metadata_cache.h"
#include "cluster/partition.h"

#include "cluster/replication_throttle.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace boost::asio {
class io_context;
}

namespace samsa::net {
class client;
}

namespace samsa::cluster {

/// Kafka's replica fetchers: for each partition this broker follows, Fetch requests to its
/// leader with replica_id = this broker, many partitions per request, from each follower's log
/// end offset with its last epoch; the leader's batches are appended as they are (offsets and
/// leader epochs kept), the high watermark taken from the response, and a diverging epoch in
/// the response (the logs forked) truncates the follower to where both agree before it fetches
/// again. One fetch loop per (leader, fetcher index): `num.replica.fetchers` loops per leader,
/// partitions spread over them by hash. Errors back a partition off for
/// `replica.fetch.backoff.ms`; a lost connection backs the whole loop off.
///
/// It follows the replicas: replica_changed() after a partition opens, changes state or
/// stops. Used on one shard (the broker thread).
class replica_fetcher {
public:
    struct options {
        node_id self{-1};
        /// The leader endpoint to fetch from (inter.broker.listener.name); empty: the first.
        std::string listener;
        int32_t max_bytes = 1048576;           // replica.fetch.max.bytes (per partition)
        int32_t response_max_bytes = 10485760; // replica.fetch.response.max.bytes
        int32_t wait_max_ms = 500;             // replica.fetch.wait.max.ms
        int32_t min_bytes = 1;                 // replica.fetch.min.bytes
        int64_t backoff_ms = 1000;             // replica.fetch.backoff.ms
        int32_t fetchers = 1;                  // num.replica.fetchers
        std::chrono::milliseconds socket_timeout{30000}; // replica.socket.timeout.ms
        /// follower.replication.throttled.rate (read at each fetch); unset: unlimited.
        std::function<int64_t()> throttled_rate;
        /// Whether this broker's replica of a partition is a throttled follower
        /// (follower.replication.throttled.replicas); unset: none is.
        std::function<bool(const topic_partition&)> throttled;
    };

    replica_fetcher(boost::asio::io_context& io, const metadata_cache& cache, options o);
    ~replica_fetcher();
    replica_fetcher(const replica_fetcher&) = delete;
    replica_fetcher& operator=(const replica_fetcher&) = delete;

    /// `p` opened, changed state, or stopped: it is fetched for while it follows a live leader.
    void replica_changed(const std::shared_ptr<partition>& p);
    /// Ends every loop and closes the connections; tasks() empties soon after.
    void stop();
    gate& tasks() { return _tasks; }

    /// Partitions being fetched for, per leader (tests and logs).
    size_t following() const { return _where.size(); }

private:
    using source_key = std::pair<int32_t, int32_t>; // leader, fetcher index
    struct followed {
        std::weak_ptr<partition> replica;
        leader_epoch epoch{-1};
        /// Not fetched for before this (steady clock, ms) after an error.
        int64_t backoff_until = 0;
    };
    struct source {
        std::map<topic_partition, followed> parts;
        std::unique_ptr<net::client> client;
        bool running = false;
    };

    boost::asio::awaitable<void> run(source_key key);
    /// One Fetch round trip; false when the connection failed (the loop backs off).
    boost::asio::awaitable<bool> fetch_once(source_key key);
    net::client* client_for(source& s, int32_t leader);
    void forget(const topic_partition& tp);

    boost::asio::io_context& _io;
    const metadata_cache& _cache;
    options _opts;
    std::map<source_key, source> _sources;
    std::map<topic_partition, source_key> _where;
    /// Shared by every loop: the rate limits all throttled replicas together.
    replication_throttle _throttle;
    bool _stopped = false;
    gate _tasks;
    std::shared_ptr<bool> _alive = std::make_shared<bool>(true);
};

} // namespace samsa::cluster
