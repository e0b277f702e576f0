#include "config/properties.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

namespace samsa::config {
namespace {

property_map parse(std::string_view text) { return to_map(parse_properties(text, "test.properties").value()); }

TEST(properties, separators_equals_colon_and_whitespace)
{
    auto m = parse("a=1\nb: 2\nc 3\nd\t=\t4\ne   :five\n");
    EXPECT_EQ(m, (property_map{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "five"}}));
}

TEST(properties, comments_and_blank_lines_are_skipped)
{
    auto entries =
        parse_properties("# comment\n! also a comment\n\n   \n  # indented comment\nkey=value\n", "f").value();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0], (property{"key", "value", 6}));
}

TEST(properties, hash_inside_a_value_is_not_a_comment) { EXPECT_EQ(parse("k=a#b !c")["k"], "a#b !c"); }

TEST(properties, leading_whitespace_trimmed_trailing_kept)
{
    auto m = parse("   key   =   value with spaces  \n");
    EXPECT_EQ(m["key"], "value with spaces  ");
}

TEST(properties, key_without_value_is_empty)
{
    auto m = parse("lonely\nalso=\n");
    EXPECT_EQ(m["lonely"], "");
    EXPECT_EQ(m["also"], "");
}

TEST(properties, only_first_separator_splits)
{
    EXPECT_EQ(parse("listeners=PLAINTEXT://:9092")["listeners"], "PLAINTEXT://:9092");
    EXPECT_EQ(parse("a==b")["a"], "=b");
    EXPECT_EQ(parse("a = :b")["a"], ":b");
}

TEST(properties, continuation_lines_join_and_skip_leading_whitespace)
{
    auto entries = parse_properties("log.dirs=/a,\\\n    /b,\\\n\t/c\nnext=1\n", "f").value();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].value, "/a,/b,/c");
    EXPECT_EQ(entries[0].line, 1);
    EXPECT_EQ(entries[1].key, "next");
    EXPECT_EQ(entries[1].line, 4);
}

TEST(properties, even_number_of_backslashes_does_not_continue)
{
    auto m = parse("a=x\\\\\nb=y\n");
    EXPECT_EQ(m["a"], "x\\");
    EXPECT_EQ(m["b"], "y");
}

TEST(properties, continuation_line_starting_with_hash_is_not_a_comment) { EXPECT_EQ(parse("a=1\\\n#2\n")["a"], "1#2"); }

TEST(properties, comment_line_ending_in_backslash_does_not_continue)
{
    auto m = parse("# comment \\\nreal=1\n");
    EXPECT_EQ(m.size(), 1u);
    EXPECT_EQ(m["real"], "1");
}

TEST(properties, trailing_backslash_at_end_of_file_is_dropped) { EXPECT_EQ(parse("a=b\\")["a"], "b"); }

TEST(properties, escapes)
{
    auto m = parse("tab=a\\tb\nnl=a\\nb\ncr=\\r\nff=\\f\nslash=a\\\\b\nother=\\q\\z\n");
    EXPECT_EQ(m["tab"], "a\tb");
    EXPECT_EQ(m["nl"], "a\nb");
    EXPECT_EQ(m["cr"], "\r");
    EXPECT_EQ(m["ff"], "\f");
    EXPECT_EQ(m["slash"], "a\\b");
    EXPECT_EQ(m["other"], "qz");
}

TEST(properties, escaped_separators_belong_to_the_key)
{
    auto m = parse("a\\:b\\=c\\ d=value\n");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m.begin()->first, "a:b=c d");
    EXPECT_EQ(m.begin()->second, "value");
}

TEST(properties, escaped_leading_space_of_value_is_kept) { EXPECT_EQ(parse("k=\\  x")["k"], "  x"); }

TEST(properties, unicode_escapes_become_utf8)
{
    auto m = parse("a=\\u0041\nb=caf\\u00e9\nc=\\u20AC\nd=\\uD83D\\uDE00\n");
    EXPECT_EQ(m["a"], "A");
    EXPECT_EQ(m["b"], "caf\xC3\xA9");
    EXPECT_EQ(m["c"], "\xE2\x82\xAC");
    EXPECT_EQ(m["d"], "\xF0\x9F\x98\x80");
}

TEST(properties, raw_utf8_passes_through) { EXPECT_EQ(parse("name=Zo\xC3\xAB")["name"], "Zo\xC3\xAB"); }

