// The topic manager's queued log work: large creations and deletions in steps, their names
// reserved meanwhile, crash recovery at start(), and the descriptor budget.
#include "cluster/metadata_store.h"
#include "cluster/topic_manager.h"
#include "storage/mem_file_ops.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>
#include <limits>
#include <optional>

namespace samsa::cluster {
namespace {

namespace asio = boost::asio;

/// Runs a control-plane call to completion (the local controller never waits long).
template<typename T>
T run(asio::awaitable<T> op)
{
    asio::io_context io;
    std::optional<T> out;
    asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T r) {
        if (e) std::rethrow_exception(e);
        out.emplace(std::move(r));
    });
    io.run();
    return std::move(*out);
}

std::error_code code(errc e) { return make_error_code(e); }

/// One node's storage and topic manager over an in-memory file system that outlives it (a
/// "crash" is destroying the node without shutdown()).
struct node {
    storage::mem_file_ops& fs;
    config::broker_config_store config{config::property_map{}};
    local_metadata_store store;
    storage::log_manager logs;
    topic_manager topics;
    int schedules = 0;

    explicit node(storage::mem_file_ops& f, bool scheduled = true)
      : fs(f), store(f, "/data/__samsa_metadata"),
        logs(f, system_clock::instance(), storage::log_manager_config{{"/data"}},
             [](const topic_partition&) { return storage::log_config{}; }),
        topics(logs, config, store, node_id(0))
    {
        EXPECT_TRUE(logs.startup());
        EXPECT_TRUE(topics.start());
        if (scheduled) topics.set_scheduler([this] { ++schedules; });
    }

    op_result<topic_info> create(const std::string& name, int32_t partitions, bool validate_only = false)
    {
        create_topic_request req;
        req.name = name;
        req.partitions = partitions;
        return run(topics.controller().create_topic(req, validate_only));
    }
    op_result<void> remove(const std::string& name) { return run(topics.controller().delete_topic(name)); }

    size_t open_partitions(const std::string& name) const
    {
        size_t n = 0;
        for (auto& [tp, l] : logs.logs()) n += tp.topic == name;
        return n;
    }

    size_t dirs_on_disk(std::string_view prefix) const
    {
        size_t n = 0;
        for (auto& d : fs.list_dir("/data").value()) n += d.rfind(prefix, 0) == 0;
        return n;
    }

    void drain()
    {
        while (topics.reconcile()) {
        }
    }
};

TEST(topic_manager, small_operations_finish_before_returning)
{
    storage::mem_file_ops fs;
    node n(fs);
    ASSERT_TRUE(n.create("small", 8));
    EXPECT_TRUE(n.topics.settled("small"));
    EXPECT_EQ(n.open_partitions("small"), 8u);
    EXPECT_NE(n.topics.get("small", 7), nullptr);
    ASSERT_TRUE(n.remove("small"));
    EXPECT_TRUE(n.topics.settled("small"));
    EXPECT_EQ(n.dirs_on_disk("small-"), 0u);
    EXPECT_EQ(n.schedules, 0);
}

TEST(topic_manager, large_creation_runs_in_steps)
{
    storage::mem_file_ops fs;
    node n(fs);
    ASSERT_TRUE(n.create("big", 300));
    EXPECT_GE(n.schedules, 1);
    EXPECT_FALSE(n.topics.settled("big"));
    EXPECT_NE(n.topics.find("big"), nullptr); // the metadata is there at once
    EXPECT_EQ(n.open_partitions("big"), 0u);
    EXPECT_TRUE(n.topics.reconcile(partition_manager::step_ops));
    EXPECT_EQ(n.open_partitions("big"), partition_manager::step_ops);
    // Work queued behind a large operation waits its turn, even when small.
    ASSERT_TRUE(n.create("after", 1));
    EXPECT_FALSE(n.topics.settled("after"));
    n.drain();
    EXPECT_TRUE(n.topics.settled("big"));
    EXPECT_TRUE(n.topics.settled("after"));
    EXPECT_EQ(n.open_partitions("big"), 300u);
    EXPECT_NE(n.topics.get("after", 0), nullptr);
}

TEST(topic_manager, a_name_being_deleted_cannot_be_reused_until_the_deletion_ends)
{
    storage::mem_file_ops fs;
    node n(fs);
    ASSERT_TRUE(n.create("t", 200));
    n.drain();
    ASSERT_TRUE(n.remove("t"));
    EXPECT_EQ(n.topics.find("t"), nullptr); // gone for clients at once
    EXPECT_EQ(n.topics.get("t", 0), nullptr);
    EXPECT_FALSE(n.topics.settled("t"));
    auto again = n.create("t", 1);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, code(errc::topic_exists));
    EXPECT_NE(again.error().message.find("marked for deletion"), std::string::npos);
    n.drain();
    EXPECT_TRUE(n.topics.settled("t"));
    EXPECT_EQ(n.dirs_on_disk("t-"), 0u);
    ASSERT_TRUE(n.create("t", 1));
    EXPECT_EQ(n.open_partitions("t"), 1u);
}

