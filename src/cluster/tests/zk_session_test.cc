// The ZooKeeper session against a real ZooKeeper server (Debian's zookeeper, started by the
// test): create/get/set/delete with versions, sequential and ephemeral znodes, watches, a
// chroot, and an unreachable server.
#include "cluster/zk/producer_id_blocks.h"
#include "cluster/zk/registration.h"
#include "cluster/zk/session.h"
#include "cluster/zk/znodes.h"
#include "test_util/zookeeper_process.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <algorithm>

// libzookeeper_mt frees neither the requests nor the completions still queued when a handle
// that never connected is closed (the operations_out test below makes exactly that): its leak,
// not Samsa's, so LeakSanitizer is told to pass over the library's allocations.
extern "C" __attribute__((used)) const char* __lsan_default_suppressions() { return "leak:libzookeeper_mt.so\n"; }

namespace samsa::cluster::zk {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// ASSERT_TRUE for coroutines (gtest's ASSERT_* return, which a coroutine cannot).
#define CO_ASSERT_TRUE(cond)                                                                       \
    if (!(cond)) {                                                                                 \
        ADD_FAILURE();                                                       \
        co_return;                                                                                 \
    }

/// Runs a coroutine on a fresh io_context until it finishes.
template<typename F>
auto run(asio::io_context& io, F f)
{
    auto fut = asio::co_spawn(io, f(), asio::use_future);
    io.restart();
    while (fut.wait_for(0s) != std::future_status::ready) io.run_for(10ms);
    return fut.get();
}

struct zk_session : ::testing::Test {
    static inline std::unique_ptr<test::zookeeper_process> server;
    static void SetUpTestSuite() { server = std::make_unique<test::zookeeper_process>(); }
    static void TearDownTestSuite() { server.reset(); }
    asio::io_context io;
};

TEST_F(zk_session, writes_reads_and_conditional_updates)
{
    session s(io.get_executor(), server->connect(), 6000ms);
    // (Braced lists stay outside the coroutine: g++ 12 miscompiles them inside one.)
    topic_assignment topic;
    topic.partitions[0] = {1, 2};
    const std::string topic_json = encode_topic(topic);
    const std::vector<int32_t> replicas{1, 2};
    run(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await s.wait_connected(20s));
        EXPECT_NE(s.session_id(), 0);
        EXPECT_TRUE(co_await s.ensure_path("/brokers/topics"));
        auto created = co_await s.create("/brokers/topics/t", topic_json, create_mode::persistent);
        CO_ASSERT_TRUE(created);
        EXPECT_EQ(*created, "/brokers/topics/t");
        auto again = co_await s.create("/brokers/topics/t", "", create_mode::persistent);
        EXPECT_EQ(again.error(), make_error_code(session_errc::node_exists));
        auto got = co_await s.get("/brokers/topics/t");
        CO_ASSERT_TRUE(got);
        EXPECT_EQ(decode_topic(got->data).value().partitions.at(0), replicas);
        auto v1 = co_await s.set("/brokers/topics/t", "x", got->version);
        CO_ASSERT_TRUE(v1);
        EXPECT_EQ(*v1, got->version + 1);
        // A write naming the old version loses.
        EXPECT_EQ((co_await s.set("/brokers/topics/t", "y", got->version)).error(), make_error_code(session_errc::bad_version));
        EXPECT_EQ((co_await s.get("/nope")).error(), make_error_code(session_errc::no_node));
        EXPECT_EQ((co_await s.remove("/brokers", -1)).error(), make_error_code(session_errc::not_empty));
        auto kids = co_await s.children("/brokers/topics");
        CO_ASSERT_TRUE(kids);
        EXPECT_EQ(*kids, std::vector<std::string>(1, "t"));
        EXPECT_TRUE(co_await s.remove("/brokers/topics/t", *v1));
        EXPECT_FALSE((co_await s.exists("/brokers/topics/t")).value());
    });
}

