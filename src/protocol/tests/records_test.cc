#include "bytes/varint.h"
#include "protocol/compression.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "protocol/tests/golden_records.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace samsa::protocol {
namespace {

constexpr compression_type all_codecs[] = {compression_type::none, compression_type::gzip, compression_type::snappy,
                                           compression_type::lz4, compression_type::zstd};

std::optional<std::string> str(const std::optional<bytes_view>& b)
{
    if (!b) return std::nullopt;
    return std::string(as_string_view(*b));
}
std::optional<std::string> str(const std::optional<bytes>& b)
{
    if (!b) return std::nullopt;
    return std::string(b->begin(), b->end());
}

/// Records with every shape that matters: null vs empty key and value, headers with null and
/// empty values, timestamps out of order.
std::vector<record_input> sample_inputs()
{
    std::string filler(200, 'z');
    return {
        record_input{to_bytes("key-0"), to_bytes("value-0" + filler), {{"h1", to_bytes("v1")}, {"null-h", std::nullopt}}, timestamp_ms(5000)},
        record_input{std::nullopt, to_bytes("value-1" + filler), {}, timestamp_ms(5030)},
        record_input{bytes{}, std::nullopt, {{"empty-h", bytes{}}}, timestamp_ms(5010)},
        record_input{to_bytes("key-3"), bytes{}, {}, timestamp_ms(5030)},
    };
}

bytes build(compression_type c, const std::vector<record_input>& in, offset base = offset(0))
{
    batch_builder::options o;
    o.compression = c;
    o.base_offset = base;
    batch_builder b(o);
    for (auto& r : in) b.add(r);
    return b.build();
}

void expect_matches(const record& got, const record_input& want, int32_t index)
{
    EXPECT_EQ(got.offset_delta, index);
    EXPECT_EQ(got.timestamp, want.timestamp);
    EXPECT_EQ(str(got.key), str(want.key));
    EXPECT_EQ(str(got.value), str(want.value));
    ASSERT_EQ(got.headers.size(), want.headers.size());
    for (size_t i = 0; i < want.headers.size(); ++i) {
        EXPECT_EQ(got.headers[i].key, want.headers[i].key);
        EXPECT_EQ(str(got.headers[i].value), str(want.headers[i].value));
    }
}

TEST(records, builder_and_reader_round_trip_every_codec)
{
    auto in = sample_inputs();
    for (auto c : all_codecs) {
        auto batch = build(c, in, offset(700));
        auto reader = record_reader::open(batch);
        ASSERT_TRUE(reader) << to_string(c) << ": " << reader.error().message();
        EXPECT_EQ(reader->header().compression(), c);
        int32_t i = 0;
        while (auto r = reader->next()) {
            ASSERT_LT(static_cast<size_t>(i), in.size());
            expect_matches(*r, in[static_cast<size_t>(i)], i);
            EXPECT_EQ(r->offset, offset(700 + i));
            ++i;
        }
        EXPECT_FALSE(reader->error()) << to_string(c) << ": " << reader->error().message();
        EXPECT_EQ(i, 4);
        EXPECT_EQ(reader->records_read(), 4);
    }
}

TEST(records, reader_views_survive_a_move)
{
    auto batch = build(compression_type::zstd, sample_inputs());
    auto opened = record_reader::open(batch);
    ASSERT_TRUE(opened);
    record_reader moved = std::move(*opened);
    auto r = moved.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(str(r->key), "key-0");
    auto owned = moved.records_bytes();
    EXPECT_GT(owned.size(), batch.size()); // decompressed: bigger than the batch
    EXPECT_TRUE(r->key->data() >= owned.data() && r->key->data() < owned.data() + owned.size());
}

TEST(records, validate_summarises_a_producer_batch)
{
    auto in = sample_inputs();
    for (auto c : all_codecs) {
        auto batch = build(c, in);
        auto s = validate_records(batch);
        ASSERT_TRUE(s) << to_string(c) << ": " << s.error().message();
        EXPECT_EQ(s->record_count, 4);
        EXPECT_EQ(s->max_timestamp, timestamp_ms(5030));
        EXPECT_EQ(s->offset_of_max_timestamp, offset(1)); // the first of the two records at 5030
        EXPECT_TRUE(s->has_null_key);
        EXPECT_EQ(s->header.compression(), c);
        bytes plain;
        for (size_t i = 0; i < in.size(); ++i) encode_record(plain, in[i], in[i].timestamp - in[0].timestamp, static_cast<int32_t>(i));
        EXPECT_EQ(s->uncompressed_bytes, plain.size());
    }
    auto keyed = build(compression_type::none, {record_input{to_bytes("k"), to_bytes("v"), {}, timestamp_ms(1)}});
    EXPECT_FALSE(validate_records(keyed)->has_null_key);
}

TEST(records, log_append_time_gives_every_record_the_batch_time)
{
    auto batch = build(compression_type::lz4, sample_inputs());
    set_log_append_time(batch, timestamp_ms(99999));
    auto reader = record_reader::open(batch).value();
    int n = 0;
    while (auto r = reader.next()) {
        EXPECT_EQ(r->timestamp, timestamp_ms(99999));
        ++n;
    }
    EXPECT_EQ(n, 4);
}

TEST(records, set_max_timestamp_keeps_the_batch_valid)
{
    auto batch = build(compression_type::none, sample_inputs());
    set_max_timestamp(batch, timestamp_ms(123456));
    auto h = validate_batch(batch);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->max_timestamp, timestamp_ms(123456));
    EXPECT_EQ(h->ts_type(), timestamp_type::create_time);
}

