#include "cli/client.h"

#include "cli/broker_socket.h"
#include "config/errors.h"
#include "config/properties.h"

#include <fmt/format.h>

#include <cstdio>
#include <set>

namespace samsa::cli {

namespace {

/// Java client keys with no librdkafka meaning that the tools accept silently.
bool ignored_java_key(const std::string& key)
{
    static const std::set<std::string> keys{"key.serializer", "value.serializer", "key.deserializer",
                                            "value.deserializer", "default.api.timeout.ms"};
    return keys.count(key) > 0;
}

void silent_log(const rd_kafka_t*, int, const char*, const char*) {}

bool unreachable(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
           err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE;
}

} // namespace

std::string error_text(rd_kafka_resp_err_t err)
{
    return rd_kafka_err2str(err);
}

client_config client_config::from_args(const parsed_args& a)
{
    client_config c;
    std::string servers = a.value_or("bootstrap-server", "localhost:9092");
    if (auto list = a.value("broker-list")) {
        std::fputs("warning: --broker-list is deprecated and will go away in a later release; use "
                   "--bootstrap-server\n",
                   stderr);
        if (!a.has("bootstrap-server")) servers = *list;
    }
    c.set("bootstrap.servers", servers);
    if (auto f = a.value("command-config")) c.load_file(*f);
    return c;
}

void client_config::set(const std::string& key, const std::string& value)
{
    if (key == "default.api.timeout.ms") {
        auto v = parse_int(value);
        if (!v || *v <= 0 || *v > 3600000) {
            throw cli_error(fmt::format("Invalid value '{}' for default.api.timeout.ms", value));
        }
        _timeout_ms = static_cast<int>(*v);
    }
    if (key == "bootstrap.servers") _bootstrap = value;
    for (auto& [k, v] : _props) {
        if (k == key) {
            v = value;
            return;
        }
    }
    _props.emplace_back(key, value);
}

void client_config::set_default(const std::string& key, const std::string& value)
{
    if (!get(key)) set(key, value);
}

std::optional<std::string> client_config::get(const std::string& key) const
{
    for (auto& [k, v] : _props) {
        if (k == key) return v;
    }
    return std::nullopt;
}

void client_config::load_file(const std::string& path)
{
    config::property_map m;
    try {
        m = config::load_properties_file(path);
    } catch (const config::config_error& e) {
        throw cli_error(e.what());
    }
    for (auto& [k, v] : m) set(k, v);
}

void client_config::add_pairs(const std::vector<std::string>& pairs, std::string_view flag)
{
    for (auto& kv : pairs) {
        auto [k, v] = split_key_value(kv, flag);
        set(k, v);
    }
}

void client_config::check_brokers() const
{
    // Once per process and address list: several handles may be created for one run.
    static std::set<std::string> checked;
    if (checked.count(_bootstrap)) return;
    check_reachable(parse_bootstrap(_bootstrap), _timeout_ms);
    checked.insert(_bootstrap);
}

kafka_ptr client_config::create(rd_kafka_type_t type, const std::function<void(rd_kafka_conf_t*)>& customize) const
{
    check_brokers();
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    for (auto& [k, v] : _props) {
        if (ignored_java_key(k)) continue;
        auto r = rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
        if (r == RD_KAFKA_CONF_UNKNOWN) {
            std::fprintf(stderr, "warning: ignoring client property '%s' (not a librdkafka property)\n", k.c_str());
        } else if (r != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw cli_error(fmt::format("Invalid client property {}={}: {}", k, v, err));
        }
    }
    if (!get("debug")) rd_kafka_conf_set_log_cb(conf, silent_log);
    if (customize) customize(conf);
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        throw cli_error(fmt::format("Cannot create the Kafka client: {}", err));
    }
    return kafka_ptr(rk);
}

metadata_ptr fetch_metadata(rd_kafka_t* rk, const client_config& cfg, const std::string& topic)
{
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* rkt = topic.empty() ? nullptr : rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    auto err = rd_kafka_metadata(rk, topic.empty() ? 1 : 0, rkt, &md, cfg.timeout_ms());
    if (rkt) rd_kafka_topic_destroy(rkt);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return metadata_ptr(md);
    if (unreachable(err)) {
        throw cli_error(fmt::format("Cannot reach the broker(s) at {} within {} ms ({})", cfg.bootstrap(),
                                    cfg.timeout_ms(), error_text(err)));
    }
    throw cli_error(fmt::format("Cannot fetch metadata from {}: {}", cfg.bootstrap(), error_text(err)));
}

const rd_kafka_metadata_topic_t* lookup_topic(const rd_kafka_metadata_t& md, const std::string& topic)
{
    for (int i = 0; i < md.topic_cnt; ++i) {
        auto& t = md.topics[i];
        if (topic != t.topic) continue;
        if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) break;
        // A topic just auto-created may not have leaders yet; clients retry on their own.
        if (t.err && t.err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
            throw cli_error(fmt::format("Topic '{}': {}", topic, error_text(t.err)));
        return &t;
    }
    return nullptr;
}

const rd_kafka_metadata_topic_t& find_topic(const rd_kafka_metadata_t& md, const std::string& topic)
{
    if (auto* t = lookup_topic(md, topic)) return *t;
    throw cli_error(fmt::format("Topic '{}' does not exist", topic));
}

std::pair<int64_t, int64_t> query_watermarks(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                                             int timeout_ms)
{
    int64_t low = -1;
    int64_t high = -1;
    auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
    if (err) throw cli_error(fmt::format("Cannot read the offsets of {}-{}: {}", topic, partition, error_text(err)));
    return {low, high};
}

bool is_internal_topic(const std::string& name)
{
    return name == "__consumer_offsets" || name == "__transaction_state";
}

admin_client::admin_client(const client_config& cfg)
  : _cfg(cfg)
  , _rk(cfg.create(RD_KAFKA_PRODUCER))
{
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(_rk.get(), 0, nullptr, &md, _cfg.timeout_ms());
    if (err) {
        throw cli_error(fmt::format("Cannot reach the broker(s) at {} within {} ms ({})", _cfg.bootstrap(),
                                    _cfg.timeout_ms(), error_text(err)));
    }
    rd_kafka_metadata_destroy(md);
}

event_ptr admin_client::run(rd_kafka_admin_op_t op, const std::string& what, const starter& start) const
{
    char err[512];
    std::unique_ptr<rd_kafka_AdminOptions_t, options_deleter> opts(rd_kafka_AdminOptions_new(_rk.get(), op));
    rd_kafka_AdminOptions_set_request_timeout(opts.get(), _cfg.timeout_ms(), err, sizeof err);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
        rd_kafka_AdminOptions_set_operation_timeout(opts.get(), _cfg.timeout_ms(), err, sizeof err);
    }
    std::unique_ptr<rd_kafka_queue_t, queue_deleter> q(rd_kafka_queue_new(_rk.get()));
    start(_rk.get(), opts.get(), q.get());
    event_ptr ev(rd_kafka_queue_poll(q.get(), _cfg.timeout_ms() + 5000));
    if (!ev) throw cli_error(fmt::format("{}: no answer within {} ms", what, _cfg.timeout_ms()));
    if (auto e = rd_kafka_event_error(ev.get())) {
        const char* s = rd_kafka_event_error_string(ev.get());
        throw cli_error(fmt::format("{}: {}", what, s ? s : error_text(e)));
    }
    return ev;
}

} // namespace samsa::cli
