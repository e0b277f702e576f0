// End-to-end latency at a fixed rate: the main thread sends --size byte records at --rate
// records/s with its send time in the payload, and a receiving thread in the same process takes
// receive time − send time on one clock (CLOCK_MONOTONIC). Records sent during the first
// --warmup seconds are not counted. Prints p50/p99/p99.9/max in microseconds as one JSON line.
//
// Two paths, the same pacing and the same arithmetic:
//   --brokers: a librdkafka producer (acks=1, linger.ms=0, Nagle off) and a consumer assigned
//              the topic's first partition (the topic must exist and be empty);
//   --echo:    the floor of that path on this machine: each record goes over loopback TCP to an
//              echo thread and back — two hops, like client → broker → client, with no broker.
#include "bench_common.h"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cstring>
#include <ctime>
#include <functional>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace samsa::bench;

namespace {

constexpr const char* usage =
    "usage: latency_bench (--brokers HOST:PORT --topic NAME | --echo) --rate PER_SECOND\n"
    "                     --duration SECONDS [--warmup SECONDS] [--size BYTES] [--set key=value]...\n"
    "Prints {sent, received, measured, p50_us, p99_us, p999_us, max_us, mean_us} as JSON.\n";

struct stamp {
    int64_t sent_ns;
    int64_t seq;
};

/// What the receiving thread saw. Owned by that thread until it is joined.
struct recorder {
    int64_t warmup_records = 0;
    double rate = 1;
    std::vector<int64_t> latencies_ns;
    /// The worst latency of the records sent in each second of the run (a stall shows here).
    std::vector<double> worst_us_per_second;
    int64_t received = 0;
    int64_t errors = 0;
    std::string first_error;

    void on_record(const void* data, size_t len, int64_t now)
    {
        if (len < sizeof(stamp)) return;
        stamp s;
        std::memcpy(&s, data, sizeof s);
        ++received;
        int64_t lat = now - s.sent_ns;
        if (s.seq >= warmup_records) latencies_ns.push_back(lat);
        auto second = static_cast<size_t>(static_cast<double>(s.seq) / rate);
        if (second >= worst_us_per_second.size()) worst_us_per_second.resize(second + 1, 0);
        worst_us_per_second[second] = std::max(worst_us_per_second[second], static_cast<double>(lat) / 1e3);
    }
    void on_error(std::string e)
    {
        if (errors++ == 0) first_error = std::move(e);
    }
};

/// Calls `send` `total` times at `rate` per second with a payload stamped just before the call.
/// Returns the seconds the sending took.
double send_paced(double rate, int64_t total, size_t size, const std::function<void(std::vector<char>&)>& send)
{
    auto payload = make_payload(size);
    int64_t start = now_ns();
    double interval = 1e9 / rate;
    for (int64_t i = 0; i < total; ++i) {
        int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * interval);
        sleep_until_ns(due);
        stamp s{now_ns(), i};
        std::memcpy(payload.data(), &s, sizeof s);
        send(payload);
    }
    return static_cast<double>(now_ns() - start) / 1e9;
}

// ---- the Kafka path -------------------------------------------------------------------------

rd_kafka_t* make_consumer(const std::string& brokers, const std::string& topic, const options& o)
{
    properties props = {
        {"bootstrap.servers", brokers},   {"group.id", "samsa-bench"}, {"enable.auto.commit", "false"},
        {"enable.partition.eof", "false"}, {"socket.nagle.disable", "true"}, {"fetch.wait.max.ms", "100"},
    };
    rd_kafka_t* rk = make_client(RD_KAFKA_CONSUMER, make_conf(props, o));
    rd_kafka_poll_set_consumer(rk);
    await_topic(rk, topic, 1, 30000);
    await_coordinator(rk, topic, 60000);
    auto* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (auto e = rd_kafka_assign(rk, l)) die("assign: {}", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
    return rk;
}

/// Consumes until `total` records arrived or nothing came for 5 s after `sender_done`.
void consume(rd_kafka_t* rk, int64_t total, const std::atomic<bool>& sender_done, recorder& rec)
{
    auto idle_since = steady::now();
    while (rec.received < total) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        int64_t now = now_ns();
        if (!m) {
            if (sender_done && seconds_between(idle_since, steady::now()) > 5) break;
            continue;
        }
        idle_since = steady::now();
        if (m->err) {
            rec.on_error(rd_kafka_message_errstr(m));
        } else {
            rec.on_record(m->payload, m->len, now);
        }
        rd_kafka_message_destroy(m);
    }
}

