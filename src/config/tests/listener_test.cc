#include "config/listener.h"

#include <gtest/gtest.h>

namespace samsa::config {
namespace {

security_protocol_map default_map() { return parse_security_protocol_map(default_security_protocol_map).value(); }

TEST(listener, parses_name_host_port_and_protocol)
{
    auto map = default_map();
    auto ls = parse_listeners("listeners", "PLAINTEXT://:9092, ssl://broker1.example.com:9093", &map, true).value();
    ASSERT_EQ(ls.size(), 2u);
    EXPECT_EQ(ls[0], (listener{"PLAINTEXT", "", 9092, "PLAINTEXT"}));
    EXPECT_EQ(ls[1], (listener{"SSL", "broker1.example.com", 9093, "SSL"}));
}

TEST(listener, ipv6_hosts_in_brackets)
{
    auto map = default_map();
    auto ls = parse_listeners("listeners", "PLAINTEXT://[::1]:9092,SSL://[fe80::1%eth0]:9093", &map, true).value();
    EXPECT_EQ(ls[0].host, "::1");
    EXPECT_EQ(ls[1].host, "fe80::1%eth0");
    EXPECT_EQ(to_string(ls[0]), "PLAINTEXT://[::1]:9092");
    EXPECT_EQ(to_string(listener{"PLAINTEXT", "", 9092, "PLAINTEXT"}), "PLAINTEXT://:9092");
}

TEST(listener, custom_names_need_a_protocol_mapping)
{
    auto map = parse_security_protocol_map("CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT").value();
    auto ok = parse_listeners("listeners", "PLAINTEXT://:9092,CONTROLLER://:9093", &map, true).value();
    EXPECT_EQ(ok[1].security_protocol, "PLAINTEXT");
    auto r = parse_listeners("listeners", "INTERNAL://:9094", &map, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "Invalid value INTERNAL://:9094 for configuration listeners: No security protocol defined for listener "
              "INTERNAL");
}

TEST(listener, malformed_entries)
{
    auto map = default_map();
    auto r = parse_listeners("listeners", "PLAINTEXT://:9092,localhost:9093", &map, true);
    ASSERT_FALSE(r);
    EXPECT_EQ(
        r.error().message,
        "Invalid value localhost:9093 for configuration listeners: Listener must be of the form NAME://host:port");
    EXPECT_FALSE(parse_listeners("listeners", "PLAINTEXT://host", &map, true));
    EXPECT_FALSE(parse_listeners("listeners", "PLAINTEXT://::1:9092", &map, true));
    EXPECT_FALSE(parse_listeners("listeners", "PLAINTEXT://ho st:9092", &map, true));
    auto port = parse_listeners("listeners", "PLAINTEXT://:70000", &map, true);
    ASSERT_FALSE(port);
    EXPECT_EQ(
        port.error().message,
        "Invalid value PLAINTEXT://:70000 for configuration listeners: Port must be a number between 0 and 65535");
}

TEST(listener, names_must_be_unique)
{
    auto map = default_map();
    auto r = parse_listeners("listeners", "PLAINTEXT://:9092,plaintext://:9093", &map, true);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("PLAINTEXT appears twice"), std::string::npos);
}

TEST(listener, ports_must_not_clash_on_overlapping_hosts)
{
    auto map = default_map();
    EXPECT_FALSE(parse_listeners("listeners", "PLAINTEXT://:9092,SSL://host:9092", &map, true));
    EXPECT_TRUE(parse_listeners("listeners", "PLAINTEXT://10.0.0.1:9092,SSL://10.0.0.2:9092", &map, true));
    EXPECT_TRUE(parse_listeners("advertised.listeners", "PLAINTEXT://h:9092,SSL://h:9092", &map, false));
}

TEST(listener, protocol_map_parsing)
{
    auto m = parse_security_protocol_map("internal:plaintext, EXTERNAL:SASL_SSL").value();
    EXPECT_EQ(m, (security_protocol_map{{"INTERNAL", "PLAINTEXT"}, {"EXTERNAL", "SASL_SSL"}}));
    auto bad = parse_security_protocol_map("A:TLS");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "Invalid value A:TLS for configuration listener.security.protocol.map: Unknown "
                                   "security protocol 'TLS'; valid ones are PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
    EXPECT_FALSE(parse_security_protocol_map("A"));
    EXPECT_FALSE(parse_security_protocol_map("A:SSL,a:PLAINTEXT"));
}

TEST(listener, syntax_validators)
{
    EXPECT_TRUE(listener_syntax_validator(true).check(config_value{std::string("PLAINTEXT://:1,SSL://:1")}));
    EXPECT_FALSE(listener_syntax_validator(true).check(config_value{std::string("PLAINTEXT://:1,SSL://:2")}));
    auto v = listener_syntax_validator(true).check(config_value{std::string("nope")});
    ASSERT_TRUE(v);
    EXPECT_EQ(v->offending, "nope");
    EXPECT_TRUE(protocol_map_validator().check(config_value{std::string("X:Y")}));
}

} // namespace
} // namespace samsa::config