// ---- hand-made malformed batches --------------------------------------------------------

/// One record written field by field, so that any field can be wrong.
struct raw_record {
    bytes body;
    raw_record& i8(int8_t v)
    {
        body.push_back(static_cast<uint8_t>(v));
        return *this;
    }
    raw_record& var(int64_t v)
    {
        varint::append_signed(body, v);
        return *this;
    }
    raw_record& raw(std::string_view s)
    {
        body.insert(body.end(), s.begin(), s.end());
        return *this;
    }
    raw_record& field(std::optional<std::string_view> s)
    {
        if (!s) return var(-1);
        return var(static_cast<int64_t>(s->size())).raw(*s);
    }
    /// Length-prefixed; `length_error` is added to the true length.
    bytes framed(int64_t length_error = 0) const
    {
        bytes out;
        varint::append_signed(out, static_cast<int64_t>(body.size()) + length_error);
        out.insert(out.end(), body.begin(), body.end());
        return out;
    }
};

raw_record simple_record(int32_t offset_delta, int64_t ts_delta = 0)
{
    return raw_record{}.i8(0).var(ts_delta).var(offset_delta).field("key").field("value").var(1).field("hk").field("hv");
}

bytes section_of(const std::vector<bytes>& records)
{
    bytes out;
    for (auto& r : records) out.insert(out.end(), r.begin(), r.end());
    return out;
}

bytes frame(bytes_view section, int32_t count, int32_t last_delta, compression_type c = compression_type::none)
{
    batch_header h;
    h.attributes = static_cast<uint16_t>(c);
    h.record_count = count;
    h.last_offset_delta = last_delta;
    h.base_timestamp = timestamp_ms(1000);
    h.max_timestamp = timestamp_ms(1000);
    bytes payload = c == compression_type::none ? bytes(section.begin(), section.end()) : compress(c, section).value();
    return assemble_batch(h, payload);
}

std::error_code validate_error(const bytes& batch, const record_limits& limits = {})
{
    auto s = validate_records(batch, limits);
    return s ? std::error_code{} : s.error();
}

const std::error_code invalid_record = make_error_code(batch_errc::invalid_record);
const std::error_code invalid_count = make_error_code(batch_errc::invalid_record_count);
const std::error_code invalid_offsets = make_error_code(batch_errc::invalid_offsets);

TEST(records, hand_made_batch_is_valid)
{
    auto section = section_of({simple_record(0).framed(), simple_record(1, 5).framed()});
    auto s = validate_records(frame(section, 2, 1));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->record_count, 2);
    EXPECT_EQ(s->max_timestamp, timestamp_ms(1005));
    auto batch = frame(section, 2, 1); // the reader's views point into it: keep it alive
    auto reader = record_reader::open(batch);
    ASSERT_TRUE(reader);
    auto r = reader->next();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->headers.size(), 1u);
    EXPECT_EQ(r->headers[0].key, "hk");
    EXPECT_EQ(str(r->headers[0].value), "hv");
}

