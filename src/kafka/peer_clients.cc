#include "kafka/peer_clients.h"

#include "cluster/metadata_cache.h"

#include <boost/asio/io_context.hpp>

namespace samsa::kafka {

peer_clients::peer_clients(boost::asio::io_context& io, const cluster::metadata_cache& cache, options opts)
  : _io(io), _cache(cache), _opts(std::move(opts))
{}

peer_clients::~peer_clients() { close(); }

net::client* peer_clients::client_for(node_id broker)
{
    if (_closed) return nullptr;
    auto* b = _cache.broker(broker);
    auto* ep = b ? b->endpoint_for(_opts.listener) : nullptr;
    if (!ep) return nullptr;
    auto& p = _peers[broker()];
    if (p.client && p.host == ep->host && p.port == ep->port) return p.client.get();
    if (p.client) p.client->close(); // restarted elsewhere: its outstanding requests fail
    net::client_config cfg;
    cfg.host = ep->host;
    cfg.port = static_cast<uint16_t>(ep->port);
    cfg.client_id = "samsa-broker-" + std::to_string(_opts.self());
    cfg.request_timeout = _opts.request_timeout;
    cfg.connect_timeout = std::chrono::milliseconds(5000);
    p.host = ep->host;
    p.port = ep->port;
    p.client = std::make_unique<net::client>(_io, cfg);
    return p.client.get();
}

std::vector<gate*> peer_clients::tasks()
{
    std::vector<gate*> out;
    for (auto& [id, p] : _peers) {
        if (p.client) out.push_back(&p.client->tasks());
    }
    return out;
}

void peer_clients::close()
{
    _closed = true;
    for (auto& [id, p] : _peers) {
        if (p.client) p.client->close();
    }
}

} // namespace samsa::kafka
