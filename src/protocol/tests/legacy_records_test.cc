#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "protocol/compression.h"
#include "protocol/legacy_records.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "protocol/tests/golden_records.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace samsa::protocol {
namespace {

constexpr compression_type legacy_codecs[] = {compression_type::none, compression_type::gzip, compression_type::snappy,
                                              compression_type::lz4};

std::optional<std::string> str(const std::optional<bytes>& b)
{
    if (!b) return std::nullopt;
    return std::string(b->begin(), b->end());
}
std::optional<std::string> str(const std::optional<bytes_view>& b)
{
    if (!b) return std::nullopt;
    return std::string(as_string_view(*b));
}
std::optional<std::string> str(const golden::golden_bytes& b)
{
    if (b.len < 0) return std::nullopt;
    return std::string(b.data, static_cast<size_t>(b.len));
}

std::error_code error_of(const result<converted_batch>& r) { return r ? std::error_code{} : r.error(); }

// ---- golden message sets from kafka-python ----------------------------------------------

TEST(legacy_records, golden_message_sets_decode_field_by_field)
{
    int cases = 0;
    for (const auto& g : golden::all_cases) {
        if (g.magic == 2) continue;
        ++cases;
        auto set = read_message_set(bytes_view(g.data, g.size), partial_tail::reject);
        ASSERT_TRUE(set) << g.name << ": " << set.error().message();
        EXPECT_EQ(static_cast<int>(set->codec), g.codec) << g.name;
        EXPECT_EQ(set->valid_bytes, g.size);
        ASSERT_EQ(set->records.size(), g.record_count) << g.name;
        for (size_t i = 0; i < g.record_count; ++i) {
            const auto& got = set->records[i];
            const auto& want = g.records[i];
            // kafka-python's producer writes wrapper offset 0, so only relative positions are
            // comparable for compressed sets (Kafka's rule makes them -4..0, kafka-python 0..4).
            EXPECT_EQ(got.offset - set->records[0].offset, want.offset - g.records[0].offset) << g.name << " " << i;
            EXPECT_EQ(got.magic, g.magic);
            EXPECT_EQ(got.timestamp, timestamp_ms(want.timestamp)) << g.name << " " << i;
            EXPECT_EQ(str(got.key), str(want.key)) << g.name << " " << i;
            EXPECT_EQ(str(got.value), str(want.value)) << g.name << " " << i;
        }
    }
    EXPECT_EQ(cases, 8);
}

TEST(legacy_records, golden_message_sets_convert_to_one_v2_batch)
{
    for (const auto& g : golden::all_cases) {
        if (g.magic == 2) continue;
        auto converted = convert_to_v2(bytes_view(g.data, g.size));
        ASSERT_TRUE(converted) << g.name << ": " << converted.error().message();
        EXPECT_EQ(converted->record_count, static_cast<int32_t>(g.record_count));
        auto summary = validate_records(converted->batch);
        ASSERT_TRUE(summary) << g.name << ": " << summary.error().message();
        EXPECT_EQ(static_cast<int>(summary->header.compression()), g.codec) << g.name;
        EXPECT_EQ(summary->header.ts_type(), timestamp_type::create_time);
        EXPECT_EQ(summary->max_timestamp, timestamp_ms(g.magic == 0 ? -1 : 1700000000011)) << g.name;
        auto reader = record_reader::open(converted->batch).value();
        for (size_t i = 0; i < g.record_count; ++i) {
            auto r = reader.next();
            ASSERT_TRUE(r) << g.name;
            EXPECT_EQ(r->offset, offset(static_cast<int64_t>(i))) << g.name;
            EXPECT_EQ(r->timestamp, timestamp_ms(g.records[i].timestamp)) << g.name << " " << i;
            EXPECT_EQ(str(r->key), str(g.records[i].key)) << g.name << " " << i;
            EXPECT_EQ(str(r->value), str(g.records[i].value)) << g.name << " " << i;
            EXPECT_TRUE(r->headers.empty());
        }
        EXPECT_FALSE(reader.next());
        EXPECT_FALSE(reader.error());
    }
}

TEST(legacy_records, kafka_python_magic0_lz4_carries_the_legacy_header_checksum)
{
    const golden::golden_case* v0 = nullptr;
    for (const auto& g : golden::all_cases) {
        if (std::string(g.name) == "legacy_v0_lz4") v0 = &g;
    }
    ASSERT_NE(v0, nullptr);
    auto wrapper = decode_legacy_message(bytes_view(v0->data, v0->size));
    ASSERT_TRUE(wrapper);
    ASSERT_TRUE(wrapper->value);
    bytes frame(wrapper->value->begin(), wrapper->value->end());
    auto as_sent = frame;
    // Stamping the legacy flavour changes nothing: that is what kafka-python wrote.
    ASSERT_TRUE(set_lz4_header_checksum(frame, lz4_header_checksum::kafka_legacy));
    EXPECT_EQ(frame, as_sent);
    // A standard LZ4 decoder refuses it as sent; our legacy reader rewrites the byte first.
    EXPECT_FALSE(decompress(compression_type::lz4, as_sent, 1 << 20));
    ASSERT_TRUE(set_lz4_header_checksum(frame, lz4_header_checksum::standard));
    EXPECT_TRUE(decompress(compression_type::lz4, frame, 1 << 20));
}

// ---- down-conversion --------------------------------------------------------------------

struct source_batch {
    compression_type codec;
    offset base;
    std::vector<record_input> records;
    bool control = false;
    bool log_append_time = false;
};

std::vector<record_input> some_records(int n, int seed)
{
    std::vector<record_input> out;
    for (int i = 0; i < n; ++i) {
        std::optional<bytes> key;
        if ((i + seed) % 3 != 0) key = to_bytes("key-" + std::to_string(seed) + "-" + std::to_string(i));
        std::optional<bytes> value = to_bytes("value-" + std::to_string(i) + std::string(60, static_cast<char>('a' + seed)));
        if (i == 1) value.reset();
        if (i == 2) value = bytes{};
        out.push_back(record_input{key, value, {{"dropped", to_bytes("header")}}, timestamp_ms(1600000000000 + seed * 100 + (i * 7) % 5)});
    }
    return out;
}

bytes build_log(const std::vector<source_batch>& batches)
{
    bytes log;
    for (const auto& b : batches) {
        batch_builder::options o;
        o.compression = b.codec;
        o.base_offset = b.base;
        o.control = b.control;
        batch_builder builder(o);
        for (auto& r : b.records) builder.add(r);
        auto built = builder.build();
        if (b.log_append_time) set_log_append_time(built, timestamp_ms(1700000000999));
        log.insert(log.end(), built.begin(), built.end());
    }
    return log;
}

/// The log every down-conversion test reads: batches of each legacy codec with offset gaps
/// between them, a control batch, and a log-append-time batch.
std::vector<source_batch> sample_log(compression_type codec)
{
    return {
        source_batch{codec, offset(1000), some_records(4, 1)},
        source_batch{compression_type::none, offset(1004), some_records(2, 2)},
        source_batch{codec, offset(1010), some_records(1, 3), true},
        source_batch{codec, offset(1011), some_records(3, 4), false, true},
    };
}

/// What an old client must see: (offset, timestamp, key, value) of every non-control record.
std::vector<legacy_record> expected_records(const std::vector<source_batch>& batches, int8_t magic)
{
    std::vector<legacy_record> out;
    for (const auto& b : batches) {
        if (b.control) continue;
        for (size_t i = 0; i < b.records.size(); ++i) {
            const auto& r = b.records[i];
            timestamp_ms ts = magic == 0 ? no_timestamp : b.log_append_time ? timestamp_ms(1700000000999) : r.timestamp;
            auto type = magic == 1 && b.log_append_time ? timestamp_type::log_append_time : timestamp_type::create_time;
            out.push_back(legacy_record{b.base + static_cast<int64_t>(i), magic, ts, type, r.key, r.value});
        }
    }
    return out;
}

TEST(legacy_records, down_convert_keeps_offsets_keys_values_and_timestamps)
{
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        for (auto codec : legacy_codecs) {
            auto source = sample_log(codec);
            auto log = build_log(source);
            log.insert(log.end(), {0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 1}); // a torn batch at the end
            auto down = down_convert(log, magic);
            ASSERT_TRUE(down) << to_string(codec) << ": " << down.error().message();
            auto set = read_message_set(*down, partial_tail::reject);
            ASSERT_TRUE(set) << to_string(codec) << " magic " << int(magic) << ": " << set.error().message();
            EXPECT_EQ(set->codec, codec);
            auto want = expected_records(source, magic);
            ASSERT_EQ(set->records.size(), want.size());
            for (size_t i = 0; i < want.size(); ++i) {
                EXPECT_EQ(set->records[i], want[i]) << to_string(codec) << " magic " << int(magic) << " record " << i;
            }
        }
    }
}

