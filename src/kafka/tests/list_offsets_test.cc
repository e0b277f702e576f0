// ListOffsets: earliest, latest, max timestamp and timestamp lookups refined to the record,
// leader epochs and the errors.
#include "kafka/tests/broker_fixture.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/record_batch_builder.h"
#include "storage/faulty_file_ops.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

namespace samsa::kafka::test {

template<>
struct response_of<protocol::offset_for_leader_epoch_request> {
    using type = protocol::offset_for_leader_epoch_response;
};

namespace {

using partition_response = protocol::list_offsets_response::list_offsets_partition_response;

bytes batch_with_timestamps(const std::vector<int64_t>& timestamps)
{
    protocol::batch_builder b;
    for (auto ts : timestamps) b.add("k", "v" + std::to_string(ts), timestamp_ms(ts));
    return b.build();
}

/// Offsets 0-2 at 1000..1002, 3-4 at 5000 and 2000, 5 at 3000: one batch per call.
void produce_timeline(broker_fixture& f, const std::string& topic = "t")
{
    for (auto& ts : std::vector<std::vector<int64_t>>{{1000, 1001, 1002}, {5000, 2000}, {3000}}) {
        auto r = f.produce(topic, 0, batch_with_timestamps(ts));
        ASSERT_EQ(r.error_code, 0);
    }
}

protocol::list_offsets_request request(int64_t timestamp, int32_t partition = 0, const std::string& topic = "t")
{
    protocol::list_offsets_request req;
    req.replica_id = -1;
    protocol::list_offsets_request::list_offsets_topic t;
    t.name = topic;
    protocol::list_offsets_request::list_offsets_partition p;
    p.partition_index = partition;
    p.timestamp = timestamp;
    p.max_num_offsets = 1;
    t.partitions.push_back(p);
    req.topics.push_back(std::move(t));
    return req;
}

partition_response lookup(broker_fixture& f, const protocol::list_offsets_request& req, int16_t version)
{
    auto resp = f.call(req, version);
    if (resp.topics.size() != 1 || resp.topics[0].partitions.size() != 1) {
        throw std::runtime_error("unexpected list offsets response shape");
    }
    return resp.topics[0].partitions[0];
}

TEST(list_offsets, earliest_and_latest)
{
    broker_fixture f;
    f.create_topic("t");
    produce_timeline(f);
    for (int16_t v : {1, 4, 5, 6, 7}) {
        auto e = lookup(f, request(-2), v);
        EXPECT_EQ(e.error_code, 0);
        EXPECT_EQ(e.offset, 0) << "v" << v;
        EXPECT_EQ(e.timestamp, -1);
        auto l = lookup(f, request(-1), v);
        EXPECT_EQ(l.offset, 6) << "v" << v;
        if (v >= 4) {
            EXPECT_EQ(l.leader_epoch, 0);
        }
    }
    // read_committed: the last stable offset, which is the high watermark without transactions.
    auto req = request(-1);
    req.isolation_level = 1;
    EXPECT_EQ(lookup(f, req, 2).offset, 6);
}

TEST(list_offsets, v0_answers_old_style_offsets)
{
    broker_fixture f;
    f.create_topic("t");
    produce_timeline(f);
    EXPECT_EQ(lookup(f, request(-1), 0).old_style_offsets, std::vector<int64_t>{6});
    EXPECT_EQ(lookup(f, request(-2), 0).old_style_offsets, std::vector<int64_t>{0});
    auto req = request(-1);
    req.topics[0].partitions[0].max_num_offsets = 0;
    auto none = lookup(f, req, 0);
    EXPECT_EQ(none.error_code, 0);
    EXPECT_TRUE(none.old_style_offsets.empty());
    auto unknown = lookup(f, request(-1, 9), 0);
    EXPECT_EQ(unknown.error_code, 3);
    EXPECT_TRUE(unknown.old_style_offsets.empty());
}

TEST(list_offsets, timestamp_lookup_finds_the_record_inside_the_batch)
{
    broker_fixture f;
    f.create_topic("t");
    produce_timeline(f);
    struct expectation {
        int64_t target, offset, timestamp;
    };
    for (int16_t v : {1, 5, 6, 7}) {
        for (auto e : {expectation{0, 0, 1000}, expectation{1001, 1, 1001}, expectation{1002, 2, 1002},
                       expectation{1500, 3, 5000}, expectation{4000, 3, 5000}, expectation{5000, 3, 5000},
                       expectation{5001, -1, -1}}) {
            auto r = lookup(f, request(e.target), v);
            EXPECT_EQ(r.error_code, 0);
            EXPECT_EQ(r.offset, e.offset) << "v" << v << " target " << e.target;
            EXPECT_EQ(r.timestamp, e.timestamp) << "v" << v << " target " << e.target;
            if (v >= 4) {
                EXPECT_EQ(r.leader_epoch, e.offset >= 0 ? 0 : -1);
            }
        }
    }
}

TEST(list_offsets, max_timestamp_across_segments)
{
    broker_fixture f;
    // Every batch rolls a new segment, so the maximum sits in an older segment.
    f.create_topic("t", 1, {{"segment.bytes", "100"}});
    produce_timeline(f);
    ASSERT_GE(f.topics().get("t", 0)->log().segment_count(), 3u);
    auto r = lookup(f, request(-3), 7);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(r.offset, 3);
    EXPECT_EQ(r.timestamp, 5000);
    EXPECT_EQ(r.leader_epoch, 0);
    EXPECT_EQ(lookup(f, request(1001), 7).offset, 1);
    EXPECT_EQ(lookup(f, request(2500), 7).offset, 3);
}

TEST(list_offsets, max_timestamp_of_an_empty_log)
{
    broker_fixture f;
    f.create_topic("t");
    auto r = lookup(f, request(-3), 7);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(r.offset, -1);
    EXPECT_EQ(r.timestamp, -1);
}

TEST(list_offsets, max_timestamp_picks_the_first_record_carrying_it)
{
    broker_fixture f;
    f.create_topic("t");
    ASSERT_EQ(f.produce("t", 0, batch_with_timestamps({10, 90, 40, 90})).error_code, 0);
    auto r = lookup(f, request(-3), 7);
    EXPECT_EQ(r.offset, 1);
    EXPECT_EQ(r.timestamp, 90);
}

TEST(list_offsets, unknown_topic_or_partition)
{
    broker_fixture f;
    f.create_topic("t");
    for (int16_t v : {0, 1, 6, 7}) {
        EXPECT_EQ(lookup(f, request(-1, 1), v).error_code, 3) << "v" << v;
        auto r = lookup(f, request(-1, 0, "nope"), v);
        EXPECT_EQ(r.error_code, 3) << "v" << v;
        if (v >= 1) {
            EXPECT_EQ(r.offset, -1);
        }
    }
}

TEST(list_offsets, duplicate_partitions_are_invalid_from_v1)
{
    broker_fixture f;
    f.create_topic("t");
    auto req = request(-1);
    req.topics[0].partitions.push_back(req.topics[0].partitions[0]);
    for (int16_t v : {1, 7}) {
        auto resp = f.call(req, v);
        ASSERT_EQ(resp.topics.at(0).partitions.size(), 2u);
        for (auto& p : resp.topics[0].partitions) EXPECT_EQ(p.error_code, 42) << "v" << v;
    }
}

TEST(list_offsets, leader_epochs_fencing_and_batch_epochs)
{
    broker_fixture f;
    f.create_topic("t");
    f.produce_values("t", 0, {"old"}, 100);
    // Bump the partition's leader epoch to 3 in the stored metadata, then reopen.
    cluster::topic_record r{*f.topics().find("t"), f.topics().metadata().states_of("t")};
    r.states.at(0).epoch = leader_epoch(3);
    ASSERT_TRUE(f.broker().store.save_topic(r));
    f.restart();
    ASSERT_EQ(f.topics().get("t", 0)->epoch(), leader_epoch(3));
    f.produce_values("t", 0, {"new"}, 200);

    auto latest = lookup(f, request(-1), 7);
    EXPECT_EQ(latest.offset, 2);
    EXPECT_EQ(latest.leader_epoch, 3);
    // Timestamp lookups answer with the epoch of the batch holding the record.
    auto old_batch = lookup(f, request(100), 6);
    EXPECT_EQ(old_batch.offset, 0);
    EXPECT_EQ(old_batch.leader_epoch, 0);
    EXPECT_EQ(lookup(f, request(150), 4).leader_epoch, 3);
    EXPECT_EQ(lookup(f, request(-3), 7).leader_epoch, 3);

    auto req = request(-1);
    req.topics[0].partitions[0].current_leader_epoch = 2;
    EXPECT_EQ(lookup(f, req, 4).error_code, 74); // FENCED_LEADER_EPOCH
    req.topics[0].partitions[0].current_leader_epoch = 4;
    EXPECT_EQ(lookup(f, req, 7).error_code, 75); // UNKNOWN_LEADER_EPOCH
    req.topics[0].partitions[0].current_leader_epoch = 3;
    EXPECT_EQ(lookup(f, req, 7).error_code, 0);
    // Before v4 the field does not exist: nothing to check.
    req.topics[0].partitions[0].current_leader_epoch = 1;
    EXPECT_EQ(lookup(f, req, 3).error_code, 0);
}

TEST(list_offsets, corrupt_batch_is_a_storage_error)
{
    broker_fixture f;
    f.create_topic("t");
    produce_timeline(f);
    // Flip the last byte of every batch on disk: the lookups must read the records and find
    // the CRC wrong.
    auto& l = f.topics().get("t", 0)->log();
    std::string path = l.dir() + "/00000000000000000000.log";
    auto data = storage::posix_file_ops().read_file(path);
    ASSERT_TRUE(data);
    protocol::batch_iterator it(*data);
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    while (auto h = it.next()) {
        size_t last = it.position() - 1;
        uint8_t b = static_cast<uint8_t>((*data)[last] ^ 0xff);
        ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(last)), 1);
    }
    ::close(fd);
    for (int16_t v : {1, 7}) {
        EXPECT_EQ(lookup(f, request(1001), v).error_code, 56) << "v" << v;
        EXPECT_EQ(lookup(f, request(-3), v).error_code, 56) << "v" << v;
        // Earliest and latest need no record.
        EXPECT_EQ(lookup(f, request(-1), v).error_code, 0) << "v" << v;
    }
}

