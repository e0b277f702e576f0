#include "protocol/compression.h"

#include "bytes/endian.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <memory>

namespace samsa::protocol {
namespace {

std::error_code failed() { return make_error_code(batch_errc::decompression_failed); }
std::error_code too_large() { return make_error_code(batch_errc::decompressed_too_large); }

/// The output of a bounded decompression. Codecs write straight into space(); the buffer
/// doubles from a first guess and is never larger than max_output + 1 bytes, the extra byte
/// being how an overflow is noticed.
class bounded_output {
public:
    bounded_output(size_t max_output, size_t first_guess) : _max(max_output), _first(std::max<size_t>(first_guess, 4096)) {}

    /// Room to write into; empty once max_output + 1 bytes are held.
    mutable_bytes_view space()
    {
        if (_len == _buf.size()) grow_to(std::max(_first, _buf.size() * 2));
        return mutable_bytes_view(_buf).subspan(_len);
    }
    /// Room for exactly `n` more bytes, or empty when that would pass max_output.
    mutable_bytes_view space_for(size_t n)
    {
        if (n > _max - _len) return {};
        if (_len + n > _buf.size()) grow_to(std::max(_len + n, _buf.size() * 2));
        return mutable_bytes_view(_buf).subspan(_len, n);
    }
    void commit(size_t n) { _len += n; }
    bool over() const { return _len > _max; }
    bytes take()
    {
        _buf.resize(_len);
        return std::move(_buf);
    }

private:
    void grow_to(size_t n)
    {
        size_t target = std::min(n, _max == SIZE_MAX ? _max : _max + 1);
        if (target > _buf.capacity()) _buf.reserve(target); // exact, unlike resize()'s doubling
        _buf.resize(target);
    }

    size_t _max;
    size_t _first;
    size_t _len = 0;
    bytes _buf;
};

size_t first_guess(bytes_view in) { return in.size() > SIZE_MAX / 4 ? in.size() : in.size() * 4; }

// ---- gzip -------------------------------------------------------------------------------

result<bytes> gzip_compress(bytes_view in)
{
    if (in.size() > UINT_MAX) return make_error_code(batch_errc::invalid_length);
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return failed();
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
    bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return failed();
    out.resize(zs.total_out);
    return out;
}

result<bytes> gzip_decompress(bytes_view in, size_t max_output)
{
    if (in.empty() || in.size() > UINT_MAX) return failed();
    z_stream zs{};
    // 15 + 32: a 32 KiB window and automatic detection of the gzip or zlib wrapper.
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return failed();
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    bounded_output out(max_output, first_guess(in));
    for (;;) {
        auto room = out.space();
        if (room.empty()) return too_large();
        zs.next_out = room.data();
        zs.avail_out = static_cast<uInt>(std::min<size_t>(room.size(), UINT_MAX));
        uInt offered = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        out.commit(offered - zs.avail_out);
        if (out.over()) return too_large();
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0) return out.take();
            if (inflateReset(&zs) != Z_OK) return failed(); // another gzip member follows
            continue;
        }
        if (rc != Z_OK) return failed();
        if (zs.avail_in == 0 && zs.avail_out != 0) return failed(); // the input ends mid-stream
    }
}

// ---- snappy -----------------------------------------------------------------------------

constexpr uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_size = 16;

bool is_xerial(bytes_view in)
{
    return in.size() >= xerial_header_size && std::memcmp(in.data(), xerial_magic, sizeof(xerial_magic)) == 0;
}

result<bytes> snappy_compress(bytes_view in)
{
    bytes out(snappy::MaxCompressedLength(in.size()));
    size_t n = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(), reinterpret_cast<char*>(out.data()), &n);
    out.resize(n);
    return out;
}

