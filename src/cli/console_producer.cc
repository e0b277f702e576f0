// samsa console-producer: kafka-console-producer.sh. One record per stdin line.
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/line_reader.h"
#include "cli/output.h"
#include "cli/signals.h"

#include <fmt/format.h>

#include <cstdio>
#include <unistd.h>
#include <set>

namespace samsa::cli {

namespace {

command_spec producer_spec()
{
    command_spec s{"console-producer",
                   "Reads lines from stdin and produces one record per line. With --property parse.key=true a "
                   "line is KEY<key.separator>VALUE; with parse.headers=true it starts with "
                   "h1:v1,h2:v2<headers.delimiter>. Exits non-zero if any record could not be delivered.",
                   "  samsa console-producer --bootstrap-server localhost:9092 --topic test\n"
                   "  printf 'k1:hello\\nk2:world\\n' | samsa console-producer --topic test \\\n"
                   "      --property parse.key=true --property key.separator=:\n"
                   "  samsa console-producer --topic test --compression-codec zstd --sync < records.txt\n",
                   {
                       {"topic", arity::one, "topic", "REQUIRED: the topic to produce to."},
                       {"property", arity::one, "name=value",
                        "Line parsing: parse.key, key.separator, parse.headers, headers.delimiter, "
                        "headers.separator, headers.key.separator, ignore.error, null.marker (repeatable)."},
                       {"producer-property", arity::one, "name=value", "A producer property (repeatable)."},
                       {"producer.config", arity::one, "file", "Producer properties file."},
                       {"compression-codec", arity::optional, "none|gzip|snappy|lz4|zstd",
                        "Compression codec (gzip when given without a value)."},
                       {"request-required-acks", arity::one, "acks", "acks for produce requests (default -1)."},
                       {"sync", arity::flag, "", "Wait for each record to be delivered before sending the next."},
                       {"timeout", arity::one, "ms", "linger.ms: how long to wait to fill a batch (default 1000)."},
                       {"batch-size", arity::one, "bytes", "batch.size."},
                       {"message-send-max-retries", arity::one, "count", "retries."},
                       {"retry-backoff-ms", arity::one, "ms", "retry.backoff.ms."},
                       {"request-timeout-ms", arity::one, "ms", "request.timeout.ms."},
                   }};
    add_client_options(s);
    add_broker_list_option(s);
    return s;
}

/// Delivery outcomes, updated by librdkafka's delivery report callback (on the main thread,
/// from rd_kafka_poll/flush).
struct delivery_state {
    long delivered = 0;
    long failed = 0;
    std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque)
{
    auto* st = static_cast<delivery_state*>(opaque);
    if (!m->err) {
        ++st->delivered;
        return;
    }
    if (st->failed++ == 0) st->first_error = rd_kafka_err2str(m->err);
}

client_config producer_config(const parsed_args& a)
{
    auto cfg = client_config::from_args(a);
    if (auto f = a.value("producer.config")) cfg.load_file(*f);
    cfg.add_pairs(a.values("producer-property"), "producer-property");
    if (a.has("compression-codec")) {
        static const std::set<std::string> codecs{"none", "gzip", "snappy", "lz4", "zstd"};
        std::string c = a.value_or("compression-codec", "gzip");
        if (!codecs.count(c)) throw usage_error(fmt::format("Unknown --compression-codec '{}'", c));
        cfg.set("compression.type", c);
    }
    const std::pair<const char*, const char*> flags[] = {
        {"request-required-acks", "acks"},
        {"timeout", "linger.ms"},
        {"batch-size", "batch.size"},
        {"message-send-max-retries", "retries"},
        {"retry-backoff-ms", "retry.backoff.ms"},
        {"request-timeout-ms", "request.timeout.ms"},
    };
    for (auto [flag, key] : flags) {
        if (auto v = a.value(flag)) cfg.set(key, *v);
    }
    cfg.set_default("acks", "-1");
    cfg.set_default("linger.ms", "1000");
    cfg.set_default("message.timeout.ms", "30000");
    // Java's partitioner, so keyed records land where a Java producer would put them.
    cfg.set_default("partitioner", "murmur2_random");
    return cfg;
}

rd_kafka_headers_t* make_headers(const parsed_line& rec)
{
    if (rec.headers.empty()) return nullptr;
    rd_kafka_headers_t* h = rd_kafka_headers_new(rec.headers.size());
    for (auto& [k, v] : rec.headers) {
        rd_kafka_header_add(h, k.data(), static_cast<ssize_t>(k.size()), v ? v->data() : nullptr,
                            v ? static_cast<ssize_t>(v->size()) : 0);
    }
    return h;
}

/// Queues one record, waiting while librdkafka's queue is full.
void produce(rd_kafka_t* rk, const std::string& topic, const parsed_line& rec)
{
    for (;;) {
        rd_kafka_headers_t* h = make_headers(rec);
        rd_kafka_resp_err_t err;
        const void* kp = rec.key ? rec.key->data() : nullptr;
        size_t kn = rec.key ? rec.key->size() : 0;
        void* vp = rec.value ? const_cast<char*>(rec.value->data()) : nullptr;
        size_t vn = rec.value ? rec.value->size() : 0;
        if (h) {
            err =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(kp, kn), RD_KAFKA_V_VALUE(vp, vn),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        } else {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(kp, kn),
                                    RD_KAFKA_V_VALUE(vp, vn), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        }
        if (!err) return;
        if (h) rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw cli_error(fmt::format("Cannot produce: {}", error_text(err)));
        rd_kafka_poll(rk, 100);
    }
}

/// Reads and produces every line, counting the records queued in `n`.
void pump(rd_kafka_t* rk, const std::string& topic, const line_format& fmt_, bool sync, int flush_ms, long& n)
{
    stdin_lines in;
    // Kafka's prompt, only for a person typing at a terminal.
    bool prompt = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
    auto show_prompt = [&] {
        if (!prompt) return;
        std::fputs(">", stdout);
        std::fflush(stdout);
    };
    show_prompt();
    while (auto line = in.next()) {
        auto rec = parse_line(*line, fmt_, n + 1);
        produce(rk, topic, rec);
        ++n;
        if (sync)
            rd_kafka_flush(rk, flush_ms);
        else
            rd_kafka_poll(rk, 0);
        show_prompt();
    }
}

} // namespace

int run_console_producer(const std::vector<std::string>& args)
{
    auto spec = producer_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    auto topic = a.value("topic");
    if (!topic) throw usage_error("Missing required option --topic");
    std::map<std::string, std::string> props;
    for (auto& kv : a.values("property")) {
        auto [k, v] = split_key_value(kv, "property");
        props[k] = v;
    }
    auto format = line_format::from_properties(props);
    auto cfg = producer_config(a);
    delivery_state st;
    auto rk = cfg.create(RD_KAFKA_PRODUCER, [&](rd_kafka_conf_t* c) {
        rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
        rd_kafka_conf_set_opaque(c, &st);
    });
    find_topic(*fetch_metadata(rk.get(), cfg, *topic), *topic);
    install_stop_handler();
    int flush_ms = static_cast<int>(parse_int(cfg.get("message.timeout.ms").value_or("30000")).value_or(30000)) + 5000;
    long sent = 0;
    std::string input_error;
    try {
        pump(rk.get(), *topic, format, a.has("sync"), flush_ms, sent);
    } catch (const cli_error& e) {
        input_error = e.what(); // deliver what was read before the bad line, then report it
    }
    rd_kafka_flush(rk.get(), flush_ms);
    long undelivered = sent - st.delivered - st.failed;
    if (!input_error.empty()) throw cli_error(input_error);
    if (st.failed > 0 || undelivered > 0) {
        throw cli_error(fmt::format("{} of {} records were not delivered to {}: {}", st.failed + undelivered, sent,
                                    *topic, st.failed > 0 ? st.first_error : "timed out"));
    }
    return 0;
}

} // namespace samsa::cli
