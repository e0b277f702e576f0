// net::client against a real net::server on 127.0.0.1 in the same io_context: typed round
// trips, pipelining, timeouts, reconnecting with backoff, refused connections, protocol errors
// and closing with requests outstanding.
#include "net/client.h"
#include "net/server.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "protocol/messages/metadata.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>

namespace samsa::net {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;
using protocol::api_key;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// Answers ApiVersions and Metadata with the generated codec. A Metadata request for the topic
/// "hold" is withheld until release_all(); one for "bad-correlation" is answered with a wrong
/// correlation id; every answer is delayed by up to max_delay.
class test_handler : public request_handler {
public:
    explicit test_handler(asio::io_context& io) : _io(io) {}

    int16_t api_versions_max = protocol::api_versions_api::max_version;
    std::chrono::milliseconds max_delay{0};

    size_t requests = 0;
    size_t concurrent = 0;
    size_t max_concurrent = 0;
    std::set<uint64_t> connections;
    std::vector<int16_t> api_versions_seen;

    void release_all()
    {
        for (auto& t : _held) t->cancel();
        _held.clear();
    }
    size_t held() const { return _held.size(); }

    awaitable<std::optional<protocol::encoded_message>> handle(std::shared_ptr<const connection_info> conn,
                                                                frame_bytes frame) override
    {
        ++requests;
        connections.insert(conn->id);
        max_concurrent = std::max(max_concurrent, ++concurrent);
        protocol::reader r(frame);
        protocol::request_header h;
        h.decode(r);
        protocol::writer out;
        if (h.key == api_key::api_versions) {
            api_versions_seen.push_back(h.version);
            answer_api_versions(h, r, out);
        } else if (h.key == api_key::metadata) {
            co_await answer_metadata(h, r, out);
        } else {
            --concurrent;
            throw protocol::decode_error("test_handler: unexpected API");
        }
        --concurrent;
        co_return std::move(out).finish();
    }

private:
    void answer_api_versions(const protocol::request_header& h, protocol::reader& r, protocol::writer& out)
    {
        protocol::api_versions_response resp;
        resp.api_keys = {{static_cast<int16_t>(api_key::api_versions), 0, api_versions_max},
                         {static_cast<int16_t>(api_key::metadata), 1, 9}};
        protocol::response_header{h.correlation_id}.encode(out, 0);
        if (h.version > api_versions_max) {
            resp.error_code = static_cast<int16_t>(protocol::error_code::unsupported_version);
            resp.encode(out, 0);
            return;
        }
        protocol::api_versions_request req;
        req.decode(r, h.version);
        resp.encode(out, h.version);
    }

    awaitable<void> answer_metadata(const protocol::request_header& h, protocol::reader& r, protocol::writer& out)
    {
        protocol::metadata_request req;
        req.decode(r, h.version);
        std::string name = req.topics && !req.topics->empty() ? req.topics->front().name.value_or("") : "";
        if (name == "hold") {
            auto t = std::make_shared<asio::steady_timer>(_io, asio::steady_timer::time_point::max());
            _held.push_back(t);
            co_await t->async_wait(use_tuple);
        }
        if (max_delay.count() > 0) {
            asio::steady_timer t(_io, std::chrono::milliseconds(_rng() % (max_delay.count() + 1)));
            co_await t.async_wait(use_tuple);
        }
        int32_t correlation_id = h.correlation_id + (name == "bad-correlation" ? 1000 : 0);
        protocol::metadata_response resp;
        resp.brokers.push_back({1, "localhost", 9092, std::nullopt});
        resp.cluster_id = "test-cluster";
        for (auto& t : *req.topics) {
            protocol::metadata_response::metadata_response_topic rt;
            rt.name = t.name;
            rt.error_code = static_cast<int16_t>(protocol::error_code::unknown_topic_or_partition);
            resp.topics.push_back(rt);
        }
        protocol::response_header{correlation_id}.encode(out, protocol::response_header_version(h.key, h.version));
        resp.encode(out, h.version);
    }

