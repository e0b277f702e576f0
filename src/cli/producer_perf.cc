// samsa producer-perf-test: kafka-producer-perf-test.sh. Sends --num-records records as fast as
// allowed by --throughput, prints a window summary every reporting interval and the totals with
// latency percentiles at the end (or, with --json, the totals as one JSON object).
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/signals.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace samsa::cli {

namespace {

command_spec perf_spec()
{
    command_spec s{
        "producer-perf-test",
        "Producer throughput and latency test. Every 5 s: records sent, records/sec, MB/sec, average "
        "and max latency of the window; at the end the same for the whole run plus the 50th, 95th, "
        "99th and 99.9th latency percentiles.",
        "  samsa producer-perf-test --topic test --num-records 100000 --record-size 100 --throughput -1 \\\n"
        "      --producer-props bootstrap.servers=localhost:9092 acks=1 linger.ms=5\n"
        "  samsa producer-perf-test --topic test --num-records 1000 --payload-file lines.txt --throughput 100\n"
        "  samsa producer-perf-test --topic test --num-records 50000 --record-size 1024 --throughput -1 --json\n",
        {
            {"topic", arity::one, "topic", "REQUIRED: the topic to produce to."},
            {"num-records", arity::one, "count", "REQUIRED: how many records to send."},
            {"record-size", arity::one, "bytes", "Size of each record (random A-Z payload)."},
            {"payload-file", arity::one, "file", "Take payloads at random from this file's records."},
            {"payload-delimiter", arity::one, "text", "Separates the payloads in --payload-file (\\n)."},
            {"payload-monotonic", arity::flag, "", "Payload is the record number, as text."},
            {"throughput", arity::one, "records/sec", "Maximum records per second; -1: no limit (default)."},
            {"producer-props", arity::many, "name=value", "Producer properties."},
            {"producer.config", arity::one, "file", "Producer properties file."},
            {"reporting-interval", arity::one, "ms", "Window summary interval (default 5000)."},
            {"json", arity::flag, "", "Print the totals as one JSON object (window lines go to stderr)."},
        }};
    add_client_options(s);
    return s;
}

/// Kafka's Stats: whole-run and per-window counters, and a sample of latencies for percentiles.
struct perf_stats {
    int64_t start_ms = now_ms();
    int64_t window_start_ms = start_ms;
    int64_t reporting_ms = 5000;
    FILE* window_out = stdout;
    long count = 0, bytes = 0, errors = 0;
    int64_t total_latency = 0, max_latency = 0;
    long window_count = 0, window_bytes = 0;
    int64_t window_total_latency = 0, window_max_latency = 0;
    long sampling = 1, iteration = 0;
    std::vector<int32_t> latencies;
    std::string first_error;

    void record(int64_t latency, size_t size, int64_t now)
    {
        ++count;
        bytes += static_cast<long>(size);
        total_latency += latency;
        max_latency = std::max(max_latency, latency);
        ++window_count;
        window_bytes += static_cast<long>(size);
        window_total_latency += latency;
        window_max_latency = std::max(window_max_latency, latency);
        if (iteration++ % sampling == 0) latencies.push_back(static_cast<int32_t>(latency));
        if (now - window_start_ms >= reporting_ms) print_window(now);
    }

    void print_window(int64_t now)
    {
        double elapsed = static_cast<double>(std::max<int64_t>(1, now - window_start_ms));
        std::fprintf(window_out,
                     "%ld records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
                     window_count, 1000.0 * window_count / elapsed, 1000.0 * window_bytes / elapsed / (1024.0 * 1024.0),
                     window_count ? static_cast<double>(window_total_latency) / window_count : 0.0,
                     static_cast<double>(window_max_latency));
        std::fflush(window_out);
        window_start_ms = now;
        window_count = window_bytes = 0;
        window_total_latency = window_max_latency = 0;
    }

    int32_t percentile(double p)
    {
        if (latencies.empty()) return 0;
        std::sort(latencies.begin(), latencies.end());
        size_t i = std::min(latencies.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies.size())));
        return latencies[i];
    }
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque)
{
    auto* st = static_cast<perf_stats*>(opaque);
    int64_t now = now_ms();
    if (m->err) {
        if (st->errors++ == 0) st->first_error = rd_kafka_err2str(m->err);
        return;
    }
    auto sent_at = static_cast<int64_t>(reinterpret_cast<uintptr_t>(m->_private));
    st->record(now - sent_at, m->len, now);
}

std::vector<std::string> load_payloads(const std::string& path, const std::string& delimiter, FILE* info)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw cli_error(fmt::format("Cannot read --payload-file {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::fprintf(info, "Reading payloads from: %s\n", path.c_str());
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(delimiter, start);
        if (end == std::string::npos) end = text.size();
        if (end > start) out.push_back(text.substr(start, end - start));
        start = end + delimiter.size();
    }
    if (out.empty()) throw cli_error(fmt::format("File {} contains no payloads", path));
    std::fprintf(info, "Number of messages read: %zu\n", out.size());
    return out;
}

client_config perf_config(const parsed_args& a)
{
    auto cfg = client_config::from_args(a);
    if (auto f = a.value("producer.config")) cfg.load_file(*f);
    cfg.add_pairs(a.values("producer-props"), "producer-props");
    cfg.set_default("acks", "all");
    return cfg;
}

/// Waits (serving delivery reports) until sending record `sent` keeps the rate at or under
/// `throughput` records per second.
void throttle(rd_kafka_t* rk, double throughput, long sent, int64_t start_ms)
{
    if (throughput <= 0) return;
    for (;;) {
        double due_ms = 1000.0 * static_cast<double>(sent) / throughput;
        auto ahead = static_cast<int>(due_ms - static_cast<double>(now_ms() - start_ms));
        if (ahead <= 0 || stop_requested()) return;
        rd_kafka_poll(rk, std::min(ahead, 100));
    }
}

