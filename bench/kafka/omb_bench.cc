// Many clients on one topic, in the shape of the OpenMessaging Benchmark's standard workload:
// --producers producer instances (each its own librdkafka client) share a fixed total --rate of
// --size byte records over the topic's --partitions partitions (round robin, or by a key drawn
// from --keys keys), while --consumers consumer instances (each its own client, assigned every
// --consumers-th partition, no group) read them. Records carry their send time; the program
// reports the publish latency (send → delivery report) and the end-to-end latency (send →
// received by a consumer), both on one clock (CLOCK_MONOTONIC), of the records sent after
// --warmup seconds. --rate 0 sends as fast as the producers take records, for --duration
// seconds: the throughput of many small producers.
#include "bench_common.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <mutex>
#include <sys/prctl.h>
#include <thread>
#include <vector>

using namespace samsa::bench;

namespace {

constexpr const char* usage =
    "usage: omb_bench --brokers HOST:PORT --topic NAME --partitions N [--producers P] [--consumers C]\n"
    "                 --rate PER_SECOND --duration SECONDS [--warmup SECONDS] [--size BYTES]\n"
    "                 [--keys K] [--set key=value]...\n"
    "Prints {sent, acked, received, achieved_rate, publish_p50_us, publish_p99_us, ..., e2e_p50_us,\n"
    "e2e_p99_us, e2e_p999_us, errors} as JSON. --rate 0: as fast as possible.\n";

struct stamp {
    int64_t sent_ns;
    int64_t seq;
};

/// Latencies of one thread (no sharing while running), merged at the end.
struct samples {
    std::vector<int64_t> ns;
    int64_t count = 0;
    int64_t errors = 0;
    std::string first_error;
    void error(std::string e)
    {
        if (errors++ == 0) first_error = std::move(e);
    }
};

struct shared_state {
    int64_t warmup_seq = 0;
    std::atomic<int64_t> acked{0};
    std::atomic<int64_t> reported{0}; // delivery reports, acknowledged or failed
    std::mutex mu;
    samples publish; // written from delivery callbacks, which all run on the poller thread
};

shared_state* g_state = nullptr;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*)
{
    int64_t now = now_ns();
    auto& st = *g_state;
    st.reported.fetch_add(1, std::memory_order_relaxed);
    if (m->err) {
        st.publish.error(rd_kafka_err2str(m->err));
        return;
    }
    st.acked.fetch_add(1, std::memory_order_relaxed);
    ++st.publish.count;
    if (m->len < sizeof(stamp)) return;
    stamp s;
    std::memcpy(&s, m->payload, sizeof s);
    if (s.seq >= st.warmup_seq) st.publish.ns.push_back(now - s.sent_ns);
}

} // namespace