    asio::io_context& _io;
    std::vector<std::shared_ptr<asio::steady_timer>> _held;
    std::mt19937 _rng{42};
};

protocol::metadata_request metadata_for(std::string topic)
{
    protocol::metadata_request req;
    req.topics.emplace();
    protocol::metadata_request::metadata_request_topic t;
    t.name = std::move(topic);
    req.topics->push_back(t);
    return req;
}

/// The topic name a Metadata response echoes, or "" when it has none.
std::string echoed(const response_of<protocol::metadata_api>& r)
{
    return r->topics.empty() ? "" : r->topics.front().name.value_or("");
}

awaitable<void> sleep_for(std::chrono::milliseconds d)
{
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_tuple);
}

/// Polls `cond` every millisecond; false when it is still false after `limit`.
awaitable<bool> wait_until(std::function<bool()> cond, std::chrono::milliseconds limit = 10s)
{
    auto end = steady::now() + limit;
    while (!cond()) {
        if (steady::now() > end) co_return false;
        co_await sleep_for(1ms);
    }
    co_return true;
}

using metadata_result = result<response_of<protocol::metadata_api>>;

/// Sends a Metadata request for `topic` and stores the outcome in `*out`.
awaitable<void> send_metadata(client* c, std::string topic, std::optional<metadata_result>* out,
                              std::chrono::milliseconds timeout = 0ms)
{
    *out = co_await c->send<protocol::metadata_api>(metadata_for(std::move(topic)), 9, timeout);
}

class client_test : public ::testing::Test {
protected:
    void TearDown() override
    {
        if (_srv) _srv->stop();
    }

    void start_server(uint16_t port = 0)
    {
        server_config cfg;
        cfg.listeners.push_back({"PLAINTEXT", "127.0.0.1", port});
        _srv = std::make_unique<server>(io, cfg, handler);
        _srv->start();
        this->port = _srv->bound_listeners().at(0).port;
    }

    /// Answers what is withheld and stops the server (its coroutines then finish).
    void stop_server()
    {
        handler->release_all();
        _srv->stop();
        _srv.reset();
    }

    client_config config() const
    {
        client_config c;
        c.host = "127.0.0.1";
        c.port = port;
        c.request_timeout = 10s;
        c.reconnect_backoff = 10ms;
        c.reconnect_backoff_max = 100ms;
        return c;
    }

    /// Runs the test body on the io_context, then everything it started until nothing is
    /// left (bounded): a test that leaves a coroutine behind fails.
    void run(std::function<awaitable<void>()> body)
    {
        bool done = false;
        std::exception_ptr error;
        asio::co_spawn(io, body(), [&](std::exception_ptr e) {
            error = e;
            done = true;
        });
        io.run_for(60s);
        EXPECT_TRUE(done) << "the test body did not finish";
        EXPECT_TRUE(io.stopped()) << "something the test started is still running";
        if (error) std::rethrow_exception(error);
    }

    asio::io_context io;
    std::shared_ptr<test_handler> handler = std::make_shared<test_handler>(io);
    uint16_t port = 0;

private:
    std::unique_ptr<server> _srv;
};

