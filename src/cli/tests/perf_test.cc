// producer-perf-test and consumer-perf-test against a real broker.
#include "cli/tests/cli_fixture.h"

#include <gmock/gmock.h>

#include <regex>

namespace samsa::cli::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class perf_test : public cli_test {};

/// The number after `"key": ` in a flat JSON object, or -1.
double json_field(const std::string& json, const std::string& key)
{
    std::smatch m;
    std::regex re("\"" + key + "\": ([-0-9.]+)");
    return std::regex_search(json, m, re) ? std::stod(m[1]) : -1;
}

TEST_F(perf_test, producer_prints_kafka_summary_and_consumer_reads_everything)
{
    create_topic("perf", 2);
    auto r = samsa("producer-perf-test", {"--topic", "perf", "--num-records", "3000", "--record-size", "100",
                                          "--throughput", "-1", "--producer-props", "acks=1", "linger.ms=5"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_FALSE(lines.empty());
    EXPECT_THAT(lines.back(),
                MatchesRegex("3000 records sent, [0-9]+\\.[0-9]{6} records/sec \\([0-9]+\\.[0-9]{2} MB/sec\\), "
                             "[0-9]+\\.[0-9]{2} ms avg latency, [0-9]+\\.[0-9]{2} ms max latency, "
                             "[0-9]+ ms 50th, [0-9]+ ms 95th, [0-9]+ ms 99th, [0-9]+ ms 99\\.9th\\."));

    r = samsa("consumer-perf-test", {"--topic", "perf", "--messages", "3000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    EXPECT_EQ(lines[0], "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
                        "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec");
    // 3000 records of 100 bytes: 0.2861 MB.
    EXPECT_THAT(lines[1], MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}:[0-9]{3}, [0-9]{4}-[0-9]{2}-[0-9]{2} "
                                       "[0-9:]{8}:[0-9]{3}, 0\\.2861, [0-9.a-zA-Z]+, 3000, .*"));
}

TEST_F(perf_test, json_totals_and_progress_windows)
{
    create_topic("pj", 1);
    auto r = samsa("producer-perf-test", {"--topic", "pj", "--num-records", "1500", "--record-size", "64",
                                          "--throughput", "1000", "--reporting-interval", "500", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.out;
    EXPECT_EQ(json_field(lines[0], "records"), 1500);
    EXPECT_EQ(json_field(lines[0], "bytes"), 1500 * 64);
    EXPECT_EQ(json_field(lines[0], "errors"), 0);
    EXPECT_GE(json_field(lines[0], "p99_ms"), json_field(lines[0], "p50_ms"));
    // Throttled to 1000/s, 1500 records take at least about 1.5 s.
    EXPECT_GE(json_field(lines[0], "elapsed_ms"), 1400);
    // The windows went to stderr in Kafka's layout.
    EXPECT_THAT(r.err, ContainsRegex("[0-9]+ records sent, [0-9.]+ records/sec \\([0-9.]+ MB/sec\\), [0-9.]+ ms avg "
                                     "latency, [0-9.]+ ms max latency\\."));

    r = samsa("consumer-perf-test", {"--topic", "pj", "--messages", "1500", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json_field(r.out, "messages"), 1500);
    EXPECT_THAT(r.out, HasSubstr("\"timed_out\": false"));
}

TEST_F(perf_test, payload_file_records_come_from_the_file)
{
    create_topic("pf", 1);
    std::string path = *work / "payloads.txt";
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("alpha\nbeta\n", f);
    std::fclose(f);
    auto r = samsa("producer-perf-test",
                   {"--topic", "pf", "--num-records", "20", "--payload-file", path, "--throughput", "-1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Number of messages read: 2\n"));
    auto c = consume_partition("pf", 0, 20);
    for (auto& line : lines_of(c.out)) EXPECT_TRUE(line == "alpha" || line == "beta") << line;
    EXPECT_EQ(lines_of(c.out).size(), 20u);
}

TEST_F(perf_test, consumer_times_out_with_kafkas_warning)
{
    create_topic("empty", 1);
    auto r =
        samsa("consumer-perf-test", {"--topic", "empty", "--messages", "10", "--timeout", "1000", "--hide-header"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    EXPECT_THAT(lines[0], HasSubstr("WARNING: Exiting before consuming the expected number of messages: timeout "
                                    "(1000 ms) exceeded."));
    EXPECT_THAT(lines[1], HasSubstr(", 0.0000, 0.0000, 0, 0.0000, "));
}

TEST_F(perf_test, usage_errors)
{
    auto r = samsa("producer-perf-test", {"--topic", "x", "--record-size", "10"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--num-records"));
    r = samsa("producer-perf-test", {"--topic", "x", "--num-records", "10"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--record-size"));
    r = samsa("consumer-perf-test", {"--topic", "x"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--messages"));
}

} // namespace
} // namespace samsa::cli::test
