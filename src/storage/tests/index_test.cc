#include "storage/checkpoint_file.h"
#include "storage/errc.h"
#include "storage/leader_epoch_cache.h"
#include "storage/mem_file_ops.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

#include <gtest/gtest.h>

namespace samsa::storage {
namespace {

struct index_fixture : ::testing::Test {
    mem_file_ops fs;
    void SetUp() override { ASSERT_TRUE(fs.create_dirs("/p")); }
};

TEST_F(index_fixture, offset_index_floor_lookup)
{
    offset_index idx(fs, "/p/00000000000000000100.index", offset(100), 1024);
    ASSERT_TRUE(idx.open());
    EXPECT_EQ(idx.lookup(offset(150)).value(), (offset_index::entry{offset(100), 0}));
    ASSERT_TRUE(idx.append(offset(110), 4096));
    ASSERT_TRUE(idx.append(offset(120), 8192));
    ASSERT_TRUE(idx.append(offset(130), 12288));
    EXPECT_EQ(idx.lookup(offset(105)).value().position, 0u);
    EXPECT_EQ(idx.lookup(offset(110)).value().position, 4096u);
    EXPECT_EQ(idx.lookup(offset(125)).value().position, 8192u);
    EXPECT_EQ(idx.lookup(offset(999)).value().position, 12288u);
    // Non-increasing appends are ignored.
    ASSERT_TRUE(idx.append(offset(125), 20000));
    EXPECT_EQ(idx.entry_count(), 3u);
    ASSERT_TRUE(idx.truncate_to(offset(120)));
    EXPECT_EQ(idx.entry_count(), 1u);
    EXPECT_EQ(fs.raw("/p/00000000000000000100.index")->size(), 8u);
}

TEST_F(index_fixture, offset_index_reload_and_checks)
{
    std::string path = "/p/00000000000000000000.index";
    {
        offset_index idx(fs, path, offset(0), 1024);
        ASSERT_TRUE(idx.open());
        ASSERT_TRUE(idx.append(offset(5), 100));
        ASSERT_TRUE(idx.append(offset(9), 200));
    }
    offset_index idx(fs, path, offset(0), 1024);
    ASSERT_TRUE(idx.open());
    ASSERT_TRUE(idx.load_and_check(300));
    EXPECT_EQ(idx.lookup(offset(9)).value().position, 200u);
    // Entry pointing past the log.
    EXPECT_EQ(idx.load_and_check(150).error(), make_error_code(errc::corrupt));
    // Not a whole number of entries.
    fs.raw(path)->push_back(0);
    EXPECT_EQ(idx.load_and_check(300).error(), make_error_code(errc::corrupt));
    // Zeroed entries are not increasing.
    fs.raw(path)->assign(16, 0);
    EXPECT_EQ(idx.load_and_check(300).error(), make_error_code(errc::corrupt));
}

TEST_F(index_fixture, offset_index_full)
{
    offset_index idx(fs, "/p/x.index", offset(0), 16);
    ASSERT_TRUE(idx.open());
    ASSERT_TRUE(idx.append(offset(1), 10));
    EXPECT_FALSE(idx.full());
    ASSERT_TRUE(idx.append(offset(2), 20));
    EXPECT_TRUE(idx.full());
    ASSERT_TRUE(idx.append(offset(3), 30));
    EXPECT_EQ(idx.entry_count(), 2u);
}

TEST_F(index_fixture, time_index_lookup)
{
    time_index ti(fs, "/p/x.timeindex", offset(0), 1200);
    ASSERT_TRUE(ti.open());
    EXPECT_EQ(ti.lookup(timestamp_ms(5)).value(), (time_index::entry{no_timestamp, offset(0)}));
    ASSERT_TRUE(ti.maybe_append(timestamp_ms(1000), offset(10)));
    ASSERT_TRUE(ti.maybe_append(timestamp_ms(900), offset(20))); // not larger: ignored
    ASSERT_TRUE(ti.maybe_append(timestamp_ms(2000), offset(30)));
    EXPECT_EQ(ti.entry_count(), 2u);
    EXPECT_EQ(ti.lookup(timestamp_ms(1000)).value().off, offset(0));
    EXPECT_EQ(ti.lookup(timestamp_ms(1001)).value().off, offset(10));
    EXPECT_EQ(ti.lookup(timestamp_ms(5000)).value().off, offset(30));
    ASSERT_TRUE(ti.load_and_check(offset(31)));
    EXPECT_EQ(ti.load_and_check(offset(30)).error(), make_error_code(errc::corrupt));
    ASSERT_TRUE(ti.truncate_to(offset(30)));
    EXPECT_EQ(ti.entry_count(), 1u);
}

TEST_F(index_fixture, offset_checkpoint_round_trip_and_corruption)
{
    offset_map m{{{"orders", partition_id(0)}, offset(10)}, {{"a.b-c_d", partition_id(12)}, offset(0)}};
    ASSERT_TRUE(write_offset_checkpoint(fs, "/p/ck", m));
    EXPECT_EQ(read_offset_checkpoint(fs, "/p/ck").value(), m);
    EXPECT_EQ(as_string_view(fs.read_file("/p/ck").value()), "0\n2\na.b-c_d 12 0\norders 0 10\n");
    EXPECT_EQ(read_offset_checkpoint(fs, "/p/missing").error(), make_error_code(errc::not_found));
    for (std::string bad : {"", "1\n0\n", "0\n2\norders 0 10\n", "0\n1\norders x 10\n", "0\n1\norders 0 10",
                            "0\n1\norders 0\n", "garbage"}) {
        ASSERT_TRUE(fs.write_file_atomic("/p/bad", as_bytes(bad)));
        EXPECT_EQ(read_offset_checkpoint(fs, "/p/bad").error(), make_error_code(errc::corrupt)) << bad;
    }
}

TEST_F(index_fixture, partition_dir_names)
{
    topic_partition tp;
    ASSERT_TRUE(parse_partition_dir("my-topic-12", tp));
    EXPECT_EQ(tp.topic, "my-topic");
    EXPECT_EQ(tp.partition, partition_id(12));
    EXPECT_FALSE(parse_partition_dir("topic", tp));
    EXPECT_FALSE(parse_partition_dir("topic-", tp));
    EXPECT_FALSE(parse_partition_dir("topic-x", tp));
    EXPECT_FALSE(parse_partition_dir("-3", tp));
}

TEST_F(index_fixture, leader_epoch_cache_semantics)
{
    leader_epoch_cache c(fs, "/p/leader-epoch-checkpoint");
    EXPECT_FALSE(c.load());
    ASSERT_TRUE(c.assign(leader_epoch(0), offset(0)));
    ASSERT_TRUE(c.assign(leader_epoch(0), offset(5))); // same epoch: ignored
    ASSERT_TRUE(c.assign(leader_epoch(2), offset(10)));
    ASSERT_TRUE(c.assign(leader_epoch(5), offset(20)));
    EXPECT_EQ(c.entries().size(), 3u);
    EXPECT_EQ(c.end_offset_for(leader_epoch(0), offset(30)), (epoch_entry{leader_epoch(0), offset(10)}));
    EXPECT_EQ(c.end_offset_for(leader_epoch(3), offset(30)), (epoch_entry{leader_epoch(2), offset(20)}));
    EXPECT_EQ(c.end_offset_for(leader_epoch(5), offset(30)), (epoch_entry{leader_epoch(5), offset(30)}));

    leader_epoch_cache reread(fs, "/p/leader-epoch-checkpoint");
    ASSERT_TRUE(reread.load());
    EXPECT_EQ(reread.entries(), c.entries());

    ASSERT_TRUE(c.truncate_from_end(offset(20)));
    EXPECT_EQ(c.latest_epoch(), leader_epoch(2));
    ASSERT_TRUE(c.truncate_from_start(offset(12)));
    EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{leader_epoch(2), offset(12)}}));

    ASSERT_TRUE(fs.write_file_atomic("/p/leader-epoch-checkpoint", as_bytes("0\n2\n3 10\n1 20\n")));
    EXPECT_FALSE(reread.load()); // epochs must increase
}

} // namespace
} // namespace samsa::storage
