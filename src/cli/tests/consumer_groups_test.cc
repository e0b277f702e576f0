// consumer-groups (and the subscribe paths of the consumers) against a real broker. These need
// the broker's group APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetCommit,
// OffsetFetch, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete).
#include "cli/tests/cli_fixture.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

namespace samsa::cli::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class consumer_groups_test : public cli_test {
protected:
    /// A topic "events" (one partition) holding m0..m{n-1}.
    void fill(int n, const std::string& topic = "events", int partitions = 1)
    {
        create_topic(topic, partitions);
        std::string lines;
        for (int i = 0; i < n; ++i) lines += "m" + std::to_string(i) + "\n";
        produce(topic, lines);
    }

    /// Consumes `count` records through the group protocol; the offsets are committed on exit.
    run_result consume_with_group(const std::string& group, int count, const std::string& topic = "events")
    {
        return samsa("console-consumer", {"--topic", topic, "--group", group, "--from-beginning", "--max-messages",
                                          std::to_string(count), "--timeout-ms", "30000"});
    }

    /// The data rows of a --describe offsets table, split on whitespace.
    std::vector<std::vector<std::string>> describe_rows(const std::string& group)
    {
        auto r = samsa("consumer-groups", {"--describe", "--group", group});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::vector<std::vector<std::string>> rows;
        for (auto& line : lines_of(r.out)) {
            if (line.empty() || line.rfind("GROUP", 0) == 0) continue;
            std::vector<std::string> cells;
            std::istringstream in(line);
            for (std::string c; in >> c;) cells.push_back(c);
            rows.push_back(cells);
        }
        return rows;
    }

    static bool eventually(const std::function<bool()>& f, std::chrono::seconds timeout = std::chrono::seconds(30))
    {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (f()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
        return false;
    }
};

TEST_F(consumer_groups_test, lag_is_produced_minus_consumed)
{
    fill(10);
    auto c = consume_with_group("g1", 6);
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "m0\nm1\nm2\nm3\nm4\nm5\n");

