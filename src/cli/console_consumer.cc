// samsa console-consumer: kafka-console-consumer.sh on librdkafka's consumer.
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/message_formatter.h"
#include "cli/output.h"
#include "cli/signals.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

namespace samsa::cli {

namespace {

command_spec consumer_spec()
{
    command_spec s{
        "console-consumer",
        "Consumes records and prints them to stdout, one per line (Kafka's DefaultMessageFormatter layout). "
        "With --partition it reads that partition directly (no consumer group protocol); otherwise it "
        "subscribes with a consumer group (--group, or a random one). Ctrl-C stops it; the number of "
        "records processed goes to stderr.",
        "  samsa console-consumer --bootstrap-server localhost:9092 --topic test --from-beginning\n"
        "  samsa console-consumer --topic test --partition 0 --offset 42 --max-messages 10\n"
        "  samsa console-consumer --topic test --group g1 --property print.key=true --property print.offset=true\n"
        "  samsa console-consumer --include 'logs-.*' --from-beginning --timeout-ms 5000\n",
        {
            {"topic", arity::one, "topic", "The topic to consume."},
            {"include", arity::one, "regex", "Consume every topic whose name matches this regular expression."},
            {"partition", arity::one, "partition", "Consume only this partition (needs --topic)."},
            {"offset", arity::one, "earliest|latest|N", "Where to start in --partition (default latest)."},
            {"from-beginning", arity::flag, "", "Start at the earliest record when there is no committed offset."},
            {"group", arity::one, "group id", "The consumer group id."},
            {"max-messages", arity::one, "count", "Exit after this many records."},
            {"timeout-ms", arity::one, "ms", "Exit when no record arrives for this long."},
            {"isolation-level", arity::one, "read_committed|read_uncommitted", "Transactional visibility."},
            {"consumer-property", arity::one, "name=value", "A consumer property (repeatable)."},
            {"consumer.config", arity::one, "file", "Consumer properties file."},
            {"property", arity::one, "name=value",
             "Formatter property: print.timestamp, print.partition, print.offset, print.headers, print.key, "
             "print.value, key.separator, line.separator, headers.separator, null.literal (repeatable)."},
            {"formatter", arity::one, "class", "Only Kafka's DefaultMessageFormatter is available."},
            {"skip-message-on-error", arity::flag, "", "Accepted for compatibility."},
        }};
    add_client_options(s);
    return s;
}

struct consumer_options {
    std::string topic;
    std::string include;
    std::optional<int32_t> partition;
    int64_t start_offset = RD_KAFKA_OFFSET_END;
    long max_messages = -1;
    long timeout_ms = -1;
};

int64_t parse_start_offset(const parsed_args& a)
{
    auto o = a.value("offset");
    if (!o) return a.has("from-beginning") ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    if (*o == "earliest") return RD_KAFKA_OFFSET_BEGINNING;
    if (*o == "latest") return RD_KAFKA_OFFSET_END;
    auto n = parse_int(*o);
    if (!n || *n < 0) {
        throw usage_error(fmt::format("The provided offset value '{}' is incorrect. Valid values are 'earliest', "
                                      "'latest', or a non-negative long.",
                                      *o));
    }
    return *n;
}

consumer_options validate(const parsed_args& a)
{
    if (a.has("topic") == a.has("include")) throw usage_error("Exactly one of --topic or --include is required");
    if (a.has("partition") && !a.has("topic")) throw usage_error("--partition can only be used with --topic");
    if (a.has("offset") && !a.has("partition"))
        throw usage_error("The partition is required when offset is specified.");
    if (a.has("offset") && a.has("from-beginning")) {
        throw usage_error("Options from-beginning and offset cannot be specified together.");
    }
    if (a.has("group") && a.has("partition"))
        throw usage_error("Options group and partition cannot be specified together.");
    if (auto f = a.value("formatter"); f && f->find("DefaultMessageFormatter") == std::string::npos) {
        throw usage_error(fmt::format("Unsupported --formatter {}: only DefaultMessageFormatter is available", *f));
    }
    if (auto l = a.value("isolation-level"); l && *l != "read_committed" && *l != "read_uncommitted") {
        throw usage_error(fmt::format("Invalid --isolation-level '{}'", *l));
    }
    consumer_options o;
    o.topic = a.value_or("topic", "");
    o.include = a.value_or("include", "");
    if (auto p = a.int_value("partition")) {
        if (*p < 0 || *p > INT32_MAX) throw usage_error("--partition must be a non-negative partition number");
        o.partition = static_cast<int32_t>(*p);
    }
    o.start_offset = parse_start_offset(a);
    o.max_messages = a.int_or("max-messages", -1);
    o.timeout_ms = a.int_or("timeout-ms", -1);
    return o;
}

client_config consumer_config(const parsed_args& a)
{
    auto cfg = client_config::from_args(a);
    if (auto f = a.value("consumer.config")) cfg.load_file(*f);
    cfg.add_pairs(a.values("consumer-property"), "consumer-property");
    if (auto g = a.value("group")) cfg.set("group.id", *g);
    if (!cfg.get("group.id")) {
        std::random_device rd;
        cfg.set("group.id", fmt::format("console-consumer-{}", std::uniform_int_distribution<int>(0, 99999)(rd)));
        // The random group will never be used again: do not leave its offsets behind.
        cfg.set_default("enable.auto.commit", "false");
    }
    if (auto l = a.value("isolation-level")) cfg.set("isolation.level", *l);
    if (a.has("from-beginning") && cfg.get("auto.offset.reset").value_or("earliest") != "earliest") {
        throw usage_error("Can't simultaneously specify --from-beginning and 'auto.offset.reset=" +
                          *cfg.get("auto.offset.reset") + "'");
    }
    cfg.set_default("auto.offset.reset", a.has("from-beginning") ? "earliest" : "latest");
    // The Java consumer's default: its metadata requests let the broker auto-create a missing
    // topic where the broker allows it (auto.create.topics.enable).
    cfg.set_default("allow.auto.create.topics", "true");
    return cfg;
}

std::map<std::string, std::string> formatter_props(const parsed_args& a)
{
    std::map<std::string, std::string> props;
    for (auto& kv : a.values("property")) {
        auto [k, v] = split_key_value(kv, "property");
        props[k] = v;
    }
    return props;
}

using clock = std::chrono::steady_clock;

/// Whether --timeout-ms has passed since `since`.
bool timed_out(const consumer_options& o, clock::time_point since)
{
    return o.timeout_ms >= 0 &&
           std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - since).count() >= o.timeout_ms;
}

/// The metadata of `o.topic` once it exists with its partitions. Kafka's console consumer waits
/// for a missing topic (its metadata requests, like these, let the broker auto-create it where
/// allowed); nullptr when stopped or when --timeout-ms passes first.
metadata_ptr wait_for_topic(rd_kafka_t* rk, const client_config& cfg, const consumer_options& o,
                            clock::time_point since)
{
    for (;;) {
        auto md = fetch_metadata(rk, cfg, o.topic);
        auto* t = lookup_topic(*md, o.topic);
        if (t && t->partition_cnt > 0) return md;
        for (int i = 0; i < 5; ++i) {
            if (stop_requested() || timed_out(o, since)) return nullptr;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

/// Assigns or subscribes; false when the topic never appeared (see wait_for_topic).
bool start(rd_kafka_t* rk, const client_config& cfg, const consumer_options& o, clock::time_point since)
{
    auto list = new_partition_list(1);
    metadata_ptr md;
    if (!o.topic.empty()) {
        md = wait_for_topic(rk, cfg, o, since);
        if (!md) return false;
    }
    if (o.partition) {
        auto& t = find_topic(*md, o.topic);
        if (*o.partition >= t.partition_cnt) {
            throw cli_error(fmt::format("Partition {} does not exist in topic '{}' ({} partitions)", *o.partition,
                                        o.topic, t.partition_cnt));
        }
        rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), *o.partition)->offset = o.start_offset;
        if (auto err = rd_kafka_assign(rk, list.get())) throw cli_error("Cannot assign: " + error_text(err));
        return true;
    }
    std::string sub = o.topic.empty() ? "^" + o.include : o.topic;
    rd_kafka_topic_partition_list_add(list.get(), sub.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(rk, list.get())) throw cli_error("Cannot subscribe: " + error_text(err));
    return true;
}

formatted_record to_record(const rd_kafka_message_t* m)
{
    formatted_record r;
    rd_kafka_timestamp_type_t tt;
    r.timestamp = rd_kafka_message_timestamp(m, &tt);
    r.timestamp_type = tt == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? formatted_record::ts_kind::create_time
                       : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? formatted_record::ts_kind::log_append_time
                                                                  : formatted_record::ts_kind::none;
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key) r.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value = std::string_view(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
            std::optional<std::string_view> v;
            if (val) v = std::string_view(static_cast<const char*>(val), size);
            r.headers.emplace_back(name, v);
        }
    }
    return r;
}

