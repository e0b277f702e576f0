// The topic manager's queued log work: large creations and deletions in steps, their names
// reserved meanwhile, crash recovery at start(), and the descriptor budget.
#include "cluster/metadata_store.h"
#include "cluster/topic_manager.h"
#include "storage/mem_file_ops.h"

#include <gtest/gtest.h>
#include <limits>

namespace samsa::cluster {
namespace {

using protocol::error_code;

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

    kafka_result<const topic_info*> create(const std::string& name, int32_t partitions, bool validate_only = false)
    {
        create_topic_request req;
        req.name = name;
        req.partitions = partitions;
        return topics.create_topic(req, validate_only);
    }

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
    ASSERT_TRUE(n.topics.delete_topic("small"));
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
    EXPECT_TRUE(n.topics.reconcile(topic_manager::step_ops));
    EXPECT_EQ(n.open_partitions("big"), topic_manager::step_ops);
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
    ASSERT_TRUE(n.topics.delete_topic("t"));
    EXPECT_EQ(n.topics.find("t"), nullptr); // gone for clients at once
    EXPECT_EQ(n.topics.get("t", 0), nullptr);
    EXPECT_FALSE(n.topics.settled("t"));
    auto again = n.create("t", 1);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, error_code::topic_already_exists);
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
        ASSERT_TRUE(n.topics.delete_topic("big"));
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
            EXPECT_EQ(r.error().code, error_code::invalid_partitions);
            EXPECT_NE(r.error().message.find("open-file limit of 1024"), std::string::npos) << r.error().message;
        }
    }
    EXPECT_EQ(n.topics.find("huge"), nullptr);
    ASSERT_TRUE(n.create("grow", 1));
    auto r = n.topics.create_partitions("grow", std::numeric_limits<int32_t>::max(), {}, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, error_code::invalid_partitions);
    EXPECT_EQ(n.topics.find("grow")->partitions.size(), 1u);
}

} // namespace
} // namespace samsa::cluster
