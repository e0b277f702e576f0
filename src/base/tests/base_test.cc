#include "base/ids.h"
#include "base/logging.h"
#include "base/result.h"

#include <gtest/gtest.h>

namespace samsa {
namespace {

TEST(named_type, arithmetic_and_ordering)
{
    offset a{10};
    offset b = a + 5;
    EXPECT_EQ(b(), 15);
    EXPECT_EQ(b - a, 5);
    EXPECT_LT(a, b);
    ++a;
    EXPECT_EQ(a, offset{11});
    EXPECT_EQ(fmt::format("{}", b), "15");
}

TEST(topic_partition, dir_name) { EXPECT_EQ((topic_partition{"orders", partition_id{3}}).dir_name(), "orders-3"); }

result<int> half(int v)
{
    if (v % 2) return std::make_error_code(std::errc::invalid_argument);
    return v / 2;
}

result<int> quarter(int v)
{
    SAMSA_TRY_ASSIGN(int h, half(v));
    return half(h);
}

TEST(result, try_assign_propagates)
{
    EXPECT_EQ(*quarter(8), 2);
    EXPECT_FALSE(quarter(6));
    EXPECT_EQ(quarter(6).error(), std::make_error_code(std::errc::invalid_argument));
}

TEST(logging, parse_level)
{
    log_level l{};
    EXPECT_TRUE(parse_log_level("debug", l));
    EXPECT_EQ(l, log_level::debug);
    EXPECT_FALSE(parse_log_level("loud", l));
}

} // namespace
} // namespace samsa
