// The cluster controller's decisions without ZooKeeper or sockets: Kafka's replica assignment
// (rack-unaware and rack-aware, even spread), elections of new partitions and after a broker
// leaves, the ISR's last member kept, requests to brokers in order and with the controller
// epoch, topic deletion across brokers (one down until it returns), and retries.
#include "cluster/assignment.h"
#include "cluster/controller_state.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace samsa::cluster {
namespace {

using kind = controller_request::kind;

std::vector<node_id> ids(std::initializer_list<int32_t> l)
{
    std::vector<node_id> out;
    for (auto i : l) out.push_back(node_id(i));
    return out;
}

std::vector<int32_t> raw(const std::vector<node_id>& v)
{
    std::vector<int32_t> out;
    for (auto n : v) out.push_back(n());
    return out;
}

broker_info broker(int32_t id) { return broker_info{node_id(id), std::nullopt, {{"PLAINTEXT", "127.0.0.1", 9000 + id}}}; }

std::vector<broker_info> brokers(std::initializer_list<int32_t> l)
{
    std::vector<broker_info> out;
    for (auto i : l) out.push_back(broker(i));
    return out;
}

TEST(assignment, matches_kafkas_round_robin_with_shifted_followers)
{
    std::vector<assignable_broker> five;
    for (int i = 0; i < 5; ++i) five.push_back({node_id(i), std::nullopt});
    auto a = assign_replicas(five, 10, 3, {0, 0});
    ASSERT_TRUE(a);
    // The table in Kafka's assignment documentation (brokers 0-4, start 0, shift 0).
    std::map<int, std::vector<int32_t>> expect{{0, {0, 1, 2}}, {1, {1, 2, 3}}, {4, {4, 0, 1}},
                                               {5, {0, 2, 3}}, {6, {1, 3, 4}}, {9, {4, 1, 2}}};
    for (auto& [p, reps] : expect) EXPECT_EQ(raw((*a)[p].replicas), reps) << "partition " << p;
    // New partitions continue where the topic left off.
    auto more = assign_replicas(five, 2, 3, {0, 0}, 5);
    ASSERT_TRUE(more);
    EXPECT_EQ((*more)[0].id, partition_id(5));
    EXPECT_EQ(raw((*more)[0].replicas), (std::vector<int32_t>{0, 2, 3}));
}

TEST(assignment, spreads_leaders_and_replicas_evenly)
{
    std::vector<assignable_broker> six;
    for (int i = 1; i <= 6; ++i) six.push_back({node_id(i), std::nullopt});
    std::mt19937 rng(7);
    for (int round = 0; round < 20; ++round) {
        assignment_start st{static_cast<int32_t>(rng() % 6), static_cast<int32_t>(rng() % 6)};
        auto a = assign_replicas(six, 12, 3, st);
        ASSERT_TRUE(a);
        std::map<int32_t, int> leaders, replicas;
        for (auto& p : *a) {
            std::set<int32_t> uniq;
            for (auto r : p.replicas) uniq.insert(r());
            EXPECT_EQ(uniq.size(), 3u);
            ++leaders[p.replicas.front()()];
            for (auto r : p.replicas) ++replicas[r()];
        }
        for (int i = 1; i <= 6; ++i) {
            EXPECT_EQ(leaders[i], 2) << "broker " << i;
            EXPECT_EQ(replicas[i], 6) << "broker " << i;
        }
    }
}

TEST(assignment, rack_aware_puts_each_replica_on_another_rack)
{
    // Racks a, b, c with two brokers each, numbered so that id order is not rack order.
    std::vector<assignable_broker> bs{{node_id(1), "a"}, {node_id(2), "a"}, {node_id(3), "b"},
                                      {node_id(4), "b"}, {node_id(5), "c"}, {node_id(6), "c"}};
    std::map<int32_t, std::string> rack;
    for (auto& b : bs) rack[b.id()] = *b.rack;
    for (int32_t start = 0; start < 6; ++start) {
        auto a = assign_replicas(bs, 12, 3, {start, start});
        ASSERT_TRUE(a);
        std::map<int32_t, int> leaders;
        for (auto& p : *a) {
            std::set<std::string> racks;
            for (auto r : p.replicas) racks.insert(rack[r()]);
            EXPECT_EQ(racks.size(), 3u) << "partition " << p.id() << " start " << start;
            ++leaders[p.replicas.front()()];
        }
        for (int i = 1; i <= 6; ++i) EXPECT_EQ(leaders[i], 2);
    }
    // Replication factor 2 over three racks: two racks per partition.
    auto two = assign_replicas(bs, 6, 2, {0, 0});
    ASSERT_TRUE(two);
    for (auto& p : *two) EXPECT_NE(rack[p.replicas[0]()], rack[p.replicas[1]()]);
}

TEST(assignment, refuses_what_cannot_be_placed)
{
    std::vector<assignable_broker> three{{node_id(1), std::nullopt}, {node_id(2), std::nullopt}, {node_id(3), std::nullopt}};
    auto big = assign_replicas(three, 1, 4, {});
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error().code, make_error_code(errc::invalid_replication_factor));
    EXPECT_FALSE(assign_replicas(three, 1, 0, {}));
    three[1].rack = "a";
    auto mixed = assign_replicas(three, 1, 2, {});
    ASSERT_FALSE(mixed);
    EXPECT_EQ(mixed.error().code, make_error_code(errc::invalid_replica_assignment));
}

