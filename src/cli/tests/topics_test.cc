// samsa topics against a real broker, plus the error rules every subcommand shares.
#include "cli/tests/cli_fixture.h"

#include <gmock/gmock.h>

#include <chrono>
#include <thread>

namespace samsa::cli::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class topics_test : public cli_test {};

TEST_F(topics_test, create_list_describe_delete)
{
    auto r = samsa("topics", {"--create", "--replication-factor", "1", "--partitions", "3", "--topic", "orders"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Created topic orders.\n");

    r = samsa("topics", {"--list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(lines_of(r.out), ElementsAre("orders"));

    r = samsa("topics", {"--describe", "--topic", "orders"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(lines_of(r.out), ElementsAre(MatchesRegex("Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\t"
                                                          "PartitionCount: 3\tReplicationFactor: 1\tConfigs: "),
                                             "\tTopic: orders\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0",
                                             "\tTopic: orders\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0",
                                             "\tTopic: orders\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0"));

    r = samsa("topics", {"--delete", "--topic", "orders"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = samsa("topics", {"--list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(topics_test, config_overrides_show_in_describe)
{
    auto r = samsa("topics", {"--create", "--topic", "logs", "--partitions", "1", "--config", "retention.ms=60000",
                              "--config", "cleanup.policy=compact"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    create_topic("plain", 1);

    r = samsa("topics", {"--describe", "--topic", "logs"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Topic: logs\tTopicId: "));
    EXPECT_THAT(r.out, HasSubstr("\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: "
                                 "cleanup.policy=compact,retention.ms=60000\n"));

    r = samsa("topics", {"--describe", "--topics-with-overrides"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(lines_of(r.out), ElementsAre(HasSubstr("Topic: logs\t")));
}

/// The TopicId column of `samsa topics --describe --topic <topic>`, empty when missing.
std::string topic_id_of(const run_result& r)
{
    auto at = r.out.find("\tTopicId: ");
    if (at == std::string::npos) return "";
    at += 10;
    return r.out.substr(at, r.out.find('\t', at) - at);
}

TEST_F(topics_test, describe_shows_the_topic_id_as_kafka_prints_it)
{
    create_topic("ids1", 1);
    create_topic("ids2", 1);
    auto id1 = topic_id_of(samsa("topics", {"--describe", "--topic", "ids1"}));
    auto id2 = topic_id_of(samsa("topics", {"--describe", "--topic", "ids2"}));
    // Uuid.toString: URL-safe base64 of the 16 bytes, no padding.
    EXPECT_THAT(id1, MatchesRegex("[A-Za-z0-9_-]{22}"));
    EXPECT_THAT(id2, MatchesRegex("[A-Za-z0-9_-]{22}"));
    EXPECT_NE(id1, id2);
    EXPECT_EQ(topic_id_of(samsa("topics", {"--describe", "--topic", "ids1"})), id1);

    // A topic created again under the same name is a new topic with a new id.
    ASSERT_EQ(samsa("topics", {"--delete", "--topic", "ids1"}).exit_code, 0);
    for (int i = 0; i < 50; ++i) {
        auto r = samsa("topics", {"--create", "--topic", "ids1", "--partitions", "1"});
        if (r.exit_code == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto again = topic_id_of(samsa("topics", {"--describe", "--topic", "ids1"}));
    EXPECT_THAT(again, MatchesRegex("[A-Za-z0-9_-]{22}"));
    EXPECT_NE(again, id1);
}

TEST_F(topics_test, create_existing_fails_unless_if_not_exists)
{
    create_topic("dup", 1);
    auto r = samsa("topics", {"--create", "--topic", "dup", "--partitions", "1"});
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("'dup' already exists"));

    r = samsa("topics", {"--create", "--topic", "dup", "--partitions", "1", "--if-not-exists"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(topics_test, topic_regex_selects_for_list_describe_and_delete)
{
    create_topic("alpha1", 1);
    create_topic("alpha2", 2);
    create_topic("beta", 1);

    auto r = samsa("topics", {"--list", "--topic", "alpha.*"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(lines_of(r.out), ElementsAre("alpha1", "alpha2"));

    r = samsa("topics", {"--describe", "--topic", "alpha.*"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, MatchesRegex("(.|\n)*Topic: alpha1\tTopicId: [^\t]+\tPartitionCount: 1(.|\n)*"));
    EXPECT_THAT(r.out, MatchesRegex("(.|\n)*Topic: alpha2\tTopicId: [^\t]+\tPartitionCount: 2(.|\n)*"));
    EXPECT_THAT(r.out, Not(HasSubstr("beta")));

    r = samsa("topics", {"--delete", "--topic", "alpha.*"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = samsa("topics", {"--list"});
    EXPECT_THAT(lines_of(r.out), ElementsAre("beta"));
}

TEST_F(topics_test, unknown_topic_is_an_error_unless_if_exists)
{
    for (auto action : {"--describe", "--delete"}) {
        auto r = samsa("topics", {action, "--topic", "missing"});
        EXPECT_EQ(r.exit_code, 1) << action;
        ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
        EXPECT_THAT(r.err, HasSubstr("Topic 'missing' does not exist"));

        r = samsa("topics", {action, "--topic", "missing", "--if-exists"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST_F(topics_test, alter_increases_partitions_only)
{
    create_topic("grow", 2);
    auto r = samsa("topics", {"--alter", "--topic", "grow", "--partitions", "5"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = samsa("topics", {"--describe", "--topic", "grow"});
    EXPECT_THAT(r.out, HasSubstr("PartitionCount: 5"));
    EXPECT_THAT(r.out, HasSubstr("\tPartition: 4\tLeader: 0"));

    r = samsa("topics", {"--alter", "--topic", "grow", "--partitions", "3"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("can only increase"));
}

TEST_F(topics_test, unreachable_broker_fails_fast_with_one_line)
{
    auto cfg = short_timeout_config(2000);
    auto start = std::chrono::steady_clock::now();
    auto r = samsa_raw({"topics", "--list", "--bootstrap-server", "127.0.0.1:" + std::to_string(closed_port()),
                        "--command-config", cfg});
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("Cannot reach the broker(s) at 127.0.0.1:"));
    EXPECT_LT(took, std::chrono::seconds(20));
}

TEST_F(topics_test, every_command_reports_an_unreachable_broker)
{
    auto cfg = short_timeout_config(1500);
    std::string server = "127.0.0.1:" + std::to_string(closed_port());
    std::vector<std::vector<std::string>> commands{
        {"topics", "--describe"},
        {"configs", "--describe", "--topic", "t"},
        {"consumer-groups", "--list"},
        {"console-consumer", "--topic", "t", "--partition", "0"},
        {"console-producer", "--topic", "t"},
        {"producer-perf-test", "--topic", "t", "--num-records", "1", "--record-size", "1"},
        {"consumer-perf-test", "--topic", "t", "--messages", "1"},
    };
    for (auto cmd : commands) {
        cmd.insert(cmd.end(), {"--bootstrap-server", server, "--command-config", cfg});
        auto r = samsa_raw(cmd, "x\n", std::chrono::seconds(30));
        EXPECT_FALSE(r.timed_out) << cmd[0];
        EXPECT_EQ(r.exit_code, 1) << cmd[0] << ": " << r.err;
        ASSERT_EQ(r.err_lines().size(), 1u) << cmd[0] << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr("Cannot reach the broker(s)")) << cmd[0];
    }
}

/// Runs `samsa topics --list` against `server` with the default 10 s timeout.
run_result list_against(const std::string& server, std::chrono::milliseconds& took)
{
    auto start = std::chrono::steady_clock::now();
    auto r = run({samsa_binary(), "topics", "--list", "--bootstrap-server", server}, {}, std::chrono::seconds(30));
    took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return r;
}

TEST_F(topics_test, refused_unresolvable_and_malformed_addresses_fail_at_once_with_the_cause)
{
    std::string refused = "127.0.0.1:" + std::to_string(closed_port());
    const std::pair<std::string, std::string> cases[] = {
        {refused, "Cannot reach the broker(s) at " + refused + ": connection refused"},
        {"nonexistent.invalid:9092", "Cannot reach the broker(s) at nonexistent.invalid:9092: name does not resolve"},
        {"localhost:notaport", "Invalid bootstrap server 'localhost:notaport': the port 'notaport' is not a number"},
        {":9092", "Invalid bootstrap server ':9092': no host name"},
        {"localhost:99999", "Invalid bootstrap server 'localhost:99999': the port 99999 is out of range"},
        {"nonexistent.invalid:9092," + refused,
         "Cannot reach the broker(s) at nonexistent.invalid:9092," + refused +
             ": nonexistent.invalid:9092: name does not resolve"},
    };
    for (auto& [server, message] : cases) {
        std::chrono::milliseconds took{};
        auto r = list_against(server, took);
        EXPECT_EQ(r.exit_code, 1) << server << ": " << r.err;
        ASSERT_EQ(r.err_lines().size(), 1u) << server << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr("samsa topics: " + message)) << server;
        // The default timeout is 10 s; failing takes a process start, not a timeout.
        EXPECT_LT(took, std::chrono::seconds(3)) << server;
    }
    // One reachable address among dead ones is enough.
    std::chrono::milliseconds took{};
    auto r = list_against("nonexistent.invalid:9092," + refused + "," + bootstrap(), took);
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(topics_test, single_dash_and_prefixed_options_as_kafka)
{
    auto r = samsa_raw({"topics", "-bootstrap-server", bootstrap(), "-create", "-topic", "dash", "-partitions=2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = samsa_raw({"topics", "--bootstrap", bootstrap(), "--list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(lines_of(r.out), ElementsAre("dash"));
    r = samsa_raw({"topics", "-bootstrap=" + bootstrap(), "--desc", "-topic", "dash"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("PartitionCount: 2"));

    // --de: --delete or --describe; one line naming both.
    r = samsa_raw({"topics", "--bootstrap-server", bootstrap(), "--de", "--topic", "dash"});
    EXPECT_EQ(r.exit_code, 2);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("Option --de is ambiguous: it could be --delete, --describe"));
}

TEST_F(topics_test, unknown_flag_is_named_in_one_line)
{
    for (auto cmd : {"topics", "console-producer", "console-consumer", "consumer-groups", "configs",
                     "producer-perf-test", "consumer-perf-test", "dump-log"}) {
        auto r = samsa_raw({cmd, "--frobnicate"});
        EXPECT_EQ(r.exit_code, 2) << cmd;
        ASSERT_EQ(r.err_lines().size(), 1u) << cmd << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr("--frobnicate")) << cmd;
    }
    auto r = samsa_raw({"no-such-command"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("unknown command 'no-such-command'"));
}

TEST_F(topics_test, missing_topic_and_conflicting_actions_are_usage_errors)
{
    auto r = samsa("topics", {"--create", "--partitions", "1"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--topic"));

    r = samsa("console-producer", {});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--topic"));

    r = samsa("topics", {"--list", "--describe"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("exactly one action"));

    r = samsa("topics", {"--create", "--topic", "x", "--partitions", "many"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--partitions"));
}

TEST_F(topics_test, help_lists_options_and_examples)
{
    for (auto cmd : {"topics", "console-producer", "console-consumer", "consumer-groups", "configs",
                     "producer-perf-test", "consumer-perf-test", "dump-log"}) {
        auto r = samsa_raw({cmd, "--help"});
        EXPECT_EQ(r.exit_code, 0) << cmd;
        EXPECT_THAT(r.out, HasSubstr(std::string("usage: samsa ") + cmd)) << cmd;
        EXPECT_THAT(r.out, HasSubstr("Examples:\n  samsa " + std::string(cmd))) << cmd;
        EXPECT_EQ(r.err, "") << cmd;
    }
    auto r = samsa_raw({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("consumer-groups"));
}

} // namespace
} // namespace samsa::cli::test
