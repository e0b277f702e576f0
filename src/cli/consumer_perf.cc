// samsa consumer-perf-test: kafka-consumer-perf-test.sh. Consumes --messages records and prints
// Kafka's summary line (start.time, end.time, data.consumed.in.MB, MB.sec,
// data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec,
// fetch.nMsg.sec), or with --json the same figures as one JSON object.
//
// With --group it subscribes through the consumer group protocol, as Kafka's tool does; without
// it, it assigns every partition of the topic(s) directly (Kafka would use a throwaway random
// group for the same effect), so it needs no group coordinator.
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/signals.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <regex>

namespace samsa::cli {

namespace {

command_spec perf_spec()
{
    command_spec s{"consumer-perf-test",
                   "Consumer throughput test: consumes --messages records (or until --timeout ms pass without "
                   "one) and prints the throughput.",
                   "  samsa consumer-perf-test --bootstrap-server localhost:9092 --topic test --messages 100000\n"
                   "  samsa consumer-perf-test --topic test --messages 100000 --group perf --show-detailed-stats\n"
                   "  samsa consumer-perf-test --topic test --messages 50000 --json\n",
                   {
                       {"topic", arity::one, "topic", "The topic to consume."},
                       {"include", arity::one, "regex", "Consume every topic whose name matches."},
                       {"messages", arity::one, "count", "REQUIRED: how many records to consume."},
                       {"group", arity::one, "group id", "Consume through this consumer group (subscribe)."},
                       {"from-latest", arity::flag, "", "Start at the log end instead of the beginning."},
                       {"fetch-size", arity::one, "bytes", "max.partition.fetch.bytes (default 1048576)."},
                       {"socket-buffer-size", arity::one, "bytes", "socket.receive.buffer.bytes."},
                       {"consumer.config", arity::one, "file", "Consumer properties file."},
                       {"timeout", arity::one, "ms", "Give up after this long without a record (default 10000)."},
                       {"reporting-interval", arity::one, "ms", "Interval of --show-detailed-stats lines (5000)."},
                       {"show-detailed-stats", arity::flag, "", "Print a line per reporting interval."},
                       {"hide-header", arity::flag, "", "Do not print the column names."},
                       {"date-format", arity::one, "pattern", "SimpleDateFormat pattern (yyyy-MM-dd HH:mm:ss:SSS)."},
                       {"json", arity::flag, "", "Print the totals as one JSON object."},
                   }};
    add_client_options(s);
    add_broker_list_option(s);
    return s;
}

/// Counters shared with the rebalance callback.
struct perf_state {
    int64_t join_start_ms = 0;
    int64_t join_ms = 0;
    int64_t join_ms_round = 0;
    int assigned = 0;
};

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque)
{
    auto* st = static_cast<perf_state*>(opaque);
    bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (st->assigned == 0) {
            int64_t spent = now_ms() - st->join_start_ms;
            st->join_ms += spent;
            st->join_ms_round += spent;
        }
        st->assigned += parts->cnt;
        if (cooperative)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
        return;
    }
    st->assigned = cooperative ? std::max(0, st->assigned - parts->cnt) : 0;
    if (st->assigned == 0) st->join_start_ms = now_ms();
    if (cooperative)
        rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
    else
        rd_kafka_assign(rk, nullptr);
}

std::string java_double(double v)
{
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return fmt::format("{:.4f}", v);
}

std::string json_double(double v)
{
    return std::isfinite(v) ? fmt::format("{:.4f}", v) : "null";
}

void subscribe_or_assign(rd_kafka_t* rk, const client_config& cfg, const parsed_args& a)
{
    auto list = new_partition_list();
    std::string topic = a.value_or("topic", "");
    if (a.has("group")) {
        std::string sub = topic.empty() ? "^" + *a.value("include") : topic;
        rd_kafka_topic_partition_list_add(list.get(), sub.c_str(), RD_KAFKA_PARTITION_UA);
        if (auto err = rd_kafka_subscribe(rk, list.get())) throw cli_error("Cannot subscribe: " + error_text(err));
        return;
    }
    auto md = fetch_metadata(rk, cfg, topic);
    std::optional<std::regex> re;
    if (topic.empty()) re.emplace(*a.value("include"));
    int64_t start = a.has("from-latest") ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    for (int i = 0; i < md->topic_cnt; ++i) {
        auto& t = md->topics[i];
        if (t.err || (re ? !std::regex_match(std::string(t.topic), *re) : topic != t.topic)) continue;
        for (int p = 0; p < t.partition_cnt; ++p) {
            rd_kafka_topic_partition_list_add(list.get(), t.topic, t.partitions[p].id)->offset = start;
        }
    }
    if (!topic.empty()) find_topic(*md, topic);
    if (list->cnt == 0) throw cli_error("No topic matches --include " + *a.value("include"));
    if (auto err = rd_kafka_assign(rk, list.get())) throw cli_error("Cannot assign: " + error_text(err));
}

struct totals {
    long messages = 0;
    long bytes = 0;
    bool timed_out = false;
};

