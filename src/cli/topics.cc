// samsa topics: kafka-topics.sh on librdkafka's admin API.
#include "cli/broker_socket.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/config_ops.h"
#include "cli/output.h"
#include "cli/topics_zk.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>

namespace samsa::cli {

namespace {

command_spec topics_spec()
{
    command_spec s{
        "topics",
        "Create, delete, describe, list or change topics. --topic accepts a regular expression "
        "(matched against whole names) for --list, --describe, --alter and --delete.",
        "  samsa topics --create --bootstrap-server localhost:9092 --replication-factor 1 --partitions 6 "
        "--topic test\n"
        "  samsa topics --create --topic logs --config retention.ms=60000 --config cleanup.policy=delete\n"
        "  samsa topics --list --exclude-internal\n"
        "  samsa topics --describe --topic 'test.*'\n"
        "  samsa topics --alter --topic test --partitions 12\n"
        "  samsa topics --delete --topic test --if-exists\n"
        "  samsa topics --zookeeper localhost:2181 --create --topic test --partitions 3 --replication-factor 3\n",
        {
            {"create", arity::flag, "", "Create a new topic."},
            {"delete", arity::flag, "", "Delete the topic(s) matching --topic."},
            {"list", arity::flag, "", "List the topics (matching --topic if given)."},
            {"describe", arity::flag, "", "Describe the topics (matching --topic if given)."},
            {"alter", arity::flag, "", "Increase the number of partitions of a topic."},
            {"topic", arity::one, "topic", "The topic name, or a regular expression except with --create."},
            {"partitions", arity::one, "count", "Partitions of the topic to create or alter."},
            {"replication-factor", arity::one, "count", "Replication factor of the topic to create."},
            {"replica-assignment", arity::one, "b0:b1,b2:b3",
             "Manual replica assignment: partitions separated by ',', brokers by ':'."},
            {"config", arity::one, "name=value", "A topic config override for --create (repeatable)."},
            {"if-exists", arity::flag, "", "With --alter, --describe or --delete: only act if the topic exists."},
            {"if-not-exists", arity::flag, "", "With --create: do nothing if the topic already exists."},
            {"exclude-internal", arity::flag, "", "Leave out internal topics (__consumer_offsets...)."},
            {"under-replicated-partitions", arity::flag, "",
             "With --describe: only partitions whose ISR is smaller than the replica set."},
            {"unavailable-partitions", arity::flag, "", "With --describe: only partitions without a leader."},
            {"under-min-isr-partitions", arity::flag, "",
             "With --describe: only partitions whose ISR is smaller than the topic's min.insync.replicas."},
            {"at-min-isr-partitions", arity::flag, "",
             "With --describe: only partitions whose ISR is exactly the topic's min.insync.replicas."},
            {"topics-with-overrides", arity::flag, "", "With --describe: only topics with config overrides."},
            {"zookeeper", arity::one, "host:port[/chroot]",
             "Act on the ZooKeeper of a cluster (Kafka's znodes) instead of through a broker; "
             "not with --bootstrap-server."},
        }};
    add_client_options(s);
    return s;
}

/// The topics of `md` selected by --topic (a regex matched against whole names; all when
/// absent) and --exclude-internal, sorted by name.
std::vector<const rd_kafka_metadata_topic_t*> select_topics(const rd_kafka_metadata_t& md, const parsed_args& a)
{
    std::optional<std::regex> re;
    if (auto t = a.value("topic")) {
        try {
            re.emplace(*t);
        } catch (const std::regex_error& e) {
            throw usage_error(fmt::format("Invalid --topic regular expression '{}': {}", *t, e.what()));
        }
    }
    std::vector<const rd_kafka_metadata_topic_t*> out;
    for (int i = 0; i < md.topic_cnt; ++i) {
        auto& t = md.topics[i];
        if (t.err) continue;
        if (a.has("exclude-internal") && is_internal_topic(t.topic)) continue;
        if (re && !std::regex_match(std::string(t.topic), *re)) continue;
        out.push_back(&t);
    }
    std::sort(out.begin(), out.end(), [](auto* x, auto* y) { return std::string_view(x->topic) < y->topic; });
    return out;
}

/// Kafka's rule for describe/alter/delete: matching nothing is an error unless --if-exists.
bool check_found(const std::vector<const rd_kafka_metadata_topic_t*>& found, const parsed_args& a)
{
    if (!found.empty()) return true;
    if (a.has("if-exists")) return false;
    throw cli_error(fmt::format("Topic '{}' does not exist as expected", a.value_or("topic", "")));
}

std::string id_list(const int32_t* ids, int n)
{
    std::vector<std::string> parts;
    for (int i = 0; i < n; ++i) parts.push_back(std::to_string(ids[i]));
    return join(parts, ",");
}

int list_topics(const admin_client& admin, const parsed_args& a)
{
    auto md = admin.metadata();
    for (auto* t : select_topics(*md, a)) std::printf("%s\n", t->topic);
    return 0;
}

void set_replica_assignment(rd_kafka_NewTopic_t* nt, const std::string& spec)
{
    char err[512];
    auto parts = split(spec, ',');
    for (size_t p = 0; p < parts.size(); ++p) {
        std::vector<int32_t> brokers;
        for (auto& b : split(parts[p], ':')) {
            auto id = parse_int(b);
            if (!id) throw usage_error(fmt::format("Invalid --replica-assignment '{}'", spec));
            brokers.push_back(static_cast<int32_t>(*id));
        }
        if (rd_kafka_NewTopic_set_replica_assignment(nt, static_cast<int32_t>(p), brokers.data(), brokers.size(), err,
                                                     sizeof err)) {
            throw usage_error(fmt::format("Invalid --replica-assignment: {}", err));
        }
    }
}

rd_kafka_NewTopic_t* new_topic(const parsed_args& a, const std::string& name)
{
    char err[512];
    int partitions = static_cast<int>(a.int_or("partitions", -1));
    int rf = static_cast<int>(a.int_or("replication-factor", -1));
    if (a.has("partitions") && partitions < 1) throw usage_error("The partitions must be greater than 0");
    if (a.has("replication-factor") && (rf < 1 || rf > 32767)) {
        throw usage_error("The replication factor must be between 1 and 32767");
    }
    if (a.has("replica-assignment")) {
        if (a.has("partitions") || a.has("replication-factor")) {
            throw usage_error("--replica-assignment cannot be used with --partitions or --replication-factor");
        }
        partitions = static_cast<int>(split(*a.value("replica-assignment"), ',').size());
    }
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(name.c_str(), partitions, rf, err, sizeof err);
    if (!nt) throw usage_error(err);
    try {
        if (a.has("replica-assignment")) set_replica_assignment(nt, *a.value("replica-assignment"));
        for (auto& kv : a.values("config")) {
            auto [k, v] = split_key_value(kv, "config");
            rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
        }
    } catch (...) {
        rd_kafka_NewTopic_destroy(nt);
        throw;
    }
    return nt;
}

/// The per-topic result of CreateTopics/DeleteTopics/CreatePartitions: error code and message.
void check_topic_results(const rd_kafka_topic_result_t** res, size_t n, const std::string& action,
                         rd_kafka_resp_err_t tolerated = RD_KAFKA_RESP_ERR_NO_ERROR)
{
    for (size_t i = 0; i < n; ++i) {
        auto err = rd_kafka_topic_result_error(res[i]);
        if (!err || err == tolerated) continue;
        const char* msg = rd_kafka_topic_result_error_string(res[i]);
        throw cli_error(fmt::format("Cannot {} topic '{}': {}", action, rd_kafka_topic_result_name(res[i]),
                                    msg && *msg ? msg : error_text(err)));
    }
}

int create_topic(const admin_client& admin, const parsed_args& a)
{
    auto name = a.value("topic");
    if (!name) throw usage_error("Missing required option --topic");
    if (name->find_first_of("._") != std::string::npos) {
        std::printf("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') "
                    "could collide. To avoid issues it is best to use either, but not both.\n");
    }
    rd_kafka_NewTopic_t* nt = new_topic(a, *name);
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_CREATETOPICS, "CreateTopics failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_CreateTopics(rk, &nt, 1, o, q);
                        });
    rd_kafka_NewTopic_destroy(nt);
    size_t n = 0;
    auto** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    bool exists = n == 1 && rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
    if (exists && a.has("if-not-exists")) return 0;
    if (exists) throw cli_error(fmt::format("Topic '{}' already exists", *name));
    check_topic_results(res, n, "create");
    std::printf("Created topic %s.\n", name->c_str());
    return 0;
}

