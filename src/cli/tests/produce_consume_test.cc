// console-producer and console-consumer against a real broker (the --partition path, which
// needs no consumer group protocol).
#include "cli/tests/cli_fixture.h"

#include <gmock/gmock.h>

#include <csignal>
#include <cstdint>
#include <thread>

namespace samsa::cli::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class produce_consume_test : public cli_test {};

/// The Java client's default partitioner for keyed records: murmur2 of the key bytes, made
/// positive, modulo the partition count.
int java_partition(const std::string& key, int partitions)
{
    const uint32_t m = 0x5bd1e995;
    const auto* data = reinterpret_cast<const uint8_t*>(key.data());
    uint32_t len = static_cast<uint32_t>(key.size());
    uint32_t h = 0x9747b28c ^ len;
    for (uint32_t i = 0; i + 4 <= len; i += 4) {
        uint32_t k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | static_cast<uint32_t>(data[i + 3]) << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    uint32_t tail = len & ~3u;
    switch (len % 4) {
    case 3: h ^= static_cast<uint32_t>(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(data[tail + 1]) << 8; [[fallthrough]];
    case 1: h ^= data[tail]; h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return static_cast<int>((h & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

TEST_F(produce_consume_test, lines_round_trip_through_one_partition)
{
    create_topic("lines", 1);
    produce("lines", "first\nsecond\nthird\n");
    auto r = consume_partition("lines", 0, 3);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "first\nsecond\nthird\n");
    EXPECT_THAT(r.err_lines(), ElementsAre("Processed a total of 3 messages"));
}

TEST_F(produce_consume_test, keys_headers_and_the_default_formatter_layout)
{
    create_topic("kv", 1);
    produce("kv", "h1:v1,h2:v2\tk1:hello\nNONE\tk2:world\n",
            {"--property", "parse.key=true", "--property", "key.separator=:", "--property", "parse.headers=true",
             "--property", "null.marker=NONE"});
    auto r =
        consume_partition("kv", 0, 2,
                          {"--property", "print.timestamp=true", "--property", "print.partition=true", "--property",
                           "print.offset=true", "--property", "print.headers=true", "--property", "print.key=true"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;
    EXPECT_THAT(lines[0], MatchesRegex("CreateTime:[0-9]+\tPartition:0\tOffset:0\th1:v1,h2:v2\tk1\thello"));
    EXPECT_THAT(lines[1], MatchesRegex("CreateTime:[0-9]+\tPartition:0\tOffset:1\tNO_HEADERS\tk2\tworld"));
}

TEST_F(produce_consume_test, separators_null_literal_and_print_value)
{
    create_topic("sep", 1);
    produce("sep", "NULL|v1\nk2|NULL\n",
            {"--property", "parse.key=true", "--property", "key.separator=|", "--property", "null.marker=NULL"});
    auto r = consume_partition("sep", 0, 2,
                               {"--property", "print.key=true", "--property", "key.separator= => ", "--property",
                                "line.separator=;", "--property", "null.literal=<none>"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "<none> => v1;k2 => <none>;");

    r = consume_partition("sep", 0, 2, {"--property", "print.offset=true", "--property", "print.value=false"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Offset:0\nOffset:1\n");
}

TEST_F(produce_consume_test, offset_starts_at_the_given_position)
{
    create_topic("pos", 1);
    produce("pos", "a\nb\nc\nd\n");
    auto r = samsa("console-consumer", {"--topic", "pos", "--partition", "0", "--offset", "2", "--max-messages", "2",
                                        "--timeout-ms", "20000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "c\nd\n");
}

TEST_F(produce_consume_test, every_compression_codec_round_trips)
{
    create_topic("codecs", 1);
    std::string expected;
    for (auto codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
        std::string line = std::string("compressed with ") + codec + " " + std::string(200, 'x');
        produce("codecs", line + "\n", {"--compression-codec", codec});
        expected += line + "\n";
    }
    auto r = consume_partition("codecs", 0, 5);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, expected);

    r = samsa("console-producer", {"--topic", "codecs", "--compression-codec", "brotli"}, "x\n");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("brotli"));
}

TEST_F(produce_consume_test, keyed_records_land_where_the_java_partitioner_puts_them)
{
    create_topic("keyed", 3);
    std::string input;
    for (int i = 0; i < 30; ++i) input += "key" + std::to_string(i) + ":v" + std::to_string(i) + "\n";
    produce("keyed", input, {"--property", "parse.key=true", "--property", "key.separator=:"});
    int total = 0;
    for (int p = 0; p < 3; ++p) {
        auto r = samsa("console-consumer", {"--topic", "keyed", "--partition", std::to_string(p), "--offset",
                                            "earliest", "--timeout-ms", "2000", "--property", "print.key=true"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        for (auto& line : lines_of(r.out)) {
            auto key = line.substr(0, line.find('\t'));
            EXPECT_EQ(java_partition(key, 3), p) << key;
            ++total;
        }
    }
    EXPECT_EQ(total, 30);
}

TEST_F(produce_consume_test, sigint_stops_the_consumer_and_reports_the_total)
{
    create_topic("live", 1);
    produce("live", "one\ntwo\n");
    child_process c(argv("console-consumer", {"--topic", "live", "--partition", "0", "--offset", "earliest"}));
    ASSERT_TRUE(c.wait_for_output("one\ntwo\n", std::chrono::seconds(20))) << c.err();
    c.send_signal(SIGINT);
    auto r = c.wait(std::chrono::seconds(20));
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "one\ntwo\n");
    EXPECT_THAT(r.err_lines(), ElementsAre("Processed a total of 2 messages"));
}

TEST_F(produce_consume_test, latest_offset_sees_only_new_records)
{
    create_topic("tail", 1);
    produce("tail", "old\n");
    child_process c(argv("console-consumer", {"--topic", "tail", "--partition", "0", "--max-messages", "1"}));
    // Give the consumer time to position itself at the end before producing.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    produce("tail", "new\n");
    auto r = c.wait(std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "new\n");
}

TEST_F(produce_consume_test, timeout_ms_ends_an_idle_consumer)
{
    create_topic("idle", 1);
    auto r = samsa("console-consumer", {"--topic", "idle", "--partition", "0", "--timeout-ms", "1000"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err_lines(), ElementsAre("Processed a total of 0 messages"));
}

TEST_F(produce_consume_test, bad_input_line_is_reported_after_delivering_the_good_ones)
{
    create_topic("strict", 1);
    auto r = samsa("console-producer", {"--topic", "strict", "--property", "parse.key=true"}, "k\tv\nno-separator\n");
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("No key separator found on line number 2"));
    auto c = consume_partition("strict", 0, 1, {"--property", "print.key=true"});
    EXPECT_EQ(c.out, "k\tv\n");
}

TEST_F(produce_consume_test, failed_delivery_exits_non_zero_with_the_error)
{
    auto r =
        samsa("topics", {"--create", "--topic", "small", "--partitions", "1", "--config", "max.message.bytes=200"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = samsa("console-producer", {"--topic", "small", "--sync"}, "ok\n" + std::string(5000, 'x') + "\n");
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("1 of 2 records were not delivered to small"));
}

TEST_F(produce_consume_test, consumer_flag_rules)
{
    auto r = samsa("console-consumer", {"--topic", "t", "--offset", "3"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("The partition is required when offset is specified."));

    r = samsa("console-consumer", {"--topic", "t", "--partition", "0", "--offset", "soon"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("'soon' is incorrect"));

    r = samsa("console-consumer", {"--partition", "0"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--topic or --include"));

    r = samsa("console-consumer", {"--topic", "t", "--partition", "0", "--group", "g"});
    EXPECT_EQ(r.exit_code, 2);
}

class no_auto_create_test : public cli_test {
protected:
    std::vector<std::string> broker_overrides() const override { return {"auto.create.topics.enable=false"}; }
};

TEST_F(no_auto_create_test, unknown_topic_is_one_line_error_for_producer_and_consumer)
{
    auto r = samsa("console-producer", {"--topic", "nope"}, "x\n");
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("Topic 'nope' does not exist"));

    create_topic("one", 1);
    r = samsa("console-consumer", {"--topic", "one", "--partition", "3"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("Partition 3 does not exist in topic 'one'"));
}

TEST_F(no_auto_create_test, console_consumer_waits_for_a_missing_topic)
{
    for (bool by_partition : {false, true}) {
        std::string topic = by_partition ? "later-p" : "later-g";
        auto args = argv("console-consumer", {"--topic", topic, "--max-messages", "2", "--timeout-ms", "30000"});
        if (by_partition)
            args.insert(args.end(), {"--partition", "0", "--offset", "earliest"});
        else
            args.push_back("--from-beginning");
        child_process consumer(args);
        // Still waiting a while later, not failed.
        EXPECT_FALSE(consumer.wait_for_output("Processed", std::chrono::milliseconds(1500), true)) << consumer.err();
        create_topic(topic, 1);
        produce(topic, "one\ntwo\n");
        auto r = consumer.wait(std::chrono::seconds(30));
        EXPECT_FALSE(r.timed_out) << topic;
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_THAT(lines_of(r.out), ElementsAre("one", "two")) << topic;
        EXPECT_THAT(r.err, HasSubstr("Processed a total of 2 messages"));
    }
}

TEST_F(no_auto_create_test, timeout_ms_also_bounds_the_wait_for_the_topic)
{
    auto start = std::chrono::steady_clock::now();
    auto r = samsa("console-consumer", {"--topic", "never", "--timeout-ms", "1500"});
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "Processed a total of 0 messages\n");
    EXPECT_GE(took, std::chrono::milliseconds(1400));
    EXPECT_LT(took, std::chrono::seconds(8));
    // Waiting did not create it.
    EXPECT_THAT(samsa("topics", {"--list"}).out, Not(HasSubstr("never")));
}

TEST_F(produce_consume_test, console_consumer_auto_creates_a_missing_topic_where_the_broker_allows)
{
    child_process consumer(
        argv("console-consumer", {"--topic", "fresh", "--from-beginning", "--max-messages", "1", "--timeout-ms", "30000"}));
    std::string listed;
    for (int i = 0; i < 100 && listed.find("fresh") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        listed = samsa("topics", {"--list"}).out;
    }
    EXPECT_THAT(listed, HasSubstr("fresh"));
    produce("fresh", "hello\n");
    auto r = consumer.wait(std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello\n");
}

TEST_F(produce_consume_test, broker_list_is_accepted_where_kafka_still_accepts_it)
{
    create_topic("bl", 1);
    const std::string warning = "warning: --broker-list is deprecated";
    auto r = samsa_raw({"console-producer", "--broker-list", bootstrap(), "--topic", "bl", "--sync"}, "a\nb\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr(warning));
    EXPECT_THAT(r.err, HasSubstr("--bootstrap-server"));

    // --bootstrap-server wins when both are given, as in Kafka.
    r = samsa("console-producer", {"--broker-list", "127.0.0.1:" + std::to_string(closed_port()), "--topic", "bl",
                                   "--sync"},
              "c\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr(warning));

    r = samsa_raw({"consumer-perf-test", "--broker-list", bootstrap(), "--topic", "bl", "--messages", "3",
                   "--timeout", "20000"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr(warning));
    EXPECT_THAT(r.out, HasSubstr(", 3, ")) << r.out; // data.consumed.in.nMsg

    // Kafka's other tools never had it (or dropped it): still an unknown option.
    for (auto cmd : {"topics", "console-consumer", "producer-perf-test", "consumer-groups", "configs"}) {
        r = samsa_raw({cmd, "--broker-list", bootstrap()});
        EXPECT_EQ(r.exit_code, 2) << cmd;
        EXPECT_THAT(r.err, HasSubstr("Unknown option --broker-list")) << cmd;
    }
}

} // namespace
} // namespace samsa::cli::test
