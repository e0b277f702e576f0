// Disk full and I/O errors as produce and fetch see them: KAFKA_STORAGE_ERROR, nothing
// acknowledged that was not written, written data still readable, recovery when space returns.
#include "kafka/tests/broker_fixture.h"
#include "protocol/record_batch_builder.h"
#include "storage/errc.h"
#include "storage/faulty_file_ops.h"

#include <gtest/gtest.h>

namespace samsa::kafka::test {
namespace {

constexpr int16_t storage_error = 56;

bytes batch_of(int n, size_t value_bytes = 200)
{
    protocol::batch_builder b;
    b.add("key-" + std::to_string(n), std::string(value_bytes, static_cast<char>('a' + n % 26)), timestamp_ms(1000 + n));
    return b.build();
}

std::vector<fetched_record> fetch_all(broker_fixture& f, const std::string& topic)
{
    std::vector<fetched_record> out;
    int64_t next = 0;
    for (;;) {
        auto resp = f.call(broker_fixture::fetch_request(topic, 0, next, 1 << 20), 12);
        auto& p = resp.responses.at(0).partitions.at(0);
        EXPECT_EQ(p.error_code, 0);
        auto recs = decode_records(p.records.to_bytes());
        if (recs.empty()) break;
        for (auto& r : recs) {
            if (r.offset >= next) out.push_back(r);
        }
        next = out.back().offset + 1;
    }
    return out;
}

TEST(storage_errors, fsync_failure_is_never_followed_by_an_acknowledgement)
{
    storage::faulty_file_ops fs(storage::posix_file_ops());
    broker_fixture f({}, &fs);
    f.create_topic("t", 1, {{"flush.messages", "1"}});
    ASSERT_EQ(f.produce("t", 0, batch_of(0)).error_code, 0);
    storage::faulty_file_ops::fault fault;
    fault.target = storage::faulty_file_ops::op::sync;
    fault.path_contains = ".log";
    fault.error = storage::make_error_code(storage::errc::io_error);
    fs.inject(fault);
    // The batch reached the page cache but its fsync failed: it is not acknowledged.
    EXPECT_EQ(f.produce("t", 0, batch_of(1)).error_code, storage_error);
    fs.clear();
    // Nor is anything after it, even though fsync would work again.
    EXPECT_EQ(f.produce("t", 0, batch_of(2)).error_code, storage_error);
    f.logs().tick();
    EXPECT_EQ(f.produce("t", 0, batch_of(3)).error_code, storage_error);
    // What was acknowledged is readable.
    auto recs = fetch_all(f, "t");
    ASSERT_GE(recs.size(), 1u);
    EXPECT_EQ(recs[0].key, "key-0");
}

TEST(storage_errors, disk_full_refuses_writes_keeps_reads_and_recovers)
{
    storage::faulty_file_ops fs(storage::posix_file_ops());
    broker_fixture f({}, &fs);
    f.create_topic("t");
    f.create_topic("u");
    std::vector<int> acked;
    fs.set_space_limit(20'000, f.log_dir());
    int n = 0;
    for (; n < 1000; ++n) {
        auto r = f.produce("t", 0, batch_of(n));
        if (r.error_code != 0) {
            EXPECT_EQ(r.error_code, storage_error);
            break;
        }
        acked.push_back(n);
    }
    ASSERT_LT(n, 1000);
    ASSERT_GT(acked.size(), 10u);
    f.logs().tick(); // the directory goes offline: every log in it refuses writes
    EXPECT_TRUE(f.logs().dir_offline(f.log_dir()));
    EXPECT_EQ(f.produce("u", 0, batch_of(0)).error_code, storage_error);
    auto recs = fetch_all(f, "t");
    ASSERT_EQ(recs.size(), acked.size());
    for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].key, "key-" + std::to_string(acked[i]));
    // Space is freed: the next check brings the directory back, writes resume.
    fs.set_space_limit(UINT64_MAX, f.log_dir());
    f.logs().tick();
    EXPECT_FALSE(f.logs().dir_offline(f.log_dir()));
    auto resumed = f.produce("t", 0, batch_of(n));
    ASSERT_EQ(resumed.error_code, 0);
    EXPECT_EQ(resumed.base_offset, static_cast<int64_t>(acked.size()));
    EXPECT_EQ(f.produce("u", 0, batch_of(0)).error_code, 0);
    f.restart();
    EXPECT_EQ(fetch_all(f, "t").size(), acked.size() + 1);
}

} // namespace
} // namespace samsa::kafka::test

namespace samsa::kafka::test {
namespace {

TEST(topic_compression, broker_recompresses_to_the_topic_codec)
{
    broker_fixture f;
    f.create_topic("z", 1, {{"compression.type", "zstd"}});
    f.create_topic("p", 1);
    for (auto codec : {protocol::compression_type::none, protocol::compression_type::gzip,
                       protocol::compression_type::lz4}) {
        protocol::batch_builder::options o;
        o.compression = codec;
        protocol::batch_builder b(o);
        for (int i = 0; i < 5; ++i) b.add("k" + std::to_string(i), std::string(100, 'v'), timestamp_ms(1000 + i));
        auto batch = b.build();
        ASSERT_EQ(f.produce("z", 0, batch).error_code, 0);
        ASSERT_EQ(f.produce("p", 0, batch).error_code, 0);
    }
    auto stored_codecs = [&](const std::string& topic) {
        std::vector<protocol::compression_type> out;
        auto resp = f.call(broker_fixture::fetch_request(topic, 0, 0, 1 << 20), 12);
        auto data = resp.responses.at(0).partitions.at(0).records.to_bytes();
        protocol::batch_iterator it(data);
        while (auto h = it.next()) out.push_back(h->compression());
        EXPECT_EQ(decode_records(data).size(), 15u);
        return out;
    };
    using ct = protocol::compression_type;
    EXPECT_EQ(stored_codecs("z"), (std::vector<ct>{ct::zstd, ct::zstd, ct::zstd}));
    EXPECT_EQ(stored_codecs("p"), (std::vector<ct>{ct::none, ct::gzip, ct::lz4}));
}

} // namespace
} // namespace samsa::kafka::test
