#include "config/broker_definitions.h"
#include "config/config_def.h"
#include "config/topic_config.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

namespace samsa::config {
namespace {

config_key key(std::string name, config_type type, validator v = {})
{
    return config_key{
        std::move(name), type, std::nullopt, std::move(v), importance::medium, update_mode::read_only, "", {}};
}

std::string error_of(const config_key& k, std::string_view raw)
{
    auto r = parse_value(k, raw);
    EXPECT_FALSE(r) << raw;
    if (r) return {};
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_value));
    return r.error().message;
}

TEST(config_def, int_parsing_and_range_of_type)
{
    auto k = key("num.partitions", config_type::int32);
    EXPECT_EQ(as_int(parse_value(k, " 12 ").value()), 12);
    EXPECT_EQ(as_int(parse_value(k, "+7").value()), 7);
    EXPECT_EQ(as_int(parse_value(k, "-2147483648").value()), std::numeric_limits<int32_t>::min());
    EXPECT_EQ(error_of(k, "abc"), "Invalid value abc for configuration num.partitions: Not a number of type INT");
    EXPECT_EQ(error_of(k, "2147483648"),
              "Invalid value 2147483648 for configuration num.partitions: Not a number of type INT");
    EXPECT_EQ(error_of(k, "1.5"), "Invalid value 1.5 for configuration num.partitions: Not a number of type INT");
    EXPECT_EQ(error_of(k, ""), "Invalid value  for configuration num.partitions: Not a number of type INT");
}