TEST_F(zk_session, sequential_ephemeral_and_watches)
{
    session a(io.get_executor(), server->connect(), 6000ms);
    session b(io.get_executor(), server->connect(), 6000ms);
    const std::string controller_json = encode_controller(controller_znode{1, 5});
    run(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await a.wait_connected(20s));
        EXPECT_TRUE(co_await b.wait_connected(20s));
        EXPECT_TRUE(co_await a.ensure_path("/isr_change_notification"));
        auto s1 = co_await a.create("/isr_change_notification/isr_change_", "{}", create_mode::persistent_sequential);
        auto s2 = co_await a.create("/isr_change_notification/isr_change_", "{}", create_mode::persistent_sequential);
        CO_ASSERT_TRUE(s1 && s2);
        EXPECT_EQ(*s1, "/isr_change_notification/isr_change_0000000000");
        EXPECT_EQ(*s2, "/isr_change_notification/isr_change_0000000001");
        // b watches for a's ephemeral /controller.
        bool fired = false;
        EXPECT_FALSE((co_await b.exists("/controller", [&] { fired = true; })).value());
        EXPECT_TRUE(co_await a.create("/controller", controller_json, create_mode::ephemeral));
        for (int i = 0; i < 500 && !fired; ++i) {
            asio::steady_timer t(io, 10ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        EXPECT_TRUE(fired) << "the exists() watch did not fire on creation";
        auto c = co_await b.get("/controller");
        CO_ASSERT_TRUE(c);
        EXPECT_EQ(c->ephemeral_owner, a.session_id());
        EXPECT_EQ(decode_controller(c->data).value().broker_id, 1);
    });
    a.close(); // its ephemeral goes with it
    run(io, [&]() -> asio::awaitable<void> {
        bool gone = false;
        for (int i = 0; i < 500 && !gone; ++i) {
            gone = !(co_await b.exists("/controller")).value();
            asio::steady_timer t(io, 10ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        EXPECT_TRUE(gone) << "the ephemeral outlived its session";
        EXPECT_EQ((co_await a.get("/controller")).error(), make_error_code(session_errc::closed));
    });
}

TEST_F(zk_session, a_session_destroyed_with_reads_and_a_wait_out_completes_them_as_closed)
{
    // What a broker's membership does when its session expires: the old session is closed and
    // replaced while its watchers' reads are still out. They finish as closed, touching nothing
    // of the destroyed session (ASan reports a use after free otherwise).
    auto s = std::make_shared<session>(io.get_executor(), server->connect(), 6000ms);
    run(io, [&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await s->wait_connected(20s)); });
    std::vector<std::future<std::error_code>> outs;
    session::watcher noop = [] {};
    auto children = [](session* z, session::watcher w) -> asio::awaitable<std::error_code> {
        auto r = co_await z->children("/", std::move(w));
        co_return r ? std::error_code() : r.error();
    };
    auto get = [](session* z, session::watcher w) -> asio::awaitable<std::error_code> {
        auto r = co_await z->get("/zookeeper", std::move(w));
        co_return r ? std::error_code() : r.error();
    };
    for (int i = 0; i < 20; ++i) {
        outs.push_back(asio::co_spawn(io, children(s.get(), noop), asio::use_future));
        outs.push_back(asio::co_spawn(io, get(s.get(), noop), asio::use_future));
    }
    io.restart();
    io.poll(); // the reads are handed to the client
    s->close();
    s.reset();
    io.restart();
    for (auto& f : outs) {
        while (f.wait_for(0s) != std::future_status::ready) io.run_for(10ms);
        auto ec = f.get();
        EXPECT_TRUE(!ec || ec == make_error_code(session_errc::closed)) << ec.message();
    }
}

TEST_F(zk_session, operations_out_when_the_session_is_closed_complete_as_closed)
{
    // Requests queued while the client cannot reach a server (a broker's session expiring: the
    // client fails them all, then the membership closes the session at once) must all finish:
    // zookeeper_close drops completions its thread had not run yet, and an ISR write waiting on
    // one never ended (found by the chaos long run: a leader's ISR writer stalled for good).
    for (int round = 0; round < 3; ++round) {
        auto s = std::make_shared<session>(io.get_executor(), "127.0.0.1:1", 6000ms);
        std::vector<std::future<std::error_code>> outs;
        auto get = [](std::shared_ptr<session> z) -> asio::awaitable<std::error_code> {
            auto r = co_await z->get("/brokers/topics/t/partitions/0/state");
            co_return r ? std::error_code() : r.error();
        };
        auto set = [](std::shared_ptr<session> z) -> asio::awaitable<std::error_code> {
            auto r = co_await z->set("/x", "y", 3);
            co_return r ? std::error_code() : r.error();
        };
        for (int i = 0; i < 10; ++i) {
            outs.push_back(asio::co_spawn(io, get(s), asio::use_future));
            outs.push_back(asio::co_spawn(io, set(s), asio::use_future));
        }
        io.restart();
        io.poll(); // handed to the client, which queues them until it connects
        s->close();
        io.restart();
        auto deadline = std::chrono::steady_clock::now() + 10s;
        for (auto& f : outs) {
            while (f.wait_for(0s) != std::future_status::ready && std::chrono::steady_clock::now() < deadline) {
                io.run_for(10ms);
            }
            ASSERT_EQ(f.wait_for(0s), std::future_status::ready) << "an operation never completed";
            EXPECT_TRUE(f.get()) << "it cannot have succeeded";
        }
    }
}

TEST_F(zk_session, a_chroot_and_an_unreachable_server)
{
    session s(io.get_executor(), server->connect() + "/kafka", 6000ms);
    session root(io.get_executor(), server->connect(), 6000ms);
    run(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await root.wait_connected(20s));
        EXPECT_TRUE(co_await root.ensure_path("/kafka"));
        EXPECT_TRUE(co_await s.wait_connected(20s));
        EXPECT_TRUE(co_await s.create("/cluster", "", create_mode::persistent));
        EXPECT_TRUE((co_await root.exists("/kafka/cluster")).value());
    });
    session nowhere(io.get_executor(), "127.0.0.1:1", 6000ms);
    auto r = run(io, [&]() -> asio::awaitable<result<void>> { co_return co_await nowhere.wait_connected(300ms); });
    EXPECT_EQ(r.error(), make_error_code(session_errc::timeout));
}

