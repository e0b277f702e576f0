// app::node in process: three nodes driven by librdkafka, and the shutdown order seen from a
// client with a request in flight.
#include "app/node.h"
#include "base/logging.h"
#include "cluster/topic_manager.h"
#include "protocol/headers.h"
#include "protocol/messages/fetch.h"
#include "protocol/records.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "test_util/temp_dir.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace samsa::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

config::property_map node_props(const std::string& log_dir, int node_id)
{
    return {{"listeners", "PLAINTEXT://127.0.0.1:0"}, {"log.dirs", log_dir}, {"node.id", std::to_string(node_id)}};
}

bool has_clean_marker(const std::string& log_dir)
{
    return std::filesystem::exists(std::filesystem::path(log_dir) / storage::log_manager::clean_shutdown_file);
}

// --- librdkafka (C API) -------------------------------------------------------------------

struct rk_handle {
    rd_kafka_t* rk = nullptr;
    rk_handle() = default;
    explicit rk_handle(rd_kafka_t* r) : rk(r) {}
    rk_handle(const rk_handle&) = delete;
    rk_handle& operator=(const rk_handle&) = delete;
    ~rk_handle()
    {
        if (rk) rd_kafka_destroy(rk);
    }
};

/// What the delivery report said about one produced record.
struct delivery {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    int64_t offset = -1;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque)
{
    auto& out = *static_cast<std::vector<delivery>*>(opaque);
    auto i = reinterpret_cast<intptr_t>(m->_private);
    out.at(static_cast<size_t>(i)) = {m->err, m->offset};
}

rd_kafka_conf_t* client_conf(const std::string& bootstrap, std::initializer_list<std::pair<const char*, const char*>> kv)
{
    char err[512];
    auto* conf = rd_kafka_conf_new();
    auto set = [&](const char* k, const char* v) {
        if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
            throw std::runtime_error(std::string("librdkafka config ") + k + ": " + err);
        }
    };
    set("bootstrap.servers", bootstrap.c_str());
    set("log_level", "3");
    for (auto& [k, v] : kv) set(k, v);
    return conf;
}

/// A producer with acks=all whose delivery reports land in `reports`.
rd_kafka_t* new_producer(const std::string& bootstrap, std::vector<delivery>& reports)
{
    auto* conf = client_conf(bootstrap, {{"acks", "all"}, {"linger.ms", "5"}, {"message.timeout.ms", "30000"}});
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &reports);
    char err[512];
    auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) throw std::runtime_error(std::string("rd_kafka_new: ") + err);
    return rk;
}