TEST(topic_manager, a_restart_finishes_a_half_done_creation)
{
    storage::mem_file_ops fs;
    {
        node n(fs);
        ASSERT_TRUE(n.create("big", 300));
        n.topics.reconcile(100);
        EXPECT_EQ(n.open_partitions("big"), 100u);
    } // crash: no shutdown
    node n(fs);
    // The 100 logs on disk are open at once; the rest are queued, and the scheduler was asked.
    EXPECT_EQ(n.open_partitions("big"), 100u);
    EXPECT_NE(n.topics.get("big", 99), nullptr);
    EXPECT_EQ(n.topics.get("big", 100), nullptr);
    EXPECT_FALSE(n.topics.settled("big"));
    EXPECT_EQ(n.schedules, 1);
    n.drain();
    EXPECT_EQ(n.open_partitions("big"), 300u);
    EXPECT_TRUE(n.topics.settled("big"));
}

TEST(topic_manager, a_restart_finishes_a_half_done_deletion)
{
    storage::mem_file_ops fs;
    {
        node n(fs);
        ASSERT_TRUE(n.create("big", 300));
        ASSERT_TRUE(n.create("keep", 2));
        n.drain();
        ASSERT_TRUE(n.remove("big"));
        n.topics.reconcile(100);
        EXPECT_EQ(n.open_partitions("big"), 200u);
    } // crash: no shutdown
    node n(fs);
    EXPECT_EQ(n.topics.find("big"), nullptr);
    EXPECT_TRUE(n.topics.settled("big"));
    EXPECT_EQ(n.open_partitions("big"), 0u);
    EXPECT_EQ(n.dirs_on_disk("big-"), 0u);
    EXPECT_EQ(n.store.load_topics().value().count("big"), 0u);
    EXPECT_EQ(n.open_partitions("keep"), 2u);
}

TEST(topic_manager, creations_beyond_the_descriptor_budget_are_refused_before_allocating)
{
    storage::mem_file_ops fs;
    node n(fs);
    file_budget b;
    b.limit = 1024;
    b.in_use = [] { return size_t{100}; };
    n.topics.set_file_budget(b);
    // 1024 - 100 in use - 512 reserved = 412 partitions fit, one descriptor each.
    ASSERT_TRUE(n.create("fits", 412, /*validate_only=*/true));
    for (int32_t count : {413, 1100, std::numeric_limits<int32_t>::max()}) {
        for (bool validate_only : {true, false}) {
            auto r = n.create("huge", count, validate_only);
            ASSERT_FALSE(r) << count;
            EXPECT_EQ(r.error().code, code(errc::invalid_partitions));
            EXPECT_NE(r.error().message.find("open-file limit of 1024"), std::string::npos) << r.error().message;
        }
    }
    EXPECT_EQ(n.topics.find("huge"), nullptr);
    ASSERT_TRUE(n.create("grow", 1));
    auto r = run(n.topics.controller().create_partitions("grow", std::numeric_limits<int32_t>::max(), {}, false));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, code(errc::invalid_partitions));
    EXPECT_EQ(n.topics.find("grow")->partitions.size(), 1u);
}

TEST(topic_manager, the_store_reports_each_write_and_the_cache_and_replicas_follow)
{
    storage::mem_file_ops fs;
    node n(fs);
    std::vector<std::string> seen;
    auto id = n.store.watch([&](const metadata_event& e) {
        seen.push_back((e.what == metadata_event::kind::topic_saved ? "saved " : "removed ") + e.name +
                       (e.record && e.record->topic.deleting ? " (deleting)" : ""));
    });
    ASSERT_TRUE(n.create("w", 2));
    ASSERT_TRUE(run(n.topics.controller().create_partitions("w", 3, {}, false)));
    EXPECT_EQ(n.topics.metadata().find("w")->partitions.size(), 3u);
    EXPECT_NE(n.topics.get("w", 2), nullptr); // the partition manager followed the growth
    ASSERT_TRUE(n.remove("w"));
    n.store.unwatch(id);
    EXPECT_EQ(seen, (std::vector<std::string>{"saved w", "saved w", "saved w (deleting)", "removed w"}));
    EXPECT_EQ(n.topics.metadata().find_deleting("w"), nullptr);
}

