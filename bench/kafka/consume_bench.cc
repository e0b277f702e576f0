// Consumer throughput: one librdkafka consumer assigned every partition of a topic (no group)
// reads from the beginning until it has --expect records, and prints one JSON line with the
// rate. Timing starts at the assignment, after the connection is up, and ends at the last
// record, so it covers fetch requests, the broker's reads (page cache, sendfile) and the
// client's parsing.
#include "bench_common.h"

#include <algorithm>
#include <string>
#include <vector>

using namespace samsa::bench;

namespace {

constexpr const char* usage =
    "usage: consume_bench --brokers HOST:PORT --topic NAME [--partitions N] --expect RECORDS\n"
    "                     [--timeout SECONDS] [--set key=value]...\n"
    "Reads partitions 0..N-1 from the beginning until RECORDS records have arrived and prints\n"
    "{records, bytes, seconds, records_per_s, mb_per_s} as JSON (bytes = value bytes).\n";

struct consume_stats {
    int64_t records = 0;
    int64_t bytes = 0;
    int64_t errors = 0;
    std::string first_error;
};

rd_kafka_topic_partition_list_t* all_partitions(const std::string& topic, int n)
{
    auto* l = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    return l;
}

/// Takes up to `want` records from the consumer queue into `st`. The call returns as soon as
/// `want` records are there, so asking for exactly the remaining count ends the timing at the
/// last record rather than at a timeout.
void drain(rd_kafka_queue_t* q, std::vector<rd_kafka_message_t*>& buf, size_t want, consume_stats& st)
{
    auto n = rd_kafka_consume_batch_queue(q, 200, buf.data(), std::min(want, buf.size()));
    for (ssize_t i = 0; i < n; ++i) {
        auto* m = buf[static_cast<size_t>(i)];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ++st.records;
            st.bytes += static_cast<int64_t>(m->len);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (st.errors++ == 0) st.first_error = rd_kafka_message_errstr(m);
        }
        rd_kafka_message_destroy(m);
    }
}

} // namespace

int main(int argc, char** argv)
{
    options o(argc, argv, {"brokers", "topic", "partitions", "expect", "timeout"}, {}, usage);
    auto topic = o.required("topic");
    int partitions = static_cast<int>(o.integer("partitions", 1));
    int64_t expect = o.integer("expect", 0);
    double timeout = o.number("timeout", 300);
    if (partitions < 1 || expect < 1) die("--partitions and --expect must be positive\n{}", usage);

    properties props = {
        {"bootstrap.servers", o.required("brokers")},
        {"group.id", "samsa-bench"}, {"enable.auto.commit", "false"},
        {"enable.partition.eof", "false"},
        {"fetch.max.bytes", "52428800"},
        {"max.partition.fetch.bytes", "4194304"},
        {"queued.max.messages.kbytes", "262144"},
        {"queued.min.messages", "1000000"},
        {"fetch.wait.max.ms", "100"},
    };
    rd_kafka_t* rk = make_client(RD_KAFKA_CONSUMER, make_conf(props, o));
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
    await_topic(rk, topic, partitions, 30000);
    await_coordinator(rk, topic, 60000);

    auto* assignment = all_partitions(topic, partitions);
    consume_stats st;
    std::vector<rd_kafka_message_t*> buf(10000);
    auto start = steady::now();
    if (auto e = rd_kafka_assign(rk, assignment)) die("assign: {}", rd_kafka_err2str(e));
    auto last = start;
    while (st.records < expect && st.errors == 0) {
        drain(q, buf, static_cast<size_t>(expect - st.records), st);
        last = steady::now();
        if (seconds_between(start, last) > timeout) break;
    }
    double s = seconds_between(start, last);
    json_line j;
    j.add("topic", topic)
        .add("partitions", int64_t(partitions))
        .add("expected", expect)
        .add("records", st.records)
        .add("bytes", st.bytes)
        .add("errors", st.errors)
        .add("first_error", st.first_error)
        .add("seconds", s)
        .add("records_per_s", double(st.records) / s)
        .add("mb_per_s", double(st.bytes) / s / 1e6);
    j.print();
    rd_kafka_topic_partition_list_destroy(assignment);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return st.records >= expect && st.errors == 0 ? 0 : 1;
}
