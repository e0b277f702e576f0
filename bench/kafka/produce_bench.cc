// Producer throughput: one librdkafka producer tuned for throughput sends fixed-size records as
// fast as the client, the connection and the broker allow, round-robin over the partitions
// (record i goes to partition i % N), and prints one JSON line with the delivered rate.
//
// Against --brokers the topic must exist with at least --partitions partitions. With --mock the
// producer runs against librdkafka's built-in mock cluster (test.mock.num.brokers=1): no
// broker process and no disk, the client's own ceiling.
#include "bench_common.h"

#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <string>
#include <unistd.h>
#include <vector>

using namespace samsa::bench;

namespace {

constexpr const char* usage =
    "usage: produce_bench (--brokers HOST:PORT | --mock) --topic NAME [--partitions N] [--size BYTES]\n"
    "                     (--count N | --duration SECONDS) [--acks 1|all] [--linger-ms MS]\n"
    "                     [--batch-bytes BYTES] [--keys N] [--txn-records N] [--set key=value]...\n"
    "Produces records of --size value bytes (compression none; no key, or with --keys N the keys\n"
    "key-0 .. key-(N-1) in turn) round-robin over the\n"
    "partitions and prints {records, bytes, seconds, records_per_s, mb_per_s, ...} as JSON.\n"
    "With --txn-records N the producer is transactional (transactional.id samsa-bench-<pid>):\n"
    "N records per transaction, each committed, and commit_ms_p50/p99 of commit_transaction.\n";

struct delivery_stats {
    int64_t delivered = 0;
    int64_t failed = 0;
    int64_t bytes = 0;
    std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque)
{
    auto* st = static_cast<delivery_stats*>(opaque);
    if (m->err) {
        if (st->failed++ == 0) st->first_error = rd_kafka_err2str(m->err);
    } else {
        ++st->delivered;
        st->bytes += static_cast<int64_t>(m->len);
    }
}

properties producer_properties(const options& o)
{
    properties p = {
        {"acks", o.str("acks", "1")},
        {"linger.ms", o.str("linger-ms", "5")},
        {"batch.size", o.str("batch-bytes", "1000000")},
        {"batch.num.messages", "1000000"},
        {"queue.buffering.max.messages", "2000000"},
        // 256 MiB: deep enough to keep batches full, shallow enough that the drain after a
        // --duration run is short.
        {"queue.buffering.max.kbytes", "262144"},
        {"compression.type", "none"},
        {"enable.idempotence", "false"},
        {"message.timeout.ms", "120000"},
    };
    if (o.flag("mock")) {
        p.emplace_back("test.mock.num.brokers", "1");
    } else {
        p.emplace_back("bootstrap.servers", o.required("brokers"));
    }
    return p;
}

/// Produces one record to `partition`, waiting for queue space when the local queue is full.
void produce_one(rd_kafka_t* rk, rd_kafka_topic_t* t, int32_t partition, const std::vector<char>& payload,
                 const std::string* key = nullptr)
{
    // Flags 0: librdkafka neither copies nor frees the payload; it is one buffer that outlives
    // every message. (It always copies the key.)
    while (rd_kafka_produce(t, partition, 0, const_cast<char*>(payload.data()), payload.size(),
                            key ? key->data() : nullptr, key ? key->size() : 0, nullptr) == -1) {
        auto e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce failed: {}", rd_kafka_err2str(e));
        rd_kafka_poll(rk, 1);
    }
}

} // namespace

