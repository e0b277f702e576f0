#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"

#include <gtest/gtest.h>

namespace samsa::protocol {
namespace {

bytes sample_batch(int n = 3)
{
    batch_builder b;
    for (int i = 0; i < n; ++i) b.add("k" + std::to_string(i), "value-" + std::to_string(i), timestamp_ms(1000 + i));
    return b.build();
}

TEST(record_batch, built_batch_validates)
{
    auto b = sample_batch();
    auto h = validate_batch(b);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->record_count, 3);
    EXPECT_EQ(h->last_offset_delta, 2);
    EXPECT_EQ(h->base_timestamp, timestamp_ms(1000));
    EXPECT_EQ(h->max_timestamp, timestamp_ms(1002));
    EXPECT_EQ(h->size_bytes(), b.size());
}

TEST(record_batch, offset_and_epoch_edits_keep_crc)
{
    auto b = sample_batch();
    set_base_offset(b, offset(42));
    set_partition_leader_epoch(b, leader_epoch(7));
    auto h = validate_batch(b);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->base_offset, offset(42));
    EXPECT_EQ(h->partition_leader_epoch, leader_epoch(7));
    EXPECT_EQ(h->last_offset(), offset(44));
}

TEST(record_batch, log_append_time_recomputes_crc)
{
    auto b = sample_batch();
    set_log_append_time(b, timestamp_ms(99999));
    auto h = validate_batch(b);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->ts_type(), timestamp_type::log_append_time);
    EXPECT_EQ(h->max_timestamp, timestamp_ms(99999));
}

TEST(record_batch, every_truncation_is_detected)
{
    auto b = sample_batch();
    for (size_t cut = 0; cut < b.size(); ++cut) {
        auto h = validate_batch(bytes_view(b).first(cut));
        EXPECT_FALSE(h) << cut;
    }
}

TEST(record_batch, crc_covered_bit_flips_are_detected)
{
    auto b = sample_batch();
    for (size_t i = batch_layout::attributes; i < b.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto c = b;
            c[i] ^= static_cast<uint8_t>(1 << bit);
            EXPECT_EQ(validate_batch(c).error(), make_error_code(batch_errc::crc_mismatch)) << i << ":" << bit;
        }
    }
}

TEST(record_batch, bad_magic_and_length)
{
    auto b = sample_batch();
    auto c = b;
    c[batch_layout::magic] = 1;
    EXPECT_EQ(validate_batch(c).error(), make_error_code(batch_errc::unsupported_magic));
    c = b;
    c[batch_layout::batch_length + 3] = 3; // length 3 < header
    c[batch_layout::batch_length + 2] = 0;
    c[batch_layout::batch_length + 1] = 0;
    c[batch_layout::batch_length] = 0;
    EXPECT_EQ(validate_batch(c).error(), make_error_code(batch_errc::invalid_length));
    EXPECT_EQ(validate_batch(b, 10).error(), make_error_code(batch_errc::invalid_length));
}

TEST(record_batch, framed_header_checks_length_and_presence_only)
{
    auto b = sample_batch();
    auto h = read_framed_header(b);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->size_bytes(), b.size());
    auto c = b;
    c[batch_layout::crc] ^= 0xff; // not its business: the caller checked the CRC
    EXPECT_TRUE(read_framed_header(c));
    EXPECT_EQ(read_framed_header(bytes_view(b).first(b.size() - 1)).error(), make_error_code(batch_errc::truncated));
    EXPECT_EQ(read_framed_header(bytes_view(b).first(20)).error(), make_error_code(batch_errc::truncated));
    c = b;
    c[batch_layout::batch_length] = 0;
    c[batch_layout::batch_length + 1] = 0;
    c[batch_layout::batch_length + 2] = 0;
    c[batch_layout::batch_length + 3] = 3; // length 3 < header
    EXPECT_EQ(read_framed_header(c).error(), make_error_code(batch_errc::invalid_length));
    c[batch_layout::batch_length] = 0x80; // negative
    EXPECT_EQ(read_framed_header(c).error(), make_error_code(batch_errc::invalid_length));
}

TEST(record_batch, iterator_walks_concatenated_batches_and_stops_at_garbage)
{
    bytes all;
    for (int i = 0; i < 4; ++i) {
        auto b = sample_batch(i + 1);
        all.insert(all.end(), b.begin(), b.end());
    }
    size_t valid_len = all.size();
    all.push_back(0);
    all.push_back(1);
    batch_iterator it(all);
    int n = 0;
    while (auto h = it.next()) {
        EXPECT_EQ(h->record_count, n + 1);
        ++n;
    }
    EXPECT_EQ(n, 4);
    EXPECT_EQ(it.position(), valid_len);
    EXPECT_EQ(it.error(), make_error_code(batch_errc::truncated));
}

} // namespace
} // namespace samsa::protocol