TEST_F(client_test, typed_round_trip_at_flexible_and_non_flexible_versions)
{
    start_server();
    run([&]() -> awaitable<void> {
        client c(io, config());
        auto versions = co_await c.api_versions();
        EXPECT_TRUE(versions) << versions.error().message();
        if (versions) {
            EXPECT_EQ(versions->error_code, 0);
            // The broker serves Metadata 1-9: the highest common version is 9.
            EXPECT_EQ(highest_common_version<protocol::metadata_api>(*versions), std::optional<int16_t>(9));
            EXPECT_EQ(highest_common_version(*versions, api_key::metadata, 0, 4), std::optional<int16_t>(4));
            EXPECT_EQ(highest_common_version(*versions, api_key::produce, 0, 9), std::nullopt);
        }
        EXPECT_EQ(handler->api_versions_seen, std::vector<int16_t>{protocol::api_versions_api::max_version});
        for (int16_t v : {9, 12, 1, 0}) { // flexible (header v2 / v1) and not (header v1 / v0)
            auto r = co_await c.send<protocol::metadata_api>(metadata_for("orders"), v);
            EXPECT_TRUE(r) << "v" << v << ": " << r.error().message();
            if (!r) continue;
            EXPECT_EQ(echoed(*r), "orders") << "v" << v;
            EXPECT_EQ((*r)->brokers.size(), 1u);
            EXPECT_EQ((*r)->brokers.at(0).host, "localhost");
            if (v >= 2) { EXPECT_EQ((*r)->cluster_id, std::optional<std::string>("test-cluster")); }
        }
        auto bad = co_await c.send<protocol::metadata_api>(metadata_for("x"), 99);
        EXPECT_EQ(bad.error(), make_error_code(errc::unsupported_version));
        EXPECT_EQ(c.stats().connects, 1u);
        EXPECT_EQ(c.stats().responses, 5u);
        c.close();
        stop_server();
    });
}

TEST_F(client_test, api_versions_retries_at_the_version_the_broker_answers_with)
{
    handler->api_versions_max = 2;
    start_server();
    run([&]() -> awaitable<void> {
        client c(io, config());
        auto versions = co_await c.api_versions();
        EXPECT_TRUE(versions) << versions.error().message();
        if (versions) { EXPECT_EQ(versions->error_code, 0); }
        EXPECT_EQ(handler->api_versions_seen, (std::vector<int16_t>{protocol::api_versions_api::max_version, 2}));
        c.close();
        stop_server();
    });
}

TEST_F(client_test, twenty_pipelined_requests_are_answered_in_order_on_one_connection)
{
    handler->max_delay = 3ms;
    start_server();
    run([&]() -> awaitable<void> {
        auto cfg = config();
        cfg.max_in_flight = 8;
        client c(io, cfg);
        std::vector<std::optional<metadata_result>> results(20);
        for (size_t i = 0; i < results.size(); ++i) {
            asio::co_spawn(io, send_metadata(&c, "t" + std::to_string(i), &results[i]), asio::detached);
        }
        bool all = co_await wait_until([&] {
            return std::all_of(results.begin(), results.end(), [](auto& r) { return r.has_value(); });
        });
        EXPECT_TRUE(all);
        for (size_t i = 0; i < results.size(); ++i) {
            if (!results[i]) continue;
            auto& r = *results[i];
            EXPECT_TRUE(r) << i << ": " << r.error().message();
            if (r) { EXPECT_EQ(echoed(*r), "t" + std::to_string(i)); }
        }
        EXPECT_EQ(handler->connections.size(), 1u);
        EXPECT_GE(handler->max_concurrent, 2u) << "requests were not pipelined";
        EXPECT_LE(handler->max_concurrent, 8u) << "more than max_in_flight requests were outstanding";
        EXPECT_EQ(c.stats().requests_sent, 20u);
        EXPECT_EQ(c.stats().responses, 20u);
        c.close();
        stop_server();
    });
}

TEST_F(client_test, a_withheld_answer_times_out_and_the_next_request_reconnects)
{
    start_server();
    run([&]() -> awaitable<void> {
        auto cfg = config();
        cfg.request_timeout = 300ms;
        client c(io, cfg);
        // "behind" is written after "hold" on the same connection, with a longer timeout: the
        // timeout of "hold" closes the connection, which fails "behind" as disconnected.
        std::optional<metadata_result> held, behind;
        auto start = steady::now();
        asio::co_spawn(io, send_metadata(&c, "hold", &held), asio::detached);
        asio::co_spawn(io, send_metadata(&c, "behind", &behind, 5s), asio::detached);
        EXPECT_TRUE(co_await wait_until([&] { return held && behind; }));
        EXPECT_LT(steady::now() - start, 5s);
        if (held) { EXPECT_EQ(held->error(), make_error_code(errc::timeout)); }
        if (behind) { EXPECT_EQ(behind->error(), make_error_code(errc::disconnected)); }
        auto next = co_await c.send<protocol::metadata_api>(metadata_for("next"), 9);
        EXPECT_TRUE(next) << next.error().message();
        if (next) { EXPECT_EQ(echoed(*next), "next"); }
        EXPECT_EQ(c.stats().connects, 2u);
        EXPECT_EQ(handler->connections.size(), 2u);
        c.close();
        stop_server();
    });
}

