// Topic set-up for the benchmarks: creates topics with CreateTopics (librdkafka's admin API,
// about 1,000 partitions per request, so that one request stays well inside the timeouts even
// where creating a partition costs a few fsyncs) and, with --seed, writes one small record to every partition so each
// partition's log exists on disk. Prints one JSON line with counts and timings.
#include "bench_common.h"

#include <algorithm>
#include <string>
#include <vector>

using namespace samsa::bench;

namespace {

constexpr const char* usage =
    "usage: topics_bench --brokers HOST:PORT --partitions N [--replication-factor R] [--seed] [--config key=value]...\n"
    "                    (--prefix P --count C | NAME...) [--set key=value]...\n"
    "Creates the topics NAME... (or P0..P<C-1>) with N partitions each (R replicas, default 1) and the given topic\n"
    "configs (an existing topic is kept) and, with --seed, produces one record to each partition.\n";

constexpr size_t partitions_per_request = 1000;

struct create_counts {
    int64_t created = 0;
    int64_t existed = 0;
};

/// Sends one CreateTopics request for `names` and waits for its result.
void create_chunk(rd_kafka_t* rk, const std::vector<std::string>& names, int partitions, int replication_factor,
                  const properties& configs, create_counts& counts)
{
    char err[512];
    std::vector<rd_kafka_NewTopic_t*> topics;
    for (auto& n : names) {
        auto* t = rd_kafka_NewTopic_new(n.c_str(), partitions, replication_factor, err, sizeof err);
        if (!t) die("topic {}: {}", n, err);
        for (auto& [k, v] : configs) {
            if (auto e = rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str())) die("config {}: {}", k, rd_kafka_err2str(e));
        }
        topics.push_back(t);
    }
    auto* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 280000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(opts, 290000, err, sizeof err);
    auto* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, topics.data(), topics.size(), opts, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 300000);
    if (!ev) die("CreateTopics: no result within 300 s");
    if (rd_kafka_event_error(ev)) die("CreateTopics: {}", rd_kafka_event_error_string(ev));
    size_t n = 0;
    const auto* res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
        auto e = rd_kafka_topic_result_error(res[i]);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ++counts.created;
        } else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            ++counts.existed;
        } else {
            die("CreateTopics {}: {}", rd_kafka_topic_result_name(res[i]), rd_kafka_err2str(e));
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    for (auto* t : topics) rd_kafka_NewTopic_destroy(t);
}

int64_t delivered = 0;
int64_t failed = 0;
std::string first_error;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*)
{
    if (!m->err) {
        ++delivered;
    } else if (failed++ == 0) {
        first_error = rd_kafka_err2str(m->err);
    }
}

/// One record per partition of every topic.
void seed(rd_kafka_t* rk, const std::vector<std::string>& names, int partitions)
{
    static const char value[] = "seed";
    for (auto& n : names) {
        for (int p = 0; p < partitions; ++p) {
            while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(n.c_str()), RD_KAFKA_V_PARTITION(p),
                                     RD_KAFKA_V_VALUE(const_cast<char*>(value), sizeof value - 1),
                                     RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 10);
            }
        }
        rd_kafka_poll(rk, 0);
    }
    if (auto e = rd_kafka_flush(rk, 300000)) die("seed flush: {}", rd_kafka_err2str(e));
}

} // namespace

int main(int argc, char** argv)
{
    options o(argc, argv, {"brokers", "partitions", "replication-factor", "prefix", "count", "config*"}, {"seed"}, usage);
    int partitions = static_cast<int>(o.integer("partitions", 1));
    int replication_factor = static_cast<int>(o.integer("replication-factor", 1));
    std::vector<std::string> names = o.positional();
    if (o.has("prefix")) {
        auto prefix = o.str("prefix", "");
        for (int64_t i = 0; i < o.integer("count", 0); ++i) names.push_back(prefix + std::to_string(i));
    }
    if (names.empty() || partitions < 1) die("no topics to create\n{}", usage);
    properties configs;
    for (auto& c : o.list("config")) {
        auto eq = c.find('=');
        if (eq == std::string::npos || eq == 0) die("--config wants key=value, got {}", c);
        configs.emplace_back(c.substr(0, eq), c.substr(eq + 1));
    }

    properties props = {{"bootstrap.servers", o.required("brokers")}, {"linger.ms", "50"}, {"acks", "1"},
                        {"enable.idempotence", "false"},           {"socket.timeout.ms", "300000"}};
    rd_kafka_conf_t* conf = make_conf(props, o);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t* rk = make_client(RD_KAFKA_PRODUCER, conf);

    create_counts counts;
    auto t0 = steady::now();
    size_t per_request = std::max<size_t>(1, partitions_per_request / static_cast<size_t>(partitions));
    for (size_t i = 0; i < names.size(); i += per_request) {
        std::vector<std::string> chunk(names.begin() + static_cast<ptrdiff_t>(i),
                                       names.begin() + static_cast<ptrdiff_t>(std::min(names.size(), i + per_request)));
        create_chunk(rk, chunk, partitions, replication_factor, configs, counts);
    }
    auto t1 = steady::now();
    if (o.flag("seed")) seed(rk, names, partitions);
    auto t2 = steady::now();

    json_line j;
    j.add("topics", static_cast<int64_t>(names.size()))
        .add("partitions_per_topic", int64_t(partitions))
        .add("created", counts.created)
        .add("existed", counts.existed)
        .add("seeded", delivered)
        .add("seed_failed", failed)
        .add("first_error", first_error)
        .add("create_seconds", seconds_between(t0, t1))
        .add("seed_seconds", seconds_between(t1, t2));
    j.print();
    rd_kafka_destroy(rk);
    return failed == 0 ? 0 : 1;
}
