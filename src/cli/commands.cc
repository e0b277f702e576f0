#include "cli/commands.h"

namespace samsa::cli {

std::span<const command> all_commands()
{
    static const command list[] = {
        {"topics", "Create, delete, list, describe and alter topics (kafka-topics.sh).", run_topics},
        {"console-producer", "Produce lines read from stdin (kafka-console-producer.sh).", run_console_producer},
        {"console-consumer", "Print consumed records to stdout (kafka-console-consumer.sh).", run_console_consumer},
        {"consumer-groups", "List, describe, reset and delete consumer groups (kafka-consumer-groups.sh).",
         run_consumer_groups},
        {"configs", "Describe and alter topic and broker configs (kafka-configs.sh).", run_configs},
        {"producer-perf-test", "Producer throughput and latency test (kafka-producer-perf-test.sh).",
         run_producer_perf_test},
        {"consumer-perf-test", "Consumer throughput test (kafka-consumer-perf-test.sh).", run_consumer_perf_test},
        {"dump-log", "Print and check segment, index and time index files offline (kafka-dump-log.sh).", run_dump_log},
        {"leader-election", "Elect preferred or unclean partition leaders (kafka-leader-election.sh).",
         run_leader_election},
        {"reassign-partitions", "Move partition replicas between brokers (kafka-reassign-partitions.sh).",
         run_reassign_partitions},
        {"log-dirs", "Describe the brokers' log directories and replica sizes (kafka-log-dirs.sh).", run_log_dirs},
        {"delete-records", "Delete records below given offsets (kafka-delete-records.sh).", run_delete_records},
        {"transactions", "List and describe transactions and producers, abort hanging ones (kafka-transactions.sh).",
         run_transactions},
    };
    return list;
}

} // namespace samsa::cli