/// Drives a controller_state as the ZooKeeper driver would: writes succeed with version + 1
/// unless told otherwise, and requests are collected.
struct harness {
    controller_state c{node_id(1), 5};
    std::vector<controller_request> sent;
    std::map<topic_partition, int32_t> versions;

    controller_actions step(bool writes_succeed = true)
    {
        auto a = c.take_actions();
        for (auto& r : a.requests) sent.push_back(r);
        if (writes_succeed) {
            for (auto& w : a.writes) {
                auto v = w.expected_version < 0 ? 0 : w.expected_version + 1;
                versions[w.tp] = v;
                c.state_written(w.tp, v);
            }
        }
        return a;
    }
    /// Steps until nothing is left; returns every request sent meanwhile.
    std::vector<controller_request> settle()
    {
        sent.clear();
        for (int i = 0; i < 10; ++i) {
            if (step().empty()) break;
        }
        return sent;
    }
    void ack_all(int64_t now = 0)
    {
        for (auto& r : sent) c.request_done(r.id, true, now);
    }
    const partition_state& state(const std::string& t, int32_t p) { return *c.topics().at(t).partitions.at(p).state; }
};

std::vector<const controller_request*> of(const std::vector<controller_request>& rs, kind k, int32_t to = -1)
{
    std::vector<const controller_request*> out;
    for (auto& r : rs) {
        if (r.what == k && (to < 0 || r.to() == to)) out.push_back(&r);
    }
    return out;
}

TEST(controller_state, acts_only_once_loaded)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", protocol::uuid{1, 2}, {{0, ids({1, 2, 3})}});
    EXPECT_TRUE(h.c.take_actions().empty());
    h.c.loaded();
    auto first = h.c.take_actions();
    ASSERT_EQ(first.writes.size(), 1u);
    EXPECT_EQ(first.writes[0].expected_version, -1); // created
    EXPECT_EQ(first.writes[0].controller_epoch, 5);
    EXPECT_EQ(first.writes[0].state.leader, node_id(1));
    EXPECT_EQ(raw(first.writes[0].state.isr), (std::vector<int32_t>{1, 2, 3}));
    // Nothing about the topic is sent before its state is written; the brokers get the
    // (empty) full picture with the live brokers.
    for (auto& r : first.requests) {
        EXPECT_EQ(r.what, kind::update_metadata);
        EXPECT_TRUE(r.partitions.empty());
        EXPECT_EQ(r.brokers.size(), 3u);
    }
}

TEST(controller_state, a_new_topic_is_elected_then_announced_leader_and_isr_first)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.loaded();
    h.settle();
    h.ack_all();
    h.c.topic_assigned("orders", protocol::uuid{9, 9}, {{0, ids({2, 3, 1})}, {1, ids({3, 1, 2})}});
    auto sent = h.settle();
    EXPECT_EQ(h.state("orders", 0).leader, node_id(2));
    EXPECT_EQ(h.state("orders", 1).leader, node_id(3));
    for (int b = 1; b <= 3; ++b) {
        auto lair = of(sent, kind::leader_and_isr, b);
        auto um = of(sent, kind::update_metadata, b);
        ASSERT_EQ(lair.size(), 1u) << b;
        ASSERT_EQ(um.size(), 1u) << b;
        EXPECT_LT(lair[0]->id, um[0]->id) << "LeaderAndIsr goes out before UpdateMetadata";
        EXPECT_EQ(lair[0]->partitions.size(), 2u);
        EXPECT_EQ(um[0]->partitions.size(), 2u);
        EXPECT_EQ(um[0]->controller_epoch, 5);
        EXPECT_EQ(um[0]->partitions[0].topic_id, (protocol::uuid{9, 9}));
    }
}

