// Unit tests of the command-line parsing and the input/flag syntaxes of the subcommands.
#include "cli/args.h"
#include "cli/broker_socket.h"
#include "cli/config_ops.h"
#include "cli/group_reset.h"
#include "cli/line_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace samsa::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

command_spec spec()
{
    return {"demo",
            "summary",
            "  samsa demo --x\n",
            {{"topic", arity::one, "topic", "t"},
             {"from-beginning", arity::flag, "", "f"},
             {"state", arity::optional, "s", "s"},
             {"producer-props", arity::many, "k=v", "p"},
             {"property", arity::one, "k=v", "repeatable"}}};
}

TEST(args, values_flags_and_equals_syntax)
{
    auto a = parse_args(spec(), {"--topic", "t1", "--from-beginning", "--property=a=1", "--property", "b=2"});
    EXPECT_EQ(a.value("topic"), "t1");
    EXPECT_TRUE(a.has("from-beginning"));
    EXPECT_FALSE(a.has("state"));
    EXPECT_THAT(a.values("property"), ElementsAre("a=1", "b=2"));
}

TEST(args, a_value_may_start_with_a_dash)
{
    auto a = parse_args(spec(), {"--topic", "-5"});
    EXPECT_EQ(a.int_value("topic"), -5);
}

TEST(args, optional_and_many_arities)
{
    auto a = parse_args(spec(), {"--state", "--producer-props", "acks=1", "linger.ms=5", "--topic", "t"});
    EXPECT_TRUE(a.has("state"));
    EXPECT_EQ(a.value("state"), std::nullopt);
    EXPECT_THAT(a.values("producer-props"), ElementsAre("acks=1", "linger.ms=5"));
    EXPECT_EQ(a.value("topic"), "t");
    a = parse_args(spec(), {"--state", "stable,empty"});
    EXPECT_EQ(a.value("state"), "stable,empty");
}

