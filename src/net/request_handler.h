#pragma once

#include "bytes/bytes.h"
#include "protocol/wire.h"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace samsa::net {

/// Who sent a request.
struct connection_info {
    uint64_t id = 0;
    std::string listener;    // listener name, e.g. PLAINTEXT
    std::string peer;        // "ip:port"
};

/// What the connection layer asks of the protocol layer. handle() is called once per request
/// frame, in arrival order, and each call is started before the next one (a handler that does
/// not suspend before its side effects therefore applies them in order). Responses are sent in
/// request order whatever order handlers finish in.
class request_handler {
public:
    virtual ~request_handler() = default;

    /// `frame` is the request without its 4-byte size. Returns the response (header and body,
    /// without the size) or nullopt when the request gets no response (Produce with acks=0).
    /// Throws protocol::decode_error (or any std::exception) to have the connection closed.
    virtual boost::asio::awaitable<std::optional<protocol::encoded_message>>
    handle(std::shared_ptr<const connection_info> conn, frame_bytes frame) = 0;
};

} // namespace samsa::net