int delete_topics(const admin_client& admin, const parsed_args& a)
{
    if (!a.has("topic")) throw usage_error("Missing required option --topic");
    auto md = admin.metadata();
    auto found = select_topics(*md, a);
    if (!check_found(found, a)) return 0;
    std::vector<rd_kafka_DeleteTopic_t*> dels;
    for (auto* t : found) {
        if (is_internal_topic(t->topic))
            throw cli_error(fmt::format(
                "Topic {} is a kafka internal topic and is not allowed to be marked for deletion.", t->topic));
        dels.push_back(rd_kafka_DeleteTopic_new(t->topic));
    }
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_DELETETOPICS, "DeleteTopics failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_DeleteTopics(rk, dels.data(), dels.size(), o, q);
                        });
    rd_kafka_DeleteTopic_destroy_array(dels.data(), dels.size());
    size_t n = 0;
    auto** res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
    check_topic_results(res, n, "delete",
                        a.has("if-exists") ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART : RD_KAFKA_RESP_ERR_NO_ERROR);
    return 0;
}

int alter_topics(const admin_client& admin, const parsed_args& a)
{
    if (!a.has("topic")) throw usage_error("Missing required option --topic");
    if (a.has("config")) {
        throw usage_error("--config cannot be used with --alter; change topic configs with samsa configs --alter");
    }
    auto count = a.int_value("partitions");
    if (!count) throw usage_error("--alter needs --partitions");
    auto md = admin.metadata();
    auto found = select_topics(*md, a);
    if (!check_found(found, a)) return 0;
    std::vector<rd_kafka_NewPartitions_t*> news;
    char err[512];
    for (auto* t : found) {
        if (*count <= t->partition_cnt) {
            for (auto* p : news) rd_kafka_NewPartitions_destroy(p);
            throw cli_error(fmt::format("Topic '{}' has {} partitions; --partitions can only increase it", t->topic,
                                        t->partition_cnt));
        }
        news.push_back(rd_kafka_NewPartitions_new(t->topic, static_cast<size_t>(*count), err, sizeof err));
    }
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, "CreatePartitions failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_CreatePartitions(rk, news.data(), news.size(), o, q);
                        });
    rd_kafka_NewPartitions_destroy_array(news.data(), news.size());
    size_t n = 0;
    auto** res = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev.get()), &n);
    check_topic_results(res, n, "alter");
    return 0;
}