double run_kafka(const options& o, double rate, int64_t total, size_t size, recorder& rec)
{
    auto brokers = o.required("brokers");
    auto topic = o.required("topic");
    properties pprops = {
        {"bootstrap.servers", brokers},   {"acks", "1"},           {"linger.ms", "0"},
        {"socket.nagle.disable", "true"}, {"compression.type", "none"}, {"enable.idempotence", "false"},
    };
    rd_kafka_t* producer = make_client(RD_KAFKA_PRODUCER, make_conf(pprops, o));
    await_topic(producer, topic, 1, 30000);
    rd_kafka_topic_t* t = rd_kafka_topic_new(producer, topic.c_str(), nullptr);
    rd_kafka_t* consumer = make_consumer(brokers, topic, o);

    std::atomic<bool> done{false};
    std::thread reader([&] { consume(consumer, total, done, rec); });
    // Let the consumer's first fetch reach the broker before the clock starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    double s = send_paced(rate, total, size, [&](std::vector<char>& p) {
        while (rd_kafka_produce(t, 0, RD_KAFKA_MSG_F_COPY, p.data(), p.size(), nullptr, 0, nullptr) == -1) {
            auto e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce failed: {}", rd_kafka_err2str(e));
            rd_kafka_poll(producer, 1);
        }
        rd_kafka_poll(producer, 0);
    });
    if (rd_kafka_flush(producer, 30000)) rec.on_error("producer flush timed out");
    done = true;
    reader.join();
    rd_kafka_topic_destroy(t);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    return s;
}

// ---- the loopback echo floor ----------------------------------------------------------------

bool io_all(int fd, char* p, size_t n, bool write)
{
    while (n > 0) {
        ssize_t r = write ? ::send(fd, p, n, MSG_NOSIGNAL) : ::recv(fd, p, n, 0);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

/// A connected loopback pair: {client end, server end}.
std::pair<int, int> loopback_pair()
{
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (l < 0 || ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        die("loopback listen: {}", std::strerror(errno));
    }
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("loopback connect: {}", std::strerror(errno));
    int s = ::accept(l, nullptr, nullptr);
    if (s < 0) die("loopback accept: {}", std::strerror(errno));
    ::close(l);
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return {c, s};
}

double run_echo(double rate, int64_t total, size_t size, recorder& rec)
{
    auto [client, server] = loopback_pair();
    // The echo side returns whatever arrived in one write, as a broker answers what it has.
    std::thread echo([fd = server] {
        std::vector<char> buf(1 << 18);
        for (;;) {
            ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0 || !io_all(fd, buf.data(), static_cast<size_t>(n), true)) return;
        }
    });
    std::thread reader([&, fd = client] {
        std::vector<char> buf(1 << 18);
        size_t have = 0;
        while (rec.received < total) {
            ssize_t n = ::recv(fd, buf.data() + have, buf.size() - have, 0);
            if (n <= 0) return rec.on_error("echo connection closed");
            int64_t now = now_ns();
            have += static_cast<size_t>(n);
            size_t used = 0;
            for (; have - used >= size; used += size) rec.on_record(buf.data() + used, size, now);
            std::memmove(buf.data(), buf.data() + used, have - used);
            have -= used;
        }
    });
    double s = send_paced(rate, total, size, [fd = client](std::vector<char>& p) {
        if (!io_all(fd, p.data(), p.size(), true)) die("echo send: {}", std::strerror(errno));
    });
    reader.join();
    ::shutdown(client, SHUT_RDWR);
    echo.join();
    ::close(client);
    ::close(server);
    return s;
}

} // namespace

int main(int argc, char** argv)
{
    options o(argc, argv, {"brokers", "topic", "rate", "duration", "warmup", "size"}, {"echo"}, usage);
    if (o.flag("echo") == o.has("brokers")) die("give exactly one of --brokers and --echo\n{}", usage);
    double rate = o.number("rate", 0);
    double duration = o.number("duration", 0);
    double warmup = o.number("warmup", 1);
    auto size = static_cast<size_t>(o.integer("size", 1024));
    if (rate <= 0 || duration <= warmup || size < sizeof(stamp)) die("bad rate, duration or size\n{}", usage);
    // Sleeps wake within microseconds instead of after the default 50 µs timer slack.
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

    auto total = static_cast<int64_t>(rate * duration);
    recorder rec;
    rec.warmup_records = static_cast<int64_t>(rate * warmup);
    rec.rate = rate;
    rec.latencies_ns.reserve(static_cast<size_t>(total));
    double send_s = o.flag("echo") ? run_echo(rate, total, size, rec) : run_kafka(o, rate, total, size, rec);

    auto& v = rec.latencies_ns;
    std::sort(v.begin(), v.end());
    double mean = 0;
    for (auto x : v) mean += static_cast<double>(x);
    mean = v.empty() ? 0 : mean / static_cast<double>(v.size()) / 1e3;
    json_line j;
    j.add("mode", o.flag("echo") ? std::string("echo") : std::string("broker"))
        .add("rate", rate)
        .add("achieved_rate", static_cast<double>(total) / send_s)
        .add("size", static_cast<int64_t>(size))
        .add("sent", total)
        .add("received", rec.received)
        .add("measured", static_cast<int64_t>(v.size()))
        .add("errors", rec.errors)
        .add("first_error", rec.first_error)
        .add("p50_us", percentile_us(v, 0.50))
        .add("p99_us", percentile_us(v, 0.99))
        .add("p999_us", percentile_us(v, 0.999))
        .add("max_us", v.empty() ? 0.0 : static_cast<double>(v.back()) / 1e3)
        .add("mean_us", mean)
        .add("worst_us_per_second", rec.worst_us_per_second);
    j.print();
    return rec.received == total && rec.errors == 0 ? 0 : 1;
}
