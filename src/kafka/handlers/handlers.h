#pragma once

#include "kafka/handler.h"

namespace samsa::kafka {

// One function per served API, each in handlers/<api>.cc. The registry (handlers.cc) lists
// them with the versions they serve.
boost::asio::awaitable<bool> handle_api_versions(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_metadata(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_produce(request_context& ctx, protocol::writer& out);
boost::asio::awaitable<bool> handle_fetch(request_context& ctx, protocol::writer& out);

} // namespace samsa::kafka