/// CreateTopics through the admin API; returns the error string ("" on success).
std::string create_topic(rd_kafka_t* rk, const std::string& topic, int partitions)
{
    char err[512];
    auto* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
    if (!nt) return err;
    auto* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
    std::string out = "no CreateTopics result within 30 s";
    if (auto* ev = rd_kafka_queue_poll(q, 30000)) {
        if (rd_kafka_event_error(ev)) {
            out = rd_kafka_event_error_string(ev);
        } else if (auto* res = rd_kafka_event_CreateTopics_result(ev)) {
            size_t n = 0;
            auto** topics = rd_kafka_CreateTopics_result_topics(res, &n);
            out = n == 1 ? (rd_kafka_topic_result_error(topics[0]) ? rd_kafka_topic_result_error_string(topics[0]) : "")
                         : "unexpected result count";
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return out;
}

std::string value_of(int node, int i) { return "node" + std::to_string(node) + "-record-" + std::to_string(i); }

/// Produces `count` records to partition 0 of `topic` with acks=all; returns their reports.
std::vector<delivery> produce_all(const std::string& bootstrap, const std::string& topic, int node, int count,
                                  std::string* create_error = nullptr)
{
    std::vector<delivery> reports(static_cast<size_t>(count));
    rk_handle p(new_producer(bootstrap, reports));
    if (create_error) *create_error = create_topic(p.rk, topic, 1);
    for (int i = 0; i < count; ++i) {
        auto v = value_of(node, i);
        auto err = rd_kafka_producev(p.rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                     RD_KAFKA_V_VALUE(v.data(), v.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(i))), RD_KAFKA_V_END);
        EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    }
    EXPECT_EQ(rd_kafka_flush(p.rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    return reports;
}

/// Reads partition 0 of `topic` from offset 0 with the simple consumer until `count` records
/// came (or 30 s passed): (offset, value) pairs.
std::vector<std::pair<int64_t, std::string>> consume(const std::string& bootstrap, const std::string& topic, int count)
{
    char err[512];
    rk_handle c(rd_kafka_new(RD_KAFKA_CONSUMER, client_conf(bootstrap, {}), err, sizeof err));
    if (!c.rk) throw std::runtime_error(std::string("rd_kafka_new: ") + err);
    auto* t = rd_kafka_topic_new(c.rk, topic.c_str(), nullptr);
    std::vector<std::pair<int64_t, std::string>> out;
    if (rd_kafka_consume_start(t, 0, RD_KAFKA_OFFSET_BEGINNING) != 0) {
        ADD_FAILURE() << "consume_start: " << rd_kafka_err2str(rd_kafka_last_error());
        rd_kafka_topic_destroy(t);
        return out;
    }
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (static_cast<int>(out.size()) < count && std::chrono::steady_clock::now() < deadline) {
        auto* m = rd_kafka_consume(t, 0, 500);
        if (!m) continue;
        if (!m->err) out.emplace_back(m->offset, std::string(static_cast<const char*>(m->payload), m->len));
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consume_stop(t, 0);
    rd_kafka_topic_destroy(t);
    return out;
}

/// The brokers the node's Metadata response names: (id, host, port).
std::vector<std::tuple<int32_t, std::string, int>> metadata_brokers(const std::string& bootstrap)
{
    char err[512];
    rk_handle c(rd_kafka_new(RD_KAFKA_PRODUCER, client_conf(bootstrap, {}), err, sizeof err));
    const rd_kafka_metadata_t* md = nullptr;
    std::vector<std::tuple<int32_t, std::string, int>> out;
    auto e = rd_kafka_metadata(c.rk, 1, nullptr, &md, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ADD_FAILURE() << "metadata: " << rd_kafka_err2str(e);
        return out;
    }
    for (int i = 0; i < md->broker_cnt; ++i) out.emplace_back(md->brokers[i].id, md->brokers[i].host, md->brokers[i].port);
    rd_kafka_metadata_destroy(md);
    return out;
}

/// Runs an io_context on a thread of its own until it has no work left.
class io_thread {
public:
    explicit io_thread(asio::io_context& io) : _io(io), _done(_ran.get_future())
    {
        _thread = std::thread([this] {
            _io.run();
            _ran.set_value();
        });
    }
    ~io_thread()
    {
        if (_thread.joinable()) {
            _io.stop();
            _thread.join();
        }
    }
    /// Whether io.run() returned by itself (nothing left to run) within `timeout`; if not,
    /// the io_context is stopped.
    bool finished_within(std::chrono::seconds timeout)
    {
        bool ok = _done.wait_for(timeout) == std::future_status::ready;
        if (!ok) _io.stop();
        _thread.join();
        return ok;
    }

private:
    asio::io_context& _io;
    std::promise<void> _ran;
    std::future<void> _done;
    std::thread _thread;
};

TEST(node, three_nodes_in_one_process_serve_librdkafka_and_shut_down_cleanly)
{
    set_log_level(log_level::warn);
    constexpr int nodes = 3, records = 200;
    // All three on one io_context and one thread; each its own directory, port and node id.
    asio::io_context io(1);
    auto work = asio::make_work_guard(io);
    std::vector<std::unique_ptr<test::temp_dir>> dirs;
    std::vector<std::unique_ptr<node>> ns;
    std::vector<std::vector<std::string>> steps(nodes);
    for (int i = 0; i < nodes; ++i) {
        dirs.push_back(std::make_unique<test::temp_dir>("samsa-node-test"));
        node_options opts;
        opts.io = &io;
        opts.on_shutdown_step = [&steps, i](std::string_view s) { steps[static_cast<size_t>(i)].emplace_back(s); };
        ns.push_back(std::make_unique<node>(node_props(*dirs.back() / "logs", 10 + i), std::move(opts)));
        ns.back()->start(); // before the thread runs io
    }
    std::vector<uint16_t> ports;
    for (auto& n : ns) {
        auto l = n->listeners();
        ASSERT_EQ(l.size(), 1u);
        ASSERT_NE(l[0].port, 0);
        ports.push_back(l[0].port);
    }
    io_thread runner(io);

    for (int i = 0; i < nodes; ++i) {
        SCOPED_TRACE("node " + std::to_string(10 + i));
        auto bootstrap = "127.0.0.1:" + std::to_string(ports[static_cast<size_t>(i)]);
        // Metadata advertises this node only, with its own id and port.
        auto brokers = metadata_brokers(bootstrap);
        ASSERT_EQ(brokers.size(), 1u);
        EXPECT_EQ(std::get<0>(brokers[0]), 10 + i);
        EXPECT_EQ(std::get<1>(brokers[0]), "127.0.0.1");
        EXPECT_EQ(std::get<2>(brokers[0]), ports[static_cast<size_t>(i)]);

        auto topic = "orders-" + std::to_string(i);
        std::string created;
        auto reports = produce_all(bootstrap, topic, i, records, &created);
        EXPECT_EQ(created, "");
        for (int k = 0; k < records; ++k) {
            EXPECT_EQ(reports[static_cast<size_t>(k)].err, RD_KAFKA_RESP_ERR_NO_ERROR) << "record " << k;
            EXPECT_EQ(reports[static_cast<size_t>(k)].offset, k) << "record " << k; // one producer, in order
        }
        auto got = consume(bootstrap, topic, records);
        ASSERT_EQ(got.size(), static_cast<size_t>(records));
        for (int k = 0; k < records; ++k) {
            EXPECT_EQ(got[static_cast<size_t>(k)].first, k);
            EXPECT_EQ(got[static_cast<size_t>(k)].second, value_of(i, k));
        }
    }

    // Shut down one after the other, on the nodes' thread.
    auto clean = asio::co_spawn(
                     io,
                     [&]() -> asio::awaitable<std::vector<bool>> {
                         std::vector<bool> out;
                         for (auto& n : ns) out.push_back(co_await n->shutdown());
                         co_return out;
                     },
                     asio::use_future)
                     .get();
    EXPECT_EQ(clean, std::vector<bool>(nodes, true));
    // Nothing of the nodes is left to run: without the guard, io.run() returns by itself.
    work.reset();
    EXPECT_TRUE(runner.finished_within(30s)) << "the io_context still had work after every node shut down";
    std::vector<std::string> order{"draining", "drained", "tasks stopped", "pools joined", "logs closed"};
    for (int i = 0; i < nodes; ++i) {
        EXPECT_EQ(steps[static_cast<size_t>(i)], order);
        EXPECT_TRUE(has_clean_marker(*dirs[static_cast<size_t>(i)] / "logs")) << "node " << 10 + i;
    }
    ns.clear();

    // Each node again on its directory: every record still there (read back through a node).
    for (int i = 0; i < nodes; ++i) {
        node_options opts;
        opts.listen = false;
        opts.background = false;
        asio::io_context io2;
        opts.io = &io2;
        node n(node_props(*dirs[static_cast<size_t>(i)] / "logs", 10 + i), std::move(opts));
        n.start();
        auto* l = n.logs().get(topic_partition{"orders-" + std::to_string(i), partition_id{0}});
        ASSERT_TRUE(l);
        EXPECT_EQ(l->log_end_offset(), offset{records});
        bool done = false;
        asio::co_spawn(io2, n.shutdown(), [&](std::exception_ptr, bool) { done = true; });
        io2.run();
        EXPECT_TRUE(done);
    }
}

// --- a request in flight at shutdown ------------------------------------------------------

/// A blocking client socket with a receive timeout.
class raw_client {
public:
    explicit raw_client(uint16_t port)
    {
        _fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
        timeval tv{20, 0};
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~raw_client() { ::close(_fd); }
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;

    template<typename Request>
    void send(const Request& req, int16_t version, int32_t correlation)
    {
        protocol::writer w;
        protocol::request_header h;
        h.key = Request::api;
        h.version = version;
        h.correlation_id = correlation;
        h.client_id = "node-test";
        h.encode(w);
        req.encode(w, version);
        auto body = protocol::flatten(std::move(w).finish());
        uint32_t size = htonl(static_cast<uint32_t>(body.size()));
        write_all(&size, 4);
        write_all(body.data(), body.size());
    }
    /// One frame, or nullopt when the connection closed (or timed out) first.
    std::optional<bytes> receive()
    {
        uint32_t size = 0;
        if (!read_all(&size, 4)) return std::nullopt;
        bytes b(ntohl(size));
        if (!read_all(b.data(), b.size())) return std::nullopt;
        return b;
    }
    /// Whether the peer closed the connection (EOF, not a timeout).
    bool closed_by_peer()
    {
        char c;
        return ::recv(_fd, &c, 1, 0) == 0;
    }

private:
    void write_all(const void* p, size_t n)
    {
        auto* c = static_cast<const char*>(p);
        while (n > 0) {
            auto w = ::send(_fd, c, n, MSG_NOSIGNAL);
            if (w <= 0) throw std::runtime_error("send failed");
            c += w;
            n -= static_cast<size_t>(w);
        }
    }
    bool read_all(void* p, size_t n)
    {
        auto* c = static_cast<char*>(p);
        while (n > 0) {
            auto r = ::recv(_fd, c, n, 0);
            if (r <= 0) return false;
            c += r;
            n -= static_cast<size_t>(r);
        }
        return true;
    }
    int _fd = -1;
};

TEST(node, a_request_in_flight_is_answered_before_the_logs_close)
{
    set_log_level(log_level::warn);
    test::temp_dir dir("samsa-node-test");
    auto log_dir = dir / "logs";
    std::mutex mu;
    std::vector<std::string> steps;
    std::atomic<bool> answered{false};
    bool answered_when_draining = true;
    size_t server_tasks_when_logs_close = 1;
    node* np = nullptr;
    node_options opts; // the node owns its io_context; io.run() ends when the node is shut down
    opts.on_shutdown_step = [&](std::string_view s) {
        std::lock_guard g(mu);
        steps.emplace_back(s);
        if (s == "draining") answered_when_draining = answered.load();
        if (s == "pools joined") server_tasks_when_logs_close = np->server()->tasks().count();
    };
    node n(node_props(log_dir, 7), std::move(opts));
    np = &n;
    n.start();
    auto port = n.listeners().at(0).port;
    io_thread runner(n.io());
    auto bootstrap = "127.0.0.1:" + std::to_string(port);
    std::string created;
    auto reports = produce_all(bootstrap, "inflight", 7, 3, &created);
    ASSERT_EQ(created, "");
    ASSERT_EQ(reports[2].offset, 2);

    // A Fetch that long-polls: it wants more bytes than there are and waits up to 2 s for them.
    raw_client c(port);
    protocol::fetch_request req;
    req.max_wait_ms = 2000;
    req.min_bytes = 1 << 20;
    protocol::fetch_request::fetch_topic ft;
    ft.topic = "inflight";
    protocol::fetch_request::fetch_partition fp;
    fp.partition = 0;
    fp.fetch_offset = 0;
    fp.partition_max_bytes = 1 << 20;
    ft.partitions.push_back(fp);
    req.topics.push_back(ft);
    c.send(req, 4, 42);
    std::this_thread::sleep_for(300ms); // read and parked by the broker meanwhile

    auto shut = asio::co_spawn(n.io(), n.shutdown(), asio::use_future);
    auto frame = c.receive();
    answered = true;
    ASSERT_TRUE(frame) << "the request in flight got no response";
    // Then the broker closes the connection (it reads nothing more).
    EXPECT_TRUE(c.closed_by_peer());
    EXPECT_TRUE(shut.get());
    EXPECT_TRUE(runner.finished_within(30s)) << "io.run() did not return after the node shut down";

    protocol::reader r(*frame);
    protocol::response_header h;
    h.decode(r, protocol::response_header_version(protocol::api_key::fetch, 4));
    EXPECT_EQ(h.correlation_id, 42);
    protocol::fetch_response resp;
    resp.decode(r, 4);
    ASSERT_EQ(resp.responses.size(), 1u);
    ASSERT_EQ(resp.responses[0].partitions.size(), 1u);
    auto& pd = resp.responses[0].partitions[0];
    EXPECT_EQ(pd.error_code, 0);
    EXPECT_EQ(pd.high_watermark, 3);
    // The records were read from the log after the shutdown began: the log was still open.
    auto data = pd.records.to_bytes();
    std::vector<std::pair<int64_t, std::string>> got;
    protocol::batch_iterator it(data);
    while (it.next()) {
        auto rr = protocol::record_reader::open(it.current());
        ASSERT_TRUE(rr);
        while (auto rec = rr->next()) {
            got.emplace_back(rec->offset(), rec->value ? std::string(rec->value->begin(), rec->value->end()) : "");
        }
    }
    ASSERT_EQ(got.size(), 3u);
    for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(got[static_cast<size_t>(k)].first, k);
        EXPECT_EQ(got[static_cast<size_t>(k)].second, value_of(7, k));
    }
    std::lock_guard g(mu);
    EXPECT_FALSE(answered_when_draining) << "the shutdown began only after the answer: nothing was in flight";
    EXPECT_EQ(server_tasks_when_logs_close, 0u) << "connection tasks were still running when the logs closed";
    EXPECT_EQ(steps, (std::vector<std::string>{"draining", "drained", "tasks stopped", "pools joined", "logs closed"}));
    EXPECT_TRUE(has_clean_marker(log_dir));
}

} // namespace
} // namespace samsa::app
