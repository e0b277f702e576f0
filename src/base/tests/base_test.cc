#include "base/gate.h"
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

TEST(gate, counts_holders_and_moves_them)
{
    gate g;
    EXPECT_EQ(g.count(), 0u);
    auto a = g.enter();
    auto b = g.try_enter();
    ASSERT_TRUE(b);
    EXPECT_EQ(g.count(), 2u);
    gate::holder moved = std::move(a);
    EXPECT_FALSE(a);
    EXPECT_TRUE(moved);
    EXPECT_EQ(g.count(), 2u); // a move is not a second entry
    moved.release();
    moved.release(); // idempotent
    EXPECT_EQ(g.count(), 1u);
    b.reset();
    EXPECT_EQ(g.count(), 0u);
    EXPECT_FALSE(g.is_closed());
}

TEST(gate, close_waits_for_the_last_holder_and_refuses_new_ones)
{
    gate g;
    std::optional<gate::holder> h1 = g.enter();
    std::optional<gate::holder> h2 = g.enter();
    int called = 0;
    g.close([&] { ++called; });
    EXPECT_TRUE(g.is_closed());
    EXPECT_EQ(called, 0);
    EXPECT_THROW(g.enter(), gate_closed_error);
    EXPECT_FALSE(g.try_enter());
    EXPECT_EQ(g.count(), 2u);
    h1.reset();
    EXPECT_EQ(called, 0);
    // A second waiter (e.g. after a deadline) is called back too, each once.
    int second = 0;
    g.close([&] { ++second; });
    h2.reset();
    EXPECT_EQ(called, 1);
    EXPECT_EQ(second, 1);
    EXPECT_EQ(g.count(), 0u);
    // Closing an empty gate calls back at once.
    int third = 0;
    g.close([&] { ++third; });
    EXPECT_EQ(third, 1);
    EXPECT_EQ(called, 1);
}

TEST(gate, move_assignment_leaves_the_old_entry)
{
    gate a, b;
    auto ha = a.enter();
    auto hb = b.enter();
    bool a_empty = false;
    a.close([&] { a_empty = true; });
    ha = std::move(hb); // leaves a, now holds b
    EXPECT_TRUE(a_empty);
    EXPECT_EQ(a.count(), 0u);
    EXPECT_EQ(b.count(), 1u);
    ha.release();
    EXPECT_EQ(b.count(), 0u);
}

} // namespace
} // namespace samsa
