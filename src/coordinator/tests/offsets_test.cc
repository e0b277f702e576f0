#include "coordinator/tests/coordinator_fixture.h"
#include "protocol/messages/consumer_protocol_subscription.h"

#include <limits>

namespace samsa::coordinator::test {
namespace {

using protocol::error_code;

struct offsets_fx : coordinator_fixture {
    std::set<std::string> topics{"t", "u"};

    protocol::offset_commit_response commit(const std::string& group, std::vector<std::tuple<std::string, int, int64_t>> offs,
                                            int32_t generation = -1, const std::string& member = "",
                                            int16_t version = 8, std::string metadata = "md")
    {
        protocol::offset_commit_request r;
        r.group_id = group;
        r.generation_id_or_member_epoch = generation;
        r.member_id = member;
        for (auto& [t, p, o] : offs) {
            protocol::offset_commit_request::offset_commit_request_topic* rt = nullptr;
            for (auto& x : r.topics) {
                if (x.name == t) rt = &x;
            }
            if (!rt) {
                r.topics.push_back({t, {}});
                rt = &r.topics.back();
            }
            protocol::offset_commit_request::offset_commit_request_partition p2;
            p2.partition_index = p;
            p2.committed_offset = o;
            p2.committed_leader_epoch = 3;
            p2.committed_metadata = metadata;
            rt->partitions.push_back(p2);
        }
        auto id = next_id++;
        absorb(gc->commit_offsets(id, r, version, [&](const topic_partition& tp) {
            return topics.count(tp.topic) && tp.partition() < 4;
        }));
        return std::get<protocol::offset_commit_response>(answered.at(id));
    }

    int64_t fetched(const std::string& group, const std::string& topic, int p, int16_t version = 7)
    {
        protocol::offset_fetch_request r;
        r.group_id = group;
        r.topics = std::vector<protocol::offset_fetch_request::offset_fetch_request_topic>{{topic, {p}}};
        auto resp = gc->fetch_offsets(r, version);
        return resp.topics.at(0).partitions.at(0).committed_offset;
    }