TEST(config_def, short_and_long_types)
{
    auto s = key("rf", config_type::int16);
    EXPECT_EQ(as_int(parse_value(s, "32767").value()), 32767);
    EXPECT_EQ(error_of(s, "32768"), "Invalid value 32768 for configuration rf: Not a number of type SHORT");
    auto l = key("ms", config_type::int64);
    EXPECT_EQ(as_int(parse_value(l, "9223372036854775807").value()), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(error_of(l, "9223372036854775808"),
              "Invalid value 9223372036854775808 for configuration ms: Not a number of type LONG");
}

TEST(config_def, boolean_is_case_insensitive)
{
    auto k = key("flag", config_type::boolean);
    EXPECT_TRUE(as_bool(parse_value(k, "TRUE").value()));
    EXPECT_FALSE(as_bool(parse_value(k, " false ").value()));
    EXPECT_EQ(error_of(k, "yes"),
              "Invalid value yes for configuration flag: Expected value to be either true or false");
}

TEST(config_def, double_parsing)
{
    auto k = key("ratio", config_type::float64);
    EXPECT_DOUBLE_EQ(as_double(parse_value(k, "0.25").value()), 0.25);
    EXPECT_DOUBLE_EQ(as_double(parse_value(k, "1e3").value()), 1000.0);
    EXPECT_DOUBLE_EQ(as_double(parse_value(k, "1.7976931348623157E308").value()), std::numeric_limits<double>::max());
    EXPECT_EQ(error_of(k, "half"), "Invalid value half for configuration ratio: Not a number of type DOUBLE");
    EXPECT_FALSE(parse_value(k, "nan"));
}

TEST(config_def, strings_are_trimmed_passwords_are_not)
{
    EXPECT_EQ(as_string(parse_value(key("s", config_type::string), "  x y  ").value()), "x y");
    EXPECT_EQ(as_string(parse_value(key("p", config_type::password), " secret ").value()), " secret ");
}

TEST(config_def, lists_split_on_commas_and_trim)
{
    auto k = key("dirs", config_type::list);
    EXPECT_EQ(as_list(parse_value(k, " /a , /b,/c ").value()), (std::vector<std::string>{"/a", "/b", "/c"}));
    EXPECT_TRUE(as_list(parse_value(k, "  ").value()).empty());
}

TEST(config_def, at_least_validator)
{
    auto k = key("log.segment.bytes", config_type::int32, validator::at_least(14));
    EXPECT_TRUE(parse_value(k, "14"));
    EXPECT_EQ(error_of(k, "13"), "Invalid value 13 for configuration log.segment.bytes: Value must be at least 14");
    EXPECT_EQ(k.valid.description(), "[14,...]");
}

TEST(config_def, between_validator)
{
    auto k = key("min.cleanable.dirty.ratio", config_type::float64, validator::between(0, 1));
    EXPECT_TRUE(parse_value(k, "0"));
    EXPECT_TRUE(parse_value(k, "1"));
    EXPECT_EQ(error_of(k, "-0.1"),
              "Invalid value -0.1 for configuration min.cleanable.dirty.ratio: Value must be at least 0");
    EXPECT_EQ(error_of(k, "1.5"),
              "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1");
}

TEST(config_def, one_of_validator_is_case_sensitive)
{
    auto k = key("log.message.timestamp.type", config_type::string, validator::one_of({"CreateTime", "LogAppendTime"}));
    EXPECT_TRUE(parse_value(k, "LogAppendTime"));
    EXPECT_EQ(error_of(k, "Foo"), "Invalid value Foo for configuration log.message.timestamp.type: String must be "
                                  "one of: CreateTime, LogAppendTime");
    EXPECT_FALSE(parse_value(k, "createtime"));
}

TEST(config_def, list_of_validator_names_the_bad_element)
{
    auto k = key("cleanup.policy", config_type::list, validator::list_of({"compact", "delete"}, false));
    EXPECT_TRUE(parse_value(k, "compact,delete"));
    EXPECT_EQ(error_of(k, "compact,purge"),
              "Invalid value purge for configuration cleanup.policy: String must be one of: compact, delete");
    EXPECT_EQ(error_of(k, ""),
              "Invalid value  for configuration cleanup.policy: List must contain at least one of: compact, delete");
    auto roles = key("process.roles", config_type::list, validator::list_of({"broker", "controller"}, true));
    EXPECT_TRUE(parse_value(roles, ""));
}

TEST(config_def, non_empty_validator)
{
    auto k = key("log.dir", config_type::list, validator::non_empty());
    EXPECT_TRUE(parse_value(k, "/data"));
    EXPECT_EQ(error_of(k, " "), "Invalid value   for configuration log.dir: String must be non-empty");
}

TEST(config_def, custom_validator)
{
    validator even(
        [](const config_value& v) -> std::optional<violation> {
            if (as_int(v) % 2) return violation{"Value must be even", {}};
            return std::nullopt;
        },
        "even numbers");
    auto k = key("pairs", config_type::int32, even);
    EXPECT_TRUE(parse_value(k, "4"));
    EXPECT_EQ(error_of(k, "5"), "Invalid value 5 for configuration pairs: Value must be even");
}

TEST(config_def, null_values_skip_the_validator)
{
    auto k = key("x", config_type::int32, validator::at_least(5));
    EXPECT_EQ(k.valid.check(config_value{}), std::nullopt);
    EXPECT_TRUE(is_null(default_value(k)));
}

TEST(config_def, java_double_rendering)
{
    EXPECT_EQ(format_java_double(0.5), "0.5");
    EXPECT_EQ(format_java_double(0.9), "0.9");
    EXPECT_EQ(format_java_double(1.0), "1.0");
    EXPECT_EQ(format_java_double(100.0), "100.0");
    EXPECT_EQ(format_java_double(123.456), "123.456");
    EXPECT_EQ(format_java_double(0.001), "0.001");
    EXPECT_EQ(format_java_double(1e7), "1.0E7");
    EXPECT_EQ(format_java_double(1.5e-4), "1.5E-4");
    EXPECT_EQ(format_java_double(-2.5), "-2.5");
    EXPECT_EQ(format_java_double(0.0), "0.0");
    EXPECT_EQ(format_java_double(std::numeric_limits<double>::max()), "1.7976931348623157E308");
}

TEST(config_def, value_rendering)
{
    EXPECT_EQ(format_value(config_value{true}), "true");
    EXPECT_EQ(format_value(config_value{int64_t{-1}}), "-1");
    EXPECT_EQ(format_value(config_value{std::vector<std::string>{"compact", "delete"}}), "compact,delete");
    EXPECT_EQ(format_value(config_value{}), std::nullopt);
}

TEST(config_def, kafka_type_names_and_wire_numbers)
{
    EXPECT_EQ(kafka_type_name(config_type::int32), "INT");
    EXPECT_EQ(kafka_type_name(config_type::int16), "SHORT");
    EXPECT_EQ(kafka_type_name(config_type::password), "PASSWORD");
    EXPECT_EQ(static_cast<int>(config_type::boolean), 1);
    EXPECT_EQ(static_cast<int>(config_type::list), 7);
    EXPECT_EQ(static_cast<int>(config_type::password), 9);
}

TEST(config_def, error_codes_map_to_kafka)
{
    EXPECT_EQ(kafka_error_code(errc::unknown_config), 40);
    EXPECT_EQ(kafka_error_code(errc::invalid_value), 40);
    EXPECT_EQ(kafka_error_code(errc::not_a_list), 40);
    EXPECT_EQ(kafka_error_code(errc::read_only), 42);
    EXPECT_EQ(kafka_error_code(errc::duplicate_config), 42);
    EXPECT_EQ(make_error_code(errc::read_only).category().name(), std::string("config"));
}

TEST(config_def, failed_value_throws_config_error)
{
    auto k = key("n", config_type::int32);
    EXPECT_THROW(parse_value(k, "x").value(), config_error);
}

TEST(config_def, broker_table_has_kafka_defaults)
{
    const auto& d = broker_config_definitions();
    auto dflt = [&](std::string_view n) { return d.find(n)->default_value; };
    EXPECT_EQ(dflt("listeners"), "PLAINTEXT://:9092");
    EXPECT_EQ(dflt("log.dir"), "/tmp/kafka-logs");
    EXPECT_EQ(dflt("message.max.bytes"), "1048588");
    EXPECT_EQ(dflt("socket.request.max.bytes"), "104857600");
    EXPECT_EQ(dflt("fetch.max.bytes"), "57671680");
    EXPECT_EQ(dflt("offsets.topic.replication.factor"), "3");
    EXPECT_EQ(dflt("log.retention.ms"), std::nullopt);
    EXPECT_EQ(dflt("log.retention.hours"), "168");
    EXPECT_EQ(dflt("group.initial.rebalance.delay.ms"), "3000");
    EXPECT_EQ(d.find("offsets.topic.replication.factor")->type, config_type::int16);
    EXPECT_EQ(d.find("log.segment.bytes")->mode, update_mode::cluster_wide);
    EXPECT_EQ(d.find("listeners")->mode, update_mode::per_broker);
    EXPECT_EQ(d.find("num.partitions")->mode, update_mode::read_only);
    EXPECT_TRUE(d.find("ssl.keystore.password")->sensitive());
    EXPECT_EQ(d.find("cluster.id"), nullptr);
}

TEST(config_def, every_default_parses_and_every_key_is_documented)
{
    for (const auto* def : {&broker_config_definitions(), &topic_config_definitions()}) {
        std::set<std::string> names;
        for (const auto& k : def->keys()) {
            EXPECT_TRUE(names.insert(k.name).second) << k.name;
            EXPECT_FALSE(k.documentation.empty()) << k.name;
            if (k.default_value) {
                EXPECT_TRUE(parse_value(k, *k.default_value)) << k.name;
            }
        }
    }
}

TEST(config_def, topic_synonyms_name_broker_configs)
{
    for (const auto& k : topic_config_definitions().keys()) {
        // As in Kafka, the throttled-replica lists are topic-only.
        if (k.name.ends_with(".replication.throttled.replicas")) {
            EXPECT_EQ(k.broker_synonym, "") << k.name;
            continue;
        }
        EXPECT_NE(broker_config_definitions().find(k.broker_synonym), nullptr) << k.name << " -> " << k.broker_synonym;
    }
    EXPECT_TRUE(validate_topic_overrides({{"leader.replication.throttled.replicas", "0:1,1:2"}}));
    EXPECT_TRUE(validate_topic_overrides({{"follower.replication.throttled.replicas", "*"}}));
    EXPECT_FALSE(validate_topic_overrides({{"follower.replication.throttled.replicas", "0-1"}}));
    auto t = parse_throttled_replicas({"0:1", "3:2"});
    EXPECT_TRUE(t.contains(3, 2));
    EXPECT_FALSE(t.contains(1, 0));
    EXPECT_TRUE(parse_throttled_replicas({"*"}).contains(7, 9));
    EXPECT_EQ(topic_config_definitions().find("max.message.bytes")->broker_synonym, "message.max.bytes");
    EXPECT_EQ(topic_config_definitions().find("segment.ms")->broker_synonym, "log.roll.ms");
}

TEST(config_def, synonym_chains)
{
    EXPECT_EQ(broker_synonym_chain("log.retention.hours"),
              (std::vector<std::string_view>{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}));
    EXPECT_EQ(broker_synonym_chain("log.roll.ms"), (std::vector<std::string_view>{"log.roll.ms", "log.roll.hours"}));
    EXPECT_EQ(broker_synonym_chain("log.flush.interval.ms"),
              (std::vector<std::string_view>{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"}));
    EXPECT_EQ(broker_synonym_chain("num.partitions"), (std::vector<std::string_view>{"num.partitions"}));
}

} // namespace
} // namespace samsa::config
