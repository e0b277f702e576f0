#include "net/client.h"

#include "base/assert.h"
#include "base/logging.h"
#include "bytes/endian.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <random>

namespace samsa::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using clock_type = std::chrono::steady_clock;
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr logger log{"net"};

class net_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "net"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::timeout: return "The request timed out.";
        case errc::connect_timeout: return "The connection to the broker was not established in time.";
        case errc::connection_refused: return "The broker refused the connection (nothing listens there).";
        case errc::connect_failed: return "The connection to the broker could not be established.";
        case errc::disconnected: return "The connection to the broker was lost, or is down and backing off.";
        case errc::protocol_error: return "The broker's response broke the protocol; the connection was closed.";
        case errc::shut_down: return "The client was closed.";
        case errc::unsupported_version: return "The API version is not supported.";
        case errc::cancelled: return "The wait for the response was cancelled.";
        }
        return "unknown net error";
    }
};

} // namespace

const std::error_category& net_category()
{
    static net_category_impl c;
    return c;
}

namespace {

/// One request from send to completion. Owned by the caller's coroutine and, while
/// outstanding, by the queue or connection holding it.
struct pending {
    enum class state { queued, in_flight, done };

    pending(asio::io_context& io, protocol::api_key k, int16_t v, bytes b, clock_type::time_point d)
      : key(k), version(v), body(std::move(b)), deadline(d), wake(io, d)
    {}

    protocol::api_key key;
    int16_t version;
    bytes body;
    clock_type::time_point deadline;
    /// Expires at the deadline; cancelled when the request completes.
    asio::steady_timer wake;
    int32_t correlation_id = -1;
    bytes head; // size prefix and request header, encoded when written
    state st = state::queued;
    std::optional<result<raw_response>> outcome;
};

/// One connection attempt and, once established, the connection. Never reused: a new
/// attempt makes a new one.
struct connection {
    explicit connection(asio::io_context& io)
      : sock(io)
      , resolver(io)
      , writer_wake(io, asio::steady_timer::time_point::max())
      , connect_deadline(io)
    {}

    tcp::socket sock;
    tcp::resolver resolver;
    asio::steady_timer writer_wake;
    asio::steady_timer connect_deadline;
    /// Written (or being written), answers not yet read: oldest first.
    std::deque<std::shared_ptr<pending>> in_flight;
    bool dead = false;         // closed or failed; its coroutines stop
    bool connect_done = false; // resolve and connect finished (either way)
    bool connect_timed_out = false;
};

void close_socket(connection& c)
{
    boost::system::error_code ig;
    c.sock.shutdown(tcp::socket::shutdown_both, ig);
    c.sock.close(ig);
    c.resolver.cancel();
    c.writer_wake.cancel();
    c.connect_deadline.cancel();
}

} // namespace

struct client::impl : std::enable_shared_from_this<client::impl> {
    enum class link { down, connecting, up };

    impl(asio::io_context& i, client_config c)
      : io(i), cfg(std::move(c)), backoff_timer(i), rng(std::random_device{}())
    {
        cfg.max_in_flight = std::max<size_t>(cfg.max_in_flight, 1);
    }

    asio::io_context& io;
    client_config cfg;
    client_stats stats;
    gate tasks;
    /// Sent, not yet written: waiting for the connection or for room in the pipeline.
    std::deque<std::shared_ptr<pending>> unsent;
    /// The connection being attempted or established (state connecting or up).
    std::shared_ptr<connection> conn;
    link state = link::down;
    uint32_t failures = 0; // consecutive, for the backoff
    clock_type::time_point next_attempt{};
    asio::steady_timer backoff_timer;
    int32_t next_correlation = 0;
    bool closed = false;
    std::mt19937_64 rng;

    std::string peer() const { return cfg.host + ":" + std::to_string(cfg.port); }

    static awaitable<result<raw_response>> send(std::shared_ptr<impl> self, protocol::api_key key, int16_t version,
                                                bytes body, std::chrono::milliseconds timeout);
    static awaitable<result<protocol::api_versions_response>> api_versions(std::shared_ptr<impl> self);

    void enqueue(const std::shared_ptr<pending>& p);
    void complete(const std::shared_ptr<pending>& p, result<raw_response> r);
    void expire(const std::shared_ptr<pending>& p);
    void abandon(const std::shared_ptr<pending>& p);
    void remove_unsent(const std::shared_ptr<pending>& p);
    void fail_all(std::deque<std::shared_ptr<pending>> ps, std::error_code ec);
    void note_failure();
    std::chrono::milliseconds backoff(uint32_t n);
    void start_connect();
    void connect_failed(const std::shared_ptr<connection>& c, boost::system::error_code ec);
    void connected(const std::shared_ptr<connection>& c);
    void lose(const std::shared_ptr<connection>& c, errc e, std::string_view why);
    void encode_head(pending& p);
    bool on_response(const std::shared_ptr<connection>& c, frame_bytes frame);
    void close();

