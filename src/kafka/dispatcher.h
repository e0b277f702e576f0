#pragma once

#include "kafka/handler.h"
#include "net/request_handler.h"

namespace samsa::kafka {

/// Turns request frames into responses: decodes the header, finds the API's handler, checks the
/// version (ApiVersions answers UNSUPPORTED_VERSION in a v0 body, as clients expect; anything
/// else unknown or unsupported closes the connection) and runs the handler.
class dispatcher final : public net::request_handler {
public:
    explicit dispatcher(broker_context& b) : _broker(b) {}

    boost::asio::awaitable<std::optional<protocol::encoded_message>>
    handle(std::shared_ptr<const net::connection_info> conn, frame_bytes frame) override;

private:
    broker_context& _broker;
};

} // namespace samsa::kafka