    auto r = samsa("consumer-groups", {"--describe", "--group", "g1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_EQ(lines[0], "");
    EXPECT_THAT(lines[1], MatchesRegex("GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +"
                                       "HOST +CLIENT-ID"));
    EXPECT_THAT(lines[2], MatchesRegex("g1 +events +0 +6 +10 +4 +- +- +-"));
    EXPECT_THAT(r.err, HasSubstr("Consumer group 'g1' has no active members."));

    produce("events", "m10\nm11\n");
    EXPECT_THAT(describe_rows("g1"), ElementsAre(ElementsAre("g1", "events", "0", "6", "12", "6", "-", "-", "-")));
}

TEST_F(consumer_groups_test, list_and_state_filter)
{
    fill(2);
    ASSERT_EQ(consume_with_group("listed", 2).exit_code, 0);
    auto r = samsa("consumer-groups", {"--list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(lines_of(r.out), ::testing::Contains("listed"));

    r = samsa("consumer-groups", {"--list", "--state", "empty"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("listed +Empty"));
    r = samsa("consumer-groups", {"--list", "--state", "stable"});
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("listed")));

    // The group offsets live in an internal topic, which --exclude-internal leaves out.
    r = samsa("topics", {"--list"});
    EXPECT_THAT(lines_of(r.out), ::testing::Contains("__consumer_offsets"));
    r = samsa("topics", {"--list", "--exclude-internal"});
    EXPECT_THAT(lines_of(r.out), ElementsAre("events"));
}

TEST_F(consumer_groups_test, reset_offsets_execute_then_the_consumer_resumes_there)
{
    fill(10);
    ASSERT_EQ(consume_with_group("g1", 10).exit_code, 0);

    auto r = samsa("consumer-groups",
                   {"--reset-offsets", "--group", "g1", "--topic", "events", "--to-earliest", "--dry-run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("g1 +events +0 +0"));
    EXPECT_THAT(describe_rows("g1"), ElementsAre(ElementsAre("g1", "events", "0", "10", "10", "0", "-", "-", "-")));

    r = samsa("consumer-groups",
              {"--reset-offsets", "--group", "g1", "--topic", "events", "--to-offset", "3", "--execute"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_THAT(lines[1], MatchesRegex("GROUP +TOPIC +PARTITION +NEW-OFFSET"));
    EXPECT_THAT(lines[2], MatchesRegex("g1 +events +0 +3"));

    auto c = consume_with_group("g1", 7);
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "m3\nm4\nm5\nm6\nm7\nm8\nm9\n");
}

TEST_F(consumer_groups_test, every_reset_scenario)
{
    fill(10);
    ASSERT_EQ(consume_with_group("g", 10).exit_code, 0);
    auto reset_to = [&](std::vector<std::string> scenario) {
        std::vector<std::string> args{"--reset-offsets", "--group", "g", "--topic", "events:0", "--execute"};
        args.insert(args.end(), scenario.begin(), scenario.end());
        auto r = samsa("consumer-groups", args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto rows = describe_rows("g");
        return rows.size() == 1 ? rows[0][3] : std::string("?");
    };
    EXPECT_EQ(reset_to({"--to-earliest"}), "0");
    EXPECT_EQ(reset_to({"--to-latest"}), "10");
    EXPECT_EQ(reset_to({"--shift-by", "-4"}), "6");
    EXPECT_EQ(reset_to({"--shift-by", "100"}), "10");
    EXPECT_EQ(reset_to({"--to-offset", "-5"}), "0");
    EXPECT_EQ(reset_to({"--to-current"}), "0");
    EXPECT_EQ(reset_to({"--to-datetime", "2001-01-01T00:00:00.000"}), "0");
    EXPECT_EQ(reset_to({"--to-datetime", "2999-01-01T00:00:00.000Z"}), "10");
    EXPECT_EQ(reset_to({"--by-duration", "PT1H"}), "0");

    auto r = samsa("consumer-groups", {"--reset-offsets", "--group", "g", "--all-topics", "--to-latest", "--export"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "events,0,10\n");
}

TEST_F(consumer_groups_test, active_members_share_partitions_and_block_resets)
{
    fill(4, "shared", 2);
    child_process a(argv("console-consumer", {"--topic", "shared", "--group", "lb", "--from-beginning"}));
    child_process b(argv("console-consumer", {"--topic", "shared", "--group", "lb", "--from-beginning"}));
    std::string members;
    bool balanced = eventually([&] {
        auto r = samsa("consumer-groups", {"--describe", "--group", "lb", "--members"});
        members = r.out;
        std::regex row("lb +[^ ]+ +[^ ]+ +[^ ]+ +1 ");
        auto lines = lines_of(r.out);
        return std::count_if(lines.begin(), lines.end(), [&](auto& l) { return std::regex_search(l, row); }) == 2;
    });
    EXPECT_TRUE(balanced) << members;

    auto r = samsa("consumer-groups", {"--describe", "--group", "lb", "--state"});
    EXPECT_THAT(r.out, ::testing::ContainsRegex("lb +[^ ]+:[0-9]+ +\\([0-9]+\\) +[a-z]+ +Stable +2"));

    r = samsa("consumer-groups", {"--reset-offsets", "--group", "lb", "--all-topics", "--to-earliest", "--execute"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("can only be reset if the group 'lb' is inactive, but the current state is Stable"));

    // Stop them only once they have read everything: a member may still be fetching its first
    // records just after the group turned Stable.
    bool all_read = eventually([&] {
        a.wait_for_output("\x01", std::chrono::milliseconds(50)); // pumps the pipes
        b.wait_for_output("\x01", std::chrono::milliseconds(50));
        return lines_of(a.out()).size() + lines_of(b.out()).size() >= 4;
    });
    EXPECT_TRUE(all_read) << a.out() << "|" << b.out();
    a.send_signal(SIGINT);
    b.send_signal(SIGINT);
    auto ra = a.wait(std::chrono::seconds(30));
    auto rb = b.wait(std::chrono::seconds(30));
    EXPECT_EQ(ra.exit_code, 0) << ra.err;
    EXPECT_EQ(rb.exit_code, 0) << rb.err;
    // Load-balanced: the two members consumed the four records between them, each once.
    EXPECT_EQ(lines_of(ra.out).size() + lines_of(rb.out).size(), 4u) << ra.out << "|" << rb.out;
}

TEST_F(consumer_groups_test, delete_offsets_and_delete_group)
{
    fill(3);
    ASSERT_EQ(consume_with_group("trimmed", 3).exit_code, 0);
    ASSERT_EQ(consume_with_group("gone", 3).exit_code, 0);
    auto r = samsa("consumer-groups", {"--delete-offsets", "--group", "trimmed", "--topic", "events"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Request succeed for deleting offsets with topic events group trimmed"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("events +0 +Successful"));
    // No committed offset left: nothing to describe for the partition (the broker may even
    // have dropped the now empty group).
    r = samsa("consumer-groups", {"--describe", "--group", "trimmed"});
    EXPECT_THAT(r.out, ::testing::Not(::testing::ContainsRegex("trimmed +events")));

    r = samsa("consumer-groups", {"--delete", "--group", "gone"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Deletion of requested consumer groups ('gone') was successful.\n");

    r = samsa("consumer-groups", {"--describe", "--group", "gone"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("Consumer group 'gone' does not exist."));

    r = samsa("consumer-groups", {"--delete", "--group", "gone"});
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("Group 'gone' could not be deleted"));
}

TEST_F(consumer_groups_test, consumer_perf_test_through_a_group_commits_its_position)
{
    fill(20);
    auto r = samsa("consumer-perf-test", {"--topic", "events", "--messages", "20", "--group", "perf", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("\"messages\": 20,"));
    EXPECT_THAT(describe_rows("perf"), ElementsAre(ElementsAre("perf", "events", "0", "20", "20", "0", "-", "-", "-")));
}

TEST_F(consumer_groups_test, include_regex_subscribes_to_every_matching_topic)
{
    create_topic("logs-a", 1);
    create_topic("logs-b", 1);
    create_topic("other", 1);
    produce("logs-a", "a1\n");
    produce("logs-b", "b1\n");
    produce("other", "o1\n");
    auto r = samsa("console-consumer",
                   {"--include", "logs-.*", "--from-beginning", "--max-messages", "2", "--timeout-ms", "30000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    std::sort(lines.begin(), lines.end());
    EXPECT_THAT(lines, ElementsAre("a1", "b1"));
}

TEST_F(consumer_groups_test, usage_errors)
{
    auto r = samsa("consumer-groups", {"--reset-offsets", "--group", "g", "--to-earliest"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--all-topics or --topic"));
    r = samsa("consumer-groups", {"--reset-offsets", "--group", "g", "--all-topics"});
    EXPECT_EQ(r.exit_code, 2);
    r = samsa("consumer-groups", {"--describe"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--group"));
}

} // namespace
} // namespace samsa::cli::test
