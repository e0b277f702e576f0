#pragma once
// Shared helpers of the librdkafka benchmark programs: option parsing, client configuration,
// clocks and the one-line JSON result each program prints on stdout (progress goes to stderr).

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace samsa::bench {

/// Prints "<program>: <message>" to stderr and exits with status 1.
template<typename... Args>
[[noreturn]] void die(fmt::format_string<Args...> f, Args&&... args)
{
    fmt::print(stderr, "{}\n", fmt::format(f, std::forward<Args>(args)...));
    std::exit(1);
}

/// `--name value` options and bare `--flag`s. A value name written "name*" may repeat (see
/// list()); `--set key=value` always may and collects librdkafka properties. Unknown names,
/// missing values and other repeated names are errors.
class options {
public:
    options(int argc, char** argv, std::vector<std::string> value_names, std::vector<std::string> flag_names,
            std::string usage);

    bool has(const std::string& name) const { return _values.count(name) > 0; }
    bool flag(const std::string& name) const { return _flags.count(name) > 0; }
    std::string str(const std::string& name, const std::string& fallback) const;
    /// The value of a required option; exits with the usage text when it is missing.
    std::string required(const std::string& name) const;
    int64_t integer(const std::string& name, int64_t fallback) const;
    double number(const std::string& name, double fallback) const;
    /// Every value of a repeatable option, in order.
    std::vector<std::string> list(const std::string& name) const;
    /// The `--set key=value` pairs, in order.
    const std::vector<std::pair<std::string, std::string>>& sets() const { return _sets; }
    const std::vector<std::string>& positional() const { return _positional; }

private:
    std::map<std::string, std::string> _values;
    std::map<std::string, std::vector<std::string>> _lists;
    std::map<std::string, bool> _flags;
    std::vector<std::pair<std::string, std::string>> _sets;
    std::vector<std::string> _positional;
    std::string _usage;
};

using properties = std::vector<std::pair<std::string, std::string>>;

/// A librdkafka configuration from `props`, then the user's `--set` overrides; exits on a
/// property librdkafka rejects.
rd_kafka_conf_t* make_conf(const properties& props, const options& opts);

/// Creates the client; exits on failure.
rd_kafka_t* make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf);

/// Waits until the client has fetched metadata for `topic` with `partitions` partitions (so the
/// connection is up before timing starts); exits after `timeout_ms`.
void await_topic(rd_kafka_t* rk, const std::string& topic, int partitions, int timeout_ms);

/// Makes the consumer find its group coordinator (the broker creates __consumer_offsets on the
/// first lookup) before timing starts: librdkafka's assign() needs a group.id, and that one-time
/// cost is not part of reading. Exits after `timeout_ms`.
void await_coordinator(rd_kafka_t* consumer, const std::string& topic, int timeout_ms);

using steady = std::chrono::steady_clock;

inline int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

/// Sleeps until now_ns() reaches `due` (CLOCK_MONOTONIC, absolute, restarted after signals).
void sleep_until_ns(int64_t due);

inline double seconds_between(steady::time_point a, steady::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

/// The `q` quantile (0..1) of sorted nanosecond samples, in microseconds (0 when empty).
double percentile_us(const std::vector<int64_t>& sorted, double q);

/// A payload of `size` bytes that does not compress (a fixed xorshift sequence).
std::vector<char> make_payload(size_t size);

/// Builds the flat JSON object the programs print as their last stdout line.
class json_line {
public:
    json_line& add(const std::string& key, double v);
    json_line& add(const std::string& key, int64_t v);
    json_line& add(const std::string& key, const std::string& v);
    json_line& add(const std::string& key, const std::vector<double>& v);
    std::string str() const { return "{" + _body + "}"; }
    void print() const { fmt::print("{}\n", str()); std::fflush(stdout); }

private:
    void key(const std::string& k);
    std::string _body;
};

} // namespace samsa::bench