TEST(controller_state, a_topic_of_many_partitions_is_announced_once_all_its_states_are_written)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.loaded();
    h.settle();
    h.ack_all();
    std::map<int32_t, std::vector<node_id>> parts;
    for (int32_t p = 0; p < 500; ++p) parts[p] = ids({p % 3 + 1, (p + 1) % 3 + 1, (p + 2) % 3 + 1});
    h.c.topic_assigned("big", protocol::uuid{4, 4}, parts);
    auto a = h.c.take_actions();
    ASSERT_EQ(a.writes.size(), 500u);
    EXPECT_TRUE(a.requests.empty());
    // The writes come back one by one; each pump looks only at what changed and sends nothing
    // about the topic until the last one is in (no re-election of partitions already out).
    for (size_t i = 0; i + 1 < a.writes.size(); ++i) {
        h.c.state_written(a.writes[i].tp, 0);
        auto more = h.c.take_actions();
        EXPECT_TRUE(more.empty()) << "after write " << i;
    }
    h.c.state_written(a.writes.back().tp, 0);
    auto last = h.c.take_actions();
    EXPECT_TRUE(last.writes.empty());
    for (int b = 1; b <= 3; ++b) {
        auto lair = of(last.requests, kind::leader_and_isr, b);
        auto um = of(last.requests, kind::update_metadata, b);
        ASSERT_EQ(lair.size(), 1u) << b;
        ASSERT_EQ(um.size(), 1u) << b;
        EXPECT_EQ(lair[0]->partitions.size(), 500u);
        EXPECT_EQ(um[0]->partitions.size(), 500u);
    }
    EXPECT_TRUE(h.c.take_actions().empty());
}

TEST(controller_state, a_leader_leaving_elects_the_next_in_sync_replica_and_bumps_the_epoch)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2, 3})}, {1, ids({2, 3, 1})}});
    h.c.loaded();
    h.settle();
    h.ack_all();
    h.c.brokers_changed(brokers({2, 3}));
    auto sent = h.settle();
    auto& s0 = h.state("t", 0);
    EXPECT_EQ(s0.leader, node_id(2));
    EXPECT_EQ(s0.epoch, leader_epoch(1));
    EXPECT_EQ(raw(s0.isr), (std::vector<int32_t>{2, 3}));
    // A follower leaving shrinks the ISR; the leader stays.
    auto& s1 = h.state("t", 1);
    EXPECT_EQ(s1.leader, node_id(2));
    EXPECT_EQ(raw(s1.isr), (std::vector<int32_t>{2, 3}));
    EXPECT_TRUE(of(sent, kind::leader_and_isr, 1).empty()) << "nothing is sent to the dead broker";
    // The live brokers at once, the new states once written.
    auto um = of(sent, kind::update_metadata, 3);
    ASSERT_EQ(um.size(), 2u);
    EXPECT_TRUE(um[0]->partitions.empty());
    EXPECT_EQ(um[1]->brokers.size(), 2u);
    ASSERT_EQ(um[1]->partitions.size(), 2u);
    EXPECT_EQ(raw(um[1]->partitions[0].offline_replicas), (std::vector<int32_t>{1}));
}

TEST(controller_state, the_last_in_sync_replica_is_kept_and_leads_again_when_it_returns)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2})}});
    h.c.loaded();
    h.settle();
    h.c.brokers_changed(brokers({1}));
    h.settle();
    EXPECT_EQ(raw(h.state("t", 0).isr), (std::vector<int32_t>{1}));
    h.c.brokers_changed(brokers({}));
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(-1)) << "offline: no live in-sync replica";
    EXPECT_EQ(raw(h.state("t", 0).isr), (std::vector<int32_t>{1}));
    // Broker 2 returns first: not in the ISR, so no (unclean) election.
    h.c.brokers_changed(brokers({2}));
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(-1));
    h.c.brokers_changed(brokers({1, 2}));
    auto sent = h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(1));
    EXPECT_EQ(h.state("t", 0).epoch, leader_epoch(3));
    EXPECT_EQ(of(sent, kind::leader_and_isr, 1).size(), 1u) << "the returning broker gets its partitions";
}