TEST(records, truncation_at_every_byte_is_rejected)
{
    auto section = section_of({simple_record(0).framed(), simple_record(1).framed(), simple_record(2).framed()});
    for (auto c : all_codecs) {
        for (size_t cut = 0; cut < section.size(); ++cut) {
            auto batch = frame(bytes_view(section).first(cut), 3, 2, c);
            auto e = validate_error(batch);
            EXPECT_TRUE(e == invalid_record || e == invalid_count) << to_string(c) << " cut " << cut << ": " << e.message();
            // The reader stops cleanly too, never yielding a record past the cut.
            auto reader = record_reader::open(batch);
            ASSERT_TRUE(reader);
            size_t consumed = 0;
            while (auto r = reader->next()) consumed += r->size_bytes;
            EXPECT_LE(consumed, cut);
            EXPECT_TRUE(reader->error());
        }
    }
}

TEST(records, count_must_match_the_records)
{
    auto section = section_of({simple_record(0).framed(), simple_record(1).framed()});
    EXPECT_EQ(validate_error(frame(section, 3, 2)), invalid_count);  // more announced than present
    EXPECT_EQ(validate_error(frame(section, 1, 0)), invalid_record); // the second is trailing bytes
    EXPECT_EQ(validate_error(frame(section, 2, 2)), invalid_count);  // last_offset_delta != count - 1
    EXPECT_EQ(validate_error(frame(section, 2, 0)), invalid_count);
    EXPECT_EQ(validate_error(frame({}, 0, 0)), invalid_count);       // a producer batch needs a record
    EXPECT_EQ(validate_error(frame(section, -1, 0)), invalid_count);
    EXPECT_EQ(validate_error(frame(section, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::max() - 1)),
              invalid_count);
}

TEST(records, offset_deltas_must_be_sequential)
{
    auto make = [](std::vector<int32_t> deltas) {
        std::vector<bytes> rs;
        for (auto d : deltas) rs.push_back(simple_record(d).framed());
        return frame(section_of(rs), static_cast<int32_t>(deltas.size()), static_cast<int32_t>(deltas.size() - 1));
    };
    EXPECT_FALSE(validate_error(make({0, 1, 2})));
    EXPECT_EQ(validate_error(make({0, 2, 3})), invalid_offsets);
    EXPECT_EQ(validate_error(make({0, 0, 1})), invalid_offsets);
    EXPECT_EQ(validate_error(make({1, 2, 3})), invalid_offsets);
    EXPECT_EQ(validate_error(make({0, 2, 1})), invalid_offsets);
    EXPECT_EQ(validate_error(make({0, -1})), invalid_offsets);
}

TEST(records, declared_record_length_must_match)
{
    auto one = [](bytes r) { return frame(r, 1, 0); };
    EXPECT_FALSE(validate_error(one(simple_record(0).framed())));
    auto longer = simple_record(0).framed(+1);
    longer.push_back(0); // the extra byte exists but is not part of any field
    EXPECT_EQ(validate_error(one(longer)), invalid_record);
    EXPECT_EQ(validate_error(one(simple_record(0).framed(-1))), invalid_record);
    EXPECT_EQ(validate_error(one(simple_record(0).framed(+5))), invalid_record); // beyond the batch
    EXPECT_EQ(validate_error(one(simple_record(0).framed(-1000))), invalid_record);
}