/// "k=v,k=v" of the configs that do not come from the defaults, as kafka-topics.sh shows them.
std::map<std::string, std::string> overrides_by_topic(const admin_client& admin,
                                                      const std::vector<const rd_kafka_metadata_topic_t*>& topics)
{
    std::vector<std::string> names;
    for (auto* t : topics) names.push_back(t->topic);
    std::map<std::string, std::string> out;
    for (auto& rc : describe_configs(admin, RD_KAFKA_RESOURCE_TOPIC, names)) {
        std::vector<std::string> parts;
        for (auto& e : rc.entries) {
            if (e.is_default || e.source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG) continue;
            parts.push_back(e.name + "=" + e.value.value_or("null"));
        }
        out[rc.name] = join(parts, ",");
    }
    return out;
}

/// Topic ids by name, as Kafka prints them; none over TLS/SASL (the raw request speaks only
/// PLAINTEXT) or when the broker does not tell (Kafka then omits the column too).
std::map<std::string, protocol::uuid> topic_ids(const client_config& cfg,
                                                const std::vector<const rd_kafka_metadata_topic_t*>& topics)
{
    auto protocol = cfg.get("security.protocol").value_or("plaintext");
    std::transform(protocol.begin(), protocol.end(), protocol.begin(), [](unsigned char c) { return std::tolower(c); });
    if (protocol != "plaintext" || topics.empty()) return {};
    std::vector<std::string> names;
    for (auto* t : topics) names.push_back(t->topic);
    return fetch_topic_ids(parse_bootstrap(cfg.bootstrap()), names, cfg.timeout_ms());
}

/// The topics' effective min.insync.replicas.
std::map<std::string, int64_t> min_isr_by_topic(const admin_client& admin,
                                                const std::vector<const rd_kafka_metadata_topic_t*>& topics)
{
    std::vector<std::string> names;
    for (auto* t : topics) names.push_back(t->topic);
    std::map<std::string, int64_t> out;
    for (auto& rc : describe_configs(admin, RD_KAFKA_RESOURCE_TOPIC, names)) {
        for (auto& e : rc.entries) {
            if (e.name == "min.insync.replicas" && e.value) out[rc.name] = parse_int(*e.value).value_or(1);
        }
    }
    return out;
}