TEST(controller_state, a_controlled_shutdown_moves_leadership_and_leaves_the_isrs)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    // t-0 led by 1; t-1 led by 2 with 1 following; u-0 has 1 as its only replica; v-0's other
    // replica is out of sync, so it cannot move.
    h.c.topic_assigned("t", {}, {{0, ids({1, 2, 3})}, {1, ids({2, 1, 3})}});
    h.c.topic_assigned("u", {}, {{0, ids({1})}});
    h.c.topic_assigned("v", {}, {{0, ids({1, 3})}});
    h.c.loaded();
    h.settle();
    h.c.state_read({"v", partition_id(0)}, partition_state{node_id(1), leader_epoch(0), ids({1}), 0}, 0);
    h.settle();
    h.ack_all();
    EXPECT_EQ(h.c.still_led_by(node_id(1)).size(), 2u) << "t-0 and v-0; u-0 has nowhere to go";
    h.c.controlled_shutdown(node_id(1));
    EXPECT_TRUE(h.c.shutting_down(node_id(1)));
    auto sent = h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(2));
    EXPECT_EQ(h.state("t", 0).epoch, leader_epoch(1));
    EXPECT_EQ(raw(h.state("t", 0).isr), (std::vector<int32_t>{2, 3}));
    EXPECT_EQ(h.state("t", 1).leader, node_id(2)) << "a follower shutting down leaves the leader alone";
    EXPECT_EQ(raw(h.state("t", 1).isr), (std::vector<int32_t>{2, 3}));
    EXPECT_EQ(h.state("v", 0).leader, node_id(1)) << "no other in-sync replica: it stays";
    EXPECT_EQ(raw(h.state("v", 0).isr), (std::vector<int32_t>{1}));
    auto left = h.c.still_led_by(node_id(1));
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0], (topic_partition{"v", partition_id(0)}));
    EXPECT_FALSE(of(sent, kind::leader_and_isr, 2).empty()) << "the new leader hears of it";
    // Gone and back: a new member, no longer shutting down; the ISR takes it back only when
    // its leader says it caught up, so it leads nothing at once.
    h.c.brokers_changed(brokers({2, 3}));
    h.settle();
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.settle();
    EXPECT_FALSE(h.c.shutting_down(node_id(1)));
    EXPECT_EQ(h.state("t", 0).leader, node_id(2));
}

TEST(controller_state, a_broker_restarted_between_two_looks_at_the_live_set_is_a_new_member)
{
    // The controller reads /brokers/ids when its watch fires: a broker that stops and registers
    // again before that read is only seen by its new epoch (its registration's czxid).
    harness h;
    auto at = [](int64_t epoch1) {
        auto b = brokers({1, 2, 3});
        for (auto& x : b) x.epoch = 100 + x.id();
        b[0].epoch = epoch1;
        return b;
    };
    h.c.brokers_changed(at(101));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2, 3})}});
    h.c.loaded();
    h.settle();
    h.ack_all();
    h.c.controlled_shutdown(node_id(1));
    h.settle();
    h.ack_all();
    ASSERT_EQ(h.state("t", 0).leader, node_id(2));
    ASSERT_TRUE(h.c.shutting_down(node_id(1)));
    h.c.brokers_changed(at(101)); // the same registration: nothing changes
    EXPECT_TRUE(h.c.shutting_down(node_id(1)));
    EXPECT_TRUE(of(h.settle(), kind::leader_and_isr, 1).empty());
    h.c.brokers_changed(at(250)); // restarted: a new registration
    EXPECT_FALSE(h.c.shutting_down(node_id(1))) << "the new member is not shutting down";
    EXPECT_EQ(of(h.settle(), kind::leader_and_isr, 1).size(), 1u) << "the new member is sent its partitions";
}