    void restart()
    {
        reset_coordinator();
        for (auto& r : persisted) {
            gc->load_record(r.key, r.value ? std::optional<bytes_view>(*r.value) : std::nullopt);
        }
        gc->load_complete();
    }
};

TEST_F(offsets_fx, simple_commit_and_fetch)
{
    auto r = commit("simple", {{"t", 0, 42}, {"t", 1, 7}});
    EXPECT_EQ(r.topics[0].partitions[0].error_code, 0);
    EXPECT_EQ(fetched("simple", "t", 0), 42);
    EXPECT_EQ(fetched("simple", "t", 1), 7);
    EXPECT_EQ(fetched("simple", "t", 2), -1);
    EXPECT_EQ(fetched("nobody", "t", 0), -1);
    EXPECT_EQ(state("simple"), "Empty");
    // All topics (null list), with metadata and leader epoch.
    protocol::offset_fetch_request all;
    all.group_id = "simple";
    all.topics = std::nullopt;
    auto resp = gc->fetch_offsets(all, 7);
    ASSERT_EQ(resp.topics.size(), 1u);
    ASSERT_EQ(resp.topics[0].partitions.size(), 2u);
    EXPECT_EQ(resp.topics[0].partitions[0].metadata, "md");
    EXPECT_EQ(resp.topics[0].partitions[0].committed_leader_epoch, 3);
}

TEST_F(offsets_fx, multi_group_fetch_v8)
{
    commit("a", {{"t", 0, 1}});
    commit("b", {{"u", 2, 5}});
    protocol::offset_fetch_request r;
    r.groups.push_back({"a", std::nullopt, -1, std::nullopt});
    r.groups.push_back({"b", std::nullopt, -1, std::nullopt});
    auto resp = gc->fetch_offsets(r, 8);
    ASSERT_EQ(resp.groups.size(), 2u);
    EXPECT_EQ(resp.groups[0].topics[0].partitions[0].committed_offset, 1);
    EXPECT_EQ(resp.groups[1].topics[0].name, "u");
}

TEST_F(offsets_fx, commit_errors)
{
    auto r = commit("g", {{"missing", 0, 1}, {"t", 9, 1}});
    EXPECT_EQ(r.topics[0].partitions[0].error_code, E(error_code::unknown_topic_or_partition));
    EXPECT_EQ(r.topics[1].partitions[0].error_code, E(error_code::unknown_topic_or_partition));
    r = commit("g", {{"t", 0, 1}}, -1, "", 8, std::string(5000, 'x'));
    EXPECT_EQ(r.topics[0].partitions[0].error_code, E(error_code::offset_metadata_too_large));
    EXPECT_EQ(commit("unknown", {{"t", 0, 1}}, 3, "m").topics[0].partitions[0].error_code,
              E(error_code::illegal_generation));
    EXPECT_EQ(commit("", {{"t", 0, 1}}).topics[0].partitions[0].error_code, E(error_code::invalid_group_id));

    auto j = join_new("cg");
    auto m = jr(j).member_id;
    EXPECT_EQ(commit("cg", {{"t", 0, 1}}, 1, m).topics[0].partitions[0].error_code,
              E(error_code::rebalance_in_progress)); // completing rebalance
    sync("cg", m, 1);
    EXPECT_EQ(commit("cg", {{"t", 0, 1}}, 1, m).topics[0].partitions[0].error_code, 0);
    EXPECT_EQ(commit("cg", {{"t", 0, 1}}, 2, m).topics[0].partitions[0].error_code, E(error_code::illegal_generation));
    EXPECT_EQ(commit("cg", {{"t", 0, 1}}, 1, "x").topics[0].partitions[0].error_code, E(error_code::unknown_member_id));
    // A simple (generation -1) commit to a group with members is refused.
    EXPECT_EQ(commit("cg", {{"t", 0, 1}}).topics[0].partitions[0].error_code, E(error_code::unknown_member_id));
}

TEST_F(offsets_fx, failed_persist_is_not_visible)
{
    protocol::offset_commit_request r;
    r.group_id = "g";
    r.topics.push_back({"t", {}});
    protocol::offset_commit_request::offset_commit_request_partition p;
    p.partition_index = 0;
    p.committed_offset = 99;
    r.topics[0].partitions.push_back(p);
    auto o = gc->commit_offsets(next_id++, r, 8, [](auto&) { return true; });
    ASSERT_TRUE(o.commit);
    EXPECT_EQ(fetched("g", "t", 0), -1); // not before it is persisted
    gc->commit_persisted(*o.commit, false);
    EXPECT_EQ(fetched("g", "t", 0), -1);
}

TEST_F(offsets_fx, state_survives_restart_from_records)
{
    commit("simple", {{"t", 0, 10}, {"u", 1, 20}});
    auto a = join_new("cg");
    auto ra = jr(a);
    sync("cg", ra.member_id, 1, {{ra.member_id, "assigned"}});
    commit("cg", {{"t", 3, 33}}, 1, ra.member_id);
    commit("simple", {{"t", 0, 11}});
    restart();
    EXPECT_EQ(fetched("simple", "t", 0), 11);
    EXPECT_EQ(fetched("simple", "u", 1), 20);
    EXPECT_EQ(fetched("cg", "t", 3), 33);
    // The member can carry on without rejoining.
    EXPECT_EQ(state("cg"), "Stable");
    EXPECT_EQ(heartbeat("cg", ra.member_id, 1), 0);
    EXPECT_EQ(sr(sync("cg", ra.member_id, 1)).assignment, meta("assigned"));
}

TEST_F(offsets_fx, delete_groups)
{
    commit("simple", {{"t", 0, 10}});
    auto j = join_new("busy");
    (void)j;
    protocol::delete_groups_request r;
    r.groups_names = {"simple", "busy", "missing"};
    auto id = next_id++;
    absorb(gc->delete_groups(id, r, 2));
    auto resp = std::get<protocol::delete_groups_response>(answered.at(id));
    ASSERT_EQ(resp.results.size(), 3u);
    EXPECT_EQ(resp.results[0].error_code, 0);
    EXPECT_EQ(resp.results[1].error_code, E(error_code::non_empty_group));
    EXPECT_EQ(resp.results[2].error_code, E(error_code::group_id_not_found));
    EXPECT_EQ(gc->find("simple"), nullptr);
    restart(); // tombstones keep it deleted
    EXPECT_EQ(fetched("simple", "t", 0), -1);
}

TEST_F(offsets_fx, offset_delete_respects_subscriptions)
{
    commit("simple", {{"t", 0, 10}, {"u", 0, 5}});
    protocol::offset_delete_request r;
    r.group_id = "simple";
    r.topics.push_back({"t", {{0}}});
    auto id = next_id++;
    absorb(gc->delete_offsets(id, r, 0));
    auto resp = std::get<protocol::offset_delete_response>(answered.at(id));
    EXPECT_EQ(resp.error_code, 0);
    EXPECT_EQ(fetched("simple", "t", 0), -1);
    EXPECT_EQ(fetched("simple", "u", 0), 5);
    r.group_id = "nope";
    id = next_id++;
    absorb(gc->delete_offsets(id, r, 0));
    EXPECT_EQ(std::get<protocol::offset_delete_response>(answered.at(id)).error_code, E(error_code::group_id_not_found));

    // A member subscribed to "t" (consumer protocol subscription v0: int16 version, topics).
    protocol::writer w;
    w.write_int16(0);
    protocol::consumer_protocol_subscription sub;
    sub.topics = {"t"};
    sub.encode(w, 0);
    auto m = std::move(w).finish().data;
    auto j = join("cg", "", 3, std::nullopt, std::string(m.begin(), m.end()));
    sync("cg", jr(j).member_id, 1);
    commit("cg", {{"t", 0, 1}, {"u", 0, 1}}, 1, jr(j).member_id);
    protocol::offset_delete_request r2;
    r2.group_id = "cg";
    r2.topics.push_back({"t", {{0}}});
    r2.topics.push_back({"u", {{0}}});
    id = next_id++;
    absorb(gc->delete_offsets(id, r2, 0));
    auto resp2 = std::get<protocol::offset_delete_response>(answered.at(id));
    EXPECT_EQ(resp2.topics[0].partitions[0].error_code, E(error_code::group_subscribed_to_topic));
    EXPECT_EQ(resp2.topics[1].partitions[0].error_code, 0);
    EXPECT_EQ(fetched("cg", "t", 0), 1);
    EXPECT_EQ(fetched("cg", "u", 0), -1);
}

TEST_F(offsets_fx, offsets_of_empty_groups_expire_after_retention)
{
    cfg.offsets_retention_ms = 60'000;
    reset_coordinator();
    commit("simple", {{"t", 0, 10}});
    advance(30'000);
    commit("simple", {{"t", 1, 20}});
    advance(31'000); // t-0 is 61 s old, t-1 31 s
    EXPECT_EQ(fetched("simple", "t", 0), -1);
    EXPECT_EQ(fetched("simple", "t", 1), 20);
    advance(30'000);
    EXPECT_EQ(gc->find("simple"), nullptr); // no offsets, no members: the group goes

    // A consumer group keeps the offsets of topics it subscribes to while it has members.
    protocol::writer w;
    w.write_int16(0);
    protocol::consumer_protocol_subscription sub;
    sub.topics = {"t"};
    sub.encode(w, 0);
    auto sm = std::move(w).finish().data;
    auto j = join_new("cg", std::string(sm.begin(), sm.end()), 10000);
    auto m = jr(j).member_id;
    sync("cg", m, 1);
    commit("cg", {{"t", 0, 1}}, 1, m);
    for (int i = 0; i < 30; ++i) {
        advance(3000);
        heartbeat("cg", m, 1);
    }
    EXPECT_EQ(fetched("cg", "t", 0), 1);
    leave("cg", m);
    advance(59'000);
    EXPECT_EQ(fetched("cg", "t", 0), 1);
    advance(2'000);
    EXPECT_EQ(fetched("cg", "t", 0), -1);
}

TEST_F(offsets_fx, unloading_a_partition_forgets_only_its_groups_and_answers_waiting_joins)
{
    constexpr int32_t partitions = 50;
    std::string ga = "group-a", gb = "group-b";
    auto pa = partition_for_group(ga, partitions);
    while (partition_for_group(gb, partitions) == pa) gb += "x";
    commit(ga, {{"t", 0, 5}});
    commit(gb, {{"t", 0, 9}});
    auto first = jr(join_new(ga));
    sync(ga, first.member_id, 1, {{first.member_id, "p0"}});
    auto waiting = join_new(ga, "m2");
    ASSERT_FALSE(done(waiting));

    absorb(gc->unload_partition(pa, partitions));
    ASSERT_TRUE(done(waiting));
    EXPECT_EQ(jr(waiting).error_code, E(error_code::not_coordinator));
    EXPECT_EQ(state(ga), "none");
    EXPECT_EQ(fetched(ga, "t", 0), -1);
    EXPECT_EQ(fetched(gb, "t", 0), 9);

    // Led again: replaying that partition's records brings its groups back, the others untouched.
    for (auto& r : persisted) {
        auto k = decode_key(r.key);
        auto g = std::visit([](auto& kk) { return kk.group; }, k);
        if (partition_for_group(g, partitions) != pa) continue;
        gc->load_record(r.key, r.value ? std::optional<bytes_view>(*r.value) : std::nullopt);
    }
    gc->load_complete();
    EXPECT_EQ(fetched(ga, "t", 0), 5);
    EXPECT_EQ(fetched(gb, "t", 0), 9);
    EXPECT_NE(state(ga), "none");
}

TEST_F(offsets_fx, extreme_client_times_saturate)
{
    // A v2 commit asking for retention near INT64_MAX, and a v1 commit timestamp near INT64_MAX,
    // must not overflow (UBSan aborts on signed overflow): the offsets simply never expire.
    cfg.offsets_retention_ms = std::numeric_limits<int64_t>::max();
    reset_coordinator();
    for (int16_t version : {int16_t(1), int16_t(2)}) {
        protocol::offset_commit_request r;
        r.group_id = "far-future";
        r.retention_time_ms = std::numeric_limits<int64_t>::max() - 1;
        protocol::offset_commit_request::offset_commit_request_partition p;
        p.partition_index = version;
        p.committed_offset = 5;
        p.commit_timestamp = std::numeric_limits<int64_t>::max() - 1;
        r.topics.push_back({"t", {p}});
        auto id = next_id++;
        absorb(gc->commit_offsets(id, r, version, [](const topic_partition&) { return true; }));
        auto resp = std::get<protocol::offset_commit_response>(answered.at(id));
        EXPECT_EQ(resp.topics.at(0).partitions.at(0).error_code, 0);
    }
    advance(1'000'000);
    EXPECT_EQ(fetched("far-future", "t", 1), 5);
    EXPECT_EQ(fetched("far-future", "t", 2), 5);
}

TEST(offsets_records, java_hash_and_partitioning)
{
    EXPECT_EQ(java_string_hash(""), 0);
    EXPECT_EQ(java_string_hash("hello"), 99162322);
    EXPECT_EQ(java_string_hash("\xc3\xa9"), 233);                        // é
    EXPECT_EQ(java_string_hash("\xf0\x9f\x98\x80"), 55357 * 31 + 56832); // U+1F600 as a surrogate pair
    EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
    EXPECT_EQ(partition_for_group("polygenelubricants", 50), 0);
    EXPECT_EQ(partition_for_group("hello", 50), 99162322 % 50);
    int32_t neg = java_string_hash("console-consumer-12345");
    EXPECT_EQ(partition_for_group("console-consumer-12345", 50), (neg < 0 ? -neg : neg) % 50);
}

TEST(offsets_records, round_trip_and_known_bytes)
{
    auto k = encode_key(offset_key{"g", {"t", partition_id(2)}});
    // version 1, string "g", string "t", int32 2
    EXPECT_EQ(k, (bytes{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 2}));
    auto d = decode_key(k);
    ASSERT_TRUE(std::holds_alternative<offset_key>(d));
    EXPECT_EQ(std::get<offset_key>(d).tp, (topic_partition{"t", partition_id(2)}));
    committed_offset c{5, 2, "meta", 1234, -1};
    auto v = encode_offset_value(c);
    EXPECT_EQ(v[1], 3); // value version 3
    EXPECT_EQ(decode_offset_value(v), c);
    group_metadata g;
    g.protocol_type = "consumer";
    g.generation = 4;
    g.protocol_name = "range";
    g.leader = "m1";
    g.members.push_back({"m1", std::string("i1"), "c", "/h", 300000, 10000, bytes{1, 2}, bytes{3}});
    auto gv = decode_group_value(encode_group_value(g));
    EXPECT_EQ(gv.generation, 4);
    EXPECT_EQ(gv.members[0].instance_id, "i1");
    EXPECT_EQ(gv.members[0].assignment, bytes{3});
    EXPECT_THROW(decode_key(bytes{0, 9, 0, 0}), protocol::decode_error);
}

} // namespace
} // namespace samsa::coordinator::test