TEST(legacy_records, down_converted_wrappers_follow_kafkas_offset_rules)
{
    auto log = build_log({source_batch{compression_type::gzip, offset(500), some_records(3, 1)}});
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        auto down = down_convert(log, magic).value();
        auto wrapper = decode_legacy_message(down);
        ASSERT_TRUE(wrapper);
        EXPECT_EQ(wrapper->size_bytes, down.size()); // one wrapper for the whole batch
        EXPECT_EQ(wrapper->offset, offset(502));     // the last inner offset
        EXPECT_EQ(wrapper->codec(), compression_type::gzip);
        auto inner = decompress(compression_type::gzip, *wrapper->value, 1 << 20).value();
        bytes_view rest(inner);
        for (int64_t i = 0; i < 3; ++i) {
            auto m = decode_legacy_message(rest);
            ASSERT_TRUE(m);
            EXPECT_EQ(m->offset, offset(magic == 1 ? i : 500 + i)); // relative for magic 1 only
            EXPECT_EQ(m->codec(), compression_type::none);
            rest = rest.subspan(m->size_bytes);
        }
        EXPECT_TRUE(rest.empty());
        if (magic == 1) {
            EXPECT_EQ(wrapper->timestamp, timestamp_ms(1600000000104)); // the max inner timestamp
        }
    }
}

