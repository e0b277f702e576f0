#pragma once

#include "base/gate.h"
#include "net/request_handler.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace samsa::net {

struct listener_config {
    std::string name = "PLAINTEXT";
    std::string host;  // empty: all interfaces
    uint16_t port = 9092; // 0: any free port
};

struct server_config {
    std::vector<listener_config> listeners;
    /// socket.request.max.bytes: larger declared frames close the connection unread.
    int64_t max_request_bytes = 104857600;
    /// connections.max.idle.ms
    int64_t connections_max_idle_ms = 600000;
    /// Requests of one connection being handled at once (pipelining depth).
    size_t max_in_flight_per_connection = 32;
    int socket_send_buffer_bytes = -1;
    int socket_receive_buffer_bytes = -1;
};

/// The Kafka-protocol TCP server: accepts connections on every listener, reads size-prefixed
/// frames, hands them to the request_handler and writes the responses back in order (file
/// regions in responses go out with sendfile). All of it runs on the given io_context's
/// thread. A frame whose declared size is negative or above max_request_bytes, or a request the
/// handler rejects, closes that connection only.
///
/// Every coroutine the server starts (accept loops, each connection's reader, writer, idle
/// watchdog and request handlers) holds tasks(), the server's gate: drain() and stop() close
/// it, and it is empty once nothing of the server runs any more (wait with app::wait_closed).
class server {
public:
    server(boost::asio::io_context& io, server_config cfg, std::shared_ptr<request_handler> handler);
    ~server();

    /// Binds and starts accepting; throws std::system_error when a listener cannot bind.
    void start();
    /// Stops accepting and closes every connection (requests still being handled finish, but
    /// their responses are dropped); closes tasks().
    void stop();
    /// Stops accepting and reading: requests already being handled are answered, then each
    /// connection closes (frames read but not yet handed to the handler are dropped
    /// unanswered); closes tasks(), which is empty when all are done. stop() closes what is
    /// left.
    void drain();
    /// The gate every coroutine of the server holds (see the class comment).
    gate& tasks();
    /// Where each listener is bound (resolves port 0), in listener order.
    struct bound {
        std::string name;
        std::string host;
        uint16_t port;
    };
    std::vector<bound> bound_listeners() const;
    size_t connection_count() const;

    struct impl;

private:
    std::shared_ptr<impl> _impl;
};

} // namespace samsa::net