    static awaitable<void> connect_task(std::shared_ptr<impl> keep, std::shared_ptr<connection> c, gate::holder hold);
    static awaitable<void> connect_watchdog(std::shared_ptr<impl> keep, std::shared_ptr<connection> c,
                                            gate::holder hold);
    static awaitable<void> read_loop(std::shared_ptr<impl> keep, std::shared_ptr<connection> c, gate::holder hold);
    static awaitable<void> write_loop(std::shared_ptr<impl> keep, std::shared_ptr<connection> c, gate::holder hold);
};

// --- sending ---------------------------------------------------------------------------------

// Only `self` and `p` are touched after a suspension: the client object may be gone.
awaitable<result<raw_response>> client::impl::send(std::shared_ptr<impl> self, protocol::api_key key, int16_t version,
                                                   bytes body, std::chrono::milliseconds timeout)
{
    if (self->closed) co_return fail(errc::shut_down);
    if (timeout <= std::chrono::milliseconds::zero()) timeout = self->cfg.request_timeout;
    auto p = std::make_shared<pending>(self->io, key, version, std::move(body), clock_type::now() + timeout);
    self->enqueue(p);
    while (p->st != pending::state::done) {
        auto [ec] = co_await p->wake.async_wait(use_tuple);
        if (p->st == pending::state::done) break;
        if (!ec) {
            self->expire(p);
        } else {
            self->abandon(p); // our own wake-ups only come with the request done: the caller cancelled
        }
    }
    co_return std::move(*p->outcome);
}

void client::impl::enqueue(const std::shared_ptr<pending>& p)
{
    unsent.push_back(p);
    if (state == link::up) {
        conn->writer_wake.cancel();
        return;
    }
    if (next_attempt > clock_type::now() && next_attempt > p->deadline) {
        remove_unsent(p);
        log.debug("{} request to {} fails at once: reconnecting backs off past its deadline",
                  protocol::to_string(p->key), peer());
        complete(p, fail(errc::disconnected));
        return;
    }
    if (state == link::down) start_connect();
}

void client::impl::complete(const std::shared_ptr<pending>& p, result<raw_response> r)
{
    if (p->st == pending::state::done) return;
    p->st = pending::state::done;
    p->outcome = std::move(r);
    p->wake.cancel();
}

void client::impl::remove_unsent(const std::shared_ptr<pending>& p)
{
    auto it = std::find(unsent.begin(), unsent.end(), p);
    if (it != unsent.end()) unsent.erase(it);
}

void client::impl::expire(const std::shared_ptr<pending>& p)
{
    if (p->st == pending::state::queued) {
        remove_unsent(p);
        log.debug("{} request to {} timed out before it was written", protocol::to_string(p->key), peer());
        complete(p, fail(errc::timeout));
        return;
    }
    // Written: its answer may still come, and every later one would be taken for it.
    complete(p, fail(errc::timeout));
    log.warn("{} v{} request (correlation id {}) to {} timed out; closing the connection",
             protocol::to_string(p->key), p->version, p->correlation_id, peer());
    if (conn) lose(conn, errc::disconnected, "a request timed out");
}

void client::impl::abandon(const std::shared_ptr<pending>& p)
{
    // Written requests stay in the pipeline: their response is read and dropped.
    if (p->st == pending::state::queued) remove_unsent(p);
    complete(p, fail(errc::cancelled));
}

void client::impl::fail_all(std::deque<std::shared_ptr<pending>> ps, std::error_code ec)
{
    for (auto& p : ps) complete(p, fail(ec));
}

void client::impl::encode_head(pending& p)
{
    p.correlation_id = next_correlation;
    next_correlation = next_correlation == INT32_MAX ? 0 : next_correlation + 1;
    protocol::request_header h;
    h.key = p.key;
    h.version = p.version;
    h.correlation_id = p.correlation_id;
    if (!cfg.client_id.empty()) h.client_id = cfg.client_id;
    protocol::writer w;
    size_t at = w.reserve_int32();
    h.encode(w);
    w.patch_int32(at, static_cast<int32_t>(w.size() - 4 + p.body.size()));
    p.head = std::move(w).finish().data;
}