void send(rd_kafka_t* rk, rd_kafka_topic_t* rkt, const std::string& payload)
{
    for (;;) {
        void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(now_ms()));
        if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(payload.data()),
                             payload.size(), nullptr, 0, opaque) == 0) {
            return;
        }
        auto err = rd_kafka_last_error();
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw cli_error("Cannot produce: " + error_text(err));
        rd_kafka_poll(rk, 10);
    }
}

void print_totals(perf_stats& st, bool json)
{
    double elapsed = static_cast<double>(std::max<int64_t>(1, now_ms() - st.start_ms));
    double rps = 1000.0 * st.count / elapsed;
    double mbps = 1000.0 * st.bytes / elapsed / (1024.0 * 1024.0);
    double avg = st.count ? static_cast<double>(st.total_latency) / st.count : 0.0;
    int32_t p50 = st.percentile(0.5), p95 = st.percentile(0.95), p99 = st.percentile(0.99), p999 = st.percentile(0.999);
    if (json) {
        write_out(fmt::format("{{\"records\": {}, \"records_per_sec\": {:.2f}, \"mb_per_sec\": {:.4f}, "
                              "\"avg_latency_ms\": {:.2f}, \"max_latency_ms\": {}, \"p50_ms\": {}, \"p95_ms\": {}, "
                              "\"p99_ms\": {}, \"p999_ms\": {}, \"bytes\": {}, \"elapsed_ms\": {}, \"errors\": {}}}\n",
                              st.count, rps, mbps, avg, st.max_latency, p50, p95, p99, p999, st.bytes,
                              static_cast<int64_t>(elapsed), st.errors));
        return;
    }
    write_out(fmt::format("{} records sent, {:f} records/sec ({:.2f} MB/sec), {:.2f} ms avg latency, {:.2f} ms max "
                          "latency, {} ms 50th, {} ms 95th, {} ms 99th, {} ms 99.9th.\n",
                          st.count, rps, mbps, avg, static_cast<double>(st.max_latency), p50, p95, p99, p999));
}

/// The payloads to send: one random A-Z record of --record-size, or the records of
/// --payload-file; empty with --payload-monotonic (the record number is the payload).
std::vector<std::string> make_payloads(const parsed_args& a, FILE* info)
{
    std::vector<std::string> payloads;
    if (auto size = a.int_value("record-size")) {
        if (*size < 0 || *size > (64 << 20)) throw usage_error("--record-size must be between 0 and 64 MiB");
        std::mt19937 rng(std::random_device{}());
        std::string p(static_cast<size_t>(*size), 'A');
        for (auto& c : p) c = static_cast<char>('A' + rng() % 26);
        payloads.push_back(std::move(p));
    } else if (auto f = a.value("payload-file")) {
        payloads = load_payloads(*f, a.value_or("payload-delimiter", "\n"), info);
    }
    return payloads;
}

/// Sends `num` records (fewer after SIGINT); returns how many were queued.
long send_all(rd_kafka_t* rk, const std::string& topic, int64_t num, const std::vector<std::string>& payloads,
              double throughput, int64_t start_ms)
{
    std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> rkt(
        rd_kafka_topic_new(rk, topic.c_str(), nullptr), rd_kafka_topic_destroy);
    std::mt19937 pick(std::random_device{}());
    std::string counter;
    long sent = 0;
    for (; sent < num && !stop_requested(); ++sent) {
        const std::string* payload = &counter;
        if (payloads.empty())
            counter = std::to_string(sent);
        else
            payload = &payloads[payloads.size() == 1 ? 0 : pick() % payloads.size()];
        send(rk, rkt.get(), *payload);
        rd_kafka_poll(rk, 0);
        throttle(rk, throughput, sent + 1, start_ms);
    }
    return sent;
}

} // namespace

int run_producer_perf_test(const std::vector<std::string>& args)
{
    auto spec = perf_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    auto topic = a.value("topic");
    auto num = a.int_value("num-records");
    if (!topic) throw usage_error("Missing required option --topic");
    if (!num || *num < 0) throw usage_error("Missing or negative --num-records");
    if (a.has("record-size") + a.has("payload-file") + a.has("payload-monotonic") != 1) {
        throw usage_error("Exactly one of --record-size, --payload-file or --payload-monotonic is required");
    }
    bool json = a.has("json");
    FILE* info = json ? stderr : stdout;
    auto payloads = make_payloads(a, info);
    double throughput = static_cast<double>(a.int_or("throughput", -1));
    perf_stats st;
    st.reporting_ms = std::max<int64_t>(1, a.int_or("reporting-interval", 5000));
    st.window_out = info;
    st.sampling = std::max<long>(1, static_cast<long>(*num / std::min<int64_t>(std::max<int64_t>(*num, 1), 500000)));
    auto cfg = perf_config(a);
    auto rk = cfg.create(RD_KAFKA_PRODUCER, [&](rd_kafka_conf_t* c) {
        rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
        rd_kafka_conf_set_opaque(c, &st);
    });
    find_topic(*fetch_metadata(rk.get(), cfg, *topic), *topic);
    install_stop_handler();
    st.start_ms = st.window_start_ms = now_ms();
    long sent = send_all(rk.get(), *topic, *num, payloads, throughput, st.start_ms);
    rd_kafka_flush(rk.get(), 60000);
    print_totals(st, json);
    long lost = sent - st.count - st.errors;
    if (st.errors > 0 || lost > 0) {
        throw cli_error(fmt::format("{} of {} records failed: {}", st.errors + lost, sent,
                                    st.errors ? st.first_error : "not delivered in time"));
    }
    return 0;
}

} // namespace samsa::cli
