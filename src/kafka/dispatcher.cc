#include "kafka/dispatcher.h"

#include "base/logging.h"
#include "kafka/handlers/api_versions.h"

#include <fmt/format.h>

namespace samsa::kafka {
namespace {
constexpr logger log{"kafka"};
}

boost::asio::awaitable<std::optional<protocol::encoded_message>>
dispatcher::handle(std::shared_ptr<const net::connection_info> conn, frame_bytes frame)
{
    protocol::reader hr(frame);
    protocol::request_header h;
    h.decode(hr);
    auto* api = find_handler(h.key);
    if (!api) {
        throw protocol::decode_error(fmt::format("request with unknown or unsupported API key {} (correlation id {})",
                                                 static_cast<int16_t>(h.key), h.correlation_id));
    }
    protocol::writer out;
    bool supported = h.version >= api->min_version && h.version <= api->max_version;
    if (!supported && h.key == protocol::api_key::api_versions) {
        protocol::response_header{h.correlation_id}.encode(out, 0);
        encode_unsupported_api_versions(out);
        co_return std::move(out).finish();
    }
    if (!supported) {
        throw protocol::decode_error(fmt::format("{} request version {} is not supported (served: {}-{})",
                                                 protocol::to_string(h.key), h.version, api->min_version,
                                                 api->max_version));
    }
    protocol::response_header{h.correlation_id}.encode(
        out, protocol::response_header_version(h.key, h.version));
    size_t body_at = hr.position();
    request_context ctx{_broker, std::move(conn), std::move(h), std::move(frame), protocol::reader(bytes_view{})};
    ctx.body = protocol::reader(bytes_view(ctx.frame).subspan(body_at));
    if (log.enabled(log_level::trace)) {
        log.trace("{} v{} correlation {} from {}", protocol::to_string(ctx.header.key), ctx.header.version,
                  ctx.header.correlation_id, ctx.conn->peer);
    }
    bool respond = co_await api->fn(ctx, out);
    if (!respond) co_return std::nullopt;
    co_return std::move(out).finish();
}

} // namespace samsa::kafka