/// Uncompresses one raw snappy block into `out`, checking its declared size first.
result<void> snappy_block(bytes_view block, bounded_output& out)
{
    auto src = reinterpret_cast<const char*>(block.data());
    size_t n = 0;
    if (!snappy::GetUncompressedLength(src, block.size(), &n)) return failed();
    auto room = out.space_for(n);
    if (room.size() != n) return too_large();
    if (!snappy::RawUncompress(src, block.size(), reinterpret_cast<char*>(room.data()))) return failed();
    out.commit(n);
    return ok();
}

result<bytes> snappy_decompress(bytes_view in, size_t max_output)
{
    if (in.empty()) return failed();
    bounded_output out(max_output, 0);
    if (!is_xerial(in)) {
        SAMSA_TRY(snappy_block(in, out));
        return out.take();
    }
    auto rest = in.subspan(xerial_header_size);
    while (!rest.empty()) {
        if (rest.size() < 4) return failed();
        int32_t len = be::load<int32_t>(rest.data());
        if (len < 0 || static_cast<size_t>(len) > rest.size() - 4) return failed();
        SAMSA_TRY(snappy_block(rest.subspan(4, static_cast<size_t>(len)), out));
        rest = rest.subspan(4 + static_cast<size_t>(len));
    }
    return out.take();
}

// ---- lz4 --------------------------------------------------------------------------------

result<bytes> lz4_compress(bytes_view in)
{
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    bytes out(LZ4F_compressFrameBound(in.size(), &prefs));
    size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
    if (LZ4F_isError(n)) return failed();
    out.resize(n);
    return out;
}

result<bytes> lz4_decompress(bytes_view in, size_t max_output)
{
    if (in.empty()) return failed();
    LZ4F_dctx* raw = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) return failed();
    std::unique_ptr<LZ4F_dctx, size_t (*)(LZ4F_dctx*)> ctx(raw, LZ4F_freeDecompressionContext);
    bounded_output out(max_output, first_guess(in));
    size_t pos = 0;
    size_t hint = 1; // 0 once a frame is complete and flushed
    while (pos < in.size() || hint != 0) {
        auto room = out.space();
        if (room.empty()) return too_large();
        size_t dst = room.size();
        size_t src = in.size() - pos;
        hint = LZ4F_decompress(ctx.get(), room.data(), &dst, in.data() + pos, &src, nullptr);
        if (LZ4F_isError(hint)) return failed();
        pos += src;
        out.commit(dst);
        if (out.over()) return too_large();
        if (src == 0 && dst == 0) return failed(); // no progress: the frame is cut short
    }
    return out.take();
}

constexpr uint32_t lz4_frame_magic = 0x184D2204;

/// The size of the LZ4 frame header at the start of `f` up to (not including) the header
/// checksum byte, or 0 if `f` does not start with one.
size_t lz4_header_length(bytes_view f)
{
    if (f.size() < 7) return 0;
    uint32_t magic = static_cast<uint32_t>(f[0]) | static_cast<uint32_t>(f[1]) << 8 | static_cast<uint32_t>(f[2]) << 16 |
                     static_cast<uint32_t>(f[3]) << 24;
    if (magic != lz4_frame_magic) return 0;
    uint8_t flg = f[4];
    size_t len = 6 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
    return f.size() > len ? len : 0;
}

// ---- zstd -------------------------------------------------------------------------------

result<bytes> zstd_compress(bytes_view in)
{
    bytes out(ZSTD_compressBound(in.size()));
    size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n)) return failed();
    out.resize(n);
    return out;
}

/// The largest window a frame may ask for: enough for any level up to 19 (8 MiB), more only
/// when the caller allows that much output anyway, and never more than zstd's default limit.
constexpr int zstd_default_window_log_limit = 27; // zstd's own default (128 MiB)

int zstd_window_log_max(size_t max_output)
{
    int log = 23;
    while (log < zstd_default_window_log_limit && (size_t{1} << log) < max_output) ++log;
    return log;
}