TEST(legacy_records, down_converted_magic0_lz4_uses_the_legacy_header_checksum)
{
    auto log = build_log({source_batch{compression_type::lz4, offset(0), some_records(3, 1)}});
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        auto down = down_convert(log, magic).value();
        auto wrapper = decode_legacy_message(down).value();
        bytes frame(wrapper.value->begin(), wrapper.value->end());
        auto as_written = frame;
        auto flavour = magic == 0 ? lz4_header_checksum::kafka_legacy : lz4_header_checksum::standard;
        ASSERT_TRUE(set_lz4_header_checksum(frame, flavour));
        EXPECT_EQ(frame, as_written) << int(magic);
    }
}

TEST(legacy_records, down_convert_refusals)
{
    auto zstd_log = build_log({source_batch{compression_type::zstd, offset(0), some_records(2, 1)}});
    EXPECT_EQ(down_convert(zstd_log, 1).error(), make_error_code(batch_errc::unsupported_compression));
    auto log = build_log(sample_log(compression_type::none));
    EXPECT_EQ(down_convert(log, 2).error(), make_error_code(batch_errc::unsupported_magic));
    EXPECT_EQ(down_convert(log, -1).error(), make_error_code(batch_errc::unsupported_magic));
    auto corrupt = log;
    corrupt[batch_layout::header_size + 5] ^= 1; // inside the first batch's records
    EXPECT_EQ(down_convert(corrupt, 1).error(), make_error_code(batch_errc::crc_mismatch));
    EXPECT_EQ(down_convert(bytes{}, 1).value(), bytes{});
}

TEST(legacy_records, down_convert_then_convert_back_round_trips)
{
    for (auto codec : legacy_codecs) {
        auto records = some_records(5, 2);
        auto log = build_log({source_batch{codec, offset(0), records}});
        auto down = down_convert(log, 1).value();
        auto back = convert_to_v2(down);
        ASSERT_TRUE(back) << to_string(codec);
        auto reader = record_reader::open(back->batch).value();
        EXPECT_EQ(reader.header().compression(), codec);
        for (const auto& want : records) {
            auto r = reader.next();
            ASSERT_TRUE(r);
            EXPECT_EQ(r->timestamp, want.timestamp);
            EXPECT_EQ(str(r->key), str(want.key));
            EXPECT_EQ(str(r->value), str(want.value));
        }
    }
}

// ---- malformed message sets -------------------------------------------------------------

legacy_message msg(int8_t magic, int64_t off, std::optional<std::string_view> key, std::optional<std::string_view> value,
                   int64_t ts = 1234)
{
    legacy_message m;
    m.offset = offset(off);
    m.magic = magic;
    m.timestamp = magic == 1 ? timestamp_ms(ts) : no_timestamp;
    if (key) m.key = as_bytes(*key);
    if (value) m.value = as_bytes(*value);
    return m;
}

