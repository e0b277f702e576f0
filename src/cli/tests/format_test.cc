// Unit tests of the output formats: Kafka's DefaultMessageFormatter layout, dates, padding.
#include "cli/message_formatter.h"
#include "cli/output.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace samsa::cli {
namespace {

formatted_record sample()
{
    formatted_record r;
    r.timestamp_type = formatted_record::ts_kind::create_time;
    r.timestamp = 1700000000000;
    r.partition = 2;
    r.offset = 5;
    r.key = "key";
    r.value = "value";
    return r;
}

std::string format(const std::map<std::string, std::string>& props, const formatted_record& r)
{
    std::string out;
    message_formatter(props).format(r, out);
    return out;
}

TEST(formatter, value_only_by_default)
{
    EXPECT_EQ(format({}, sample()), "value\n");
}

TEST(formatter, kafka_field_order)
{
    auto r = sample();
    r.headers = {{"h1", std::string_view("v1")}, {"h2", std::nullopt}};
    EXPECT_EQ(format({{"print.timestamp", "true"},
                      {"print.partition", "true"},
                      {"print.offset", "true"},
                      {"print.headers", "true"},
                      {"print.key", "true"}},
                     r),
              "CreateTime:1700000000000\tPartition:2\tOffset:5\th1:v1,h2:null\tkey\tvalue\n");
}

TEST(formatter, last_field_ends_the_line_when_value_is_off)
{
    EXPECT_EQ(format({{"print.offset", "true"}, {"print.key", "true"}, {"print.value", "false"}}, sample()),
              "Offset:5\tkey\n");
    EXPECT_EQ(format({{"print.timestamp", "TRUE "}, {"print.value", "false"}}, sample()), "CreateTime:1700000000000\n");
}

TEST(formatter, separators_nulls_and_timestamp_kinds)
{
    auto r = sample();
    r.key = std::nullopt;
    r.value = std::nullopt;
    r.timestamp_type = formatted_record::ts_kind::log_append_time;
    EXPECT_EQ(format({{"print.key", "true"},
                      {"print.timestamp", "true"},
                      {"key.separator", "|"},
                      {"line.separator", "\r\n"},
                      {"null.literal", "-"}},
                     r),
              "LogAppendTime:1700000000000|-|-\r\n");
    r.timestamp_type = formatted_record::ts_kind::none;
    EXPECT_EQ(format({{"print.timestamp", "true"}, {"print.headers", "true"}, {"headers.separator", ";"}}, r),
              "NO_TIMESTAMP\tNO_HEADERS\tnull\n");
}

TEST(output, date_patterns)
{
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    EXPECT_EQ(format_date(1704164645678, "yyyy-MM-dd HH:mm:ss:SSS"), "2024-01-02 03:04:05:678");
    EXPECT_EQ(format_date(1704164645678, "yy/M/d 'at' H"), "24/1/2 at 3");
}

TEST(output, padding_and_json)
{
    EXPECT_EQ(pad("ab", 4), "ab  ");
    EXPECT_EQ(pad("abcdef", 4), "abcdef");
    EXPECT_EQ(json_string("a\"b\\\n\x01"), "\"a\\\"b\\\\\\n\\u0001\"");
}

} // namespace
} // namespace samsa::cli