TEST(metadata_cache, keeps_assignments_and_states_apart_and_reserves_deleted_names)
{
    metadata_cache c(node_id(1));
    topic_record r;
    r.topic.name = "t";
    r.topic.partitions = {{partition_id(0), {node_id(1), node_id(2)}}, {partition_id(1), {node_id(2), node_id(1)}}};
    r.states = {{node_id(1), leader_epoch(4), {node_id(1), node_id(2)}, 7}, {node_id(2), leader_epoch(0), {node_id(2)}, 0}};
    c.apply(r);
    ASSERT_NE(c.find("t"), nullptr);
    EXPECT_EQ(c.state({"t", partition_id(0)})->epoch, leader_epoch(4));
    EXPECT_EQ(c.state({"t", partition_id(0)})->partition_epoch, 7);
    EXPECT_EQ(c.state({"t", partition_id(1)})->leader, node_id(2));
    EXPECT_EQ(c.states_of("t").size(), 2u);
    EXPECT_EQ(c.live_brokers(), std::vector<node_id>{node_id(1)}); // nothing registered: itself
    c.set_brokers({{node_id(1), std::nullopt, {{"PLAINTEXT", "a", 1}}}, {node_id(2), "r2", {{"PLAINTEXT", "b", 2}}}});
    EXPECT_EQ(c.live_brokers(), (std::vector<node_id>{node_id(1), node_id(2)}));
    EXPECT_EQ(c.broker(node_id(2))->endpoint_for("OTHER")->host, "b"); // the first endpoint
    r.topic.deleting = true;
    c.apply(r);
    EXPECT_EQ(c.find("t"), nullptr);
    EXPECT_EQ(c.state({"t", partition_id(0)}), nullptr);
    EXPECT_NE(c.find_deleting("t"), nullptr);
    c.remove("t");
    EXPECT_EQ(c.find_deleting("t"), nullptr);
}

TEST(controller, plans_kafkas_assignment_over_live_brokers_and_checks_manual_assignments)
{
    storage::mem_file_ops fs;
    node n(fs);
    auto& md = n.topics.metadata();
    md.set_brokers({{node_id(0), {}, {}}, {node_id(1), {}, {}}, {node_id(2), {}, {}}});
    create_topic_request req;
    req.replication_factor = 2;
    auto plan = n.topics.controller().plan_assignments(req, 0, 4);
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->size(), 4u);
    // From a random start: consecutive partitions lead on consecutive brokers, followers differ.
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_NE((*plan)[i].replicas[0], (*plan)[i].replicas[1]);
        EXPECT_EQ((*plan)[(i + 1) % 3].replicas[0](), ((*plan)[i].replicas[0]() + 1) % 3);
    }
    EXPECT_EQ((*plan)[3].id, partition_id(3));

    req.assignments = {{0, 1}, {1, 1}};
    EXPECT_EQ(n.topics.controller().plan_assignments(req, 0, 2).error().code, code(errc::invalid_replica_assignment));
    req.assignments = {{0, 7}};
    auto unknown = n.topics.controller().plan_assignments(req, 0, 1);
    EXPECT_EQ(unknown.error().code, code(errc::invalid_replica_assignment));
    EXPECT_NE(unknown.error().message.find("Unknown broker 7"), std::string::npos);

    // A topic of replication factor 3 on three brokers: leaders spread, this node hosts the
    // replicas that name it (all of them here, each partition having three replicas).
    create_topic_request three;
    three.name = "r3";
    three.partitions = 3;
    three.replication_factor = 3;
    auto created = run(n.topics.controller().create_topic(three, false));
    ASSERT_TRUE(created) << created.error().message;
    // The first replica leads; this node (0) leads exactly one partition and follows the others.
    int led = 0;
    for (int32_t p = 0; p < 3; ++p) {
        auto* st = md.state({"r3", partition_id(p)});
        ASSERT_NE(st, nullptr);
        EXPECT_EQ(st->leader, created->partitions[p].replicas.front());
        EXPECT_EQ(st->isr.size(), 3u);
        auto rep = n.topics.get("r3", p);
        ASSERT_NE(rep, nullptr); // leader or follower, with its log
        EXPECT_EQ(rep->is_leader(), st->leader == node_id(0));
        led += rep->is_leader() ? 1 : 0;
    }
    EXPECT_EQ(led, 1);
    three.name = "r4";
    three.replication_factor = 4;
    EXPECT_EQ(run(n.topics.controller().create_topic(three, false)).error().code, code(errc::invalid_replication_factor));
}

} // namespace
} // namespace samsa::cluster