/// Errors that end the consumer; the rest (broker down, partition EOF...) are retried.
bool fatal(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED || err == RD_KAFKA_RESP_ERR__FATAL ||
           err == RD_KAFKA_RESP_ERR_INVALID_GROUP_ID;
}

/// The poll loop, counting the records printed in `count`. Throws cli_error on a fatal error.
/// --timeout-ms counts from `since` (the start, waiting for the topic included) until the first
/// record, then from the last record.
void consume(rd_kafka_t* rk, const consumer_options& o, const message_formatter& f, clock::time_point since,
             long& count)
{
    auto last = since;
    std::string out;
    while (!stop_requested() && (o.max_messages < 0 || count < o.max_messages)) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            std::fflush(stdout);
            if (timed_out(o, last)) break;
            continue;
        }
        std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> guard(m, rd_kafka_message_destroy);
        if (m->err) {
            if (fatal(m->err)) throw cli_error(rd_kafka_message_errstr(m));
            continue;
        }
        out.clear();
        f.format(to_record(m), out);
        write_out(out);
        ++count;
        last = clock::now();
    }
    std::fflush(stdout);
}

} // namespace

int run_console_consumer(const std::vector<std::string>& args)
{
    auto spec = consumer_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    auto o = validate(a);
    message_formatter formatter(formatter_props(a));
    auto cfg = consumer_config(a);
    auto rk = cfg.create(RD_KAFKA_CONSUMER);
    rd_kafka_poll_set_consumer(rk.get());
    install_stop_handler();
    auto since = clock::now();
    long count = 0;
    std::string failure;
    if (start(rk.get(), cfg, o, since)) {
        try {
            consume(rk.get(), o, formatter, since, count);
        } catch (const cli_error& e) {
            failure = e.what();
        }
    }
    rd_kafka_consumer_close(rk.get());
    std::fprintf(stderr, "Processed a total of %ld messages\n", count);
    if (!failure.empty()) throw cli_error(failure);
    return 0;
}

} // namespace samsa::cli
