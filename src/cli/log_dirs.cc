// samsa log-dirs: kafka-log-dirs.sh --describe. DescribeLogDirs to each broker asked (all by
// default) over plain Kafka-protocol connections, printed as Kafka's tool prints it: one JSON
// document of every broker's log directories with their replicas' sizes and offset lags.
#include "cli/broker_socket.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "protocol/error_code.h"
#include "protocol/messages/describe_log_dirs.h"

#include <fmt/format.h>

#include <set>
#include <sstream>

namespace samsa::cli {

namespace {

command_spec log_dirs_spec()
{
    command_spec s{
        "log-dirs",
        "Describes the log directories of brokers: the replicas each holds, their size and offset lag.",
        "  samsa log-dirs --bootstrap-server localhost:9092 --describe\n"
        "  samsa log-dirs --bootstrap-server localhost:9092 --describe --broker-list 1,2 --topic-list t,u\n",
        {
            {"describe", arity::flag, "", "Describe the log directories (the only action)."},
            {"broker-list", arity::one, "ids", "The brokers to ask (default: all)."},
            {"topic-list", arity::one, "topics", "The topics to report (default: all)."},
        }};
    add_client_options(s);
    return s;
}

std::vector<std::string> split_commas(const std::string& s)
{
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

} // namespace

int run_log_dirs(const std::vector<std::string>& args)
{
    auto spec = log_dirs_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    if (!a.has("describe")) throw usage_error("Command must include the action --describe");
    auto cfg = client_config::from_args(a);
    std::optional<std::set<std::string>> topics;
    if (auto t = a.value("topic-list")) {
        auto list = split_commas(*t);
        topics.emplace(list.begin(), list.end());
    }
    broker_connection boot(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
    auto c = describe_cluster(boot, std::nullopt);
    std::vector<int32_t> ids;
    if (auto l = a.value("broker-list")) {
        for (auto& s : split_commas(*l)) {
            auto v = parse_int(s);
            if (!v || *v < 0 || *v > INT32_MAX) throw usage_error(fmt::format("Invalid --broker-list '{}'", *l));
            ids.push_back(static_cast<int32_t>(*v));
        }
    } else {
        for (auto& b : c.brokers) ids.push_back(b.node_id);
    }
    write_out("Querying brokers for log directories information\n");
    protocol::describe_log_dirs_request req; // topics null: everything
    req.topics = std::nullopt;
    std::vector<std::string> brokers_json, answered;
    for (auto id : ids) {
        broker_connection conn(address_of(broker_by_id(c, id)), cfg.timeout_ms());
        auto resp = conn.call<protocol::describe_log_dirs_api>(req, 4);
        std::vector<std::string> dirs;
        for (auto& r : resp.results) {
            std::vector<std::string> parts;
            for (auto& t : r.topics) {
                if (topics && !topics->count(t.name)) continue;
                for (auto& p : t.partitions) {
                    parts.push_back(fmt::format("{{\"partition\":{},\"size\":{},\"offsetLag\":{},\"isFuture\":{}}}",
                                                json_string(fmt::format("{}-{}", t.name, p.partition_index)), p.partition_size,
                                                p.offset_lag, p.is_future_key ? "true" : "false"));
                }
            }
            std::string error = r.error_code == 0
                                    ? "null"
                                    : json_string(std::string(protocol::to_string(static_cast<protocol::error_code>(r.error_code))));
            dirs.push_back(fmt::format("{{\"logDir\":{},\"error\":{},\"partitions\":[{}]}}", json_string(r.log_dir), error,
                                       join(parts, ",")));
        }
        brokers_json.push_back(fmt::format("{{\"broker\":{},\"logDirs\":[{}]}}", id, join(dirs, ",")));
        answered.push_back(std::to_string(id));
    }
    write_out(fmt::format("Received log directory information from brokers {}\n{{\"version\":1,\"brokers\":[{}]}}\n",
                          join(answered, ","), join(brokers_json, ",")));
    return 0;
}

} // namespace samsa::cli