totals consume(rd_kafka_t* rk, const parsed_args& a, perf_state& st, const std::string& date_format)
{
    totals t;
    long wanted = a.int_or("messages", 0);
    int64_t timeout = a.int_or("timeout", 10000);
    int64_t interval = std::max<int64_t>(1, a.int_or("reporting-interval", 5000));
    bool detailed = a.has("show-detailed-stats");
    int64_t now = now_ms(), last_report = now, last_consumed = now;
    long last_messages = 0, last_bytes = 0;
    while (t.messages < wanted && now - last_consumed <= timeout && !stop_requested()) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        now = now_ms();
        if (!m) continue;
        std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> guard(m, rd_kafka_message_destroy);
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) throw cli_error(rd_kafka_message_errstr(m));
            continue;
        }
        last_consumed = now;
        ++t.messages;
        t.bytes += static_cast<long>(m->len + m->key_len);
        if (now - last_report < interval) continue;
        if (detailed) {
            double elapsed = static_cast<double>(now - last_report);
            double mb = (t.bytes - last_bytes) / (1024.0 * 1024.0);
            int64_t fetch = now - last_report - st.join_ms_round;
            std::printf("%s, 0, %s, %s, %ld, %s, %lld, %lld, %s, %s\n", format_date(now, date_format).c_str(),
                        java_double(t.bytes / (1024.0 * 1024.0)).c_str(), java_double(1000.0 * mb / elapsed).c_str(),
                        t.messages, java_double(1000.0 * (t.messages - last_messages) / elapsed).c_str(),
                        static_cast<long long>(st.join_ms_round), static_cast<long long>(fetch),
                        java_double(fetch <= 0 ? 0.0 : 1000.0 * mb / fetch).c_str(),
                        java_double(fetch <= 0 ? 0.0 : 1000.0 * (t.messages - last_messages) / fetch).c_str());
            std::fflush(stdout);
        }
        st.join_ms_round = 0;
        last_report = now;
        last_messages = t.messages;
        last_bytes = t.bytes;
    }
    t.timed_out = t.messages < wanted;
    return t;
}

void print_summary(const totals& t, const perf_state& st, int64_t start, int64_t end, const std::string& fmt_,
                   bool json)
{
    double elapsed_s = (end - start) / 1000.0;
    int64_t fetch_ms = end - start - st.join_ms;
    double mb = t.bytes / (1024.0 * 1024.0);
    if (json) {
        write_out(fmt::format("{{\"start_time_ms\": {}, \"end_time_ms\": {}, \"mb\": {:.4f}, \"mb_per_sec\": {}, "
                              "\"messages\": {}, \"messages_per_sec\": {}, \"rebalance_time_ms\": {}, "
                              "\"fetch_time_ms\": {}, \"fetch_mb_per_sec\": {}, \"fetch_messages_per_sec\": {}, "
                              "\"timed_out\": {}}}\n",
                              start, end, mb, json_double(mb / elapsed_s), t.messages,
                              json_double(t.messages / elapsed_s), st.join_ms, fetch_ms,
                              json_double(mb / (fetch_ms / 1000.0)), json_double(t.messages / (fetch_ms / 1000.0)),
                              t.timed_out ? "true" : "false"));
        return;
    }
    write_out(fmt::format("{}, {}, {:.4f}, {}, {}, {}, {}, {}, {}, {}\n", format_date(start, fmt_),
                          format_date(end, fmt_), mb, java_double(mb / elapsed_s), t.messages,
                          java_double(t.messages / elapsed_s), st.join_ms, fetch_ms,
                          java_double(mb / (fetch_ms / 1000.0)), java_double(t.messages / (fetch_ms / 1000.0))));
}

client_config perf_config(const parsed_args& a)
{
    auto cfg = client_config::from_args(a);
    if (auto f = a.value("consumer.config")) cfg.load_file(*f);
    cfg.set("group.id", a.value_or("group", fmt::format("perf-consumer-{}", now_ms() % 100000)));
    cfg.set_default("auto.offset.reset", a.has("from-latest") ? "latest" : "earliest");
    cfg.set_default("enable.auto.commit", a.has("group") ? "true" : "false");
    if (auto v = a.value("fetch-size")) cfg.set("max.partition.fetch.bytes", *v);
    if (auto v = a.value("socket-buffer-size")) cfg.set("socket.receive.buffer.bytes", *v);
    return cfg;
}

} // namespace

int run_consumer_perf_test(const std::vector<std::string>& args)
{
    auto spec = perf_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    if (a.has("topic") == a.has("include")) throw usage_error("Exactly one of --topic or --include is required");
    auto wanted = a.int_value("messages");
    if (!wanted || *wanted < 0) throw usage_error("Missing or negative --messages");
    a.int_value("timeout");
    std::string date_format = a.value_or("date-format", "yyyy-MM-dd HH:mm:ss:SSS");
    bool json = a.has("json");
    auto cfg = perf_config(a);
    perf_state st;
    auto rk = cfg.create(RD_KAFKA_CONSUMER, [&](rd_kafka_conf_t* c) {
        rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
        rd_kafka_conf_set_opaque(c, &st);
    });
    rd_kafka_poll_set_consumer(rk.get());
    if (!json && !a.has("hide-header")) {
        std::printf("%s, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, "
                    "fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n",
                    a.has("show-detailed-stats") ? "time, threadId" : "start.time, end.time");
    }
    install_stop_handler();
    int64_t start = now_ms();
    st.join_start_ms = start;
    subscribe_or_assign(rk.get(), cfg, a);
    auto t = consume(rk.get(), a, st, date_format);
    int64_t end = now_ms();
    rd_kafka_consumer_close(rk.get());
    if (t.timed_out && !stop_requested()) {
        std::fprintf(json ? stderr : stdout,
                     "WARNING: Exiting before consuming the expected number of messages: timeout (%lld ms) exceeded. "
                     "You can use the --timeout option to increase the timeout.\n",
                     static_cast<long long>(a.int_or("timeout", 10000)));
    }
    if (json || !a.has("show-detailed-stats")) print_summary(t, st, start, end, date_format, json);
    return 0;
}

} // namespace samsa::cli