/// Kafka's partition line; replicas on brokers not in the metadata (not live) are Offline.
std::string partition_line(const char* topic, const rd_kafka_metadata_partition_t& p, const rd_kafka_metadata_t& md)
{
    std::string leader = p.leader < 0 ? "none" : std::to_string(p.leader);
    std::vector<int32_t> offline;
    for (int i = 0; i < p.replica_cnt; ++i) {
        bool live = false;
        for (int b = 0; b < md.broker_cnt; ++b) live = live || md.brokers[b].id == p.replicas[i];
        if (!live) offline.push_back(p.replicas[i]);
    }
    std::string off = offline.empty() ? "" : "\tOffline: " + id_list(offline.data(), static_cast<int>(offline.size()));
    return fmt::format("\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}{}\n", topic, p.id, leader,
                       id_list(p.replicas, p.replica_cnt), id_list(p.isrs, p.isr_cnt), off);
}

int describe_topics(const admin_client& admin, const parsed_args& a)
{
    auto md = admin.metadata();
    auto found = select_topics(*md, a);
    if (a.has("topic") && !check_found(found, a)) return 0;
    bool under = a.has("under-replicated-partitions");
    bool unavailable = a.has("unavailable-partitions");
    bool under_min = a.has("under-min-isr-partitions");
    bool at_min = a.has("at-min-isr-partitions");
    bool partition_filter = under || unavailable || under_min || at_min;
    std::map<std::string, int64_t> min_isr;
    if (under_min || at_min) min_isr = min_isr_by_topic(admin, found);
    std::map<std::string, std::string> configs;
    if (!partition_filter) {
        try {
            configs = overrides_by_topic(admin, found);
        } catch (const cli_error& e) {
            std::fprintf(stderr, "warning: topic configs not shown: %s\n", e.what());
        }
    }
    // librdkafka 2.0.2 has no topic ids: ask for them with a Metadata request of our own.
    std::map<std::string, protocol::uuid> ids;
    if (!partition_filter) ids = topic_ids(admin.config(), found);
    for (auto* t : found) {
        std::vector<const rd_kafka_metadata_partition_t*> parts;
        for (int i = 0; i < t->partition_cnt; ++i) parts.push_back(&t->partitions[i]);
        std::sort(parts.begin(), parts.end(), [](auto* x, auto* y) { return x->id < y->id; });
        if (!partition_filter) {
            auto& cfg = configs[t->topic];
            if (a.has("topics-with-overrides") && cfg.empty()) continue;
            int rf = parts.empty() ? 0 : parts.front()->replica_cnt;
            auto id = ids.find(t->topic);
            std::string id_column = id == ids.end() ? "" : "\tTopicId: " + id->second.to_string();
            write_out(fmt::format("Topic: {}{}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}\n", t->topic,
                                  id_column, t->partition_cnt, rf, cfg));
            if (a.has("topics-with-overrides")) continue;
        }
        for (auto* p : parts) {
            if (under && p->isr_cnt >= p->replica_cnt) continue;
            if (unavailable && p->leader >= 0) continue;
            auto wanted = min_isr.count(t->topic) ? min_isr[t->topic] : 1;
            if (under_min && p->isr_cnt >= wanted) continue;
            if (at_min && p->isr_cnt != wanted) continue;
            write_out(partition_line(t->topic, *p, *md));
        }
    }
    return 0;
}

} // namespace

int run_topics(const std::vector<std::string>& args)
{
    auto spec = topics_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    require_one_action(a, {"list", "describe", "create", "alter", "delete"});
    if (a.has("if-not-exists") && !a.has("create")) throw usage_error("--if-not-exists can only be used with --create");
    if (a.has("if-exists") && (a.has("create") || a.has("list"))) {
        throw usage_error("--if-exists can only be used with --alter, --describe or --delete");
    }
    if (a.has("config") && !a.has("create") && !a.has("alter"))
        throw usage_error("--config can only be used with --create");
    if (a.has("zookeeper")) return run_topics_zookeeper(a);
    admin_client admin(client_config::from_args(a));
    if (a.has("list")) return list_topics(admin, a);
    if (a.has("create")) return create_topic(admin, a);
    if (a.has("delete")) return delete_topics(admin, a);
    if (a.has("alter")) return alter_topics(admin, a);
    return describe_topics(admin, a);
}

} // namespace samsa::cli