TEST(list_offsets, offline_log_is_a_storage_error)
{
    storage::faulty_file_ops fs(storage::posix_file_ops());
    broker_fixture f({}, &fs);
    f.create_topic("t");
    f.produce_values("t", 0, {"a"});
    storage::faulty_file_ops::fault fault;
    fault.target = storage::faulty_file_ops::op::write;
    fault.path_contains = ".log";
    fault.error = std::make_error_code(std::errc::io_error);
    fs.inject(fault);
    // The failed append takes the log offline.
    EXPECT_EQ(f.produce("t", 0, batch_with_timestamps({1})).error_code, 56);
    fs.clear();
    ASSERT_TRUE(f.topics().get("t", 0)->log().offline());
    for (int16_t v : {0, 7}) {
        EXPECT_EQ(lookup(f, request(-1), v).error_code, 56) << "v" << v;
        EXPECT_EQ(lookup(f, request(-2), v).error_code, 56) << "v" << v;
    }
    protocol::delete_records_request dr;
    dr.topics.push_back({"t", {{0, 1}}});
    EXPECT_EQ(f.call(dr, 2).topics.at(0).partitions.at(0).error_code, 56);
}

} // namespace
} // namespace samsa::kafka::test

namespace samsa::kafka::test {
namespace {

protocol::offset_for_leader_epoch_response::epoch_end_offset end_of_epoch(broker_fixture& f, const std::string& topic,
                                                                          int32_t partition, int32_t epoch,
                                                                          int32_t current_epoch, int16_t version)
{
    protocol::offset_for_leader_epoch_request req;
    req.replica_id = -1;
    protocol::offset_for_leader_epoch_request::offset_for_leader_topic t;
    t.topic = topic;
    protocol::offset_for_leader_epoch_request::offset_for_leader_partition p;
    p.partition = partition;
    p.leader_epoch = epoch;
    p.current_leader_epoch = current_epoch;
    t.partitions.push_back(p);
    req.topics.push_back(std::move(t));
    auto resp = f.call(req, version);
    return resp.topics.at(0).partitions.at(0);
}

TEST(offset_for_leader_epoch, the_current_epoch_ends_at_the_log_end)
{
    broker_fixture f;
    f.create_topic("t");
    produce_timeline(f); // offsets 0-5, all in epoch 0
    for (int16_t v : {0, 2, 4}) {
        auto e = end_of_epoch(f, "t", 0, 0, -1, v);
        EXPECT_EQ(e.error_code, 0) << "v" << v;
        EXPECT_EQ(e.end_offset, 6) << "v" << v;
        if (v >= 1) EXPECT_EQ(e.leader_epoch, 0) << "v" << v;
    }
    // A newer epoch than the log knows: the latest one's end.
    auto newer = end_of_epoch(f, "t", 0, 7, -1, 4);
    EXPECT_EQ(newer.leader_epoch, 0);
    EXPECT_EQ(newer.end_offset, 6);
    // A caller that believes in a later leader epoch than this broker's.
    EXPECT_EQ(end_of_epoch(f, "t", 0, 0, 5, 4).error_code, 75); // UNKNOWN_LEADER_EPOCH
    EXPECT_EQ(end_of_epoch(f, "t", 3, 0, -1, 4).error_code, 3); // UNKNOWN_TOPIC_OR_PARTITION
    EXPECT_EQ(end_of_epoch(f, "nope", 0, 0, -1, 4).error_code, 3);
}

} // namespace
} // namespace samsa::kafka::test
