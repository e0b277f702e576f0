#pragma once

#include "base/gate.h"
#include "base/result.h"
#include "bytes/bytes.h"
#include "protocol/api_key.h"
#include "protocol/messages/api_versions.h"
#include "protocol/wire.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace boost::asio {
class io_context;
}

namespace samsa::net {

/// Expected failures of an outbound request (see client).
enum class errc {
    timeout = 1,        // no response within the request's timeout (the connection is closed)
    connect_timeout,    // the connection was not established within connect_timeout
    connection_refused, // nothing listens at host:port
    connect_failed,     // resolving or connecting failed otherwise (unreachable, unknown host)
    disconnected,       // the connection was lost with the request outstanding, or reconnecting is
                        // backing off past the request's deadline
    protocol_error,     // a response the client cannot match or parse (the connection is closed)
    shut_down,          // the client was closed
    unsupported_version, // the version is outside what the codec (or the broker) knows
    cancelled,          // the caller cancelled its wait (the request may still have been sent)
};

const std::error_category& net_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), net_category()}; }

} // namespace samsa::net

template<>
struct std::is_error_code_enum<samsa::net::errc> : std::true_type {};

namespace samsa::net {

/// One broker connection's settings; the names in comments are the Kafka client configs
/// they follow (with their defaults).
struct client_config {
    std::string host = "127.0.0.1";
    uint16_t port = 9092;
    /// client.id, sent in every request header; empty sends a null client id.
    std::string client_id = "samsa";
    /// socket.connection.setup.timeout.ms: resolve and connect must finish within this.
    std::chrono::milliseconds connect_timeout{10000};
    /// request.timeout.ms: default time a request waits for its response, counted from
    /// send (waiting for the connection included).
    std::chrono::milliseconds request_timeout{30000};
    /// reconnect.backoff.ms and reconnect.backoff.max.ms: after the n-th consecutive
    /// failure the next connection attempt waits min(backoff * 2^(n-1), backoff_max), with
    /// ±20% jitter (never above backoff_max). A connection that is established resets n.
    std::chrono::milliseconds reconnect_backoff{50};
    std::chrono::milliseconds reconnect_backoff_max{1000};
    /// max.in.flight.requests.per.connection: requests written and not yet answered; more
    /// wait, in order, for room.
    size_t max_in_flight = 5;
    /// A response frame declaring more than this fails the connection (protocol_error).
    int32_t max_response_bytes = 104857600 + 1024;
    /// Sent in ApiVersions v3+ (client.software.name / client.software.version).
    std::string software_name = "samsa";
    std::string software_version = "0.1.0";
};

/// A response as received: the frame (response header and body, without the size) and
/// where the body starts in it.
struct raw_response {
    frame_bytes frame;
    size_t body_at = 0;

    bytes_view body() const { return bytes_view(frame).subspan(body_at); }
};

/// A decoded response. `body` may hold views into `frame` (records fields): keep them
/// together (moving is fine, the frame's buffer does not move).
template<typename Body>
struct response {
    Body body;
    frame_bytes frame;

    const Body& operator*() const { return body; }
    const Body* operator->() const { return &body; }
};

/// What the generated `<api>_api` traits structs (protocol/messages/<api>.h) provide.
template<typename Api>
concept kafka_api = requires {
    { Api::key } -> std::convertible_to<protocol::api_key>;
    { Api::min_version } -> std::convertible_to<int16_t>;
    { Api::max_version } -> std::convertible_to<int16_t>;
    typename Api::request_type;
    typename Api::response_type;
};

/// The typed result of client::send<Api>.
template<kafka_api Api>
using response_of = response<typename Api::response_type>;

/// Counters, for tests and (later) metrics.
struct client_stats {
    uint64_t connect_attempts = 0; // connection attempts started
    uint64_t connects = 0;         // connections established
    uint64_t requests_sent = 0;    // requests written
    uint64_t responses = 0;        // responses matched to their request
};

/// An outbound Kafka-protocol connection to one broker (Kafka's NetworkClient for one node):
/// for replica fetchers, controller requests and tools.
///
/// Owner thread: a client is created, used and closed on the thread that runs its
/// io_context, and every coroutine calling it runs there; it is not thread-safe.
///
/// Rules:
/// - Connecting is lazy: the first request connects, and so does the first one after a
///   failure, once the reconnect backoff (client_config) has passed. Requests sent while
///   connecting wait for that attempt; when it fails they all fail with its error
///   (connection_refused, connect_timeout, connect_failed). A request whose deadline comes
///   before the backoff ends fails at once with disconnected.
/// - One pipeline: up to max_in_flight requests are written and unanswered at once, written in
///   send order, each with the next correlation id; responses must come back in that order. A
///   response whose correlation id is not the oldest outstanding one, a bad frame size or an
///   unparsable response header is a protocol_error: the connection closes and every
///   outstanding request fails with protocol_error.
/// - A request not answered within its timeout fails with timeout; if it was already written,
///   the connection closes (the stream is out of step) and the other outstanding requests fail
///   with disconnected. A lost connection fails every outstanding request with disconnected.
///   Every connection loss counts as a failure for the backoff.
/// - A caller cancelling its wait (e.g. `co_await (c.send_raw(...) || timer.async_wait(...))`)
///   gets cancelled; a request already written stays in the pipeline and its response is
///   dropped.
/// - Requests without a response (Produce with acks=0) are not supported: they would time out.
/// - close() (and the destructor) fails every outstanding request with shut_down, closes the
///   connection and closes tasks(); later sends fail with shut_down. Suspended callers resume
///   on the io_context, never touching the client object itself, so a client may be destroyed
///   while requests are outstanding.
class client {
public:
    client(boost::asio::io_context& io, client_config cfg);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Sends one request whose body (no header) is `body`, encoded at `version`, and returns
    /// the response frame. `timeout` zero means client_config::request_timeout.
    boost::asio::awaitable<result<raw_response>>
    send_raw(protocol::api_key key, int16_t version, bytes body,
             std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());

