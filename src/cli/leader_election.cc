// samsa leader-election: kafka-leader-election.sh. Sends ElectLeaders (preferred or unclean) to
// the controller over a plain Kafka-protocol connection (librdkafka 2.0.2 has no admin API for
// it) and prints the outcome per partition as Kafka's tool does.
#include "cli/broker_socket.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "base/ids.h"
#include "cli/output.h"
#include "protocol/error_code.h"
#include "protocol/messages/elect_leaders.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

namespace samsa::cli {

namespace {

command_spec leader_election_spec()
{
    command_spec s{
        "leader-election",
        "Elects partition leaders: the preferred replica (the first of the assignment, when it is "
        "live and in sync), or, for partitions without a live leader, any live replica (unclean: "
        "records only the in-sync replicas had are lost).",
        "  samsa leader-election --bootstrap-server localhost:9092 --election-type PREFERRED --all-topic-partitions\n"
        "  samsa leader-election --bootstrap-server localhost:9092 --election-type UNCLEAN --topic t --partition 0\n"
        "  samsa leader-election --bootstrap-server localhost:9092 --election-type preferred --path-to-json-file p.json\n"
        "  where p.json holds {\"partitions\": [{\"topic\": \"t\", \"partition\": 0}]}\n",
        {
            {"election-type", arity::one, "PREFERRED|UNCLEAN", "The kind of election."},
            {"all-topic-partitions", arity::flag, "", "Every partition of every topic."},
            {"topic", arity::one, "topic", "The topic of the partition to elect (with --partition)."},
            {"partition", arity::one, "partition", "The partition to elect (with --topic)."},
            {"path-to-json-file", arity::one, "file", "JSON naming the partitions to elect."},
            {"admin.config", arity::one, "file", "Client properties file (as --command-config)."},
        }};
    add_client_options(s);
    return s;
}

std::vector<topic_partition> read_partitions(const std::string& path)
{
    std::ifstream in(path);
    if (!in) throw cli_error(fmt::format("Cannot read the JSON file {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    boost::json::error_code ec;
    auto doc = boost::json::parse(ss.str(), ec);
    if (ec) throw cli_error(fmt::format("{}: not valid JSON: {}", path, ec.message()));
    auto* obj = doc.if_object();
    auto* list = obj && obj->contains("partitions") ? obj->at("partitions").if_array() : nullptr;
    if (!list) throw cli_error(fmt::format("{}: no \"partitions\" array", path));
    std::vector<topic_partition> out;
    for (auto& e : *list) {
        auto* o = e.if_object();
        auto* t = o && o->contains("topic") ? o->at("topic").if_string() : nullptr;
        auto* p = o && o->contains("partition") ? o->at("partition").if_int64() : nullptr;
        if (!t || !p) throw cli_error(fmt::format("{}: each entry needs \"topic\" and \"partition\": {}", path, boost::json::serialize(e)));
        topic_partition tp{std::string(*t), partition_id(static_cast<int32_t>(*p))};
        if (std::find(out.begin(), out.end(), tp) != out.end()) {
            throw cli_error(fmt::format("{}: partition {}-{} is listed twice", path, tp.topic, tp.partition()));
        }
        out.push_back(std::move(tp));
    }
    if (out.empty()) throw cli_error(fmt::format("{}: the \"partitions\" array is empty", path));
    return out;
}

std::string names(const std::vector<std::string>& v) { return join(v, ", "); }

} // namespace

int run_leader_election(const std::vector<std::string>& args)
{
    auto spec = leader_election_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    auto type_arg = a.value("election-type");
    if (!type_arg) throw usage_error("Missing required option(s) [election-type]");
    std::string type = *type_arg;
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::toupper(c); });
    if (type != "PREFERRED" && type != "UNCLEAN") {
        throw usage_error(fmt::format("Unknown election type '{}' (PREFERRED or UNCLEAN)", *type_arg));
    }
    int sources = int(a.has("all-topic-partitions")) + int(a.has("topic")) + int(a.has("path-to-json-file"));
    if (sources != 1) {
        throw usage_error("One and only one of the following options is required: all-topic-partitions, topic, path-to-json-file");
    }
    if (a.has("partition") && !a.has("topic")) throw usage_error("Option partition is only allowed with topic");
    std::optional<std::vector<topic_partition>> parts;
    if (a.has("topic")) {
        auto p = a.int_value("partition");
        if (!p) throw usage_error("Missing required option(s) [partition]");
        if (*p < 0 || *p > INT32_MAX) throw usage_error(fmt::format("Invalid partition {}", *p));
        parts = std::vector<topic_partition>{topic_partition{*a.value("topic"), partition_id(static_cast<int32_t>(*p))}};
    } else if (a.has("path-to-json-file")) {
        parts = read_partitions(*a.value("path-to-json-file"));
    }
    auto cfg = client_config::from_args(a);
    if (auto f = a.value("admin.config")) cfg.load_file(*f);

    protocol::elect_leaders_request req;
    req.election_type = type == "PREFERRED" ? 0 : 1;
    req.timeout_ms = cfg.timeout_ms();
    if (parts) {
        std::map<std::string, std::vector<int32_t>> by_topic;
        for (auto& tp : *parts) by_topic[tp.topic].push_back(tp.partition());
        req.topic_partitions.emplace();
        for (auto& [t, ps] : by_topic) req.topic_partitions->push_back({t, ps});
    }
    protocol::elect_leaders_response resp;
    with_controller(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms(), [&](broker_connection& conn) {
        resp = conn.call<protocol::elect_leaders_api>(req, 2);
        return resp.error_code != static_cast<int16_t>(protocol::error_code::not_controller);
    });
    if (resp.error_code != 0) {
        throw cli_error(fmt::format("Leader election failed: {}",
                                    protocol::to_string(static_cast<protocol::error_code>(resp.error_code))));
    }
    std::vector<std::string> done, noop, failed_lines;
    for (auto& t : resp.replica_election_results) {
        for (auto& p : t.partition_result) {
            auto name = fmt::format("{}-{}", t.topic, p.partition_id);
            auto ec = static_cast<protocol::error_code>(p.error_code);
            if (ec == protocol::error_code::none) done.push_back(name);
            else if (ec == protocol::error_code::election_not_needed) noop.push_back(name);
            else failed_lines.push_back(fmt::format("Error completing leader election ({}) for partition: {}: {}: {}", type,
                                                    name, protocol::to_string(ec), p.error_message.value_or("")));
        }
    }
    if (!done.empty()) write_out(fmt::format("Successfully completed leader election ({}) for partitions {}\n", type, names(done)));
    if (!noop.empty()) write_out(fmt::format("Valid replica already elected for partitions {}\n", names(noop)));
    if (!failed_lines.empty()) {
        for (auto& l : failed_lines) write_out(l + "\n");
        throw cli_error(fmt::format("{} replica(s) could not be elected", failed_lines.size()));
    }
    return 0;
}

} // namespace samsa::cli