TEST(records, field_lengths_are_checked)
{
    auto one = [](const raw_record& r) { return frame(r.framed(), 1, 0); };
    auto base = [] { return raw_record{}.i8(0).var(0).var(0); };
    EXPECT_FALSE(validate_error(one(base().field(std::nullopt).field(std::nullopt).var(0))));
    EXPECT_EQ(validate_error(one(base().var(-2).field("v").var(0))), invalid_record);              // key length -2
    EXPECT_EQ(validate_error(one(base().field("k").var(-7).var(0))), invalid_record);              // value length -7
    EXPECT_EQ(validate_error(one(base().var(50).raw("short").field("v").var(0))), invalid_record); // key past the end
    EXPECT_EQ(validate_error(one(base().field("k").field("v").var(-1))), invalid_record);          // header count -1
    EXPECT_EQ(validate_error(one(base().field("k").field("v").var(3).field("h").field("x"))), invalid_record);
    EXPECT_EQ(validate_error(one(base().field("k").field("v").var(1).var(-1).field("x"))), invalid_record); // null header key
    EXPECT_EQ(validate_error(one(base().field("k").field("v").var(1).field("h").var(-2))), invalid_record); // header value -2
    EXPECT_EQ(validate_error(one(base().field("k").field("v").var(1000000).field("h").field("x"))), invalid_record);
    EXPECT_FALSE(validate_error(one(base().field("k").field("v").var(1).field("h").field(std::nullopt))));
    // A varint longer than five bytes.
    EXPECT_EQ(validate_error(one(raw_record{}.i8(0).var(0).raw("\xff\xff\xff\xff\xff\x01").field("k").field("v").var(0))),
              invalid_record);
}

TEST(records, trailing_bytes_after_the_last_record)
{
    auto section = section_of({simple_record(0).framed()});
    section.push_back(0);
    EXPECT_EQ(validate_error(frame(section, 1, 0)), invalid_record);
    EXPECT_EQ(validate_error(frame(section, 1, 0, compression_type::gzip)), invalid_record);
}

TEST(records, absolute_offset_and_timestamp_overflow_are_rejected)
{
    auto batch = frame(section_of({simple_record(0).framed(), simple_record(1).framed()}), 2, 1);
    set_base_offset(batch, offset(std::numeric_limits<int64_t>::max()));
    EXPECT_EQ(validate_error(batch), invalid_offsets);

    batch_header h;
    h.record_count = 1;
    h.base_timestamp = timestamp_ms(std::numeric_limits<int64_t>::max() - 1);
    h.max_timestamp = h.base_timestamp;
    auto late = assemble_batch(h, simple_record(0, 10).framed());
    EXPECT_EQ(validate_error(late), make_error_code(batch_errc::invalid_timestamp));
}

TEST(records, compressed_section_errors)
{
    auto section = section_of({simple_record(0).framed(), simple_record(1).framed()});
    auto batch = frame(section, 2, 1, compression_type::zstd);
    record_limits tight;
    tight.max_uncompressed_bytes = section.size() - 1;
    EXPECT_EQ(validate_error(batch, tight), make_error_code(batch_errc::decompressed_too_large));
    tight.max_uncompressed_bytes = section.size();
    EXPECT_FALSE(validate_error(batch, tight));

    batch_header h;
    h.attributes = static_cast<uint16_t>(compression_type::gzip);
    h.record_count = 2;
    h.last_offset_delta = 1;
    EXPECT_EQ(validate_error(assemble_batch(h, section)), make_error_code(batch_errc::decompression_failed));
    h.attributes = 6; // no such codec
    EXPECT_EQ(validate_error(assemble_batch(h, section)), make_error_code(batch_errc::unsupported_compression));
}

TEST(records, framing_errors_come_from_validate_batch)
{
    auto batch = build(compression_type::none, sample_inputs());
    batch.back() ^= 1;
    EXPECT_EQ(validate_error(batch), make_error_code(batch_errc::crc_mismatch));
    record_limits small;
    small.max_batch_bytes = 100;
    EXPECT_EQ(validate_error(build(compression_type::none, sample_inputs()), small), make_error_code(batch_errc::invalid_length));
}

// ---- timestamp look-ups -----------------------------------------------------------------

bytes timed_batch(std::vector<int64_t> ts, compression_type c = compression_type::none)
{
    std::vector<record_input> in;
    for (auto t : ts) in.push_back(record_input{to_bytes("k"), to_bytes("v"), {}, timestamp_ms(t)});
    return build(c, in, offset(100));
}