// --- connecting ------------------------------------------------------------------------------

std::chrono::milliseconds client::impl::backoff(uint32_t n)
{
    // Kafka's ExponentialBackoff(reconnect.backoff.ms, 2, reconnect.backoff.max.ms, 0.2).
    double base = static_cast<double>(std::max<int64_t>(cfg.reconnect_backoff.count(), 0));
    double top = std::max(base, static_cast<double>(cfg.reconnect_backoff_max.count()));
    double term = std::min(base * std::pow(2.0, std::min<uint32_t>(n > 0 ? n - 1 : 0, 40)), top);
    double jittered = std::min(term * std::uniform_real_distribution<double>(0.8, 1.2)(rng), top);
    return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(jittered)));
}

void client::impl::note_failure()
{
    ++failures;
    next_attempt = clock_type::now() + backoff(failures);
}

void client::impl::start_connect()
{
    auto h = tasks.try_enter();
    SAMSA_ASSERT(h.has_value(), "client to {} connects after close()", peer());
    state = link::connecting;
    conn = std::make_shared<connection>(io);
    asio::co_spawn(io, connect_task(shared_from_this(), conn, std::move(*h)), asio::detached);
}

awaitable<void> client::impl::connect_task(std::shared_ptr<impl> keep, std::shared_ptr<connection> c, gate::holder hold)
{
    auto self = std::move(keep);
    auto in_gate = std::move(hold);
    if (clock_type::now() < self->next_attempt) {
        self->backoff_timer.expires_at(self->next_attempt);
        co_await self->backoff_timer.async_wait(use_tuple);
    }
    if (c->dead) co_return; // closed meanwhile
    if (self->unsent.empty()) { // every request gave up meanwhile: connect on the next one
        c->dead = true;
        self->conn.reset();
        self->state = link::down;
        co_return;
    }
    ++self->stats.connect_attempts;
    c->connect_deadline.expires_after(self->cfg.connect_timeout);
    if (auto h = self->tasks.try_enter()) {
        asio::co_spawn(self->io, connect_watchdog(self, c, std::move(*h)), asio::detached);
    }
    auto [ec, endpoints] = co_await c->resolver.async_resolve(self->cfg.host, std::to_string(self->cfg.port), use_tuple);
    if (!ec && !c->dead) {
        auto [cec, ep] = co_await asio::async_connect(c->sock, endpoints, use_tuple);
        ec = cec;
    }
    c->connect_done = true;
    c->connect_deadline.cancel();
    if (c->dead) co_return;
    if (ec || c->connect_timed_out) {
        self->connect_failed(c, ec);
        co_return;
    }
    self->connected(c);
}

awaitable<void> client::impl::connect_watchdog(std::shared_ptr<impl> keep, std::shared_ptr<connection> c,
                                               gate::holder hold)
{
    auto self = std::move(keep);
    auto in_gate = std::move(hold);
    auto [ec] = co_await c->connect_deadline.async_wait(use_tuple);
    if (ec || c->connect_done || c->dead) co_return;
    c->connect_timed_out = true;
    boost::system::error_code ig;
    c->resolver.cancel();
    c->sock.close(ig);
}

void client::impl::connect_failed(const std::shared_ptr<connection>& c, boost::system::error_code ec)
{
    errc e = c->connect_timed_out                          ? errc::connect_timeout
             : ec == asio::error::connection_refused ? errc::connection_refused
                                                     : errc::connect_failed;
    std::string why = c->connect_timed_out ? fmt::format("not connected within {} ms", cfg.connect_timeout.count())
                                           : ec.message();
    c->dead = true;
    close_socket(*c);
    conn.reset();
    state = link::down;
    note_failure();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt - clock_type::now());
    if (failures == 1) {
        log.warn("cannot connect to {}: {} (next attempt in {} ms at the earliest)", peer(), why, left.count());
    } else {
        log.debug("cannot connect to {}: {} ({} failures in a row; next attempt in {} ms at the earliest)", peer(),
                  why, failures, left.count());
    }
    fail_all(std::move(unsent), e);
    unsent.clear();
}

void client::impl::connected(const std::shared_ptr<connection>& c)
{
    boost::system::error_code ig;
    c->sock.set_option(tcp::no_delay(true), ig);
    state = link::up;
    failures = 0;
    ++stats.connects;
    log.debug("connected to {}", peer());
    auto r = tasks.try_enter(), w = tasks.try_enter();
    SAMSA_ASSERT(r && w, "client to {} connected after close()", peer());
    asio::co_spawn(io, read_loop(shared_from_this(), c, std::move(*r)), asio::detached);
    asio::co_spawn(io, write_loop(shared_from_this(), c, std::move(*w)), asio::detached);
}