TEST(properties, crlf_and_cr_line_endings)
{
    auto entries = parse_properties("a=1\r\nb=2\rc=3\n", "f").value();
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].value, "1");
    EXPECT_EQ(entries[1].value, "2");
    EXPECT_EQ(entries[2].line, 3);
}

TEST(properties, later_entries_win) { EXPECT_EQ(parse("a=1\na=2\n")["a"], "2"); }

TEST(properties, malformed_unicode_escape_reports_file_and_line)
{
    auto r = parse_properties("ok=1\n\nbad=\\u12G4\n", "server.properties");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::malformed_text));
    EXPECT_EQ(r.error().message, "server.properties:3: malformed \\uXXXX escape");
}

TEST(properties, truncated_unicode_escape_and_lone_surrogate_fail)
{
    EXPECT_FALSE(parse_properties("a=\\u12", "f"));
    EXPECT_FALSE(parse_properties("a=\\uD83D", "f"));
    EXPECT_FALSE(parse_properties("a=\\uDE00", "f"));
}

TEST(properties, empty_key_reports_line_of_logical_line_start)
{
    auto r = parse_properties("a=1\n# c\n=value\n", "x.properties");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "x.properties:3: missing key before the separator");
}

TEST(properties, write_then_parse_round_trips_awkward_text)
{
    property_map m{
        {"plain", "value"},
        {"key with spaces:and=separators#!", "v"},
        {"leading", "   three spaces"},
        {"controls", "tab\there\nnewline\rcr\fff\x01"},
        {"backslash\\key", "c:\\path\\"},
        {"empty", ""},
        {"unicode", "\xE2\x82\xAC and caf\xC3\xA9"},
        {"#hash", "!bang"},
    };
    auto text = write_properties(m, "topic overrides");
    EXPECT_EQ(text.rfind("# topic overrides\n", 0), 0u);
    EXPECT_EQ(to_map(parse_properties(text, "rt").value()), m);
}

TEST(properties, parse_override_splits_at_first_equals)
{
    auto kv = parse_override("listeners=PLAINTEXT://:9092").value();
    EXPECT_EQ(kv.first, "listeners");
    EXPECT_EQ(kv.second, "PLAINTEXT://:9092");
    EXPECT_EQ(parse_override("a=b=c").value().second, "b=c");
    EXPECT_EQ(parse_override("empty=").value().second, "");
}

TEST(properties, parse_override_rejects_missing_key_or_equals)
{
    auto r = parse_override("no_equals");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "Invalid override 'no_equals': expected key=value");
    EXPECT_FALSE(parse_override("=value"));
}

class temp_file {
public:
    explicit temp_file(std::string_view content)
    {
        char name[] = "/tmp/samsa_config_test_XXXXXX";
        int fd = ::mkstemp(name);
        EXPECT_GE(fd, 0);
        ::close(fd);
        _path = name;
        std::ofstream(_path, std::ios::binary) << content;
    }
    ~temp_file() { std::remove(_path.c_str()); }
    const std::string& path() const { return _path; }

private:
    std::string _path;
};

TEST(properties, load_file_and_apply_overrides_in_order)
{
    temp_file f("num.partitions=3\nlog.dirs=/data\n");
    auto m = load_server_properties(f.path(), {"num.partitions=5", "extra=1", "num.partitions=7"});
    EXPECT_EQ(m["num.partitions"], "7");
    EXPECT_EQ(m["log.dirs"], "/data");
    EXPECT_EQ(m["extra"], "1");
}

TEST(properties, load_without_file_uses_only_overrides)
{
    auto m = load_server_properties(std::nullopt, {"node.id=4"});
    EXPECT_EQ(m, (property_map{{"node.id", "4"}}));
}

TEST(properties, missing_file_throws_config_error)
{
    try {
        load_properties_file("/nonexistent/dir/server.properties");
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::unreadable_file));
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/server.properties"), std::string::npos);
    }
}

TEST(properties, syntax_error_in_file_throws_with_path_and_line)
{
    temp_file f("a=1\nb=\\uZZZZ\n");
    try {
        load_properties_file(f.path());
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        EXPECT_EQ(std::string(e.what()), f.path() + ":2: malformed \\uXXXX escape");
    }
}

TEST(properties, malformed_override_throws)
{
    EXPECT_THROW(load_server_properties(std::nullopt, {"oops"}), config_error);
}

} // namespace
} // namespace samsa::config
