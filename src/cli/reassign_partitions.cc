// samsa reassign-partitions: kafka-reassign-partitions.sh. --generate proposes an assignment
// of the topics named in a JSON file over a broker list (Kafka's round-robin placement);
// --execute starts the reassignments of a JSON file (AlterPartitionReassignments to the
// controller, printing the current assignment for a rollback), optionally throttled
// (--throttle: the replication throttle rates on the brokers involved and the throttled
// replicas of the topics moved); --verify reports each one and, once all are done, clears the
// throttles; --cancel cancels them; --list shows those in progress.
#include "base/ids.h"
#include "cli/broker_socket.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cluster/assignment.h"
#include "cluster/zk/znodes.h"
#include "protocol/error_code.h"
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/list_partition_reassignments.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace samsa::cli {

namespace {

using assignment = std::map<topic_partition, std::vector<int32_t>>;

command_spec reassign_spec()
{
    command_spec s{
        "reassign-partitions",
        "Moves partition replicas between brokers: new replicas join and catch up, enter the "
        "in-sync set, then the replicas leaving are removed (leadership moves first if needed). "
        "Raising a topic's replication factor is a reassignment to more replicas.",
        "  samsa reassign-partitions --bootstrap-server localhost:9092 --generate --topics-to-move-json-file t.json --broker-list 2,3\n"
        "  samsa reassign-partitions --bootstrap-server localhost:9092 --execute --reassignment-json-file r.json [--throttle 10000000]\n"
        "  samsa reassign-partitions --bootstrap-server localhost:9092 --verify --reassignment-json-file r.json\n"
        "  samsa reassign-partitions --bootstrap-server localhost:9092 --cancel --reassignment-json-file r.json\n"
        "  samsa reassign-partitions --bootstrap-server localhost:9092 --list\n"
        "  where t.json holds {\"topics\": [{\"topic\": \"t\"}], \"version\": 1} and r.json\n"
        "  {\"version\": 1, \"partitions\": [{\"topic\": \"t\", \"partition\": 0, \"replicas\": [2, 3]}]}\n",
        {
            {"generate", arity::flag, "", "Propose an assignment of the topics in --topics-to-move-json-file over --broker-list."},
            {"execute", arity::flag, "", "Start the reassignments of --reassignment-json-file."},
            {"verify", arity::flag, "", "Report the reassignments of --reassignment-json-file; clear throttles once done."},
            {"cancel", arity::flag, "", "Cancel the reassignments of --reassignment-json-file."},
            {"list", arity::flag, "", "List the reassignments in progress."},
            {"topics-to-move-json-file", arity::one, "file", "--generate: the topics to move."},
            {"broker-list", arity::one, "ids", "--generate: the brokers to place the replicas on, e.g. 1,2,3."},
            {"reassignment-json-file", arity::one, "file", "The reassignments (as --generate proposes them)."},
            {"throttle", arity::one, "bytes/s", "--execute: limit the replication of the moving replicas to this rate."},
            {"additional", arity::flag, "", "--execute: start these although other reassignments are in progress."},
            {"preserve-throttles", arity::flag, "", "--verify, --cancel: leave the throttles in place."},
            {"disable-rack-aware", arity::flag, "", "--generate: ignore racks."},
            {"timeout", arity::one, "ms", "How long to wait for the controller (default 10000)."},
        }};
    add_client_options(s);
    return s;
}

std::string read_file(const std::string& path, const char* what)
{
    std::ifstream in(path);
    if (!in) throw cli_error(fmt::format("Cannot read the {} {}", what, path));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

assignment read_reassignment(const std::string& path)
{
    auto parts = cluster::zk::decode_reassignment(read_file(path, "reassignment JSON file"));
    if (!parts) {
        throw cli_error(fmt::format("{}: not a reassignment ({{\"version\":1,\"partitions\":[{{\"topic\":...,\"partition\":...,"
                                    "\"replicas\":[...]}}]}})",
                                    path));
    }
    assignment out;
    for (auto& p : *parts) {
        topic_partition tp{p.topic, partition_id(p.partition)};
        if (out.count(tp)) throw cli_error(fmt::format("{}: partition {}-{} is listed twice", path, p.topic, p.partition));
        std::set<int32_t> seen(p.replicas.begin(), p.replicas.end());
        if (p.replicas.empty() || seen.size() != p.replicas.size()) {
            throw cli_error(fmt::format("{}: partition {}-{} needs distinct replicas, at least one", path, p.topic, p.partition));
        }
        out[tp] = p.replicas;
    }
    if (out.empty()) throw cli_error(fmt::format("{}: the \"partitions\" array is empty", path));
    return out;
}

/// Kafka's file format: {"version":1,"partitions":[{"topic":..,"partition":..,"replicas":[..],"log_dirs":[..]}]}
std::string to_json(const assignment& a)
{
    std::vector<std::string> parts;
    for (auto& [tp, reps] : a) {
        std::vector<std::string> r, dirs;
        for (auto x : reps) {
            r.push_back(std::to_string(x));
            dirs.push_back("\"any\"");
        }
        parts.push_back(fmt::format("{{\"topic\":{},\"partition\":{},\"replicas\":[{}],\"log_dirs\":[{}]}}",
                                    boost::json::serialize(boost::json::value(tp.topic)), tp.partition(), join(r, ","),
                                    join(dirs, ",")));
    }
    return fmt::format("{{\"version\":1,\"partitions\":[{}]}}", join(parts, ","));
}

std::string name_of(const topic_partition& tp) { return fmt::format("{}-{}", tp.topic, tp.partition()); }

/// The current assignment of every partition of `topics` (all topics when empty), from Metadata.
assignment current_assignment(broker_connection& conn, const std::set<std::string>& topics, cluster_view* view = nullptr)
{
    auto c = describe_cluster(conn, std::nullopt, true);
    assignment out;
    for (auto& t : c.topics) {
        if (!t.name || (!topics.empty() && !topics.count(*t.name))) continue;
        if (t.error_code != 0) continue;
        for (auto& p : t.partitions) out[topic_partition{*t.name, partition_id(p.partition_index)}] = p.replica_nodes;
    }
    if (view) *view = std::move(c);
    return out;
}

std::vector<int32_t> parse_broker_list(const std::string& s)
{
    std::vector<int32_t> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto v = parse_int(item);
        if (!v || *v < 0 || *v > INT32_MAX) throw usage_error(fmt::format("Invalid --broker-list '{}'", s));
        if (std::find(out.begin(), out.end(), *v) != out.end()) throw usage_error(fmt::format("Duplicate broker {} in --broker-list", *v));
        out.push_back(static_cast<int32_t>(*v));
    }
    if (out.empty()) throw usage_error("Empty --broker-list");
    return out;
}

int run_generate(const client_config& cfg, const parsed_args& a)
{
    auto file = a.value("topics-to-move-json-file");
    auto list = a.value("broker-list");
    if (!file || !list) throw usage_error("--generate needs --topics-to-move-json-file and --broker-list");
    auto brokers = parse_broker_list(*list);
    boost::json::error_code ec;
    auto doc = boost::json::parse(read_file(*file, "topics JSON file"), ec);
    std::set<std::string> topics;
    auto* arr = !ec && doc.is_object() && doc.as_object().contains("topics") ? doc.as_object().at("topics").if_array() : nullptr;
    if (!arr) throw cli_error(fmt::format("{}: not a topic list ({{\"topics\":[{{\"topic\":\"t\"}}],\"version\":1}})", *file));
    for (auto& t : *arr) {
        auto* o = t.if_object();
        auto* n = o && o->contains("topic") ? o->at("topic").if_string() : nullptr;
        if (!n) throw cli_error(fmt::format("{}: each entry needs \"topic\"", *file));
        topics.insert(std::string(*n));
    }
    broker_connection conn(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
    cluster_view view;
    auto current = current_assignment(conn, topics, &view);
    for (auto& t : topics) {
        bool found = std::any_of(current.begin(), current.end(), [&](auto& e) { return e.first.topic == t; });
        if (!found) throw cli_error(fmt::format("Topic {} does not exist", t));
    }
    std::vector<cluster::assignable_broker> placed;
    for (auto b : brokers) {
        auto it = std::find_if(view.brokers.begin(), view.brokers.end(), [&](auto& x) { return x.node_id == b; });
        if (it == view.brokers.end()) throw cli_error(fmt::format("Broker {} is not in the cluster", b));
        std::optional<std::string> rack;
        if (!a.has("disable-rack-aware")) rack = it->rack;
        placed.push_back({node_id(b), rack});
    }
    assignment proposed;
    std::mt19937 rng(std::random_device{}());
    for (auto& t : topics) {
        int32_t count = 0;
        int16_t rf = 0;
        for (auto& [tp, reps] : current) {
            if (tp.topic != t) continue;
            ++count;
            rf = static_cast<int16_t>(reps.size());
        }
        auto n = static_cast<int32_t>(placed.size());
        cluster::assignment_start start{static_cast<int32_t>(rng() % n), static_cast<int32_t>(rng() % n)};
        auto r = cluster::assign_replicas(placed, count, rf, start);
        if (!r) throw cli_error(fmt::format("Cannot place topic {}: {}", t, r.error().message));
        for (auto& p : *r) {
            std::vector<int32_t> reps;
            for (auto x : p.replicas) reps.push_back(x());
            proposed[topic_partition{t, p.id}] = reps;
        }
    }
    write_out(fmt::format("Current partition replica assignment\n{}\n\nProposed partition reassignment configuration\n{}\n",
                          to_json(current), to_json(proposed)));
    return 0;
}

protocol::list_partition_reassignments_response list_ongoing(const client_config& cfg, int timeout_ms)
{
    protocol::list_partition_reassignments_request req;
    req.timeout_ms = timeout_ms;
    protocol::list_partition_reassignments_response resp;
    with_controller(parse_bootstrap(cfg.bootstrap()), timeout_ms, [&](broker_connection& conn) {
        resp = conn.call<protocol::list_partition_reassignments_api>(req, 0);
        return resp.error_code != static_cast<int16_t>(protocol::error_code::not_controller);
    });
    if (resp.error_code != 0) {
        throw cli_error(fmt::format("Cannot list the reassignments: {}",
                                    protocol::to_string(static_cast<protocol::error_code>(resp.error_code))));
    }
    return resp;
}

/// AlterPartitionReassignments for `targets` (nullopt: cancel); the partitions that failed,
/// with their errors.
std::map<topic_partition, std::string> alter(const client_config& cfg, int timeout_ms,
                                             const std::map<topic_partition, std::optional<std::vector<int32_t>>>& targets)
{
    protocol::alter_partition_reassignments_request req;
    req.timeout_ms = timeout_ms;
    std::map<std::string, std::vector<protocol::alter_partition_reassignments_request::reassignable_partition>> by_topic;
    for (auto& [tp, reps] : targets) by_topic[tp.topic].push_back({tp.partition(), reps});
    for (auto& [t, parts] : by_topic) req.topics.push_back({t, parts});
    protocol::alter_partition_reassignments_response resp;
    with_controller(parse_bootstrap(cfg.bootstrap()), timeout_ms, [&](broker_connection& conn) {
        resp = conn.call<protocol::alter_partition_reassignments_api>(req, 0);
        return resp.error_code != static_cast<int16_t>(protocol::error_code::not_controller);
    });
    if (resp.error_code != 0) {
        throw cli_error(fmt::format("The controller refused the reassignments: {}",
                                    protocol::to_string(static_cast<protocol::error_code>(resp.error_code))));
    }
    std::map<topic_partition, std::string> failed;
    for (auto& t : resp.responses) {
        for (auto& p : t.partitions) {
            if (p.error_code == 0) continue;
            failed[topic_partition{t.name, partition_id(p.partition_index)}] =
                fmt::format("{}: {}", protocol::to_string(static_cast<protocol::error_code>(p.error_code)),
                            p.error_message.value_or(""));
        }
    }
    return failed;
}

/// IncrementalAlterConfigs of one resource (type 2 topic, 4 broker): SET (0) or DELETE (1).
void alter_configs(const client_config& cfg, int8_t type, const std::string& name,
                   const std::vector<std::pair<std::string, std::optional<std::string>>>& ops, const cluster_view& view)
{
    protocol::incremental_alter_configs_request req;
    protocol::incremental_alter_configs_request::alter_configs_resource r;
    r.resource_type = type;
    r.resource_name = name;
    for (auto& [k, v] : ops) {
        protocol::incremental_alter_configs_request::alterable_config c;
        c.name = k;
        c.config_operation = v ? 0 : 1;
        c.value = v;
        r.configs.push_back(std::move(c));
    }
    req.resources.push_back(std::move(r));
    // A broker's own configs go to that broker (as Kafka's admin client sends them).
    auto where = parse_bootstrap(cfg.bootstrap());
    if (type == 4) where = address_of(broker_by_id(view, static_cast<int32_t>(std::stoi(name))));
    broker_connection conn(where, cfg.timeout_ms());
    auto resp = conn.call<protocol::incremental_alter_configs_api>(req, 0);
    for (auto& res : resp.responses) {
        if (res.error_code != 0) {
            throw cli_error(fmt::format("Cannot set the throttle configs of {} {}: {}", type == 2 ? "topic" : "broker", name,
                                        res.error_message.value_or(std::string(protocol::to_string(
                                            static_cast<protocol::error_code>(res.error_code))))));
        }
    }
}

const char* throttle_keys[] = {"leader.replication.throttled.rate", "follower.replication.throttled.rate"};
const char* throttled_replicas_keys[] = {"leader.replication.throttled.replicas", "follower.replication.throttled.replicas"};

/// As Kafka's tool: the rates on every broker involved; per topic, the leader side throttles the
/// current replicas of the moving partitions, the follower side the replicas being added.
void set_throttles(const client_config& cfg, int64_t rate, const assignment& current, const assignment& targets,
                   const cluster_view& view)
{
    std::set<int32_t> brokers;
    std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> topics;
    for (auto& [tp, target] : targets) {
        auto& cur = current.at(tp);
        if (cur == target) continue;
        auto& [leaders, followers] = topics[tp.topic];
        for (auto r : cur) {
            brokers.insert(r);
            leaders.push_back(fmt::format("{}:{}", tp.partition(), r));
        }
        for (auto r : target) {
            brokers.insert(r);
            if (std::find(cur.begin(), cur.end(), r) == cur.end()) followers.push_back(fmt::format("{}:{}", tp.partition(), r));
        }
    }
    for (auto& [t, lists] : topics) {
        alter_configs(cfg, 2, t, {{throttled_replicas_keys[0], join(lists.first, ",")}, {throttled_replicas_keys[1], join(lists.second, ",")}},
                      view);
    }
    for (auto b : brokers) {
        alter_configs(cfg, 4, std::to_string(b), {{throttle_keys[0], std::to_string(rate)}, {throttle_keys[1], std::to_string(rate)}},
                      view);
    }
    write_out(fmt::format("Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\n"
                          "The inter-broker throttle limit was set to {} B/s\n",
                          rate));
}

void clear_throttles(const client_config& cfg, const assignment& targets, const cluster_view& view)
{
    std::set<std::string> topics;
    for (auto& [tp, r] : targets) topics.insert(tp.topic);
    std::vector<std::string> ids;
    for (auto& b : view.brokers) {
        try {
            alter_configs(cfg, 4, std::to_string(b.node_id), {{throttle_keys[0], std::nullopt}, {throttle_keys[1], std::nullopt}},
                          view);
            ids.push_back(std::to_string(b.node_id));
        } catch (const cli_error& e) {
            std::fputs(fmt::format("warning: broker {} keeps its throttle rates: {}\n", b.node_id, e.what()).c_str(), stderr);
        }
    }
    write_out(fmt::format("Clearing broker-level throttles on brokers {}\n", join(ids, ",")));
    for (auto& t : topics) {
        alter_configs(cfg, 2, t, {{throttled_replicas_keys[0], std::nullopt}, {throttled_replicas_keys[1], std::nullopt}}, view);
        write_out(fmt::format("Clearing topic-level throttles on topic {}\n", t));
    }
}

int run_execute(const client_config& cfg, const parsed_args& a, int timeout_ms)
{
    auto targets = read_reassignment(*a.value("reassignment-json-file"));
    std::optional<int64_t> throttle;
    if (a.has("throttle")) {
        throttle = a.int_value("throttle");
        if (!throttle || *throttle <= 0) throw usage_error("--throttle must be a positive rate in bytes per second");
    }
    broker_connection conn(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
    cluster_view view;
    auto current = current_assignment(conn, {}, &view);
    assignment before;
    for (auto& [tp, r] : targets) {
        auto it = current.find(tp);
        if (it == current.end()) throw cli_error(fmt::format("Partition {} does not exist", name_of(tp)));
        before[tp] = it->second;
        for (auto b : r) {
            if (std::none_of(view.brokers.begin(), view.brokers.end(), [&](auto& x) { return x.node_id == b; })) {
                throw cli_error(fmt::format("Partition {}: broker {} is not in the cluster", name_of(tp), b));
            }
        }
    }
    auto ongoing = list_ongoing(cfg, timeout_ms);
    if (!ongoing.topics.empty() && !a.has("additional")) {
        throw cli_error("Cannot execute because there is an existing partition assignment. Use --additional to override "
                        "this and create a new partition assignment in addition to the existing one.");
    }
    // The ongoing ones report their whole set as replicas; the rollback file wants the originals.
    for (auto& t : ongoing.topics) {
        for (auto& p : t.partitions) {
            auto it = before.find(topic_partition{t.name, partition_id(p.partition_index)});
            if (it == before.end()) continue;
            std::vector<int32_t> orig;
            for (auto r : p.replicas) {
                if (std::find(p.adding_replicas.begin(), p.adding_replicas.end(), r) == p.adding_replicas.end()) orig.push_back(r);
            }
            it->second = orig;
        }
    }
    write_out(fmt::format("Current partition replica assignment\n\n{}\n\nSave this to use as the --reassignment-json-file "
                          "option during rollback\n",
                          to_json(before)));
    if (throttle) set_throttles(cfg, *throttle, before, targets, view);
    std::map<topic_partition, std::optional<std::vector<int32_t>>> asked(targets.begin(), targets.end());
    auto failed = alter(cfg, timeout_ms, asked);
    std::vector<std::string> ok;
    for (auto& [tp, r] : targets) {
        if (!failed.count(tp)) ok.push_back(name_of(tp));
    }
    if (!ok.empty()) write_out(fmt::format("Successfully started partition reassignment{} for {}\n", ok.size() > 1 ? "s" : "", join(ok, ",")));
    for (auto& [tp, why] : failed) write_out(fmt::format("Error reassigning partition(s):\n{}: {}\n", name_of(tp), why));
    return failed.empty() ? 0 : 1;
}

int run_verify(const client_config& cfg, const parsed_args& a, int timeout_ms)
{
    auto targets = read_reassignment(*a.value("reassignment-json-file"));
    auto ongoing = list_ongoing(cfg, timeout_ms);
    std::set<topic_partition> moving;
    for (auto& t : ongoing.topics) {
        for (auto& p : t.partitions) moving.insert(topic_partition{t.name, partition_id(p.partition_index)});
    }
    broker_connection conn(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
    cluster_view view;
    auto current = current_assignment(conn, {}, &view);
    write_out("Status of partition reassignment:\n");
    bool all_done = true;
    bool all_right = true;
    for (auto& [tp, target] : targets) {
        auto it = current.find(tp);
        if (moving.count(tp)) {
            all_done = false;
            write_out(fmt::format("Reassignment of partition {} is still in progress.\n", name_of(tp)));
        } else if (it != current.end() && it->second == target) {
            write_out(fmt::format("Reassignment of partition {} is completed.\n", name_of(tp)));
        } else {
            all_right = false;
            std::vector<std::string> have;
            if (it != current.end()) {
                for (auto r : it->second) have.push_back(std::to_string(r));
            }
            std::vector<std::string> want;
            for (auto r : target) want.push_back(std::to_string(r));
            write_out(fmt::format("There is no active reassignment of partition {}, but replica set is [{}] rather than [{}].\n",
                                  name_of(tp), join(have, ","), join(want, ",")));
        }
    }
    write_out("\n");
    if (all_done && !a.has("preserve-throttles")) clear_throttles(cfg, targets, view);
    return all_done && all_right ? 0 : 1;
}

int run_cancel(const client_config& cfg, const parsed_args& a, int timeout_ms)
{
    auto targets = read_reassignment(*a.value("reassignment-json-file"));
    std::map<topic_partition, std::optional<std::vector<int32_t>>> asked;
    for (auto& [tp, r] : targets) asked[tp] = std::nullopt;
    auto failed = alter(cfg, timeout_ms, asked);
    std::vector<std::string> ok, none;
    for (auto& [tp, r] : targets) {
        auto f = failed.find(tp);
        if (f == failed.end()) ok.push_back(name_of(tp));
        else if (f->second.starts_with("NO_REASSIGNMENT_IN_PROGRESS")) none.push_back(name_of(tp));
    }
    if (!ok.empty()) write_out(fmt::format("Successfully cancelled partition reassignment{} for: {}\n", ok.size() > 1 ? "s" : "", join(ok, ",")));
    if (!none.empty()) write_out(fmt::format("None of the specified partition reassignments are active: {}\n", join(none, ",")));
    int errors = 0;
    for (auto& [tp, why] : failed) {
        if (why.starts_with("NO_REASSIGNMENT_IN_PROGRESS")) continue;
        ++errors;
        write_out(fmt::format("Error cancelling partition reassignment for {}: {}\n", name_of(tp), why));
    }
    if (!a.has("preserve-throttles")) {
        broker_connection conn(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
        cluster_view view;
        current_assignment(conn, {}, &view);
        clear_throttles(cfg, targets, view);
    }
    return errors ? 1 : 0;
}

int run_list(const client_config& cfg, int timeout_ms)
{
    auto ongoing = list_ongoing(cfg, timeout_ms);
    auto ids = [](const std::vector<int32_t>& v) {
        std::vector<std::string> s;
        for (auto x : v) s.push_back(std::to_string(x));
        return join(s, ",");
    };
    std::vector<std::string> lines;
    for (auto& t : ongoing.topics) {
        for (auto& p : t.partitions) {
            lines.push_back(fmt::format("{}-{}: replicas: {}. adding: {}. removing: {}.", t.name, p.partition_index, ids(p.replicas),
                                        ids(p.adding_replicas), ids(p.removing_replicas)));
        }
    }
    std::sort(lines.begin(), lines.end());
    if (lines.empty()) write_out("No partition reassignments found.\n");
    else write_out("Current partition reassignments:\n" + join(lines, "\n") + "\n");
    return 0;
}

} // namespace

int run_reassign_partitions(const std::vector<std::string>& args)
{
    auto spec = reassign_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    int actions = 0;
    for (auto* n : {"generate", "execute", "verify", "cancel", "list"}) actions += a.has(n) ? 1 : 0;
    if (actions != 1) {
        throw usage_error("Command must include exactly one action: --generate, --execute, --verify, --cancel, or --list");
    }
    if ((a.has("execute") || a.has("verify") || a.has("cancel")) && !a.has("reassignment-json-file")) {
        throw usage_error("Missing required argument \"[reassignment-json-file]\"");
    }
    auto cfg = client_config::from_args(a);
    auto timeout = a.int_or("timeout", cfg.timeout_ms());
    if (timeout <= 0 || timeout > 3600000) throw usage_error("--timeout must be a positive number of milliseconds");
    auto timeout_ms = static_cast<int>(timeout);
    if (a.has("generate")) return run_generate(cfg, a);
    if (a.has("execute")) return run_execute(cfg, a, timeout_ms);
    if (a.has("verify")) return run_verify(cfg, a, timeout_ms);
    if (a.has("cancel")) return run_cancel(cfg, a, timeout_ms);
    return run_list(cfg, timeout_ms);
}

} // namespace samsa::cli