void client::impl::lose(const std::shared_ptr<connection>& c, errc e, std::string_view why)
{
    if (c->dead) return;
    c->dead = true;
    close_socket(*c);
    auto in_flight = std::move(c->in_flight);
    c->in_flight.clear();
    auto waiting = std::move(unsent);
    unsent.clear();
    if (conn == c) {
        conn.reset();
        state = link::down;
        note_failure();
    }
    auto level = e == errc::protocol_error ? log_level::warn : log_level::debug;
    if (log.enabled(level)) {
        auto msg = fmt::format("connection to {} closed: {}; failing {} outstanding requests", peer(), why,
                               in_flight.size() + waiting.size());
        if (level == log_level::warn) log.warn("{}", msg);
        else log.debug("{}", msg);
    }
    fail_all(std::move(in_flight), e);
    fail_all(std::move(waiting), e);
}

// --- the connection's reader and writer ------------------------------------------------------

awaitable<void> client::impl::write_loop(std::shared_ptr<impl> keep, std::shared_ptr<connection> c, gate::holder hold)
{
    auto self = std::move(keep);
    auto in_gate = std::move(hold);
    const size_t max_in_flight = self->cfg.max_in_flight;
    while (!c->dead) {
        if (self->unsent.empty() || c->in_flight.size() >= max_in_flight) {
            co_await c->writer_wake.async_wait(use_tuple);
            continue;
        }
        // Everything that fits in the pipeline goes out in one gathered write.
        std::vector<std::shared_ptr<pending>> batch; // keeps the buffers alive while writing
        std::vector<asio::const_buffer> bufs;
        while (!self->unsent.empty() && c->in_flight.size() < max_in_flight) {
            auto p = std::move(self->unsent.front());
            self->unsent.pop_front();
            self->encode_head(*p);
            p->st = pending::state::in_flight;
            c->in_flight.push_back(p);
            bufs.push_back(asio::buffer(p->head));
            bufs.push_back(asio::buffer(p->body));
            batch.push_back(std::move(p));
        }
        auto [ec, n] = co_await asio::async_write(c->sock, bufs, use_tuple);
        if (ec) {
            self->lose(c, errc::disconnected, fmt::format("write failed: {}", ec.message()));
            break;
        }
        self->stats.requests_sent += batch.size();
    }
}

awaitable<void> client::impl::read_loop(std::shared_ptr<impl> keep, std::shared_ptr<connection> c, gate::holder hold)
{
    auto self = std::move(keep);
    auto in_gate = std::move(hold);
    std::array<uint8_t, 4> size_buf{};
    while (!c->dead) {
        auto [ec, n] = co_await asio::async_read(c->sock, asio::buffer(size_buf), use_tuple);
        if (ec) {
            self->lose(c, errc::disconnected, ec == asio::error::eof ? "closed by the broker" : ec.message());
            break;
        }
        int32_t size = be::load<int32_t>(size_buf.data());
        if (size < 4 || size > self->cfg.max_response_bytes) {
            self->lose(c, errc::protocol_error,
                       fmt::format("response size {} is outside 4..{}", size, self->cfg.max_response_bytes));
            break;
        }
        frame_bytes frame(static_cast<size_t>(size));
        auto [ec2, n2] = co_await asio::async_read(c->sock, asio::buffer(frame), use_tuple);
        if (ec2) {
            self->lose(c, errc::disconnected, ec2 == asio::error::eof ? "closed by the broker" : ec2.message());
            break;
        }
        if (c->dead || !self->on_response(c, std::move(frame))) break;
    }
}

/// Matches a response to the oldest outstanding request; false (the connection lost) when
/// it does not match.
bool client::impl::on_response(const std::shared_ptr<connection>& c, frame_bytes frame)
{
    if (c->in_flight.empty()) {
        lose(c, errc::protocol_error, "a response arrived with no request outstanding");
        return false;
    }
    auto p = c->in_flight.front();
    int32_t correlation_id = be::load<int32_t>(frame.data());
    if (correlation_id != p->correlation_id) {
        lose(c, errc::protocol_error,
             fmt::format("response correlation id {} does not match {} of the oldest outstanding request ({} v{})",
                         correlation_id, p->correlation_id, protocol::to_string(p->key), p->version));
        return false;
    }
    size_t body_at = 4;
    if (protocol::response_header_version(p->key, p->version) >= 1) {
        try {
            protocol::reader r(bytes_view(frame).subspan(4));
            r.skip_tagged_fields();
            body_at += r.position();
        } catch (const protocol::decode_error& e) {
            lose(c, errc::protocol_error, fmt::format("bad response header: {}", e.what()));
            return false;
        }
    }
    c->in_flight.pop_front();
    ++stats.responses;
    complete(p, raw_response{std::move(frame), body_at}); // a no-op for an abandoned request
    c->writer_wake.cancel();                                // room in the pipeline
    return true;
}