/// The most connection attempts a client may make in `elapsed` when every attempt fails: the
/// gaps after consecutive failures are at least 80% of min(base * 2^(n-1), max).
size_t max_attempts_in(steady::duration elapsed, std::chrono::milliseconds base, std::chrono::milliseconds max)
{
    double left = std::chrono::duration<double, std::milli>(elapsed).count();
    size_t attempts = 1; // one may start at once
    for (uint32_t n = 1;; ++n) {
        double gap = 0.8 * std::min(base.count() * std::pow(2.0, n - 1), static_cast<double>(max.count()));
        if (gap > left) return attempts;
        left -= gap;
        ++attempts;
    }
}

TEST_F(client_test, a_restarted_server_is_reconnected_to_after_backoff)
{
    start_server();
    run([&]() -> awaitable<void> {
        auto cfg = config();
        cfg.reconnect_backoff = 20ms;
        cfg.reconnect_backoff_max = 80ms;
        client c(io, cfg);
        auto first = co_await c.send<protocol::metadata_api>(metadata_for("before"), 9);
        EXPECT_TRUE(first) << first.error().message();
        uint16_t same_port = port;
        stop_server();

        // Down: every request fails, and the attempts are spaced by the backoff.
        auto attempts_before = c.stats().connect_attempts;
        auto start = steady::now();
        size_t sent = 0, refused = 0;
        while (steady::now() - start < 400ms) {
            auto r = co_await c.send<protocol::metadata_api>(metadata_for("down"), 9);
            ++sent;
            EXPECT_FALSE(r);
            if (r) break;
            EXPECT_TRUE(r.error() == errc::connection_refused || r.error() == errc::disconnected) << r.error().message();
            refused += r.error() == errc::connection_refused;
        }
        auto elapsed = steady::now() - start;
        auto attempts = c.stats().connect_attempts - attempts_before;
        EXPECT_GE(refused, 1u);
        EXPECT_GE(attempts, 2u) << "it stopped trying";
        EXPECT_LE(attempts, max_attempts_in(elapsed, cfg.reconnect_backoff, cfg.reconnect_backoff_max) + 1)
            << "attempts came faster than the backoff allows (" << sent << " requests)";

        // Up again on the same port: the next attempt connects.
        start_server(same_port);
        EXPECT_EQ(port, same_port);
        auto after = co_await c.send<protocol::metadata_api>(metadata_for("after"), 9);
        EXPECT_TRUE(after) << after.error().message();
        if (after) { EXPECT_EQ(echoed(*after), "after"); }
        EXPECT_EQ(c.stats().connects, 2u);
        c.close();
        stop_server();
    });
}

TEST_F(client_test, connection_refused_is_reported_fast)
{
    uint16_t free_port;
    {
        asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
        free_port = a.local_endpoint().port();
    } // closed: nothing listens there now
    run([&]() -> awaitable<void> {
        auto cfg = config();
        cfg.port = free_port;
        client c(io, cfg);
        auto start = steady::now();
        auto r = co_await c.send<protocol::metadata_api>(metadata_for("x"), 9);
        EXPECT_LT(steady::now() - start, 5s);
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_EQ(r.error(), make_error_code(errc::connection_refused));
            EXPECT_FALSE(r.error().message().empty());
        }
        EXPECT_EQ(c.stats().connect_attempts, 1u);
        EXPECT_FALSE(c.is_connected());
        c.close();
    });
}