TEST(args, errors_name_the_option)
{
    auto message = [](std::vector<std::string> words) {
        try {
            parse_args(spec(), words);
        } catch (const usage_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message({"--bogus"}), "Unknown option --bogus");
    EXPECT_EQ(message({"-x"}), "Unknown option -x");
    EXPECT_EQ(message({"--topic"}), "Option --topic requires a value");
    EXPECT_EQ(message({"--from-beginning=yes"}), "Option --from-beginning does not take a value");
    EXPECT_EQ(message({"stray"}), "Unexpected argument 'stray'");
    EXPECT_EQ(message({"--producer-props"}), "Option --producer-props requires a value");
    EXPECT_THAT(message({}), "no error");
}

TEST(args, single_dash_long_options_as_joptsimple)
{
    auto a = parse_args(spec(), {"-topic", "t1", "-from-beginning", "-property=a=1", "-producer-props", "x=1",
                                 "-state"});
    EXPECT_EQ(a.value("topic"), "t1");
    EXPECT_TRUE(a.has("from-beginning"));
    EXPECT_THAT(a.values("property"), ElementsAre("a=1"));
    // A single-dash option ends the values of a multi-value option, a negative number does not.
    EXPECT_THAT(a.values("producer-props"), ElementsAre("x=1"));
    EXPECT_TRUE(a.has("state"));
    a = parse_args(spec(), {"--producer-props", "x=-1", "-5"});
    EXPECT_THAT(a.values("producer-props"), ElementsAre("x=-1", "-5"));
}

TEST(args, unambiguous_prefixes_stand_for_the_option)
{
    auto a = parse_args(spec(), {"--top", "t1", "--from", "-prod", "k=v", "--st=stable"});
    EXPECT_EQ(a.value("topic"), "t1");
    EXPECT_TRUE(a.has("from-beginning"));
    EXPECT_THAT(a.values("producer-props"), ElementsAre("k=v"));
    EXPECT_EQ(a.value("state"), "stable");
    EXPECT_TRUE(parse_args(spec(), {"--he"}).has("help"));

    // An exact name wins over the longer names it is a prefix of.
    command_spec s{"demo", "", "", {{"timeout", arity::one, "ms", ""}, {"timeout-ms", arity::one, "ms", ""}}};
    a = parse_args(s, {"--timeout", "1", "--timeout-", "2"});
    EXPECT_EQ(a.value("timeout"), "1");
    EXPECT_EQ(a.value("timeout-ms"), "2");
}

TEST(args, ambiguous_prefix_names_the_candidates)
{
    try {
        parse_args(spec(), {"--pro", "x"});
        FAIL();
    } catch (const usage_error& e) {
        EXPECT_STREQ(e.what(), "Option --pro is ambiguous: it could be --producer-props, --property");
    }
    EXPECT_THROW(parse_args(spec(), {"-p", "x"}), usage_error);
}

TEST(args, broker_list_only_where_added)
{
    auto s = spec();
    add_client_options(s);
    EXPECT_THROW(parse_args(s, {"--broker-list", "h:1"}), usage_error);
    add_broker_list_option(s);
    EXPECT_EQ(parse_args(s, {"--broker-list", "h:1"}).value("broker-list"), "h:1");
    // "--b" now has three candidates.
    EXPECT_THROW(parse_args(s, {"--b", "h:1"}), usage_error);
    EXPECT_EQ(parse_args(s, {"--bootstrap", "h:1"}).value("bootstrap-server"), "h:1");
}

TEST(bootstrap, kafka_address_syntax)
{
    auto a = parse_bootstrap(" localhost:9092, PLAINTEXT://10.0.0.1:19092,[::1]:9093,");
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].host, "localhost");
    EXPECT_EQ(a[0].port, 9092);
    EXPECT_EQ(a[0].text, "localhost:9092");
    EXPECT_EQ(a[1].host, "10.0.0.1");
    EXPECT_EQ(a[1].port, 19092);
    EXPECT_EQ(a[2].host, "::1");
    EXPECT_EQ(a[2].port, 9093);

    auto message = [](std::string_view servers) {
        try {
            parse_bootstrap(servers);
        } catch (const cli_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message("localhost:notaport"), "Invalid bootstrap server 'localhost:notaport': the port 'notaport' is "
                                             "not a number");
    EXPECT_EQ(message(":9092"), "Invalid bootstrap server ':9092': no host name");
    EXPECT_EQ(message("host:99999"), "Invalid bootstrap server 'host:99999': the port 99999 is out of range (1-65535)");
    EXPECT_EQ(message("host:0"), "Invalid bootstrap server 'host:0': the port 0 is out of range (1-65535)");
    EXPECT_EQ(message("localhost"), "Invalid bootstrap server 'localhost': expected host:port");
    EXPECT_EQ(message("ok:1,bad host:2"), "Invalid bootstrap server 'bad host:2': 'bad host' is not a valid host name");
    EXPECT_EQ(message("host:"), "Invalid bootstrap server 'host:': no port");
    EXPECT_EQ(message(" , "), "No bootstrap server given (bootstrap.servers is empty)");
}

TEST(args, integers_are_checked)
{
    auto a = parse_args(spec(), {"--topic", "12x"});
    EXPECT_THROW(a.int_value("topic"), usage_error);
    EXPECT_EQ(parse_int("+42"), 42);
    EXPECT_EQ(parse_int("99999999999999999999"), std::nullopt);
    EXPECT_EQ(parse_int(""), std::nullopt);
}

TEST(args, help_text_lists_options_and_examples)
{
    auto text = help_text(spec());
    EXPECT_THAT(text, HasSubstr("usage: samsa demo [options]"));
    EXPECT_THAT(text, HasSubstr("--topic <topic>"));
    EXPECT_THAT(text, HasSubstr("--state [s]"));
    EXPECT_THAT(text, HasSubstr("Examples:\n  samsa demo --x\n"));
}