TEST_F(zk_session, producer_id_blocks_never_overlap_across_racing_brokers)
{
    session a(io.get_executor(), server->connect() + "/pid", 6000ms);
    session b(io.get_executor(), server->connect() + "/pid", 6000ms);
    session root(io.get_executor(), server->connect(), 6000ms);
    std::vector<producer_id_block> blocks;
    auto allocate = [&](session& s, int32_t broker) -> asio::awaitable<void> {
        for (int i = 0; i < 20; ++i) {
            auto blk = co_await allocate_producer_id_block(s, node_id(broker), 1000);
            CO_ASSERT_TRUE(blk);
            blocks.push_back(*blk);
        }
    };
    run(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await root.wait_connected(20s));
        EXPECT_TRUE(co_await root.ensure_path("/pid"));
        EXPECT_TRUE(co_await a.wait_connected(20s));
        EXPECT_TRUE(co_await b.wait_connected(20s));
        auto first = co_await allocate_producer_id_block(a, node_id(1), 1000);
        CO_ASSERT_TRUE(first);
        EXPECT_EQ(first->first, 0);
        EXPECT_EQ(first->last, 999);
        blocks.push_back(*first);
    });
    // Two brokers racing: both coroutines run interleaved on the one event loop.
    auto fa = asio::co_spawn(io, allocate(a, 1), asio::use_future);
    auto fb = asio::co_spawn(io, allocate(b, 2), asio::use_future);
    io.restart();
    while (fa.wait_for(0s) != std::future_status::ready || fb.wait_for(0s) != std::future_status::ready) io.run_for(10ms);
    ASSERT_EQ(blocks.size(), 41u);
    std::sort(blocks.begin(), blocks.end(), [](auto& x, auto& y) { return x.first < y.first; });
    for (size_t i = 0; i < blocks.size(); ++i) {
        EXPECT_EQ(blocks[i].first, static_cast<int64_t>(i) * 1000) << "block " << i;
        EXPECT_EQ(blocks[i].last, blocks[i].first + 999);
    }
    // A znode written by hand that cannot be read is reported, not overwritten.
    auto r = run(io, [&]() -> asio::awaitable<result<producer_id_block>> {
        EXPECT_TRUE(co_await root.set("/pid/latest_producer_id_block", "garbage", -1));
        co_return co_await allocate_producer_id_block(a, node_id(1), 1000);
    });
    EXPECT_EQ(r.error(), make_error_code(errc::malformed));
}

TEST_F(zk_session, cluster_id_and_broker_registration)
{
    session a(io.get_executor(), server->connect() + "/reg", 6000ms);
    session b(io.get_executor(), server->connect() + "/reg", 6000ms);
    session root(io.get_executor(), server->connect(), 6000ms);
    broker_registration one;
    one.id = 1;
    one.endpoints.push_back({"PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9092});
    broker_registration two = one;
    two.id = 2;
    two.endpoints[0].port = 9093;
    run(io, [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(co_await root.wait_connected(20s));
        EXPECT_TRUE(co_await root.ensure_path("/reg"));
        EXPECT_TRUE(co_await a.wait_connected(20s));
        EXPECT_TRUE(co_await b.wait_connected(20s));
        // The first broker's cluster id wins; the second reads it.
        EXPECT_EQ((co_await get_or_create_cluster_id(a, "first-id")).value(), "first-id");
        EXPECT_EQ((co_await get_or_create_cluster_id(b, "second-id")).value(), "first-id");
        EXPECT_TRUE(co_await register_broker(a, one));
        EXPECT_TRUE(co_await register_broker(a, one)); // a retry of the same session
        // A second broker with the same broker.id is refused.
        EXPECT_EQ((co_await register_broker(b, one)).error(), make_error_code(session_errc::node_exists));
        EXPECT_TRUE(co_await register_broker(b, two));
        // A registration written by hand that cannot be read is skipped, not fatal.
        EXPECT_TRUE(co_await root.create("/reg/brokers/ids/7", "{not json", create_mode::persistent));
        std::vector<std::string> skipped;
        auto live = co_await live_brokers(a, &skipped);
        CO_ASSERT_TRUE(live);
        CO_ASSERT_TRUE(live->size() == 2u);
        // Each with its broker epoch: its registration znode's czxid, later for the later one.
        EXPECT_GT((*live)[0].epoch, 0);
        EXPECT_GT((*live)[1].epoch, (*live)[0].epoch);
        auto read_one = (*live)[0], read_two = (*live)[1];
        read_one.epoch = read_two.epoch = -1;
        EXPECT_EQ(read_one, one);
        EXPECT_EQ(read_two, two);
        EXPECT_EQ(skipped, std::vector<std::string>(1, "7"));
    });
    b.close(); // broker 2's session ends: its registration goes
    run(io, [&]() -> asio::awaitable<void> {
        size_t n = 2;
        for (int i = 0; i < 500 && n != 1; ++i) {
            n = (co_await live_brokers(a)).value().size();
            asio::steady_timer t(io, 10ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        EXPECT_EQ(n, 1u);
    });
}

} // namespace
} // namespace samsa::cluster::zk
