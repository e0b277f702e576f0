// samsa configs against a real broker.
#include "cli/tests/cli_fixture.h"

#include <gmock/gmock.h>

namespace samsa::cli::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class configs_test : public cli_test {};

TEST_F(configs_test, alter_then_describe_topic_configs)
{
    create_topic("cfg", 1);
    auto r = samsa("configs", {"--alter", "--entity-type", "topics", "--entity-name", "cfg", "--add-config",
                               "retention.ms=1000,cleanup.policy=[compact,delete]"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Completed updating config for topic cfg.\n");

    r = samsa("configs", {"--describe", "--topic", "cfg"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_EQ(lines[0], "Dynamic configs for topic cfg are:");
    EXPECT_THAT(lines[1], HasSubstr("  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
                                    "cleanup.policy=compact,delete"));
    EXPECT_THAT(lines[2],
                HasSubstr("  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000"));

    r = samsa("configs", {"--alter", "--topic", "cfg", "--delete-config", "retention.ms"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = samsa("configs", {"--describe", "--topic", "cfg"});
    EXPECT_THAT(r.out, HasSubstr("cleanup.policy=compact,delete"));
    EXPECT_THAT(r.out, Not(HasSubstr("retention.ms=1000")));

    // The topic view agrees.
    r = samsa("topics", {"--describe", "--topic", "cfg"});
    EXPECT_THAT(r.out, HasSubstr("Configs: cleanup.policy=compact,delete\n"));
}

TEST_F(configs_test, describe_all_includes_defaults)
{
    create_topic("every", 1);
    auto r = samsa("configs", {"--describe", "--topic", "every", "--all"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("All configs for topic every are:\n"));
    EXPECT_THAT(r.out, HasSubstr("  segment.bytes="));
    EXPECT_THAT(r.out, HasSubstr("  retention.ms="));
}

TEST_F(configs_test, describe_without_name_covers_every_topic)
{
    create_topic("t1", 1);
    create_topic("t2", 1);
    auto r = samsa("configs", {"--describe", "--entity-type", "topics"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(lines_of(r.out), ElementsAre("Dynamic configs for topic t1 are:", "Dynamic configs for topic t2 are:"));
}

TEST_F(configs_test, broker_dynamic_config)
{
    auto r = samsa("configs", {"--alter", "--broker", "0", "--add-config", "log.cleaner.threads=2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Completed updating config for broker 0.\n");
    r = samsa("configs", {"--describe", "--entity-type", "brokers", "--entity-name", "0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Dynamic configs for broker 0 are:\n  log.cleaner.threads=2 sensitive=false"));
}

TEST_F(configs_test, broker_config_with_synonyms_is_described_once)
{
    auto r = samsa("configs", {"--alter", "--entity-type", "brokers", "--entity-name", "0", "--add-config",
                               "log.retention.ms=1000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = samsa("configs", {"--describe", "--entity-type", "brokers", "--entity-name", "0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // log.retention.hours and .minutes list log.retention.ms among their synonyms; they are not
    // dynamic themselves.
    EXPECT_THAT(lines_of(r.out),
                ElementsAre("Dynamic configs for broker 0 are:",
                            "  log.retention.ms=1000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms="
                            "1000, DEFAULT_CONFIG:log.retention.hours=168}"));
}

TEST_F(configs_test, errors)
{
    create_topic("e", 1);
    auto r = samsa("configs", {"--alter", "--topic", "e", "--delete-config", "retention.ms"});
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("Invalid config(s): retention.ms"));

    r = samsa("configs", {"--alter", "--topic", "e", "--add-config", "retention.ms=soon"});
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("retention.ms"));

    r = samsa("configs", {"--describe", "--topic", "absent"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("Topic 'absent' does not exist"));

    r = samsa("configs", {"--describe", "--entity-type", "users"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("Invalid entity-type users"));

    r = samsa("configs", {"--alter", "--topic", "e"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--add-config"));
}

} // namespace
} // namespace samsa::cli::test
