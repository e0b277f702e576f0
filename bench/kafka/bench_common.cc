#include "bench_common.h"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <ctime>
#include <thread>

namespace samsa::bench {

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::string json_escape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace

options::options(int argc, char** argv, std::vector<std::string> value_names, std::vector<std::string> flag_names,
                 std::string usage)
    : _usage(std::move(usage))
{
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            fmt::print("{}", _usage);
            std::exit(0);
        }
        if (a.rfind("--", 0) != 0) {
            _positional.push_back(a);
            continue;
        }
        auto name = a.substr(2);
        if (contains(flag_names, name)) {
            _flags[name] = true;
            continue;
        }
        bool repeatable = contains(value_names, name + "*");
        if (name != "set" && !repeatable && !contains(value_names, name)) die("unknown option {}\n{}", a, _usage);
        if (i + 1 >= argc) die("{} needs a value", a);
        std::string v = argv[++i];
        if (repeatable) {
            _lists[name].push_back(v);
        } else if (name == "set") {
            auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0) die("--set wants key=value, got {}", v);
            _sets.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else if (!_values.emplace(name, v).second) {
            die("{} given twice", a);
        }
    }
}

std::string options::str(const std::string& name, const std::string& fallback) const
{
    auto it = _values.find(name);
    return it == _values.end() ? fallback : it->second;
}

std::string options::required(const std::string& name) const
{
    auto it = _values.find(name);
    if (it == _values.end()) die("--{} is required\n{}", name, _usage);
    return it->second;
}

std::vector<std::string> options::list(const std::string& name) const
{
    auto it = _lists.find(name);
    return it == _lists.end() ? std::vector<std::string>{} : it->second;
}

int64_t options::integer(const std::string& name, int64_t fallback) const
{
    auto it = _values.find(name);
    if (it == _values.end()) return fallback;
    try {
        size_t used = 0;
        auto v = std::stoll(it->second, &used);
        if (used != it->second.size()) throw std::invalid_argument("trailing characters");
        return v;
    } catch (const std::exception&) {
        die("--{} wants an integer, got {}", name, it->second);
    }
}

double options::number(const std::string& name, double fallback) const
{
    auto it = _values.find(name);
    if (it == _values.end()) return fallback;
    try {
        size_t used = 0;
        auto v = std::stod(it->second, &used);
        if (used != it->second.size() || !std::isfinite(v)) throw std::invalid_argument("bad number");
        return v;
    } catch (const std::exception&) {
        die("--{} wants a number, got {}", name, it->second);
    }
}

rd_kafka_conf_t* make_conf(const properties& props, const options& opts)
{
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    auto set = [&](const std::string& k, const std::string& v) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            die("librdkafka rejects {}={}: {}", k, v, err);
        }
    };
    for (auto& [k, v] : props) set(k, v);
    for (auto& [k, v] : opts.sets()) set(k, v);
    return conf;
}

rd_kafka_t* make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf)
{
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) die("cannot create the librdkafka client: {}", err);
    return rk;
}

void await_topic(rd_kafka_t* rk, const std::string& topic, int partitions, int timeout_ms)
{
    auto deadline = steady::now() + std::chrono::milliseconds(timeout_ms);
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    std::string last = "no answer";
    while (steady::now() < deadline) {
        const rd_kafka_metadata_t* md = nullptr;
        auto e = rd_kafka_metadata(rk, 0, t, &md, 5000);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            bool ok = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                      md->topics[0].partition_cnt >= partitions;
            if (!ok && md->topic_cnt == 1) {
                last = fmt::format("{} partition(s), error {}", md->topics[0].partition_cnt,
                                   rd_kafka_err2str(md->topics[0].err));
            }
            rd_kafka_metadata_destroy(md);
            if (ok) {
                rd_kafka_topic_destroy(t);
                return;
            }
        } else {
            last = rd_kafka_err2str(e);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    die("topic {} not ready with {} partition(s) within {} ms: {}", topic, partitions, timeout_ms, last);
}

void await_coordinator(rd_kafka_t* consumer, const std::string& topic, int timeout_ms)
{
    // A broker creating __consumer_offsets answers NOT_COORDINATOR (or not available, or
    // loading) for a while, longer with three replicas: asked again until the deadline.
    auto deadline = steady::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto* l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic.c_str(), 0);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
        auto e = rd_kafka_committed(consumer, l, static_cast<int>(std::max<int64_t>(left, 1)));
        rd_kafka_topic_partition_list_destroy(l);
        if (!e) return;
        bool retriable = e == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || e == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
                         e == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
        if (!retriable || steady::now() >= deadline) {
            die("committed offsets (group coordinator) not available: {}", rd_kafka_err2str(e));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

double percentile_us(const std::vector<int64_t>& sorted, double q)
{
    if (sorted.empty()) return 0;
    auto i = std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
    return static_cast<double>(sorted[i]) / 1e3;
}

void sleep_until_ns(int64_t due)
{
    if (now_ns() >= due) return;
    timespec ts{static_cast<time_t>(due / 1000000000), static_cast<long>(due % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

std::vector<char> make_payload(size_t size)
{
    std::vector<char> p(size);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (auto& c : p) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x);
    }
    return p;
}

void json_line::key(const std::string& k)
{
    if (!_body.empty()) _body += ", ";
    _body += "\"" + json_escape(k) + "\": ";
}

json_line& json_line::add(const std::string& k, double v)
{
    key(k);
    _body += std::isfinite(v) ? fmt::format("{:.10g}", v) : "null";
    return *this;
}

json_line& json_line::add(const std::string& k, int64_t v)
{
    key(k);
    _body += std::to_string(v);
    return *this;
}

json_line& json_line::add(const std::string& k, const std::string& v)
{
    key(k);
    _body += "\"" + json_escape(v) + "\"";
    return *this;
}

json_line& json_line::add(const std::string& k, const std::vector<double>& v)
{
    key(k);
    _body += "[";
    for (size_t i = 0; i < v.size(); ++i) {
        _body += (i ? ", " : "") + (std::isfinite(v[i]) ? fmt::format("{:.10g}", v[i]) : std::string("null"));
    }
    _body += "]";
    return *this;
}

} // namespace samsa::bench
