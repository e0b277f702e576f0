// samsa transactions: kafka-transactions.sh. list, describe, describe-producers and abort over
// plain Kafka-protocol connections (librdkafka 2.0.2 has no admin API for them): ListTransactions
// to every broker, FindCoordinator + DescribeTransactions, DescribeProducers to the partition
// leader, and WriteTxnMarkers (ABORT) to it for a hanging transaction.
#include "cli/broker_socket.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "protocol/error_code.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_transactions.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/write_txn_markers.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace samsa::cli {

namespace {

const std::set<std::string> subcommands = {"list", "describe", "describe-producers", "abort", "find-hanging"};

command_spec transactions_spec()
{
    command_spec s{
        "transactions",
        "Lists and describes transactions and the producers of partitions, and aborts a hanging "
        "transaction. Subcommands: list, describe, describe-producers, abort.",
        "  samsa transactions --bootstrap-server localhost:9092 list\n"
        "  samsa transactions --bootstrap-server localhost:9092 describe --transactional-id my-txn\n"
        "  samsa transactions --bootstrap-server localhost:9092 describe-producers --topic t --partition 0\n"
        "  samsa transactions --bootstrap-server localhost:9092 abort --topic t --partition 0 --start-offset 42\n",
        {
            {"transactional-id", arity::one, "id", "describe: the transactional id."},
            {"topic", arity::one, "topic", "describe-producers, abort: the topic."},
            {"partition", arity::one, "partition", "describe-producers, abort: the partition."},
            {"broker-id", arity::one, "id", "describe-producers: ask this broker instead of the leader."},
            {"start-offset", arity::one, "offset", "abort: the first offset of the transaction to abort."},
            {"producer-id", arity::one, "id", "abort: the producer id (with --producer-epoch, --coordinator-epoch)."},
            {"producer-epoch", arity::one, "epoch", "abort: the producer epoch."},
            {"coordinator-epoch", arity::one, "epoch", "abort: the coordinator epoch."},
            {"duration-filter", arity::one, "ms", "list: only transactions running longer than this."},
        }};
    add_client_options(s);
    return s;
}

/// Splits the subcommand word off the arguments (it may come before or after the options);
/// words following an option that takes a value are that option's.
std::string take_subcommand(const command_spec& spec, std::vector<std::string>& args)
{
    for (size_t i = 0; i < args.size(); ++i) {
        auto& w = args[i];
        if (w.starts_with("-")) {
            auto name = w.substr(w.find_first_not_of('-'));
            auto opt = std::find_if(spec.options.begin(), spec.options.end(), [&](auto& o) { return o.name == name; });
            if (opt != spec.options.end() && opt->kind == arity::one && name.find('=') == std::string::npos) ++i;
            continue;
        }
        if (subcommands.contains(w)) {
            auto cmd = w;
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
            return cmd;
        }
        throw usage_error(fmt::format("Unknown subcommand '{}' (list, describe, describe-producers, abort)", w));
    }
    return {};
}

std::string error_name(int16_t code)
{
    return std::string(protocol::to_string(static_cast<protocol::error_code>(code)));
}

/// Prints rows as Kafka's tools tabulate: each column as wide as its widest cell, tab-separated.
void print_table(const std::vector<std::vector<std::string>>& rows)
{
    std::vector<size_t> width;
    for (auto& r : rows) {
        width.resize(std::max(width.size(), r.size()));
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    for (auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) line += i + 1 < r.size() ? pad(r[i], width[i]) + "\t" : r[i];
        out += line + "\n";
    }
    write_out(out);
}

std::string none_if_negative(int64_t v) { return v < 0 ? "None" : std::to_string(v); }

int run_list(const client_config& cfg, const parsed_args& a)
{
    broker_connection boot(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
    auto cluster = describe_cluster(boot, std::nullopt);
    std::vector<std::vector<std::string>> rows = {{"TransactionalId", "Coordinator", "ProducerId", "TransactionState"}};
    protocol::list_transactions_request req;
    req.duration_filter = a.int_or("duration-filter", -1);
    for (auto& b : cluster.brokers) {
        broker_connection conn(address_of(b), cfg.timeout_ms());
        auto resp = conn.call<protocol::list_transactions_api>(req, 1);
        if (resp.error_code != 0) {
            throw cli_error(fmt::format("Broker {} could not list transactions: {}", b.node_id, error_name(resp.error_code)));
        }
        for (auto& t : resp.transaction_states) {
            rows.push_back({t.transactional_id, std::to_string(b.node_id), std::to_string(t.producer_id), t.transaction_state});
        }
    }
    print_table(rows);
    return 0;
}

int run_describe(const client_config& cfg, const parsed_args& a)
{
    auto id = a.value("transactional-id");
    if (!id) throw usage_error("Missing required argument \"[transactional-id]\"");
    broker_connection boot(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
    protocol::find_coordinator_request fc;
    fc.key = *id;
    fc.key_type = 1;
    auto where = boot.call<protocol::find_coordinator_api>(fc, 3);
    if (where.error_code != 0) {
        throw cli_error(fmt::format("Cannot find the coordinator of {}: {}", *id, error_name(where.error_code)));
    }
    broker_connection conn({broker_address{fmt::format("{}:{}", where.host, where.port), where.host,
                                           static_cast<uint16_t>(where.port)}},
                           cfg.timeout_ms());
    protocol::describe_transactions_request req;
    req.transactional_ids = {*id};
    auto resp = conn.call<protocol::describe_transactions_api>(req, 0);
    if (resp.transaction_states.empty()) throw cli_error("The coordinator did not describe the transaction");
    auto& e = resp.transaction_states.front();
    if (e.error_code != 0) throw cli_error(fmt::format("Cannot describe {}: {}", *id, error_name(e.error_code)));
    std::vector<std::string> parts;
    for (auto& t : e.topics) {
        for (auto p : t.partitions) parts.push_back(fmt::format("{}-{}", t.topic, p));
    }
    std::string duration = e.transaction_start_time_ms < 0 ? "None" : std::to_string(now_ms() - e.transaction_start_time_ms);
    print_table({{"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
                  "TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions"},
                 {std::to_string(where.node_id), e.transactional_id, std::to_string(e.producer_id),
                  std::to_string(e.producer_epoch), e.transaction_state, std::to_string(e.transaction_timeout_ms),
                  none_if_negative(e.transaction_start_time_ms), duration, join(parts, ",")}});
    return 0;
}

std::pair<std::string, int32_t> topic_partition_args(const parsed_args& a)
{
    auto topic = a.value("topic");
    if (!topic) throw usage_error("Missing required argument \"[topic]\"");
    auto partition = a.int_value("partition");
    if (!partition) throw usage_error("Missing required argument \"[partition]\"");
    return {*topic, static_cast<int32_t>(*partition)};
}

/// The producers of a partition, asked of its leader (or `broker`).
std::vector<protocol::describe_producers_response::producer_state>
producers_of(const client_config& cfg, const std::string& topic, int32_t partition, std::optional<int64_t> broker,
             std::vector<broker_address>& leader)
{
    broker_connection boot(parse_bootstrap(cfg.bootstrap()), cfg.timeout_ms());
    auto cluster = describe_cluster(boot, topic);
    int32_t target = -1;
    if (broker) {
        target = static_cast<int32_t>(*broker);
    } else {
        for (auto& t : cluster.topics) {
            if (t.error_code != 0) throw cli_error(fmt::format("Topic '{}': {}", topic, error_name(t.error_code)));
            for (auto& p : t.partitions) {
                if (p.partition_index == partition) target = p.leader_id;
            }
        }
        if (target < 0) throw cli_error(fmt::format("Partition {}-{} has no leader", topic, partition));
    }
    leader = address_of(broker_by_id(cluster, target));
    broker_connection conn(leader, cfg.timeout_ms());
    protocol::describe_producers_request req;
    req.topics.push_back({topic, {partition}});
    auto resp = conn.call<protocol::describe_producers_api>(req, 0);
    if (resp.topics.empty() || resp.topics[0].partitions.empty()) throw cli_error("The broker did not describe the partition");
    auto& pr = resp.topics[0].partitions[0];
    if (pr.error_code != 0) throw cli_error(fmt::format("Cannot describe the producers of {}-{}: {}", topic, partition, error_name(pr.error_code)));
    return pr.active_producers;
}

int run_describe_producers(const client_config& cfg, const parsed_args& a)
{
    auto [topic, partition] = topic_partition_args(a);
    std::vector<broker_address> leader;
    auto producers = producers_of(cfg, topic, partition, a.int_value("broker-id"), leader);
    std::vector<std::vector<std::string>> rows = {{"ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence",
                                                   "LastTimestamp", "CurrentTransactionStartOffset"}};
    for (auto& p : producers) {
        rows.push_back({std::to_string(p.producer_id), std::to_string(p.producer_epoch), none_if_negative(p.coordinator_epoch),
                        std::to_string(p.last_sequence), std::to_string(p.last_timestamp),
                        none_if_negative(p.current_txn_start_offset)});
    }
    print_table(rows);
    return 0;
}

int run_abort(const client_config& cfg, const parsed_args& a)
{
    auto [topic, partition] = topic_partition_args(a);
    std::vector<broker_address> leader;
    auto producers = producers_of(cfg, topic, partition, std::nullopt, leader);
    protocol::write_txn_markers_request::writable_txn_marker m;
    m.transaction_result = false;
    m.topics.push_back({topic, {partition}});
    if (auto start = a.int_value("start-offset")) {
        auto it = std::find_if(producers.begin(), producers.end(),
                               [&](auto& p) { return p.current_txn_start_offset == *start; });
        if (it == producers.end()) {
            throw cli_error(fmt::format("No transaction of {}-{} starts at offset {}", topic, partition, *start));
        }
        m.producer_id = it->producer_id;
        m.producer_epoch = static_cast<int16_t>(it->producer_epoch);
        m.coordinator_epoch = std::max(it->coordinator_epoch, 0);
    } else {
        auto pid = a.int_value("producer-id");
        auto epoch = a.int_value("producer-epoch");
        auto ce = a.int_value("coordinator-epoch");
        if (!pid || !epoch || !ce) {
            throw usage_error("abort needs --start-offset, or --producer-id, --producer-epoch and --coordinator-epoch");
        }
        m.producer_id = *pid;
        m.producer_epoch = static_cast<int16_t>(*epoch);
        m.coordinator_epoch = static_cast<int32_t>(*ce);
    }
    broker_connection conn(leader, cfg.timeout_ms());
    protocol::write_txn_markers_request req;
    req.markers.push_back(m);
    auto resp = conn.call<protocol::write_txn_markers_api>(req, 1);
    for (auto& r : resp.markers) {
        for (auto& t : r.topics) {
            for (auto& p : t.partitions) {
                if (p.error_code != 0) {
                    throw cli_error(fmt::format("Cannot abort the transaction of producer {} on {}-{}: {}", m.producer_id,
                                                topic, partition, error_name(p.error_code)));
                }
            }
        }
    }
    write_out(fmt::format("Aborted the transaction of producer {} (epoch {}) on {}-{}\n", m.producer_id,
                          m.producer_epoch, topic, partition));
    return 0;
}

} // namespace

int run_transactions(const std::vector<std::string>& in)
{
    auto spec = transactions_spec();
    auto args = in;
    auto sub = take_subcommand(spec, args);
    auto a = parse_args(spec, args);
    if (a.has("help") || sub.empty()) {
        write_out(help_text(spec));
        return sub.empty() && !a.has("help") ? 2 : 0;
    }
    auto cfg = client_config::from_args(a);
    cfg.check_brokers();
    if (sub == "list") return run_list(cfg, a);
    if (sub == "describe") return run_describe(cfg, a);
    if (sub == "describe-producers") return run_describe_producers(cfg, a);
    if (sub == "abort") return run_abort(cfg, a);
    throw cli_error(fmt::format("transactions {} is not supported yet", sub));
}

} // namespace samsa::cli