TEST(records, find_first_at_or_after)
{
    for (auto c : {compression_type::none, compression_type::snappy}) {
        auto batch = timed_batch({10, 30, 20, 40}, c);
        auto at = [&](int64_t t) { return find_first_at_or_after(batch, timestamp_ms(t)).value(); };
        EXPECT_EQ(at(0), (timestamp_offset{timestamp_ms(10), offset(100)}));
        EXPECT_EQ(at(10), (timestamp_offset{timestamp_ms(10), offset(100)}));
        EXPECT_EQ(at(25), (timestamp_offset{timestamp_ms(30), offset(101)}));
        EXPECT_EQ(at(31), (timestamp_offset{timestamp_ms(40), offset(103)}));
        EXPECT_EQ(at(41), std::nullopt);
    }
}

TEST(records, find_first_answers_from_the_header_when_the_batch_is_too_old)
{
    auto batch = timed_batch({10, 30});
    batch.back() ^= 0xff; // a corrupt body: only a look inside notices
    EXPECT_EQ(find_first_at_or_after(batch, timestamp_ms(31)).value(), std::nullopt);
    EXPECT_EQ(find_first_at_or_after(batch, timestamp_ms(30)).error(), make_error_code(batch_errc::crc_mismatch));
    EXPECT_FALSE(find_first_at_or_after(bytes_view(batch).first(20), timestamp_ms(0)));
}

TEST(records, find_max_timestamp)
{
    auto best = find_max_timestamp(timed_batch({10, 40, 20, 40}, compression_type::gzip)).value();
    EXPECT_EQ(best, (timestamp_offset{timestamp_ms(40), offset(101)}));
    EXPECT_EQ(find_max_timestamp(frame({}, 0, 0)).value(), std::nullopt);
}

// ---- golden batches from kafka-python ---------------------------------------------------

std::optional<std::string> str(const golden::golden_bytes& b)
{
    if (b.len < 0) return std::nullopt;
    return std::string(b.data, static_cast<size_t>(b.len));
}

TEST(records, golden_v2_batches_from_kafka_python)
{
    int cases = 0;
    for (const auto& g : golden::all_cases) {
        if (g.magic != 2) continue;
        ++cases;
        bytes_view data(g.data, g.size);
        auto s = validate_records(data);
        ASSERT_TRUE(s) << g.name << ": " << s.error().message();
        EXPECT_EQ(s->record_count, static_cast<int32_t>(g.record_count)) << g.name;
        EXPECT_EQ(static_cast<int>(s->header.compression()), g.codec) << g.name;
        EXPECT_EQ(s->header.pid, producer_id(g.producer_id)) << g.name;
        EXPECT_EQ(s->header.epoch, producer_epoch(static_cast<int16_t>(g.producer_epoch))) << g.name;
        EXPECT_EQ(s->header.base_sequence, g.base_sequence) << g.name;
        EXPECT_EQ(s->header.is_transactional(), g.transactional) << g.name;
        EXPECT_TRUE(s->has_null_key) << g.name;

        auto reader = record_reader::open(data).value();
        for (size_t i = 0; i < g.record_count; ++i) {
            auto r = reader.next();
            ASSERT_TRUE(r) << g.name << " record " << i << ": " << reader.error().message();
            const auto& want = g.records[i];
            EXPECT_EQ(r->offset, offset(want.offset)) << g.name << " " << i;
            EXPECT_EQ(r->timestamp, timestamp_ms(want.timestamp)) << g.name << " " << i;
            EXPECT_EQ(str(r->key), str(want.key)) << g.name << " " << i;
            EXPECT_EQ(str(r->value), str(want.value)) << g.name << " " << i;
            ASSERT_EQ(r->headers.size(), static_cast<size_t>(want.header_count)) << g.name << " " << i;
            for (size_t j = 0; j < r->headers.size(); ++j) {
                EXPECT_EQ(std::string(r->headers[j].key), str(want.headers[j].key));
                EXPECT_EQ(str(r->headers[j].value), str(want.headers[j].value));
            }
        }
        EXPECT_FALSE(reader.next());
        EXPECT_FALSE(reader.error()) << g.name;
    }
    EXPECT_EQ(cases, 10);
}

} // namespace
} // namespace samsa::protocol
