#pragma once

#include "base/ids.h"
#include "net/client.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace samsa::cluster {
class metadata_cache;
}

namespace samsa::kafka {

/// Connections from this broker to the others, for the requests brokers send each other
/// outside replication and the controller's channel: a transaction coordinator's
/// WriteTxnMarkers to partition leaders, a partition leader's AddPartitionsToTxn to the
/// coordinator (KIP-890). One client per broker, on the inter-broker listener, found in the
/// metadata cache (a broker that moved to another address gets a fresh connection). Used on
/// the broker's thread only.
class peer_clients {
public:
    struct options {
        node_id self{-1};
        /// inter.broker.listener.name; empty: the broker's first endpoint.
        std::string listener;
        std::chrono::milliseconds request_timeout{30000};
    };

    peer_clients(boost::asio::io_context& io, const cluster::metadata_cache& cache, options opts);
    ~peer_clients();

    /// The connection to `broker`, or nullptr when the metadata cache does not know it (or
    /// after close()).
    net::client* client_for(node_id broker);

    /// Sends one request to `broker`; disconnected when it is unknown.
    template<net::kafka_api Api>
    boost::asio::awaitable<result<net::response_of<Api>>> send(node_id broker, const typename Api::request_type& req,
                                                               int16_t version)
    {
        auto* c = client_for(broker);
        if (!c) return unknown<net::response_of<Api>>();
        return c->send<Api>(req, version);
    }

    /// Closes every connection; later sends fail. Idempotent.
    void close();
    /// The connections' background tasks, to wait for after close() before the io_context goes.
    std::vector<gate*> tasks();

private:
    template<typename T>
    static boost::asio::awaitable<result<T>> unknown()
    {
        co_return fail(net::errc::disconnected);
    }

    struct peer {
        std::string host;
        int32_t port = 0;
        std::unique_ptr<net::client> client;
    };
    boost::asio::io_context& _io;
    const cluster::metadata_cache& _cache;
    options _opts;
    std::map<int32_t, peer> _peers;
    bool _closed = false;
};

} // namespace samsa::kafka