TEST(controller_state, leadership_returns_to_preferred_replicas_once_imbalanced)
{
    controller_state::options o;
    o.auto_leader_rebalance = true;
    o.imbalance_check_interval_ms = 1000;
    o.imbalance_percentage = 10;
    harness h{controller_state{node_id(1), 5, o}};
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2, 3})}, {1, ids({2, 3, 1})}, {2, ids({3, 1, 2})}});
    h.c.loaded();
    h.settle();
    h.c.brokers_changed(brokers({2, 3}));
    h.settle();
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.settle();
    ASSERT_EQ(h.state("t", 0).leader, node_id(2));
    EXPECT_EQ(h.c.imbalanced(node_id(1)).size(), 1u);
    h.c.tick(0); // the first check is one interval after the first tick
    h.settle();
    h.c.tick(1000);
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(2)) << "broker 1 is not back in the ISR yet";
    // Its leader takes it back into the ISR (as read from the state znode).
    auto s = h.state("t", 0);
    s.isr = ids({2, 3, 1});
    h.c.state_read({"t", partition_id(0)}, s, h.versions[{"t", partition_id(0)}] + 1);
    h.settle();
    h.c.tick(1500);
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(2)) << "not due before the interval";
    h.c.tick(2000);
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(1));
    EXPECT_EQ(h.state("t", 0).epoch, leader_epoch(2));
    EXPECT_TRUE(h.c.imbalanced(node_id(1)).empty());
    EXPECT_EQ(h.state("t", 1).leader, node_id(2));
    EXPECT_EQ(h.state("t", 2).leader, node_id(3));
}

TEST(controller_state, elect_leaders_preferred_reports_each_partition)
{
    using outcome = controller_state::election_outcome;
    using type = controller_state::election_type;
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2, 3})}, {1, ids({2, 3, 1})}, {2, ids({3, 1, 2})}});
    h.c.loaded();
    h.settle();
    h.c.brokers_changed(brokers({2, 3}));
    h.settle();
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.settle();
    ASSERT_EQ(h.state("t", 0).leader, node_id(2));
    auto t0 = topic_partition{"t", partition_id(0)};
    auto t1 = topic_partition{"t", partition_id(1)};
    auto t2 = topic_partition{"t", partition_id(2)};
    auto missing = topic_partition{"t", partition_id(7)};
    // Broker 1 is live but not back in t-0's ISR, and also t-2's: its preferred replica is 3.
    auto r = h.c.request_election(type::preferred, std::vector<topic_partition>{t0, t1, missing});
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].second, outcome::not_available) << "the preferred replica is out of sync";
    EXPECT_EQ(r[1].second, outcome::not_needed);
    EXPECT_EQ(r[2].second, outcome::unknown_partition);
    EXPECT_FALSE(h.c.settling(t0));
    auto s = h.state("t", 0);
    s.isr = ids({2, 3, 1});
    h.c.state_read(t0, s, h.versions[t0] + 1);
    h.settle();
    r = h.c.request_election(type::preferred, std::nullopt);
    ASSERT_EQ(r.size(), 1u) << "all partitions: those already led by their preferred replica are left out";
    EXPECT_EQ(r[0].first, t0);
    EXPECT_EQ(r[0].second, outcome::started);
    EXPECT_TRUE(h.c.settling(t0));
    auto a = h.step(false);
    ASSERT_EQ(a.writes.size(), 1u);
    EXPECT_TRUE(h.c.settling(t0)) << "while its write is out";
    h.c.state_written(t0, h.versions[t0] + 2);
    h.settle();
    EXPECT_FALSE(h.c.settling(t0));
    EXPECT_EQ(h.c.election_result(type::preferred, t0), outcome::elected);
    EXPECT_EQ(h.state("t", 0).leader, node_id(1));
    EXPECT_EQ(h.c.election_result(type::preferred, t2), outcome::elected) << "3 leads t-2 already";
}