result<bytes> zstd_decompress(bytes_view in, size_t max_output)
{
    if (in.empty()) return failed();
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!ctx) return failed();
    if (ZSTD_isError(ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, zstd_window_log_max(max_output)))) return failed();
    bounded_output out(max_output, first_guess(in));
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    size_t hint = 1; // 0 once a frame is complete and flushed
    while (src.pos < src.size || hint != 0) {
        auto room = out.space();
        if (room.empty()) return too_large();
        ZSTD_outBuffer dst{room.data(), room.size(), 0};
        size_t before = src.pos;
        hint = ZSTD_decompressStream(ctx.get(), &dst, &src);
        if (ZSTD_isError(hint)) return failed();
        out.commit(dst.pos);
        if (out.over()) return too_large();
        if (src.pos == before && dst.pos == 0) return failed(); // no progress: the frame is cut short
    }
    return out.take();
}

constexpr uint32_t xxh_p1 = 2654435761U;
constexpr uint32_t xxh_p2 = 2246822519U;
constexpr uint32_t xxh_p3 = 3266489917U;
constexpr uint32_t xxh_p4 = 668265263U;
constexpr uint32_t xxh_p5 = 374761393U;

uint32_t load_le32(const uint8_t* p)
{
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

uint32_t xxh_round(uint32_t acc, uint32_t input) { return std::rotl(acc + input * xxh_p2, 13) * xxh_p1; }

} // namespace

result<bytes> compress(compression_type codec, bytes_view in)
{
    switch (codec) {
    case compression_type::none: return bytes(in.begin(), in.end());
    case compression_type::gzip: return gzip_compress(in);
    case compression_type::snappy: return snappy_compress(in);
    case compression_type::lz4: return lz4_compress(in);
    case compression_type::zstd: return zstd_compress(in);
    }
    return make_error_code(batch_errc::unsupported_compression);
}

result<bytes> decompress(compression_type codec, bytes_view in, size_t max_output)
{
    switch (codec) {
    case compression_type::none:
        if (in.size() > max_output) return too_large();
        return bytes(in.begin(), in.end());
    case compression_type::gzip: return gzip_decompress(in, max_output);
    case compression_type::snappy: return snappy_decompress(in, max_output);
    case compression_type::lz4: return lz4_decompress(in, max_output);
    case compression_type::zstd: return zstd_decompress(in, max_output);
    }
    return make_error_code(batch_errc::unsupported_compression);
}

result<void> set_lz4_header_checksum(mutable_bytes_view frame, lz4_header_checksum flavour)
{
    size_t len = lz4_header_length(frame);
    if (len == 0) return failed();
    // The standard checksum covers the frame descriptor (FLG onwards); Kafka's magic-0 writer
    // also hashed the 4-byte frame magic in front of it.
    size_t from = flavour == lz4_header_checksum::standard ? 4 : 0;
    uint32_t h = xxh32(bytes_view(frame).subspan(from, len - from));
    frame[len] = static_cast<uint8_t>((h >> 8) & 0xff);
    return ok();
}

uint32_t xxh32(bytes_view data, uint32_t seed)
{
    const uint8_t* p = data.data();
    const uint8_t* end = p + data.size();
    uint32_t h;
    if (data.size() >= 16) {
        uint32_t v[4] = {seed + xxh_p1 + xxh_p2, seed + xxh_p2, seed, seed - xxh_p1};
        for (; end - p >= 16; p += 16) {
            for (int i = 0; i < 4; ++i) v[i] = xxh_round(v[i], load_le32(p + 4 * i));
        }
        h = std::rotl(v[0], 1) + std::rotl(v[1], 7) + std::rotl(v[2], 12) + std::rotl(v[3], 18);
    } else {
        h = seed + xxh_p5;
    }
    h += static_cast<uint32_t>(data.size());
    for (; end - p >= 4; p += 4) h = std::rotl(h + load_le32(p) * xxh_p3, 17) * xxh_p4;
    for (; p < end; ++p) h = std::rotl(h + *p * xxh_p5, 11) * xxh_p1;
    h ^= h >> 15;
    h *= xxh_p2;
    h ^= h >> 13;
    h *= xxh_p3;
    h ^= h >> 16;
    return h;
}

} // namespace samsa::protocol
