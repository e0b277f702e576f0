#pragma once

#include "cli/tests/child_process.h"
#include "test_util/broker_process.h"
#include "test_util/temp_dir.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace samsa::cli::test {

/// Path of the `samsa` binary under test.
std::string samsa_binary();

/// Base fixture of the CLI integration tests: a samsa-server child (started by SetUp with
/// broker_overrides()) and helpers that run `samsa <args>` as a child process.
class cli_test : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;
    /// Extra broker overrides for the fixture's broker.
    virtual std::vector<std::string> broker_overrides() const { return {}; }

    std::string bootstrap() const { return broker->bootstrap(); }
    /// `samsa <command> --bootstrap-server <broker> <args...>`.
    run_result samsa(const std::string& command, std::vector<std::string> args, std::string_view input = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));
    /// `samsa <args...>` with nothing added.
    run_result samsa_raw(std::vector<std::string> args, std::string_view input = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));
    /// argv for a child started by the test itself.
    std::vector<std::string> argv(const std::string& command, std::vector<std::string> args) const;

    /// Stops the broker (SIGTERM) so the test can look at its files.
    void stop_broker();
    /// Creates a topic and fails the test if that does not work.
    void create_topic(const std::string& name, int partitions);
    /// Produces the lines (newline-separated) with console-producer --sync; fails on error.
    void produce(const std::string& topic, const std::string& lines, std::vector<std::string> extra = {});
    /// Reads `count` records of one partition from the beginning with console-consumer.
    run_result consume_partition(const std::string& topic, int partition, int count,
                                 std::vector<std::string> extra = {});

    /// A client properties file with default.api.timeout.ms set, for fast failures.
    std::string short_timeout_config(int ms);

    std::unique_ptr<samsa::test::temp_dir> work;
    std::unique_ptr<samsa::test::broker_process> broker;

private:
    bool _stopped_on_purpose = false;
};

/// Splits text into lines (the last line may lack its newline).
std::vector<std::string> lines_of(const std::string& text);

/// A port on 127.0.0.1 that nothing listens on (bound then released).
int closed_port();

} // namespace samsa::cli::test