TEST(controller_state, unclean_election_only_when_enabled_or_asked)
{
    using outcome = controller_state::election_outcome;
    using type = controller_state::election_type;
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2})}});
    h.c.topic_assigned("u", {}, {{0, ids({1, 2})}});
    h.c.loaded();
    h.settle();
    auto t0 = topic_partition{"t", partition_id(0)};
    auto u0 = topic_partition{"u", partition_id(0)};
    // 2 falls out of both ISRs (its leader says so), then 1, the last in sync, dies.
    for (auto& tp : {t0, u0}) {
        auto s = *h.c.topics().at(tp.topic).partitions.at(0).state;
        s.isr = ids({1});
        h.c.state_read(tp, s, h.versions[tp] + 1);
        h.versions[tp] += 1;
    }
    h.settle();
    h.c.brokers_changed(brokers({2, 3}));
    auto a = h.step();
    EXPECT_TRUE(a.unclean.empty());
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(-1)) << "offline: unclean election is off";
    EXPECT_EQ(raw(h.state("t", 0).isr), (std::vector<int32_t>{1}));
    auto r = h.c.request_election(type::unclean, std::vector<topic_partition>{t0});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].second, outcome::started);
    a = h.step();
    ASSERT_EQ(a.unclean.size(), 1u);
    EXPECT_EQ(a.unclean[0], t0);
    h.settle();
    EXPECT_EQ(h.c.election_result(type::unclean, t0), outcome::elected);
    EXPECT_EQ(h.state("t", 0).leader, node_id(2));
    EXPECT_EQ(raw(h.state("t", 0).isr), (std::vector<int32_t>{2}));
    EXPECT_EQ(h.state("u", 0).leader, node_id(-1)) << "only the partition asked for";
    r = h.c.request_election(type::unclean, std::vector<topic_partition>{t0});
    EXPECT_EQ(r[0].second, outcome::not_needed);
    // Enabling it for u elects u-0 at once.
    h.c.topic_unclean("u", true);
    a = h.step();
    ASSERT_EQ(a.unclean.size(), 1u);
    h.settle();
    EXPECT_EQ(h.state("u", 0).leader, node_id(2));
    // No live replica at all: nothing to elect.
    h.c.brokers_changed(brokers({3}));
    h.settle();
    r = h.c.request_election(type::unclean, std::vector<topic_partition>{t0});
    EXPECT_EQ(r[0].second, outcome::not_available);
    // The broker default applies to topics without an override.
    h.c.topic_unclean("u", false);
    h.c.brokers_changed(brokers({1, 3}));
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(-1)) << "1 is not in t-0's ISR any more";
    h.c.unclean_default(true);
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(1));
    EXPECT_EQ(h.state("u", 0).leader, node_id(-1)) << "u's override keeps it off";
}

/// Completes the assignment writes of `a` (as the driver would) and reports their new versions.
void write_assignments(harness& h, const controller_actions& a, std::vector<assignment_write>* seen = nullptr)
{
    for (auto& w : a.assignments) {
        if (seen) seen->push_back(w);
        h.c.assignment_written(w.topic, w.expected_version + 1);
    }
}

/// Steps (writing states and assignments) until nothing is left; the assignment writes seen.
std::vector<assignment_write> settle_moves(harness& h)
{
    std::vector<assignment_write> seen;
    h.sent.clear();
    for (int i = 0; i < 20; ++i) {
        auto a = h.step();
        write_assignments(h, a, &seen);
        if (a.empty()) break;
    }
    return seen;
}

TEST(controller_state, a_reassignment_adds_catches_up_then_removes)
{
    using outcome = controller_state::reassign_outcome;
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2})}}, {}, 0);
    h.c.loaded();
    settle_moves(h);
    auto tp = topic_partition{"t", partition_id(0)};
    ASSERT_EQ(h.state("t", 0).leader, node_id(1));
    EXPECT_EQ(h.c.reassign(tp, ids({2, 3, 3})), outcome::invalid_assignment);
    EXPECT_EQ(h.c.reassign(tp, ids({2, 4})), outcome::invalid_assignment) << "broker 4 is not live";
    EXPECT_EQ(h.c.reassign({"t", partition_id(5)}, ids({2, 3})), outcome::unknown_partition);
    EXPECT_EQ(h.c.reassign(tp, std::nullopt), outcome::not_in_progress);
    EXPECT_EQ(h.c.reassign(tp, ids({2, 3})), outcome::started);
    EXPECT_TRUE(h.c.reassign_pending(tp));
    auto writes = settle_moves(h);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].partitions.at(0), (replica_set{ids({2, 3, 1}), ids({3}), ids({1})}));
    EXPECT_FALSE(h.c.reassign_pending(tp));
    auto& cp = h.c.topics().at("t").partitions.at(0);
    EXPECT_EQ(raw(cp.replicas), (std::vector<int32_t>{2, 3, 1}));
    EXPECT_FALSE(of(h.sent, kind::leader_and_isr, 3).empty()) << "the new replica hears of its partition";
    ASSERT_EQ(h.c.reassignments(std::nullopt).size(), 1u);
    EXPECT_EQ(h.state("t", 0).leader, node_id(1)) << "nothing else moves until 3 is in sync";
    // The leader takes 3 into the ISR: the target {2,3} is in sync, so leadership moves into
    // it and 1 leaves the ISR, then the topic znode drops 1.
    auto s = h.state("t", 0);
    s.isr = ids({1, 2, 3});
    h.c.state_read(tp, s, h.versions[tp] + 1);
    h.versions[tp] += 1;
    writes = settle_moves(h);
    EXPECT_EQ(h.state("t", 0).leader, node_id(2));
    EXPECT_EQ(raw(h.state("t", 0).isr), (std::vector<int32_t>{2, 3}));
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].partitions.at(0), (replica_set{ids({2, 3}), {}, {}}));
    EXPECT_EQ(raw(cp.replicas), (std::vector<int32_t>{2, 3}));
    EXPECT_TRUE(h.c.reassignments(std::nullopt).empty());
    EXPECT_TRUE(of(h.sent, kind::leader_and_isr, 1).empty()) << "the old replica is no longer sent its partition";
    EXPECT_FALSE(of(h.sent, kind::update_metadata, 1).empty()) << "but learns it is gone from the replicas";
}