TEST_F(client_test, a_correlation_mismatch_fails_the_connection_and_every_outstanding_request)
{
    start_server();
    run([&]() -> awaitable<void> {
        client c(io, config());
        std::optional<metadata_result> a, bad, after;
        asio::co_spawn(io, send_metadata(&c, "a", &a), asio::detached);
        asio::co_spawn(io, send_metadata(&c, "bad-correlation", &bad), asio::detached);
        asio::co_spawn(io, send_metadata(&c, "c", &after), asio::detached);
        EXPECT_TRUE(co_await wait_until([&] { return a && bad && after; }));
        if (a) { EXPECT_TRUE(*a); }
        if (bad) { EXPECT_EQ(bad->error(), make_error_code(errc::protocol_error)); }
        if (after) { EXPECT_EQ(after->error(), make_error_code(errc::protocol_error)); }
        auto next = co_await c.send<protocol::metadata_api>(metadata_for("d"), 9);
        EXPECT_TRUE(next) << next.error().message();
        EXPECT_EQ(c.stats().connects, 2u);
        c.close();
        stop_server();
    });
}

TEST_F(client_test, close_fails_outstanding_requests_with_shut_down)
{
    start_server();
    run([&]() -> awaitable<void> {
        auto cfg = config();
        cfg.max_in_flight = 2; // two written, one queued
        client c(io, cfg);
        std::vector<std::optional<metadata_result>> results(3);
        for (auto& r : results) asio::co_spawn(io, send_metadata(&c, "hold", &r), asio::detached);
        EXPECT_TRUE(co_await wait_until([&] { return handler->held() == 2; }));
        c.close();
        EXPECT_TRUE(co_await wait_until([&] {
            return std::all_of(results.begin(), results.end(), [](auto& r) { return r.has_value(); });
        }));
        for (auto& r : results) {
            if (r) { EXPECT_EQ(r->error(), make_error_code(errc::shut_down)); }
        }
        auto later = co_await c.send<protocol::metadata_api>(metadata_for("x"), 9);
        EXPECT_EQ(later.error(), make_error_code(errc::shut_down));
        EXPECT_TRUE(co_await wait_until([&] { return c.tasks().count() == 0; })) << "the client's coroutines still run";
        stop_server();
    });
}

TEST_F(client_test, destroying_the_client_with_requests_outstanding_fails_them)
{
    start_server();
    run([&]() -> awaitable<void> {
        auto c = std::make_unique<client>(io, config());
        std::vector<std::optional<metadata_result>> results(3);
        for (auto& r : results) asio::co_spawn(io, send_metadata(c.get(), "hold", &r), asio::detached);
        EXPECT_TRUE(co_await wait_until([&] { return handler->held() == 3; }));
        c.reset();
        EXPECT_TRUE(co_await wait_until([&] {
            return std::all_of(results.begin(), results.end(), [](auto& r) { return r.has_value(); });
        }));
        for (auto& r : results) {
            if (r) { EXPECT_EQ(r->error(), make_error_code(errc::shut_down)); }
        }
        stop_server();
    });
}

TEST_F(client_test, a_cancelled_wait_leaves_the_pipeline_in_step)
{
    using namespace asio::experimental::awaitable_operators;
    start_server();
    run([&]() -> awaitable<void> {
        client c(io, config());
        asio::steady_timer t(io, 50ms);
        auto first = co_await (c.send<protocol::metadata_api>(metadata_for("hold"), 9) || t.async_wait(use_tuple));
        EXPECT_EQ(first.index(), 1u) << "the withheld request was answered";
        EXPECT_TRUE(co_await wait_until([&] { return handler->held() == 1; }));
        handler->release_all(); // its answer comes now and is dropped
        auto next = co_await c.send<protocol::metadata_api>(metadata_for("next"), 9);
        EXPECT_TRUE(next) << next.error().message();
        if (next) { EXPECT_EQ(echoed(*next), "next"); }
        EXPECT_EQ(c.stats().connects, 1u);
        c.close();
        stop_server();
    });
}

} // namespace
} // namespace samsa::net
