#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "bytes/varint.h"

#include <gtest/gtest.h>

#include <random>

namespace samsa {
namespace {

TEST(crc32c, known_vectors)
{
    // RFC 3720 B.4 test vectors.
    uint8_t zeros[32] = {};
    EXPECT_EQ(crc32c(zeros, 32), 0x8a9136aau);
    uint8_t ones[32];
    std::memset(ones, 0xff, 32);
    EXPECT_EQ(crc32c(ones, 32), 0x62a8ab43u);
    uint8_t inc[32];
    for (int i = 0; i < 32; ++i) inc[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(crc32c(inc, 32), 0x46dd794eu);
    EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
}

TEST(crc32c, incremental_equals_whole)
{
    std::mt19937 rng(7);
    std::vector<uint8_t> data(10007);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    uint32_t whole = crc32c(data.data(), data.size());
    for (size_t split : {0ul, 1ul, 7ul, 8ul, 4096ul, 10006ul}) {
        uint32_t c = crc32c(data.data(), split);
        c = crc32c(data.data() + split, data.size() - split, c);
        EXPECT_EQ(c, whole) << split;
    }
    // Unaligned starts give the same answer as aligned copies.
    for (size_t off = 1; off < 9; ++off) {
        std::vector<uint8_t> copy(data.begin() + off, data.end());
        EXPECT_EQ(crc32c(data.data() + off, data.size() - off), crc32c(copy.data(), copy.size()));
    }
}

TEST(crc32_ieee, known_vector) { EXPECT_EQ(crc32_ieee("123456789", 9), 0xcbf43926u); }

TEST(varint, zigzag_round_trip)
{
    for (int64_t v : {0L, 1L, -1L, 63L, -64L, 64L, 300L, -300L, INT32_MAX * 1L, INT32_MIN * 1L, INT64_MAX, INT64_MIN}) {
        uint8_t buf[varint::max_len64];
        auto n = varint::put_signed(buf, v);
        EXPECT_EQ(n, varint::signed_size(v));
        auto d = varint::get_varlong(bytes_view(buf, n));
        ASSERT_TRUE(d);
        EXPECT_EQ(d->value, v);
        EXPECT_EQ(d->length, n);
    }
    EXPECT_EQ(varint::zigzag_encode(-1), 1u);
    EXPECT_EQ(varint::zigzag_encode(1), 2u);
}

TEST(varint, truncated_and_overlong_inputs_fail)
{
    uint8_t buf[varint::max_len64];
    auto n = varint::put_signed(buf, INT64_MIN);
    for (size_t cut = 0; cut < n; ++cut) EXPECT_FALSE(varint::get_varlong(bytes_view(buf, cut)));
    uint8_t overlong[11];
    std::memset(overlong, 0x80, sizeof overlong);
    EXPECT_FALSE(varint::get_varlong(bytes_view(overlong, 11)));
    // A 32-bit varint longer than 5 bytes, or with a value above 32 bits, is rejected.
    uint8_t big[6] = {0xff, 0xff, 0xff, 0xff, 0x7f, 0};
    EXPECT_FALSE(varint::get_varint(bytes_view(big, 5)));
}

TEST(endian, big_endian_load_store)
{
    uint8_t buf[8];
    be::store<int32_t>(buf, 0x01020304);
    EXPECT_EQ(buf[0], 1);
    EXPECT_EQ(buf[3], 4);
    EXPECT_EQ(be::load<int32_t>(buf), 0x01020304);
    be::store<int64_t>(buf, -2);
    EXPECT_EQ(be::load<int64_t>(buf), -2);
    be::store<uint16_t>(buf, 0xabcd);
    EXPECT_EQ(be::load<uint16_t>(buf), 0xabcd);
}

} // namespace
} // namespace samsa