TEST(controller_state, a_cancelled_reassignment_goes_back_and_a_new_controller_finishes_one)
{
    using outcome = controller_state::reassign_outcome;
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2})}}, {}, 0);
    h.c.loaded();
    settle_moves(h);
    auto tp = topic_partition{"t", partition_id(0)};
    ASSERT_EQ(h.c.reassign(tp, ids({3, 1})), outcome::started);
    settle_moves(h);
    // 3 joined the ISR before the cancel.
    auto s = h.state("t", 0);
    s.isr = ids({1, 2, 3});
    h.c.state_read(tp, s, h.versions[tp] + 1);
    h.versions[tp] += 1;
    EXPECT_EQ(h.c.reassign(tp, std::nullopt), outcome::cancelled);
    auto writes = settle_moves(h);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].partitions.at(0), (replica_set{ids({1, 2}), {}, {}}));
    EXPECT_EQ(raw(h.state("t", 0).isr), (std::vector<int32_t>{1, 2})) << "the added replica left the ISR first";
    EXPECT_EQ(h.state("t", 0).leader, node_id(1));
    EXPECT_EQ(h.c.reassign(tp, std::nullopt), outcome::not_in_progress);

    // A controller that reads a reassignment in progress with its target in sync completes it.
    harness h2;
    h2.c.brokers_changed(brokers({1, 2, 3}));
    h2.c.topic_assigned("u", {}, {{0, ids({2, 3, 1})}}, {{0, {ids({3}), ids({1})}}}, 7);
    auto u0 = topic_partition{"u", partition_id(0)};
    h2.c.state_read(u0, partition_state{node_id(1), leader_epoch(4), ids({1, 2, 3}), 0}, 3);
    h2.c.loaded();
    writes = settle_moves(h2);
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].expected_version, 7);
    EXPECT_EQ(writes[0].partitions.at(0), (replica_set{ids({2, 3}), {}, {}}));
    EXPECT_EQ(h2.state("u", 0).leader, node_id(2));
    EXPECT_EQ(h2.state("u", 0).epoch, leader_epoch(5));
    // A failed topic write waits for the znode read again, then goes out on its version.
    harness h3;
    h3.c.brokers_changed(brokers({1, 2, 3}));
    h3.c.topic_assigned("v", {}, {{0, ids({1})}}, {}, 2);
    h3.c.loaded();
    settle_moves(h3);
    auto v0 = topic_partition{"v", partition_id(0)};
    ASSERT_EQ(h3.c.reassign(v0, ids({2})), outcome::started);
    auto a = h3.step();
    ASSERT_EQ(a.assignments.size(), 1u);
    h3.c.assignment_written("v", std::nullopt);
    EXPECT_TRUE(h3.step().assignments.empty()) << "not before the znode is read again";
    h3.c.topic_assigned("v", {}, {{0, ids({1})}, {1, ids({3})}}, {}, 3);
    a = h3.step();
    ASSERT_EQ(a.assignments.size(), 1u);
    EXPECT_EQ(a.assignments[0].expected_version, 3);
    EXPECT_EQ(a.assignments[0].partitions.at(1), (replica_set{ids({3}), {}, {}})) << "the partition added meanwhile stays";
}

TEST(controller_state, a_partition_without_live_replicas_waits_for_one)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2}));
    h.c.loaded();
    h.settle();
    h.c.topic_assigned("t", {}, {{0, ids({3})}, {1, ids({1})}});
    h.settle();
    EXPECT_FALSE(h.c.topics().at("t").partitions.at(0).state);
    EXPECT_EQ(h.state("t", 1).leader, node_id(1));
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.settle();
    EXPECT_EQ(h.state("t", 0).leader, node_id(3));
}

