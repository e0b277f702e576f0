#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::cli {

/// One subcommand of `samsa`: its name (Kafka's tool name without `kafka-` and `.sh`), a
/// one-line summary for `samsa --help`, and its entry point, which receives the words after the
/// subcommand name and returns the exit status. Entry points throw cli_error / usage_error for
/// failures; main() prints them as one line.
struct command {
    std::string_view name;
    std::string_view summary;
    int (*run)(const std::vector<std::string>& args);
};

/// Every subcommand, in the order `samsa --help` lists them.
std::span<const command> all_commands();

int run_topics(const std::vector<std::string>& args);
int run_console_producer(const std::vector<std::string>& args);
int run_console_consumer(const std::vector<std::string>& args);
int run_consumer_groups(const std::vector<std::string>& args);
int run_configs(const std::vector<std::string>& args);
int run_producer_perf_test(const std::vector<std::string>& args);
int run_consumer_perf_test(const std::vector<std::string>& args);
int run_dump_log(const std::vector<std::string>& args);
int run_delete_records(const std::vector<std::string>& args);
int run_transactions(const std::vector<std::string>& args);
int run_leader_election(const std::vector<std::string>& args);
int run_reassign_partitions(const std::vector<std::string>& args);
int run_log_dirs(const std::vector<std::string>& args);

} // namespace samsa::cli