    /// Encodes `req` at `version`, sends it and decodes the response at the same version. A
    /// version outside what the codec knows gives unsupported_version; a response the codec
    /// cannot decode gives protocol_error. Use as `c.send<protocol::metadata_api>(req, 12)`.
    /// Throws protocol::encode_error (before anything is sent) for a value the version cannot
    /// carry, as the codec does.
    template<kafka_api Api>
    boost::asio::awaitable<result<response_of<Api>>>
    send(const typename Api::request_type& req, int16_t version,
         std::chrono::milliseconds timeout = std::chrono::milliseconds::zero())
    {
        // Not a coroutine: `req` is encoded before this returns, so it may be a temporary.
        if (version < Api::min_version || version > Api::max_version) {
            return ready_failure<response_of<Api>>(errc::unsupported_version);
        }
        protocol::writer w;
        req.encode(w, version);
        auto m = std::move(w).finish();
        bytes body = m.splices.empty() ? std::move(m.data) : protocol::flatten(m);
        return decode_as<typename Api::response_type>(send_raw(Api::key, version, std::move(body), timeout), version);
    }

    /// Sends ApiVersions at the highest version the codec knows; when the broker answers
    /// UNSUPPORTED_VERSION (a v0 body listing its ApiVersions range) retries once at the highest
    /// version both know. The response lists the broker's version range of every API.
    boost::asio::awaitable<result<protocol::api_versions_response>> api_versions();

    /// Fails every outstanding request with shut_down and closes the connection and tasks().
    /// Idempotent.
    void close();

    /// Held by the connection's background coroutines (connect, read, write); close() closes
    /// it and it empties soon after (wait with app::wait_closed).
    gate& tasks();
    bool is_connected() const;
    const client_stats& stats() const;
    const client_config& config() const;

    struct impl;

private:
    template<typename T>
    static boost::asio::awaitable<result<T>> ready_failure(errc e)
    {
        co_return fail(e);
    }

    template<typename Body>
    static boost::asio::awaitable<result<response<Body>>> decode_as(boost::asio::awaitable<result<raw_response>> raw,
                                                                    int16_t version)
    {
        auto r = co_await std::move(raw);
        if (!r) co_return fail(r.error());
        response<Body> out;
        try {
            protocol::reader rd(r->body());
            out.body.decode(rd, version);
        } catch (const protocol::decode_error&) {
            co_return fail(errc::protocol_error);
        }
        out.frame = std::move(r->frame);
        co_return out;
    }

    std::shared_ptr<impl> _impl;
};

/// The highest version of `key` in both [min_version, max_version] and the broker's range in
/// `broker`, or nullopt when they do not overlap (or the broker does not list the API).
std::optional<int16_t> highest_common_version(const protocol::api_versions_response& broker, protocol::api_key key,
                                              int16_t min_version, int16_t max_version);

/// The highest version of Api that both the codec and the broker know.
template<kafka_api Api>
std::optional<int16_t> highest_common_version(const protocol::api_versions_response& broker)
{
    return highest_common_version(broker, Api::key, Api::min_version, Api::max_version);
}

} // namespace samsa::net