bytes plain_set(int8_t magic, int n)
{
    bytes out;
    for (int i = 0; i < n; ++i) append_legacy_message(out, msg(magic, i, "k", "value"));
    return out;
}

bytes wrapper_of(int8_t magic, compression_type codec, bytes_view inner, int64_t off = 0)
{
    static bytes value; // kept alive for the view in the message
    value = compress(codec, inner).value();
    if (codec == compression_type::lz4 && magic == 0) (void)set_lz4_header_checksum(value, lz4_header_checksum::kafka_legacy);
    legacy_message w = msg(magic, off, std::nullopt, std::nullopt);
    w.attributes = static_cast<uint8_t>(codec);
    w.value = bytes_view(value);
    bytes out;
    append_legacy_message(out, w);
    return out;
}

/// Rewrites the CRC of the single message in `m` after a test edited it.
void fix_crc(bytes& m) { be::store<uint32_t>(m.data() + legacy_layout::crc, crc32_ieee(m.data() + 16, m.size() - 16)); }

TEST(legacy_records, every_truncation_of_a_produce_set_is_an_error)
{
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        auto set = plain_set(magic, 3);
        size_t one = set.size() / 3;
        for (size_t cut = 0; cut < set.size(); ++cut) {
            auto cut_set = bytes_view(set).first(cut);
            // A cut on a message boundary is a shorter, valid set (except the empty one).
            bool boundary = cut != 0 && cut % one == 0;
            EXPECT_EQ(!error_of(convert_to_v2(cut_set)), boundary) << int(magic) << " cut " << cut;
            // A fetch-style reader keeps the whole messages and drops the partial tail.
            auto fetched = read_message_set(cut_set, partial_tail::ignore);
            ASSERT_TRUE(fetched) << cut;
            EXPECT_EQ(fetched->records.size(), cut / one);
            EXPECT_EQ(fetched->valid_bytes, cut / one * one);
        }
        EXPECT_FALSE(error_of(convert_to_v2(set)));
    }
}

TEST(legacy_records, crc_covers_every_byte_after_it)
{
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        bytes m;
        append_legacy_message(m, msg(magic, 0, "key", "value"));
        for (size_t i = legacy_layout::crc; i < m.size(); ++i) {
            auto bad = m;
            bad[i] ^= 0x10;
            auto e = error_of(convert_to_v2(bad));
            if (i == legacy_layout::magic) {
                EXPECT_EQ(e, make_error_code(batch_errc::unsupported_magic));
            } else {
                EXPECT_EQ(e, make_error_code(batch_errc::crc_mismatch)) << int(magic) << " byte " << i;
            }
        }
    }
}

TEST(legacy_records, field_errors)
{
    auto e = [](bytes m) { return error_of(convert_to_v2(m)); };
    bytes m;
    append_legacy_message(m, msg(1, 0, "key", "value"));
    const size_t key_len_at = legacy_layout::timestamp + 8;

    auto bad = m;
    be::store<int32_t>(bad.data() + key_len_at, -2);
    fix_crc(bad);
    EXPECT_EQ(e(bad), make_error_code(batch_errc::invalid_record));
    bad = m;
    be::store<int32_t>(bad.data() + key_len_at, 100);
    fix_crc(bad);
    EXPECT_EQ(e(bad), make_error_code(batch_errc::invalid_record));
    bad = m; // one byte more than the fields take
    bad.push_back(0);
    be::store<int32_t>(bad.data() + legacy_layout::message_size, be::load<int32_t>(bad.data() + 8) + 1);
    fix_crc(bad);
    EXPECT_EQ(e(bad), make_error_code(batch_errc::invalid_record));
    bad = m;
    be::store<int32_t>(bad.data() + legacy_layout::message_size, 13);
    EXPECT_EQ(e(bad), make_error_code(batch_errc::invalid_length));
    bad = m;
    be::store<int32_t>(bad.data() + legacy_layout::message_size, 20); // below the magic-1 minimum
    EXPECT_EQ(e(bad), make_error_code(batch_errc::invalid_length));
    bad = m;
    be::store<int64_t>(bad.data() + legacy_layout::timestamp, -2);
    fix_crc(bad);
    EXPECT_EQ(e(bad), make_error_code(batch_errc::invalid_timestamp));
    bad = m;
    bad[legacy_layout::attributes] = 4; // zstd has no legacy codec number
    fix_crc(bad);
    EXPECT_EQ(e(bad), make_error_code(batch_errc::unsupported_compression));
    bad = m;
    bad[legacy_layout::magic] = 2;
    fix_crc(bad);
    EXPECT_EQ(e(bad), make_error_code(batch_errc::unsupported_magic));
    EXPECT_EQ(e(bytes{}), make_error_code(batch_errc::invalid_record_count));
}

