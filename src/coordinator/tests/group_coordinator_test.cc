#include "coordinator/tests/coordinator_fixture.h"

namespace samsa::coordinator::test {
namespace {

using protocol::error_code;
using fx = coordinator_fixture;

TEST_F(fx, single_member_joins_syncs_and_heartbeats)
{
    auto j = join_new("g");
    ASSERT_TRUE(done(j));
    auto r = jr(j);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(r.generation_id, 1);
    EXPECT_EQ(r.leader, r.member_id);
    EXPECT_EQ(r.protocol_name, "range");
    ASSERT_EQ(r.members.size(), 1u);
    EXPECT_EQ(state("g"), "CompletingRebalance");
    auto s = sync("g", r.member_id, 1, {{r.member_id, "assignment-1"}});
    ASSERT_TRUE(done(s));
    EXPECT_EQ(sr(s).error_code, 0);
    EXPECT_EQ(sr(s).assignment, meta("assignment-1"));
    EXPECT_EQ(state("g"), "Stable");
    EXPECT_EQ(heartbeat("g", r.member_id, 1), 0);
    EXPECT_EQ(heartbeat("g", r.member_id, 0), E(error_code::illegal_generation));
    EXPECT_EQ(heartbeat("g", "nobody", 1), E(error_code::unknown_member_id));
    EXPECT_EQ(heartbeat("other", r.member_id, 1), E(error_code::unknown_member_id));
    // The assignment was persisted as group metadata.
    ASSERT_FALSE(persisted.empty());
    EXPECT_TRUE(std::holds_alternative<group_key>(decode_key(persisted.back().key)));
}

TEST_F(fx, old_versions_join_without_member_id_round_trip)
{
    auto j = join("g", "", 3);
    ASSERT_TRUE(done(j));
    EXPECT_EQ(jr(j).error_code, 0);
    EXPECT_FALSE(jr(j).member_id.empty());
}

TEST_F(fx, second_member_triggers_rebalance_and_leader_gets_members)
{
    auto a = join_new("g", "meta-a");
    auto ra = jr(a);
    sync("g", ra.member_id, 1, {{ra.member_id, "p0,p1"}});
    // B joins: A must rejoin (it learns through its heartbeat).
    auto b = join_new("g", "meta-b");
    EXPECT_FALSE(done(b));
    EXPECT_EQ(state("g"), "PreparingRebalance");
    EXPECT_EQ(heartbeat("g", ra.member_id, 1), E(error_code::rebalance_in_progress));
    auto a2 = join("g", ra.member_id, 5, std::nullopt, "meta-a");
    ASSERT_TRUE(done(a2));
    ASSERT_TRUE(done(b));
    auto ra2 = jr(a2), rb = jr(b);
    EXPECT_EQ(ra2.generation_id, 2);
    EXPECT_EQ(rb.generation_id, 2);
    EXPECT_EQ(ra2.leader, ra.member_id); // the existing leader stays leader
    EXPECT_EQ(ra2.members.size(), 2u);
    EXPECT_TRUE(rb.members.empty());
    // The follower's sync waits for the leader's.
    auto sb = sync("g", rb.member_id, 2);
    EXPECT_FALSE(done(sb));
    auto sa = sync("g", ra.member_id, 2, {{ra.member_id, "p0"}, {rb.member_id, "p1"}});
    ASSERT_TRUE(done(sa));
    ASSERT_TRUE(done(sb));
    EXPECT_EQ(sr(sa).assignment, meta("p0"));
    EXPECT_EQ(sr(sb).assignment, meta("p1"));
}

TEST_F(fx, protocol_selection_and_inconsistent_protocols)
{
    auto a = join("g", "", 3, std::nullopt, "m", 10000, 30000, {"roundrobin", "range"});
    EXPECT_EQ(jr(a).protocol_name, "roundrobin");
    // A member supporting none of the group's protocols is rejected.
    auto bad = join("g", "", 3, std::nullopt, "m", 10000, 30000, {"sticky"});
    EXPECT_EQ(jr(bad).error_code, E(error_code::inconsistent_group_protocol));
    // A member preferring range but supporting both: the vote is split by preference order.
    auto ra = jr(a);
    sync("g", ra.member_id, 1);
    auto b = join("g", "", 3, std::nullopt, "m", 10000, 30000, {"range", "roundrobin"});
    join("g", ra.member_id, 3, std::nullopt, "m", 10000, 30000, {"roundrobin", "range"});
    ASSERT_TRUE(done(b));
    EXPECT_TRUE(jr(b).protocol_name == "roundrobin" || jr(b).protocol_name == "range");
}

TEST_F(fx, invalid_requests)
{
    EXPECT_EQ(jr(join("", "")).error_code, E(error_code::invalid_group_id));
    EXPECT_EQ(jr(join("g", "", 5, std::nullopt, "m", 10)).error_code, E(error_code::invalid_session_timeout));
    EXPECT_EQ(jr(join("g", "", 5, std::nullopt, "m", 5'000'000)).error_code, E(error_code::invalid_session_timeout));
    EXPECT_EQ(jr(join("nogroup", "some-member")).error_code, E(error_code::unknown_member_id));
    auto s = sync("nogroup", "m", 1);
    EXPECT_EQ(sr(s).error_code, E(error_code::unknown_member_id));
}

TEST_F(fx, session_expiry_removes_member_and_rebalances)
{
    auto a = join_new("g");
    auto ra = jr(a);
    sync("g", ra.member_id, 1);
    auto b = join_new("g");
    join("g", ra.member_id);
    auto rb = jr(b);
    sync("g", ra.member_id, 2, {{ra.member_id, "x"}, {rb.member_id, "y"}});
    sync("g", rb.member_id, 2);
    EXPECT_EQ(state("g"), "Stable");
    // A keeps heartbeating, B goes silent.
    for (int i = 0; i < 4; ++i) {
        advance(3000);
        if (state("g") == "Stable") EXPECT_EQ(heartbeat("g", ra.member_id, 2), 0);
    }
    EXPECT_EQ(state("g"), "PreparingRebalance");
    EXPECT_EQ(heartbeat("g", rb.member_id, 2), E(error_code::unknown_member_id));
    auto a3 = join("g", ra.member_id);
    ASSERT_TRUE(done(a3));
    EXPECT_EQ(jr(a3).generation_id, 3);
    EXPECT_EQ(jr(a3).members.size(), 1u);
}

TEST_F(fx, rebalance_timeout_drops_members_that_do_not_rejoin)
{
    auto a = join_new("g");
    auto ra = jr(a);
    sync("g", ra.member_id, 1);
    auto b = join_new("g"); // waits for A, which never rejoins (but heartbeats)
    EXPECT_FALSE(done(b));
    for (int i = 0; i < 9; ++i) {
        advance(3000);
        EXPECT_EQ(heartbeat("g", ra.member_id, 1), E(error_code::rebalance_in_progress));
        EXPECT_FALSE(done(b));
    }
    advance(4000); // past the 30 s rebalance timeout
    ASSERT_TRUE(done(b));
    EXPECT_EQ(jr(b).members.size(), 1u);
    EXPECT_EQ(jr(b).leader, jr(b).member_id);
    EXPECT_FALSE(gc->find("g")->has_member(ra.member_id));
}

TEST_F(fx, initial_rebalance_delay_collects_members)
{
    cfg.initial_rebalance_delay_ms = 3000;
    reset_coordinator();
    auto a = join_new("g");
    EXPECT_FALSE(done(a));
    advance(2000);
    auto b = join_new("g");
    advance(1500); // first delay over, but B arrived: extended
    EXPECT_FALSE(done(a));
    advance(3000);
    ASSERT_TRUE(done(a));
    ASSERT_TRUE(done(b));
    EXPECT_EQ(jr(a).generation_id, 1);
    EXPECT_EQ(std::max(jr(a).members.size(), jr(b).members.size()), 2u);
}

TEST_F(fx, leave_group_rebalances_and_answers_waiting_members)
{
    auto a = join_new("g");
    auto ra = jr(a);
    sync("g", ra.member_id, 1);
    auto b = join_new("g");
    join("g", ra.member_id);
    auto rb = jr(b);
    sync("g", ra.member_id, 2, {{ra.member_id, "x"}, {rb.member_id, "y"}});
    sync("g", rb.member_id, 2);
    auto lr = leave("g", rb.member_id);
    EXPECT_EQ(lr.error_code, 0);
    ASSERT_EQ(lr.members.size(), 1u);
    EXPECT_EQ(lr.members[0].error_code, 0);
    EXPECT_EQ(state("g"), "PreparingRebalance");
    auto a3 = join("g", ra.member_id);
    ASSERT_TRUE(done(a3));
    EXPECT_EQ(jr(a3).members.size(), 1u);
    EXPECT_EQ(leave("g", "ghost").members[0].error_code, E(error_code::unknown_member_id));
    EXPECT_EQ(leave("g", "ghost", 1).error_code, E(error_code::unknown_member_id));
    // Last member leaves: the group is empty.
    sync("g", ra.member_id, 3);
    EXPECT_EQ(leave("g", ra.member_id, 1).error_code, 0);
    EXPECT_EQ(state("g"), "Empty");
}

TEST_F(fx, sync_errors)
{
    auto a = join_new("g");
    auto ra = jr(a);
    EXPECT_EQ(sr(sync("g", ra.member_id, 7)).error_code, E(error_code::illegal_generation));
    EXPECT_EQ(sr(sync("g", "other", 1)).error_code, E(error_code::unknown_member_id));
    sync("g", ra.member_id, 1);
    auto b = join_new("g");
    (void)b;
    EXPECT_EQ(sr(sync("g", ra.member_id, 1)).error_code, E(error_code::rebalance_in_progress));
}

TEST_F(fx, rejoin_during_completing_rebalance_fails_pending_syncs)
{
    auto a = join_new("g");
    auto ra = jr(a);
    sync("g", ra.member_id, 1);
    auto b = join_new("g");
    join("g", ra.member_id);
    auto rb = jr(b);
    auto sb = sync("g", rb.member_id, 2);
    EXPECT_FALSE(done(sb));
    // B changes its subscription before the leader syncs: new rebalance; B's sync is answered.
    auto b2 = join("g", rb.member_id, 5, std::nullopt, "new-meta");
    ASSERT_TRUE(done(sb));
    EXPECT_EQ(sr(sb).error_code, E(error_code::rebalance_in_progress));
    EXPECT_FALSE(done(b2));
    join("g", ra.member_id);
    EXPECT_TRUE(done(b2));
    EXPECT_EQ(jr(b2).generation_id, 3);
}

TEST_F(fx, unchanged_follower_rejoin_in_stable_group_keeps_generation)
{
    auto a = join_new("g");
    auto ra = jr(a);
    sync("g", ra.member_id, 1);
    auto b = join_new("g");
    join("g", ra.member_id);
    auto rb = jr(b);
    sync("g", ra.member_id, 2, {{ra.member_id, "x"}, {rb.member_id, "y"}});
    sync("g", rb.member_id, 2);
    auto again = join("g", rb.member_id);
    ASSERT_TRUE(done(again));
    EXPECT_EQ(jr(again).generation_id, 2);
    EXPECT_EQ(state("g"), "Stable");
    EXPECT_EQ(sr(sync("g", rb.member_id, 2)).assignment, meta("y"));
}

TEST_F(fx, static_member_restart_does_not_rebalance)
{
    auto a = join("g", "", 5, std::string("instance-a"));
    auto ra = jr(a);
    EXPECT_EQ(ra.error_code, 0); // static members get their id at once
    sync("g", ra.member_id, 1, {{ra.member_id, "all"}});
    auto b = join("g", "", 5, std::string("instance-b"));
    join("g", ra.member_id, 5, std::string("instance-a"));
    auto rb = jr(b);
    sync("g", ra.member_id, 2, {{ra.member_id, "half-a"}, {rb.member_id, "half-b"}});
    sync("g", rb.member_id, 2);
    // B restarts: same instance id, no member id.
    auto b2 = join("g", "", 5, std::string("instance-b"));
    ASSERT_TRUE(done(b2));
    auto rb2 = jr(b2);
    EXPECT_EQ(rb2.error_code, 0);
    EXPECT_EQ(rb2.generation_id, 2);
    EXPECT_NE(rb2.member_id, rb.member_id);
    EXPECT_NE(rb2.leader, rb2.member_id);
    EXPECT_EQ(state("g"), "Stable");
    EXPECT_EQ(sr(sync("g", rb2.member_id, 2)).assignment, meta("half-b"));
    // The old incarnation is fenced.
    EXPECT_EQ(heartbeat("g", rb.member_id, 2, std::string("instance-b")), E(error_code::fenced_instance_id));
    EXPECT_EQ(heartbeat("g", rb2.member_id, 2, std::string("instance-b")), 0);
    EXPECT_EQ(jr(join("g", rb.member_id, 5, std::string("instance-b"))).error_code, E(error_code::fenced_instance_id));
    // Static leave by instance id.
    auto lr = leave("g", "", 4, std::string("instance-b"));
    EXPECT_EQ(lr.members[0].error_code, 0);
    EXPECT_EQ(state("g"), "PreparingRebalance");
}

TEST_F(fx, group_max_size)
{
    cfg.max_group_size = 1;
    reset_coordinator();
    join_new("g");
    EXPECT_EQ(jr(join("g", "", 5)).error_code, E(error_code::group_max_size_reached));
}

TEST_F(fx, repeated_join_answers_the_older_request)
{
    auto a = join_new("g");
    auto ra = jr(a);
    sync("g", ra.member_id, 1);
    auto b = join_new("g");
    join("g", ra.member_id);
    auto rb = jr(b);
    sync("g", ra.member_id, 2, {{ra.member_id, "x"}, {rb.member_id, "y"}});
    sync("g", rb.member_id, 2);
    join_new("g"); // C: a rebalance starts; A rejoins twice before B comes back
    auto a2 = join("g", ra.member_id);
    auto a3 = join("g", ra.member_id);
    ASSERT_TRUE(done(a2));
    EXPECT_EQ(jr(a2).error_code, E(error_code::rebalance_in_progress));
    EXPECT_FALSE(done(a3));
    join("g", rb.member_id);
    ASSERT_TRUE(done(a3));
    EXPECT_EQ(jr(a3).error_code, 0);
    EXPECT_EQ(jr(a3).generation_id, 3);
}

TEST_F(fx, list_and_describe_groups)
{
    auto a = join_new("g1");
    auto ra = jr(a);
    sync("g1", ra.member_id, 1, {{ra.member_id, "asg"}});
    join_new("g2");
    protocol::list_groups_request lr;
    auto all = gc->list_groups(lr, 4);
    EXPECT_EQ(all.groups.size(), 2u);
    lr.states_filter = {"stable"};
    auto stable = gc->list_groups(lr, 4);
    ASSERT_EQ(stable.groups.size(), 1u);
    EXPECT_EQ(stable.groups[0].group_id, "g1");
    EXPECT_EQ(stable.groups[0].group_state, "Stable");
    protocol::describe_groups_request dr;
    dr.groups = {"g1", "g2", "missing"};
    auto d = gc->describe_groups(dr, 5);
    ASSERT_EQ(d.groups.size(), 3u);
    EXPECT_EQ(d.groups[0].group_state, "Stable");
    EXPECT_EQ(d.groups[0].protocol_data, "range");
    ASSERT_EQ(d.groups[0].members.size(), 1u);
    EXPECT_EQ(d.groups[0].members[0].member_assignment, meta("asg"));
    EXPECT_EQ(d.groups[0].members[0].client_host, "/127.0.0.1");
    EXPECT_EQ(d.groups[1].group_state, "CompletingRebalance");
    EXPECT_TRUE(d.groups[1].members[0].member_assignment.empty());
    EXPECT_EQ(d.groups[2].group_state, "Dead");
    EXPECT_EQ(d.groups[2].error_code, 0);
}

} // namespace
} // namespace samsa::coordinator::test
