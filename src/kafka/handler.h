#pragma once

#include "kafka/broker_context.h"
#include "net/request_handler.h"
#include "protocol/api_key.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "protocol/wire.h"

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace samsa::kafka {

/// One request being handled. `body` reads the request body (after the header); `frame` owns
/// the bytes it and any decoded records views point into, for as long as the handler runs.
struct request_context {
    broker_context& broker;
    std::shared_ptr<const net::connection_info> conn;
    protocol::request_header header;
    frame_bytes frame;
    protocol::reader body;

    int16_t version() const { return header.version; }
};

/// A handler decodes ctx.body at ctx.version(), does the work and encodes the response body
/// into `out` (the response header is already there). It returns false when the request gets
/// no response at all (Produce with acks=0).
using handler_fn = boost::asio::awaitable<bool> (*)(request_context& ctx, protocol::writer& out);

/// One served API: the versions it serves and its handler. The list of these is what
/// ApiVersions advertises, so advertised and served versions cannot drift.
struct api_handler {
    protocol::api_key key;
    int16_t min_version;
    int16_t max_version;
    handler_fn fn;
};

/// Every served API, ordered by key.
const std::vector<api_handler>& api_handlers();
const api_handler* find_handler(protocol::api_key key);

/// Decodes a request struct from the context at its version.
template<typename Request>
Request decode_request(request_context& ctx)
{
    Request r;
    r.decode(ctx.body, ctx.version());
    return r;
}

} // namespace samsa::kafka