TEST(legacy_records, wrapper_errors)
{
    auto e = [](const bytes& m) { return error_of(convert_to_v2(m)); };
    auto inner = plain_set(1, 2);
    EXPECT_FALSE(e(wrapper_of(1, compression_type::snappy, inner)));
    // Nested compression.
    EXPECT_EQ(e(wrapper_of(1, compression_type::gzip, wrapper_of(1, compression_type::gzip, inner))),
              make_error_code(batch_errc::invalid_record));
    // Inner magic differs from the wrapper's.
    EXPECT_EQ(e(wrapper_of(1, compression_type::gzip, plain_set(0, 2))), make_error_code(batch_errc::invalid_record));
    // No inner message.
    EXPECT_EQ(e(wrapper_of(0, compression_type::gzip, bytes{})), make_error_code(batch_errc::invalid_record_count));
    // A truncated inner set is an error even though it would be a tolerated tail outside.
    EXPECT_EQ(e(wrapper_of(1, compression_type::gzip, bytes_view(inner).first(inner.size() - 3))),
              make_error_code(batch_errc::truncated));
    // A null wrapper value.
    legacy_message w = msg(1, 0, std::nullopt, std::nullopt);
    w.attributes = static_cast<uint8_t>(compression_type::gzip);
    bytes null_wrapper;
    append_legacy_message(null_wrapper, w);
    EXPECT_EQ(e(null_wrapper), make_error_code(batch_errc::invalid_record));
    // Corrupt compressed bytes.
    w.value = as_bytes("definitely not gzip");
    bytes junk;
    append_legacy_message(junk, w);
    EXPECT_EQ(e(junk), make_error_code(batch_errc::decompression_failed));
}

TEST(legacy_records, limits_apply_to_messages_and_wrappers)
{
    bytes big(2 << 20, 'x');
    bytes inner;
    append_legacy_message(inner, msg(1, 0, std::nullopt, as_string_view(big)));
    auto wrapped = wrapper_of(1, compression_type::lz4, inner);
    record_limits limits;
    limits.max_uncompressed_bytes = 1 << 20;
    EXPECT_EQ(error_of(convert_to_v2(wrapped, limits)), make_error_code(batch_errc::decompressed_too_large));
    limits.max_uncompressed_bytes = 4 << 20;
    EXPECT_FALSE(error_of(convert_to_v2(wrapped, limits)));
    limits.max_batch_bytes = 39; // the message takes 40 bytes
    EXPECT_EQ(error_of(convert_to_v2(plain_set(1, 1), limits)), make_error_code(batch_errc::invalid_length));
    limits.max_batch_bytes = 40;
    EXPECT_FALSE(error_of(convert_to_v2(plain_set(1, 1), limits)));
}

TEST(legacy_records, the_limit_bounds_all_wrappers_of_a_set_together)
{
    // Eight wrappers of 1 MiB each: each is under a 4 MiB limit, together they are not.
    bytes big(1 << 20, 'x');
    bytes inner;
    append_legacy_message(inner, msg(1, 0, std::nullopt, as_string_view(big)));
    auto wrapped = wrapper_of(1, compression_type::gzip, inner);
    bytes set;
    for (int i = 0; i < 8; ++i) set.insert(set.end(), wrapped.begin(), wrapped.end());
    record_limits limits;
    limits.max_uncompressed_bytes = 4 << 20;
    EXPECT_EQ(error_of(convert_to_v2(set, limits)), make_error_code(batch_errc::decompressed_too_large));
    limits.max_uncompressed_bytes = 9 << 20;
    EXPECT_FALSE(error_of(convert_to_v2(set, limits)));
}