int main(int argc, char** argv)
{
    options o(argc, argv,
              {"brokers", "topic", "partitions", "producers", "consumers", "rate", "duration", "warmup", "size", "keys"},
              {}, usage);
    auto brokers = o.required("brokers");
    auto topic = o.required("topic");
    int partitions = static_cast<int>(o.integer("partitions", 1));
    int nprod = static_cast<int>(o.integer("producers", 1));
    int ncons = static_cast<int>(o.integer("consumers", 1));
    double rate = o.number("rate", -1);
    double duration = o.number("duration", 0);
    double warmup = o.number("warmup", 1);
    auto size = static_cast<size_t>(o.integer("size", 1024));
    int64_t keys = o.integer("keys", 0);
    if (partitions < 1 || nprod < 1 || ncons < 1 || ncons > partitions || rate < 0 || duration <= warmup ||
        size < sizeof(stamp) || keys < 0) {
        die("bad partitions, producers, consumers, rate, duration or size\n{}", usage);
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

    shared_state st;
    g_state = &st;
    std::vector<rd_kafka_t*> producers;
    for (int i = 0; i < nprod; ++i) {
        properties props = {
            {"bootstrap.servers", brokers}, {"acks", "1"}, {"linger.ms", "1"}, {"socket.nagle.disable", "true"},
            {"compression.type", "none"}, {"enable.idempotence", "false"},
        };
        auto* conf = make_conf(props, o);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        producers.push_back(make_client(RD_KAFKA_PRODUCER, conf));
    }
    for (auto* p : producers) await_topic(p, topic, partitions, 60000);

    // Consumers: partition p goes to consumer p % C.
    std::vector<rd_kafka_t*> consumers;
    for (int c = 0; c < ncons; ++c) {
        properties props = {
            {"bootstrap.servers", brokers},   {"group.id", fmt::format("samsa-omb-{}", c)},
            {"enable.auto.commit", "false"},   {"enable.partition.eof", "false"},
            {"socket.nagle.disable", "true"}, {"fetch.wait.max.ms", "100"},
        };
        auto* rk = make_client(RD_KAFKA_CONSUMER, make_conf(props, o));
        rd_kafka_poll_set_consumer(rk);
        await_topic(rk, topic, partitions, 60000);
        if (c == 0) await_coordinator(rk, topic, 60000);
        auto* l = rd_kafka_topic_partition_list_new(partitions / ncons + 1);
        for (int p = c; p < partitions; p += ncons) {
            rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
        }
        if (auto e = rd_kafka_assign(rk, l)) die("assign: {}", rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(l);
        consumers.push_back(rk);
    }

    std::atomic<bool> sending_done{false};
    std::atomic<int64_t> sent_total{0};
    std::atomic<int64_t> received_total{0};
    std::vector<samples> e2e(static_cast<size_t>(ncons));
    std::vector<std::thread> readers;
    for (int c = 0; c < ncons; ++c) {
        readers.emplace_back([&, c] {
            auto& s = e2e[static_cast<size_t>(c)];
            auto idle_since = steady::now();
            for (;;) {
                rd_kafka_message_t* m = rd_kafka_consumer_poll(consumers[static_cast<size_t>(c)], 100);
                int64_t now = now_ns();
                if (!m) {
                    if (sending_done && seconds_between(idle_since, steady::now()) > 5) break;
                    continue;
                }
                idle_since = steady::now();
                if (m->err) {
                    s.error(rd_kafka_message_errstr(m));
                } else if (m->len >= sizeof(stamp)) {
                    stamp x;
                    std::memcpy(&x, m->payload, sizeof x);
                    ++s.count;
                    received_total.fetch_add(1, std::memory_order_relaxed);
                    if (x.seq >= st.warmup_seq) s.ns.push_back(now - x.sent_ns);
                }
                rd_kafka_message_destroy(m);
                // Done once every record sent has arrived somewhere.
                if (sending_done && received_total >= sent_total) break;
            }
        });
    }
    std::atomic<bool> polling{true};
    std::thread poller([&] {
        while (polling) {
            int served = 0;
            for (auto* p : producers) served += rd_kafka_poll(p, 0);
            if (served == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    // Let the consumers' first fetches reach the broker before the clock starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));

    auto payload = make_payload(size);
    std::vector<rd_kafka_topic_t*> topics;
    for (auto* p : producers) topics.push_back(rd_kafka_topic_new(p, topic.c_str(), nullptr));
    int64_t total = rate > 0 ? static_cast<int64_t>(rate * duration) : INT64_MAX;
    st.warmup_seq = rate > 0 ? static_cast<int64_t>(rate * warmup) : 0;
    int64_t start = now_ns();
    int64_t end = start + static_cast<int64_t>(duration * 1e9);
    int64_t warm_end = start + static_cast<int64_t>(warmup * 1e9);
    double interval = rate > 0 ? 1e9 / rate : 0;
    uint64_t key_state = 0x9e3779b97f4a7c15ull;
    int64_t i = 0;
    for (; i < total; ++i) {
        int64_t now = now_ns();
        if (rate > 0) {
            int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * interval);
            sleep_until_ns(due);
        } else {
            if (now >= end) break;
            if (st.warmup_seq == 0 && now >= warm_end) st.warmup_seq = i;
        }
        stamp s{now_ns(), i};
        std::memcpy(payload.data(), &s, sizeof s);
        auto k = static_cast<size_t>(i % nprod);
        char key[24];
        size_t key_len = 0;
        int32_t part = RD_KAFKA_PARTITION_UA;
        if (keys > 0) {
            key_state ^= key_state << 13;
            key_state ^= key_state >> 7;
            key_state ^= key_state << 17;
            key_len = static_cast<size_t>(fmt::format_to_n(key, sizeof key, "k{}", key_state % static_cast<uint64_t>(keys)).size);
        } else {
            part = static_cast<int32_t>(i % partitions);
        }
        while (rd_kafka_produce(topics[k], part, RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(),
                                key_len ? key : nullptr, key_len, nullptr) == -1) {
            auto e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce failed: {}", rd_kafka_err2str(e));
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        sent_total.store(i + 1, std::memory_order_relaxed);
    }
    double send_s = static_cast<double>(now_ns() - start) / 1e9;
    int64_t sent = i;
    // The poller serves every delivery report (flush would serve them on this thread too).
    auto wait_until = steady::now() + std::chrono::seconds(60);
    while (st.reported < sent && steady::now() < wait_until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    double acked_s = static_cast<double>(now_ns() - start) / 1e9;
    polling = false;
    poller.join();
    for (auto* p : producers) {
        if (rd_kafka_flush(p, 10000)) st.publish.error("producer flush timed out");
    }
    sending_done = true;
    for (auto& t : readers) t.join();

    samples all;
    for (auto& s : e2e) {
        all.ns.insert(all.ns.end(), s.ns.begin(), s.ns.end());
        all.count += s.count;
        all.errors += s.errors;
        if (all.first_error.empty()) all.first_error = s.first_error;
    }
    std::sort(all.ns.begin(), all.ns.end());
    std::sort(st.publish.ns.begin(), st.publish.ns.end());
    for (auto* t : topics) rd_kafka_topic_destroy(t);
    for (auto* c : consumers) {
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
    }
    for (auto* p : producers) rd_kafka_destroy(p);

    int64_t measured = sent - st.warmup_seq;
    double measured_s = rate > 0 ? duration - warmup : (acked_s - warmup);
    json_line j;
    j.add("producers", static_cast<int64_t>(nprod))
        .add("consumers", static_cast<int64_t>(ncons))
        .add("partitions", static_cast<int64_t>(partitions))
        .add("keys", keys)
        .add("rate", rate)
        .add("size", static_cast<int64_t>(size))
        .add("sent", sent)
        .add("acked", st.acked.load())
        .add("received", all.count)
        .add("send_seconds", send_s)
        .add("achieved_rate", static_cast<double>(sent) / send_s)
        .add("records_per_s", static_cast<double>(measured) / std::max(measured_s, 1e-9))
        .add("mb_per_s", static_cast<double>(measured) * static_cast<double>(size) / 1e6 / std::max(measured_s, 1e-9))
        .add("publish_p50_us", percentile_us(st.publish.ns, 0.50))
        .add("publish_p99_us", percentile_us(st.publish.ns, 0.99))
        .add("publish_p999_us", percentile_us(st.publish.ns, 0.999))
        .add("e2e_p50_us", percentile_us(all.ns, 0.50))
        .add("e2e_p99_us", percentile_us(all.ns, 0.99))
        .add("e2e_p999_us", percentile_us(all.ns, 0.999))
        .add("errors", st.publish.errors + all.errors)
        .add("first_error", st.publish.first_error.empty() ? all.first_error : st.publish.first_error);
    j.print();
    return all.count == sent && st.acked.load() == sent && st.publish.errors + all.errors == 0 ? 0 : 1;
}