TEST(args, one_action_rule)
{
    auto a = parse_args(spec(), {"--topic", "x", "--from-beginning"});
    EXPECT_NO_THROW(require_one_action(a, {"topic", "state"}));
    try {
        require_one_action(a, {"topic", "from-beginning", "state"});
        FAIL();
    } catch (const usage_error& e) {
        EXPECT_STREQ(e.what(), "Command must include exactly one action: --topic, --from-beginning or --state");
    }
}

TEST(add_config, kafka_list_syntax)
{
    auto m = parse_add_config("retention.ms=1000,cleanup.policy=[compact,delete],x=a=b");
    EXPECT_EQ(m.size(), 3u);
    EXPECT_EQ(m["retention.ms"], "1000");
    EXPECT_EQ(m["cleanup.policy"], "compact,delete");
    EXPECT_EQ(m["x"], "a=b");
    EXPECT_THROW(parse_add_config("novalue"), usage_error);
}

TEST(line_reader, key_and_headers)
{
    line_format f;
    f.parse_key = true;
    f.key_separator = ":";
    f.parse_headers = true;
    auto r = parse_line("h1:v1,h2:v2\tkey:value:with:colons", f, 1);
    EXPECT_EQ(r.key, "key");
    EXPECT_EQ(r.value, "value:with:colons");
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[0].first, "h1");
    EXPECT_EQ(r.headers[1].second, "v2");
}

TEST(line_reader, null_marker_and_errors)
{
    auto f = line_format::from_properties({{"parse.key", "true"}, {"null.marker", "<null>"}});
    auto r = parse_line("<null>\tv", f, 1);
    EXPECT_EQ(r.key, std::nullopt);
    EXPECT_EQ(r.value, "v");
    r = parse_line("k\t<null>", f, 1);
    EXPECT_EQ(r.value, std::nullopt);
    try {
        parse_line("nokey", f, 7);
        FAIL();
    } catch (const cli_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("line number 7"));
    }
    f.ignore_error = true;
    r = parse_line("nokey", f, 7);
    EXPECT_EQ(r.key, std::nullopt);
    EXPECT_EQ(r.value, "nokey");
    EXPECT_THROW(line_format::from_properties({{"parse.kye", "true"}}), usage_error);
}

TEST(line_reader, plain_lines_keep_everything)
{
    line_format f;
    auto r = parse_line("a\tb:c", f, 1);
    EXPECT_EQ(r.key, std::nullopt);
    EXPECT_EQ(r.value, "a\tb:c");
    EXPECT_TRUE(r.headers.empty());
}

TEST(reset_syntax, datetimes)
{
    EXPECT_EQ(parse_datetime("2024-01-02T03:04:05.678Z"), 1704164645678);
    EXPECT_EQ(parse_datetime("2024-01-02T05:04:05.678+02:00"), 1704164645678);
    EXPECT_EQ(parse_datetime("2024-01-02T01:04:05.678-0200"), 1704164645678);
    EXPECT_EQ(parse_datetime("2024-01-02T03:04:05Z"), 1704164645000);
    EXPECT_TRUE(parse_datetime("2024-01-02T03:04:05.678").has_value()); // local time
    EXPECT_EQ(parse_datetime("2024-13-02T03:04:05.678Z"), std::nullopt);
    EXPECT_EQ(parse_datetime("yesterday"), std::nullopt);
}

TEST(reset_syntax, durations)
{
    EXPECT_EQ(parse_duration("PT1H30M"), 5400000);
    EXPECT_EQ(parse_duration("P2D"), 172800000);
    EXPECT_EQ(parse_duration("P1DT0.5S"), 86400500);
    EXPECT_EQ(parse_duration("PT"), std::nullopt);
    EXPECT_EQ(parse_duration("1H"), std::nullopt);
    EXPECT_EQ(parse_duration("P1H"), std::nullopt);
}

} // namespace
} // namespace samsa::cli