TEST(legacy_records, magic1_wrapper_offsets_are_made_absolute)
{
    auto inner = plain_set(1, 3); // relative offsets 0, 1, 2
    auto set = read_message_set(wrapper_of(1, compression_type::gzip, inner, 41), partial_tail::reject).value();
    ASSERT_EQ(set.records.size(), 3u);
    EXPECT_EQ(set.records[0].offset, offset(39));
    EXPECT_EQ(set.records[2].offset, offset(41));
    bytes magic0_inner;
    for (int i = 0; i < 2; ++i) append_legacy_message(magic0_inner, msg(0, 70 + i, "k", "v"));
    auto set0 = read_message_set(wrapper_of(0, compression_type::lz4, magic0_inner, 71), partial_tail::reject).value();
    ASSERT_EQ(set0.records.size(), 2u);
    EXPECT_EQ(set0.records[0].offset, offset(70)); // magic 0: inner offsets are absolute
    EXPECT_EQ(set0.records[1].timestamp, no_timestamp);
}

// ---- kafka-python reads what we write ---------------------------------------------------

std::string hex_or_null(const std::optional<bytes>& b)
{
    if (!b) return "null";
    std::string out;
    for (auto c : *b) out += fmt::format("{:02x}", c);
    return out;
}

/// The line dump_records.py prints for a record.
std::string dump_line(int64_t off, std::optional<int64_t> ts, const std::optional<bytes>& key, const std::optional<bytes>& value,
                      const std::vector<record_header_kv>& headers)
{
    std::string hs;
    for (const auto& h : headers) hs += (hs.empty() ? "" : ",") + h.key + "=" + hex_or_null(h.value);
    return fmt::format("offset={} ts={} key={} value={} headers=[{}]\n", off, ts ? std::to_string(*ts) : "None", hex_or_null(key),
                       hex_or_null(value), hs);
}

struct temp_file {
    std::string path;
    explicit temp_file(const bytes& content)
    {
        char name[] = "/tmp/samsa_records_XXXXXX";
        int fd = mkstemp(name);
        EXPECT_GE(fd, 0);
        path = name;
        EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
        close(fd);
    }
    ~temp_file() { unlink(path.c_str()); }
};

/// Runs tools/golden/dump_records.py with /usr/bin/python3 on the files; returns its exit
/// status and its output. A missing interpreter or kafka module makes the status non-zero.
std::pair<int, std::string> run_kafka_python(const std::vector<std::string>& files)
{
    std::string cmd = "/usr/bin/python3 " SAMSA_GOLDEN_TOOLS_DIR "/dump_records.py";
    for (const auto& f : files) cmd += " " + f;
    cmd += " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return {-1, "popen failed"};
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(legacy_records, kafka_python_reads_our_down_converted_message_sets)
{
    std::vector<std::unique_ptr<temp_file>> files;
    std::vector<std::string> paths;
    std::string expected;
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        for (auto codec : legacy_codecs) {
            auto source = sample_log(codec);
            files.push_back(std::make_unique<temp_file>(down_convert(build_log(source), magic).value()));
            paths.push_back(files.back()->path);
            expected += "== " + paths.back() + "\n";
            for (const auto& r : expected_records(source, magic)) {
                std::optional<int64_t> ts;
                if (magic == 1) ts = r.timestamp();
                expected += dump_line(r.offset(), ts, r.key, r.value, {});
            }
        }
    }
    auto [status, out] = run_kafka_python(paths);
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, expected);
}

TEST(legacy_records, kafka_python_reads_our_v2_batches_for_every_codec)
{
    std::vector<std::unique_ptr<temp_file>> files;
    std::vector<std::string> paths;
    std::string expected;
    for (auto codec : {compression_type::none, compression_type::gzip, compression_type::snappy, compression_type::lz4,
                       compression_type::zstd}) {
        std::vector<source_batch> source = {source_batch{codec, offset(77), some_records(4, 5)}};
        files.push_back(std::make_unique<temp_file>(build_log(source)));
        paths.push_back(files.back()->path);
        expected += "== " + paths.back() + "\n";
        for (size_t i = 0; i < source[0].records.size(); ++i) {
            const auto& r = source[0].records[i];
            expected += dump_line(77 + static_cast<int64_t>(i), r.timestamp(), r.key, r.value, r.headers);
        }
    }
    auto [status, out] = run_kafka_python(paths);
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, expected);
}

} // namespace
} // namespace samsa::protocol