TEST(controller_state, a_lost_write_is_decided_again_from_the_state_read_back)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2, 3})}});
    h.c.loaded();
    h.settle();
    h.c.brokers_changed(brokers({2, 3}));
    auto a = h.c.take_actions();
    ASSERT_EQ(a.writes.size(), 1u);
    EXPECT_EQ(a.writes[0].expected_version, 0);
    h.c.state_written(a.writes[0].tp, std::nullopt); // bad version: someone changed it
    // The driver reads it back: the leader shrank the ISR to {1, 3} meanwhile (version 1).
    partition_state now{node_id(1), leader_epoch(0), ids({1, 3}), 0};
    h.c.state_read(a.writes[0].tp, now, 1);
    auto b = h.c.take_actions();
    ASSERT_EQ(b.writes.size(), 1u);
    EXPECT_EQ(b.writes[0].expected_version, 1);
    EXPECT_EQ(b.writes[0].state.leader, node_id(3));
    EXPECT_EQ(raw(b.writes[0].state.isr), (std::vector<int32_t>{3}));
}

TEST(controller_state, deletion_stops_every_replica_and_waits_for_a_broker_that_is_down)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2, 3}));
    h.c.topic_assigned("gone", {}, {{0, ids({1, 2})}, {1, ids({2, 3})}});
    h.c.loaded();
    h.settle();
    h.ack_all();
    h.c.brokers_changed(brokers({1, 2})); // broker 3 is down
    h.settle();
    h.ack_all();
    h.c.deletion_requested("gone");
    auto sent = h.settle();
    auto stop1 = of(sent, kind::stop_replica, 1);
    auto stop2 = of(sent, kind::stop_replica, 2);
    ASSERT_EQ(stop1.size(), 1u);
    ASSERT_EQ(stop2.size(), 1u);
    EXPECT_TRUE(stop1[0]->delete_partitions);
    EXPECT_EQ(stop1[0]->partitions.size(), 1u);
    EXPECT_EQ(stop2[0]->partitions.size(), 2u);
    for (auto* um : of(sent, kind::update_metadata)) {
        for (auto& p : um->partitions) EXPECT_EQ(p.state.leader, node_id(leader_during_delete));
    }
    h.ack_all();
    EXPECT_TRUE(h.c.take_actions().deleted.empty()) << "broker 3 still holds a replica";
    h.c.brokers_changed(brokers({1, 2, 3}));
    sent = h.settle();
    auto stop3 = of(sent, kind::stop_replica, 3);
    ASSERT_EQ(stop3.size(), 1u);
    h.c.request_done(stop3[0]->id, true, 0);
    auto done = h.c.take_actions();
    EXPECT_EQ(done.deleted, std::vector<std::string>{"gone"});
    EXPECT_FALSE(h.c.topics().count("gone"));
    h.c.deletion_requested("never-existed");
    EXPECT_EQ(h.c.take_actions().unknown_deletions, std::vector<std::string>{"never-existed"});
}

TEST(controller_state, a_failed_request_is_followed_by_the_whole_picture_after_the_backoff)
{
    harness h;
    h.c.brokers_changed(brokers({1, 2}));
    h.c.topic_assigned("t", {}, {{0, ids({1, 2})}, {1, ids({2, 1})}});
    h.c.loaded();
    auto sent = h.settle();
    for (auto& r : sent) h.c.request_done(r.id, r.to() != 2, 1000); // broker 2 failed them
    EXPECT_EQ(h.c.in_flight(), 0u);
    h.c.tick(1050);
    EXPECT_TRUE(h.c.take_actions().empty()) << "not before the backoff";
    h.c.tick(1100);
    auto again = h.c.take_actions();
    ASSERT_EQ(of(again.requests, kind::leader_and_isr, 2).size(), 1u);
    EXPECT_EQ(of(again.requests, kind::leader_and_isr, 2)[0]->partitions.size(), 2u);
    EXPECT_EQ(of(again.requests, kind::update_metadata, 2).size(), 1u);
    EXPECT_TRUE(of(again.requests, kind::update_metadata, 1).empty());
    // A broker that left is not retried.
    for (auto& r : again.requests) h.c.request_done(r.id, false, 2000);
    h.c.brokers_changed(brokers({1}));
    h.c.take_actions();
    h.c.tick(5000);
    EXPECT_TRUE(of(h.c.take_actions().requests, kind::leader_and_isr, 2).empty());
}

} // namespace
} // namespace samsa::cluster