void client::impl::close()
{
    if (closed) return;
    closed = true;
    backoff_timer.cancel();
    std::deque<std::shared_ptr<pending>> in_flight;
    if (conn) {
        auto c = std::move(conn);
        c->dead = true;
        close_socket(*c);
        in_flight = std::move(c->in_flight);
        c->in_flight.clear();
    }
    state = link::down;
    auto waiting = std::move(unsent);
    unsent.clear();
    fail_all(std::move(in_flight), errc::shut_down);
    fail_all(std::move(waiting), errc::shut_down);
    tasks.close();
}

// --- ApiVersions -----------------------------------------------------------------------------

namespace {

/// Decodes an ApiVersions response body sent for a request at `version`. A broker that does
/// not know that version answers UNSUPPORTED_VERSION with a v0 body (Kafka's
/// ApiVersionsResponse.parse falls back to v0 the same way).
result<protocol::api_versions_response> decode_api_versions(bytes_view body, int16_t version)
{
    protocol::api_versions_response resp;
    bool v0_first = body.size() >= 2 && be::load<int16_t>(body.data()) ==
                                            static_cast<int16_t>(protocol::error_code::unsupported_version);
    for (int16_t v : {v0_first ? int16_t{0} : version, int16_t{0}}) {
        try {
            protocol::reader r(body);
            resp = {};
            resp.decode(r, v);
            return resp;
        } catch (const protocol::decode_error&) {
            if (v == 0) break;
        }
    }
    return fail(errc::protocol_error);
}

} // namespace

awaitable<result<protocol::api_versions_response>> client::impl::api_versions(std::shared_ptr<impl> self)
{
    using api = protocol::api_versions_api;
    int16_t version = api::max_version;
    for (int attempt = 0;; ++attempt) {
        protocol::api_versions_request req;
        req.client_software_name = self->cfg.software_name;
        req.client_software_version = self->cfg.software_version;
        protocol::writer w;
        req.encode(w, version);
        auto raw = co_await send(self, api::key, version, std::move(w).finish().data, std::chrono::milliseconds::zero());
        if (!raw) co_return fail(raw.error());
        auto resp = decode_api_versions(raw->body(), version);
        if (!resp) co_return fail(resp.error());
        if (resp->error_code != static_cast<int16_t>(protocol::error_code::unsupported_version) || attempt > 0) {
            co_return resp;
        }
        auto v = highest_common_version(*resp, api::key, api::min_version, api::max_version);
        if (!v || *v >= version) co_return fail(errc::unsupported_version);
        version = *v;
    }
}

std::optional<int16_t> highest_common_version(const protocol::api_versions_response& broker, protocol::api_key key,
                                              int16_t min_version, int16_t max_version)
{
    for (auto& k : broker.api_keys) {
        if (k.api_key != static_cast<int16_t>(key)) continue;
        int16_t hi = std::min(k.max_version, max_version);
        int16_t lo = std::max(k.min_version, min_version);
        if (hi < lo) return std::nullopt;
        return hi;
    }
    return std::nullopt;
}

// --- client ----------------------------------------------------------------------------------

client::client(asio::io_context& io, client_config cfg) : _impl(std::make_shared<impl>(io, std::move(cfg))) {}

client::~client() { close(); }

awaitable<result<raw_response>> client::send_raw(protocol::api_key key, int16_t version, bytes body,
                                                 std::chrono::milliseconds timeout)
{
    // Not a coroutine itself: what runs holds the impl, not this object.
    return impl::send(_impl, key, version, std::move(body), timeout);
}

awaitable<result<protocol::api_versions_response>> client::api_versions() { return impl::api_versions(_impl); }

void client::close() { _impl->close(); }
gate& client::tasks() { return _impl->tasks; }
bool client::is_connected() const { return _impl->state == impl::link::up; }
const client_stats& client::stats() const { return _impl->stats; }
const client_config& client::config() const { return _impl->cfg; }

} // namespace samsa::net