int main(int argc, char** argv)
{
    options o(argc, argv, {"brokers", "topic", "partitions", "size", "count", "duration", "acks", "linger-ms",
                           "batch-bytes", "keys", "txn-records"},
              {"mock"}, usage);
    if (o.flag("mock") == o.has("brokers")) die("give exactly one of --brokers and --mock\n{}", usage);
    if (o.has("count") == o.has("duration")) die("give exactly one of --count and --duration\n{}", usage);
    auto topic = o.required("topic");
    int partitions = static_cast<int>(o.integer("partitions", 1));
    int64_t size = o.integer("size", 100);
    int64_t count = o.integer("count", 0);
    double duration = o.number("duration", 0);
    if (partitions < 1 || size < 1 || count < 0 || duration < 0) die("bad sizes\n{}", usage);

    int64_t txn_records = o.integer("txn-records", 0);
    auto props = producer_properties(o);
    if (txn_records > 0) {
        for (auto& [k, v] : props) {
            if (k == "enable.idempotence") v = "true";
            if (k == "acks") v = "all";
            if (k == "message.timeout.ms") v = "60000"; // librdkafka: at most transaction.timeout.ms
        }
        props.emplace_back("transactional.id", "samsa-bench-" + std::to_string(::getpid()));
    }
    delivery_stats st;
    rd_kafka_conf_t* conf = make_conf(props, o);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t* rk = make_client(RD_KAFKA_PRODUCER, conf);
    if (o.flag("mock")) {
        auto* mc = rd_kafka_handle_mock_cluster(rk);
        if (!mc) die("librdkafka did not create a mock cluster");
        if (auto e = rd_kafka_mock_topic_create(mc, topic.c_str(), partitions, 1)) {
            die("mock topic: {}", rd_kafka_err2str(e));
        }
    }
    await_topic(rk, topic, partitions, 30000);
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    auto payload = make_payload(static_cast<size_t>(size));
    auto check = [](rd_kafka_error_t* e, const char* what) {
        if (!e) return;
        std::string msg = rd_kafka_error_string(e);
        rd_kafka_error_destroy(e);
        die("{}: {}", what, msg);
    };
    std::vector<double> commit_ms;
    if (txn_records > 0) check(rd_kafka_init_transactions(rk, 30000), "init_transactions");

    auto start = steady::now();
    auto end_at = start + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(duration));
    int64_t sent = 0;
    int64_t keys = o.integer("keys", 0);
    std::string key;
    for (;; ++sent) {
        bool txn_edge = txn_records > 0 && sent % txn_records == 0;
        if (txn_edge && sent > 0) {
            auto c0 = steady::now();
            check(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
            commit_ms.push_back(seconds_between(c0, steady::now()) * 1000.0);
        }
        if (count > 0 ? sent >= count : ((sent & 1023) == 0 && steady::now() >= end_at)) break;
        if (txn_edge) check(rd_kafka_begin_transaction(rk), "begin_transaction");
        if (keys > 0) {
            key = "key-" + std::to_string(sent % keys);
            produce_one(rk, t, static_cast<int32_t>(sent % partitions), payload, &key);
        } else {
            produce_one(rk, t, static_cast<int32_t>(sent % partitions), payload);
        }
        if ((sent & 4095) == 0) rd_kafka_poll(rk, 0);
    }
    if (txn_records > 0 && sent % txn_records != 0) {
        auto c0 = steady::now();
        check(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
        commit_ms.push_back(seconds_between(c0, steady::now()) * 1000.0);
    }
    auto sent_done = steady::now();
    if (auto e = rd_kafka_flush(rk, 180000)) die("flush: {} ({} not delivered)", rd_kafka_err2str(e), rd_kafka_outq_len(rk));
    auto done = steady::now();
    double s = seconds_between(start, done);

    json_line j;
    j.add("mode", o.flag("mock") ? std::string("mock") : std::string("broker"))
        .add("topic", topic)
        .add("partitions", int64_t(partitions))
        .add("size", size)
        .add("acks", o.str("acks", "1"))
        .add("sent", sent)
        .add("records", st.delivered)
        .add("failed", st.failed)
        .add("first_error", st.first_error)
        .add("bytes", st.bytes)
        .add("seconds", s)
        .add("send_seconds", seconds_between(start, sent_done))
        .add("records_per_s", double(st.delivered) / s)
        .add("mb_per_s", double(st.bytes) / s / 1e6);
    if (!commit_ms.empty()) {
        std::sort(commit_ms.begin(), commit_ms.end());
        auto pct = [&](double q) { return commit_ms[std::min(commit_ms.size() - 1, size_t(q * double(commit_ms.size())))]; };
        j.add("transactions", int64_t(commit_ms.size()))
            .add("txn_records", txn_records)
            .add("commit_ms_p50", pct(0.50))
            .add("commit_ms_p99", pct(0.99));
    }
    j.print();
    rd_kafka_topic_destroy(t);
    rd_kafka_destroy(rk);
    return st.failed == 0 && st.delivered == sent ? 0 : 1;
}
