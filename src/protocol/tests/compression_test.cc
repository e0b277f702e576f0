#include "bytes/endian.h"
#include "protocol/compression.h"

#include <gtest/gtest.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>

#include <atomic>
#include <random>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, size_t),
                                                         void (*free_hook)(const volatile void*));
#endif

namespace samsa::protocol {
namespace {

constexpr compression_type all_codecs[] = {compression_type::none, compression_type::gzip, compression_type::snappy,
                                           compression_type::lz4, compression_type::zstd};
constexpr compression_type real_codecs[] = {compression_type::gzip, compression_type::snappy, compression_type::lz4,
                                            compression_type::zstd};

bytes text(size_t n)
{
    bytes out;
    out.reserve(n);
    for (size_t i = 0; out.size() < n; ++i) {
        auto line = "record " + std::to_string(i) + " of a fairly repetitive payload\n";
        out.insert(out.end(), line.begin(), line.end());
    }
    out.resize(n);
    return out;
}

bytes random_bytes(size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    bytes out(n);
    for (auto& b : out) b = static_cast<uint8_t>(rng());
    return out;
}

bytes round_trip(compression_type c, const bytes& in)
{
    auto z = compress(c, in);
    EXPECT_TRUE(z) << to_string(c);
    if (!z) return {};
    auto back = decompress(c, *z, in.size());
    EXPECT_TRUE(back) << to_string(c) << ": " << back.error().message();
    return back ? *back : bytes{};
}

TEST(compression, round_trip_every_codec)
{
    std::vector<bytes> inputs = {bytes{}, to_bytes("hello"), text(1 << 20), random_bytes(300 * 1024, 7)};
    for (auto c : all_codecs) {
        for (auto& in : inputs) EXPECT_EQ(round_trip(c, in), in) << to_string(c) << " size " << in.size();
    }
}

TEST(compression, compressed_output_is_smaller_for_text)
{
    auto in = text(256 * 1024);
    for (auto c : real_codecs) {
        auto z = compress(c, in);
        ASSERT_TRUE(z);
        EXPECT_LT(z->size(), in.size() / 4) << to_string(c);
    }
}

TEST(compression, limit_is_inclusive)
{
    auto in = text(100000);
    for (auto c : all_codecs) {
        auto z = compress(c, in);
        ASSERT_TRUE(z);
        auto exact = decompress(c, *z, in.size());
        ASSERT_TRUE(exact) << to_string(c);
        EXPECT_EQ(*exact, in);
        EXPECT_EQ(decompress(c, *z, in.size() - 1).error(), make_error_code(batch_errc::decompressed_too_large)) << to_string(c);
        EXPECT_EQ(decompress(c, *z, 0).error(), make_error_code(batch_errc::decompressed_too_large)) << to_string(c);
    }
}

// ---- bounded decompression of a "zip bomb" ------------------------------------------------

#if defined(__SANITIZE_ADDRESS__)
std::atomic<bool> tracking{false};
std::atomic<size_t> largest_allocation{0};

void on_malloc(const volatile void*, size_t n)
{
    if (!tracking.load(std::memory_order_relaxed)) return;
    size_t cur = largest_allocation.load(std::memory_order_relaxed);
    while (n > cur && !largest_allocation.compare_exchange_weak(cur, n)) {}
}
void on_free(const volatile void*) {}
bool install_hooks()
{
    static bool installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
    return installed;
}
#endif

/// The largest single allocation made while running `f`, when the sanitizer runtime lets us
/// see allocations; nullopt otherwise.
template<typename F>
std::optional<size_t> largest_allocation_during(F&& f)
{
#if defined(__SANITIZE_ADDRESS__)
    bool hooked = install_hooks();
    largest_allocation = 0;
    tracking = true;
    f();
    tracking = false;
    if (hooked) return largest_allocation.load();
    return std::nullopt;
#else
    f();
    return std::nullopt;
#endif
}

const bytes& zeros_64mib()
{
    static const bytes z(size_t{64} << 20, 0);
    return z;
}

bytes xerial_frame(const std::vector<bytes>& blocks)
{
    bytes out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    for (auto& b : blocks) {
        auto z = compress(compression_type::snappy, b);
        uint8_t len[4];
        be::store<int32_t>(len, static_cast<int32_t>(z->size()));
        out.insert(out.end(), len, len + 4);
        out.insert(out.end(), z->begin(), z->end());
    }
    return out;
}

void expect_bomb_rejected(compression_type c, const bytes& bomb, const std::string& what)
{
    constexpr size_t limit = size_t{1} << 20;
    result<bytes> r = bytes{};
    auto peak = largest_allocation_during([&] { r = decompress(c, bomb, limit); });
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error(), make_error_code(batch_errc::decompressed_too_large)) << what;
    if (peak) {
        EXPECT_LT(*peak, 4 * limit) << what << ": allocated " << *peak << " bytes at once";
    }
}

TEST(compression, zip_bomb_is_rejected_without_allocating_its_size)
{
    for (auto c : real_codecs) {
        auto bomb = compress(c, zeros_64mib());
        ASSERT_TRUE(bomb);
        ASSERT_LT(bomb->size(), size_t{4} << 20) << to_string(c);
        expect_bomb_rejected(c, *bomb, to_string(c));
    }
    // snappy-java's framing: many small blocks that add up to 64 MiB.
    bytes block(64 * 1024, 0);
    expect_bomb_rejected(compression_type::snappy, xerial_frame(std::vector<bytes>(1024, block)), "xerial");
}

TEST(compression, decompression_stops_as_soon_as_the_output_passes_the_limit)
{
    // 64 MiB of zeros in 16 frames (members, xerial blocks), then garbage. A decoder that
    // inflated everything before checking the size would reach the garbage and report
    // decompression_failed; stopping at the limit reports decompressed_too_large, and the
    // garbage is never read.
    const bytes garbage = {0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x42, 0x17, 0x99, 0x01};
    bytes chunk(size_t{4} << 20, 0);
    for (auto c : {compression_type::gzip, compression_type::lz4, compression_type::zstd}) {
        auto z = compress(c, chunk).value();
        bytes bomb;
        for (int i = 0; i < 16; ++i) bomb.insert(bomb.end(), z.begin(), z.end());
        bomb.insert(bomb.end(), garbage.begin(), garbage.end());
        for (size_t limit : {size_t{0}, size_t{1} << 20, (size_t{4} << 20) + 1, size_t{63} << 20}) {
            EXPECT_EQ(decompress(c, bomb, limit).error(), make_error_code(batch_errc::decompressed_too_large))
                << to_string(c) << " limit " << limit;
        }
        // With room for everything the garbage is reached: the same input is invalid.
        EXPECT_EQ(decompress(c, bomb, size_t{65} << 20).error(), make_error_code(batch_errc::decompression_failed))
            << to_string(c);
    }
    auto xerial = xerial_frame(std::vector<bytes>(16, chunk));
    xerial.insert(xerial.end(), {0, 0, 0, 8}); // a block of 8 bytes that is not snappy
    xerial.insert(xerial.end(), garbage.begin(), garbage.begin() + 8);
    EXPECT_EQ(decompress(compression_type::snappy, xerial, size_t{1} << 20).error(),
              make_error_code(batch_errc::decompressed_too_large));
    EXPECT_EQ(decompress(compression_type::snappy, xerial, size_t{65} << 20).error(),
              make_error_code(batch_errc::decompression_failed));
}

// ---- framings other producers use -------------------------------------------------------

TEST(compression, snappy_accepts_xerial_framing)
{
    auto in = text(100000);
    std::vector<bytes> blocks;
    for (size_t i = 0; i < in.size(); i += 32 * 1024) {
        blocks.emplace_back(in.begin() + static_cast<ptrdiff_t>(i), in.begin() + static_cast<ptrdiff_t>(std::min(in.size(), i + 32 * 1024)));
    }
    auto framed = xerial_frame(blocks);
    auto out = decompress(compression_type::snappy, framed, in.size());
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(*out, in);
    EXPECT_EQ(decompress(compression_type::snappy, xerial_frame({}), 10).value(), bytes{});
    // A block length that runs past the end, and a torn length field.
    auto bad = framed;
    be::store<int32_t>(bad.data() + 16, 1 << 30);
    EXPECT_EQ(decompress(compression_type::snappy, bad, in.size()).error(), make_error_code(batch_errc::decompression_failed));
    bad = framed;
    bad.resize(18);
    EXPECT_EQ(decompress(compression_type::snappy, bad, in.size()).error(), make_error_code(batch_errc::decompression_failed));
}

TEST(compression, gzip_accepts_concatenated_members_and_zlib_streams)
{
    auto a = text(5000);
    auto b = to_bytes("second member");
    auto za = compress(compression_type::gzip, a).value();
    auto zb = compress(compression_type::gzip, b).value();
    bytes both = za;
    both.insert(both.end(), zb.begin(), zb.end());
    auto out = decompress(compression_type::gzip, both, 1 << 20);
    ASSERT_TRUE(out);
    bytes expected = a;
    expected.insert(expected.end(), b.begin(), b.end());
    EXPECT_EQ(*out, expected);

    uLongf n = compressBound(static_cast<uLong>(a.size()));
    bytes zlib_stream(n);
    ASSERT_EQ(compress2(zlib_stream.data(), &n, a.data(), static_cast<uLong>(a.size()), 6), Z_OK);
    zlib_stream.resize(n);
    EXPECT_EQ(decompress(compression_type::gzip, zlib_stream, 1 << 20).value(), a);
}

bytes lz4_frame_with(const bytes& in, LZ4F_blockMode_t mode, bool content_size, bool content_checksum, bool block_checksum)
{
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = mode;
    prefs.frameInfo.contentSize = content_size ? in.size() : 0;
    prefs.frameInfo.contentChecksumFlag = content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag = block_checksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
    bytes out(LZ4F_compressFrameBound(in.size(), &prefs));
    size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
    EXPECT_FALSE(LZ4F_isError(n));
    out.resize(n);
    return out;
}

TEST(compression, lz4_accepts_every_frame_option)
{
    auto in = text(200000);
    for (auto mode : {LZ4F_blockLinked, LZ4F_blockIndependent}) {
        for (int flags = 0; flags < 8; ++flags) {
            auto frame = lz4_frame_with(in, mode, flags & 1, flags & 2, flags & 4);
            auto out = decompress(compression_type::lz4, frame, in.size());
            ASSERT_TRUE(out) << mode << "/" << flags;
            EXPECT_EQ(*out, in);
        }
    }
    // With a content checksum, corruption of the data is caught.
    auto frame = lz4_frame_with(in, LZ4F_blockIndependent, false, true, false);
    frame[frame.size() / 2] ^= 0x40;
    EXPECT_FALSE(decompress(compression_type::lz4, frame, in.size()));
}

TEST(compression, lz4_header_checksum_flavours)
{
    auto in = text(1000);
    auto frame = compress(compression_type::lz4, in).value();
    auto original = frame;
    // Re-stamping the standard checksum is a no-op on a frame we wrote.
    ASSERT_TRUE(set_lz4_header_checksum(frame, lz4_header_checksum::standard));
    EXPECT_EQ(frame, original);
    ASSERT_TRUE(set_lz4_header_checksum(frame, lz4_header_checksum::kafka_legacy));
    EXPECT_NE(frame, original);
    EXPECT_EQ(decompress(compression_type::lz4, frame, in.size()).error(), make_error_code(batch_errc::decompression_failed));
    ASSERT_TRUE(set_lz4_header_checksum(frame, lz4_header_checksum::standard));
    EXPECT_EQ(frame, original);
    bytes junk = to_bytes("not an lz4 frame");
    EXPECT_FALSE(set_lz4_header_checksum(junk, lz4_header_checksum::standard));
    bytes tiny = {0x04, 0x22, 0x4d, 0x18, 0x60};
    EXPECT_FALSE(set_lz4_header_checksum(tiny, lz4_header_checksum::standard));
}

TEST(compression, xxh32_matches_reference_values)
{
    EXPECT_EQ(xxh32(bytes_view{}), 0x02cc5d05u);
    EXPECT_EQ(xxh32(as_bytes("a")), 0x550d7456u);
    EXPECT_EQ(xxh32(as_bytes("abc")), 0x32d153ffu);
    EXPECT_EQ(xxh32(as_bytes("Nobody inspects the spammish repetition")), 0xe2293b2fu);
    EXPECT_EQ(xxh32(as_bytes("Nobody inspects the spammish repetition"), 0x9747b28c), 0x70b91719u);
    bytes seq(100);
    for (size_t i = 0; i < seq.size(); ++i) seq[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(xxh32(seq), 0x7f89ba44u);
    EXPECT_EQ(xxh32(seq, 0x9747b28c), 0x6bcb75c0u);
}

// ---- corrupt input ----------------------------------------------------------------------

TEST(compression, every_truncation_fails_cleanly)
{
    auto in = text(3000);
    for (auto c : real_codecs) {
        auto z = compress(c, in).value();
        for (size_t cut = 0; cut < z.size(); ++cut) {
            auto r = decompress(c, bytes_view(z).first(cut), 1 << 20);
            ASSERT_FALSE(r) << to_string(c) << " cut at " << cut;
            EXPECT_EQ(r.error(), make_error_code(batch_errc::decompression_failed)) << to_string(c) << " cut at " << cut;
        }
    }
}

TEST(compression, garbage_fails_cleanly)
{
    for (auto c : real_codecs) {
        for (uint32_t seed = 1; seed <= 50; ++seed) {
            auto junk = random_bytes(1 + seed * 37, seed);
            auto r = decompress(c, junk, 1 << 20);
            // Raw snappy has no checksum: a random buffer can decode. It must then respect the limit.
            if (r) {
                EXPECT_EQ(c, compression_type::snappy) << seed;
                EXPECT_LE(r->size(), size_t{1} << 20);
            } else {
                EXPECT_TRUE(r.error() == make_error_code(batch_errc::decompression_failed) ||
                            r.error() == make_error_code(batch_errc::decompressed_too_large))
                    << to_string(c) << " " << seed << ": " << r.error().message();
            }
        }
    }
}

TEST(compression, gzip_detects_every_bit_flip_in_the_body)
{
    auto in = text(2000);
    auto z = compress(compression_type::gzip, in).value();
    // Skip the 10-byte header (mtime, flags and OS byte are not checked by anyone).
    for (size_t i = 10; i < z.size(); ++i) {
        auto bad = z;
        bad[i] ^= 0x01;
        auto r = decompress(compression_type::gzip, bad, 1 << 20);
        EXPECT_FALSE(r && *r == in) << "flip at " << i;
    }
}

TEST(compression, trailing_garbage_after_a_frame_fails)
{
    auto in = text(1000);
    for (auto c : {compression_type::gzip, compression_type::lz4, compression_type::zstd}) {
        auto z = compress(c, in).value();
        z.push_back(0x42);
        z.push_back(0x17);
        EXPECT_EQ(decompress(c, z, 1 << 20).error(), make_error_code(batch_errc::decompression_failed)) << to_string(c);
    }
}

TEST(compression, unknown_codec_is_unsupported)
{
    auto c = static_cast<compression_type>(5);
    EXPECT_EQ(compress(c, to_bytes("x")).error(), make_error_code(batch_errc::unsupported_compression));
    EXPECT_EQ(decompress(c, to_bytes("x"), 10).error(), make_error_code(batch_errc::unsupported_compression));
}

} // namespace
} // namespace samsa::protocol
