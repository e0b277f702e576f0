#include "protocol/api_key.h"
#include "protocol/error_code.h"
#include "protocol/headers.h"
#include "protocol/records_payload.h"
#include "protocol/wire.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>

#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
// From the sanitizer runtime (GCC ships no header for it): observe every heap allocation.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, size_t),
                                                         void (*free_hook)(const volatile void*));
#define SAMSA_HAVE_MALLOC_HOOKS 1
#endif

namespace samsa::protocol {
namespace {

bytes encode_with(const std::function<void(writer&)>& f)
{
    writer w;
    f(w);
    return flatten(std::move(w).finish());
}

// ---------------------------------------------------------------- allocation probe

#ifdef SAMSA_HAVE_MALLOC_HOOKS
std::atomic<bool> probe_on{false};
std::atomic<size_t> probe_largest{0};

void on_malloc(const volatile void*, size_t size)
{
    if (!probe_on.load(std::memory_order_relaxed)) return;
    size_t cur = probe_largest.load(std::memory_order_relaxed);
    while (size > cur && !probe_largest.compare_exchange_weak(cur, size)) {
    }
}
void on_free(const volatile void*) {}
const int hooks_installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif

/// Runs f and returns the largest single heap allocation it made (0 when the build has no
/// sanitizer allocator hooks; the callers' other assertions still run).
size_t largest_allocation_during(const std::function<void()>& f)
{
#ifdef SAMSA_HAVE_MALLOC_HOOKS
    EXPECT_NE(hooks_installed, 0);
    probe_largest = 0;
    probe_on = true;
    f();
    probe_on = false;
    return probe_largest;
#else
    f();
    return 0;
#endif
}

// ---------------------------------------------------------------- fixed-width integers

TEST(wire, integers_are_big_endian)
{
    auto b = encode_with([](writer& w) {
        w.write_int8(-2);
        w.write_int16(0x0102);
        w.write_int32(0x01020304);
        w.write_int64(0x0102030405060708LL);
        w.write_uint16(0xfffe);
        w.write_uint32(0xfffefdfcU);
    });
    bytes expected{0xfe, 1, 2, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xfe, 0xff, 0xfe, 0xfd, 0xfc};
    EXPECT_EQ(b, expected);
    reader r(b);
    EXPECT_EQ(r.read_int8(), -2);
    EXPECT_EQ(r.read_int16(), 0x0102);
    EXPECT_EQ(r.read_int32(), 0x01020304);
    EXPECT_EQ(r.read_int64(), 0x0102030405060708LL);
    EXPECT_EQ(r.read_uint16(), 0xfffe);
    EXPECT_EQ(r.read_uint32(), 0xfffefdfcU);
    EXPECT_TRUE(r.empty());
}

template<typename T>
void check_int_boundaries(T (reader::*read)(), void (writer::*write)(T))
{
    for (T v : {std::numeric_limits<T>::min(), T(-1), T(0), T(1), std::numeric_limits<T>::max()}) {
        auto b = encode_with([&](writer& w) { (w.*write)(v); });
        ASSERT_EQ(b.size(), sizeof(T));
        reader r(b);
        EXPECT_EQ((r.*read)(), v);
        // Every shorter prefix is truncated input.
        for (size_t n = 0; n < sizeof(T); ++n) {
            reader short_r(bytes_view(b).first(n));
            EXPECT_THROW((short_r.*read)(), decode_error) << "prefix " << n;
        }
    }
}

TEST(wire, integer_boundaries_and_truncation)
{
    check_int_boundaries<int8_t>(&reader::read_int8, &writer::write_int8);
    check_int_boundaries<int16_t>(&reader::read_int16, &writer::write_int16);
    check_int_boundaries<int32_t>(&reader::read_int32, &writer::write_int32);
    check_int_boundaries<int64_t>(&reader::read_int64, &writer::write_int64);
    check_int_boundaries<uint16_t>(&reader::read_uint16, &writer::write_uint16);
    check_int_boundaries<uint32_t>(&reader::read_uint32, &writer::write_uint32);
}

TEST(wire, float64_bool_uuid)
{
    uuid u;
    for (size_t i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(i * 17);
    auto b = encode_with([&](writer& w) {
        w.write_float64(1.0);
        w.write_float64(-0.0);
        w.write_float64(std::numeric_limits<double>::infinity());
        w.write_bool(true);
        w.write_bool(false);
        w.write_uuid(u);
    });
    ASSERT_EQ(b.size(), 8u * 3 + 2 + 16);
    EXPECT_EQ(bytes(b.begin(), b.begin() + 8), (bytes{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
    reader r(b);
    EXPECT_EQ(r.read_float64(), 1.0);
    double neg_zero = r.read_float64();
    EXPECT_TRUE(neg_zero == 0.0 && std::signbit(neg_zero));
    EXPECT_EQ(r.read_float64(), std::numeric_limits<double>::infinity());
    EXPECT_TRUE(r.read_bool());
    EXPECT_FALSE(r.read_bool());
    EXPECT_EQ(r.read_uuid(), u);
    EXPECT_THROW(r.read_bool(), decode_error);

    bytes nonzero{7};
    reader r2(nonzero);
    EXPECT_TRUE(r2.read_bool()) << "any non-zero byte is true";

    bytes fifteen(15, 1);
    reader r3(fifteen);
    EXPECT_THROW(r3.read_uuid(), decode_error);
}

TEST(wire, uuid_text_form)
{
    uuid zero;
    EXPECT_TRUE(zero.is_zero());
    EXPECT_EQ(zero.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
    uuid u;
    u.bytes.fill(0xff);
    EXPECT_FALSE(u.is_zero());
    EXPECT_EQ(u.to_string(), "_____________________w");
}

// ---------------------------------------------------------------- varints

TEST(wire, unsigned_varints)
{
    struct sample {
        uint64_t value;
        bytes encoded;
    };
    std::vector<sample> samples{{0, {0}},
                                {1, {1}},
                                {127, {0x7f}},
                                {128, {0x80, 0x01}},
                                {300, {0xac, 0x02}},
                                {0xffffffffull, {0xff, 0xff, 0xff, 0xff, 0x0f}}};
    for (const auto& s : samples) {
        auto b = encode_with([&](writer& w) { w.write_uvarint(s.value); });
        EXPECT_EQ(b, s.encoded) << s.value;
        reader r(b);
        EXPECT_EQ(r.read_uvarint(), s.value);
        EXPECT_TRUE(r.empty());
    }
    // Truncated: continuation bit set on the last byte.
    bytes truncated{0x80, 0x80};
    reader r1(truncated);
    EXPECT_THROW(r1.read_uvarint(), decode_error);
    // Too long for 32 bits.
    bytes too_long{0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    reader r2(too_long);
    EXPECT_THROW(r2.read_uvarint(), decode_error);
    bytes over_32_bits{0xff, 0xff, 0xff, 0xff, 0x1f};
    reader r3(over_32_bits);
    EXPECT_THROW(r3.read_uvarint(), decode_error);
    reader r4(over_32_bits);
    EXPECT_EQ(r4.read_uvarlong(), 0x1ffffffffull);
}

TEST(wire, signed_varints)
{
    for (int32_t v : {std::numeric_limits<int32_t>::min(), -300, -1, 0, 1, 63, -64, 64,
                      std::numeric_limits<int32_t>::max()}) {
        auto b = encode_with([&](writer& w) { w.write_varint(v); });
        reader r(b);
        EXPECT_EQ(r.read_varint(), v);
        EXPECT_TRUE(r.empty());
    }
    for (int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
                      int64_t{1} << 40, std::numeric_limits<int64_t>::max()}) {
        auto b = encode_with([&](writer& w) { w.write_varlong(v); });
        reader r(b);
        EXPECT_EQ(r.read_varlong(), v);
        EXPECT_TRUE(r.empty());
    }
    // Zig-zag: -1 is 1, 1 is 2.
    EXPECT_EQ(encode_with([](writer& w) { w.write_varint(-1); }), bytes{1});
    EXPECT_EQ(encode_with([](writer& w) { w.write_varint(1); }), bytes{2});
}

// ---------------------------------------------------------------- strings and bytes

TEST(wire, strings_classic_and_compact)
{
    auto b = encode_with([](writer& w) {
        w.write_string("abc", false);
        w.write_string("abc", true);
        w.write_string("", false);
        w.write_string("", true);
        w.write_nullable_string(std::nullopt, false);
        w.write_nullable_string(std::nullopt, true);
        w.write_nullable_string(std::string("x"), true);
    });
    bytes expected{0, 3, 'a', 'b', 'c', 4, 'a', 'b', 'c', 0, 0, 1, 0xff, 0xff, 0, 2, 'x'};
    EXPECT_EQ(b, expected);
    reader r(b);
    EXPECT_EQ(r.read_string(false), "abc");
    EXPECT_EQ(r.read_string(true), "abc");
    EXPECT_EQ(r.read_string(false), "");
    EXPECT_EQ(r.read_string(true), "");
    EXPECT_EQ(r.read_nullable_string(false), std::nullopt);
    EXPECT_EQ(r.read_nullable_string(true), std::nullopt);
    EXPECT_EQ(r.read_nullable_string(true), std::optional<std::string>("x"));
    EXPECT_TRUE(r.empty());
}

TEST(wire, null_where_not_nullable_throws)
{
    bytes classic_null{0xff, 0xff};
    reader r1(classic_null);
    EXPECT_THROW(r1.read_string(false), decode_error);
    bytes compact_null{0};
    reader r2(compact_null);
    EXPECT_THROW(r2.read_string(true), decode_error);
    bytes bytes_null{0xff, 0xff, 0xff, 0xff};
    reader r3(bytes_null);
    EXPECT_THROW(r3.read_bytes(false), decode_error);
    bytes array_null{0xff, 0xff, 0xff, 0xff};
    reader r4(array_null);
    EXPECT_THROW(r4.read_array_length(false, false), decode_error);
    reader r5(array_null);
    EXPECT_EQ(r5.read_array_length(false, true), -1);
    bytes compact_array_null{0};
    reader r6(compact_array_null);
    EXPECT_EQ(r6.read_array_length(true, true), -1);
}

TEST(wire, negative_lengths_below_minus_one_throw)
{
    bytes string_len{0xff, 0xfe, 'a', 'b'};
    reader r1(string_len);
    EXPECT_THROW(r1.read_nullable_string(false), decode_error);
    bytes bytes_len{0xff, 0xff, 0xff, 0xfe, 1, 2};
    reader r2(bytes_len);
    EXPECT_THROW(r2.read_nullable_bytes(false), decode_error);
    reader r3(bytes_len);
    EXPECT_THROW(r3.read_array_length(false, true), decode_error);
}

TEST(wire, bytes_classic_and_compact)
{
    bytes payload{1, 2, 3};
    auto b = encode_with([&](writer& w) {
        w.write_bytes(payload, false);
        w.write_bytes(payload, true);
        w.write_nullable_bytes(std::nullopt, false);
        w.write_nullable_bytes(std::nullopt, true);
    });
    bytes expected{0, 0, 0, 3, 1, 2, 3, 4, 1, 2, 3, 0xff, 0xff, 0xff, 0xff, 0};
    EXPECT_EQ(b, expected);
    reader r(b);
    EXPECT_EQ(r.read_bytes(false), payload);
    EXPECT_EQ(r.read_bytes(true), payload);
    EXPECT_EQ(r.read_nullable_bytes(false), std::nullopt);
    EXPECT_EQ(r.read_nullable_bytes(true), std::nullopt);
}

TEST(wire, oversized_values_cannot_be_encoded)
{
    writer w;
    std::string long_string(32768, 'x');
    EXPECT_THROW(w.write_string(long_string, false), encode_error);
    // Compact strings have no int16 limit.
    w.write_string(long_string, true);
    reader r(w.data());
    EXPECT_EQ(r.read_string(true), long_string);
}

TEST(wire, arrays_classic_and_compact)
{
    auto b = encode_with([](writer& w) {
        w.write_array_length(2, false);
        w.write_array_length(2, true);
        w.write_null_array(false);
        w.write_null_array(true);
        w.write_raw(bytes(8, 0));
    });
    EXPECT_EQ(bytes(b.begin(), b.begin() + 10), (bytes{0, 0, 0, 2, 3, 0xff, 0xff, 0xff, 0xff, 0}));
    reader r(b);
    EXPECT_EQ(r.read_array_length(false, false), 2);
    EXPECT_EQ(r.read_array_length(true, false), 2);
    EXPECT_EQ(r.read_array_length(false, true), -1);
    EXPECT_EQ(r.read_array_length(true, true), -1);
    EXPECT_EQ(r.remaining(), 8u);
}

TEST(wire, array_counts_are_checked_against_the_input)
{
    // 3 elements of at least 4 bytes need 12 bytes; only 8 remain.
    bytes b{0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0};
    reader r1(b);
    EXPECT_THROW(r1.read_array_length(false, false, 4), decode_error);
    reader r2(b);
    EXPECT_EQ(r2.read_array_length(false, false, 2), 3);
}

// ---------------------------------------------------------------- hostile lengths

TEST(wire, hostile_lengths_throw_without_allocating)
{
#ifdef SAMSA_HAVE_MALLOC_HOOKS
    // The probe sees a large allocation when there is one.
    size_t seen = largest_allocation_during([] {
        auto big = std::make_unique<bytes>(1 << 20);
        EXPECT_EQ(big->size(), 1u << 20);
    });
    EXPECT_GE(seen, 1u << 20);
#endif
    // Each input claims far more data than it carries.
    std::vector<std::pair<const char*, std::function<void(reader&)>>> cases{
      {"string", [](reader& r) { (void)r.read_string(false); }},
      {"compact string", [](reader& r) { (void)r.read_string(true); }},
      {"bytes", [](reader& r) { (void)r.read_bytes(false); }},
      {"compact bytes", [](reader& r) { (void)r.read_bytes(true); }},
      {"records", [](reader& r) { (void)r.read_records(false); }},
      {"array", [](reader& r) { (void)r.read_array_length(false, false); }},
      {"compact array", [](reader& r) { (void)r.read_array_length(true, false); }},
      {"tagged fields", [](reader& r) { r.skip_tagged_fields(); }},
    };
    const bytes huge_int32{0x7f, 0xff, 0xff, 0xff, 'a', 'b'};
    const bytes huge_uvarint{0xfe, 0xff, 0xff, 0xff, 0x0f, 'a', 'b'};
    const bytes huge_int16{0x7f, 0xff, 'a', 'b'};
    for (auto& [name, read] : cases) {
        std::string n = name;
        const bytes& input = n.starts_with("compact") || n == "tagged fields" ? huge_uvarint
                             : n == "string"                                  ? huge_int16
                                                                              : huge_int32;
        size_t largest = largest_allocation_during([&] {
            reader r(input);
            EXPECT_THROW(read(r), decode_error) << name;
        });
        EXPECT_LT(largest, 4096u) << name << " allocated " << largest << " bytes";
    }
}

TEST(wire, tagged_field_sections)
{
    writer field;
    field.write_int32(42);
    auto b = encode_with([&](writer& w) {
        w.write_uvarint(2);
        w.write_tagged_field(1, field);
        w.write_tagged_field(7, field);
        w.write_int8(9);
    });
    EXPECT_EQ(b, (bytes{2, 1, 4, 0, 0, 0, 42, 7, 4, 0, 0, 0, 42, 9}));
    reader r(b);
    EXPECT_EQ(r.read_uvarint(), 2u);
    auto f1 = r.read_tagged_field();
    EXPECT_EQ(f1.tag, 1u);
    EXPECT_EQ(f1.data.read_int32(), 42);
    EXPECT_TRUE(f1.data.empty());
    reader skip(b);
    skip.skip_tagged_fields();
    EXPECT_EQ(skip.read_int8(), 9);
    // A field whose size runs past the input.
    bytes bad{1, 0, 9, 1, 2};
    reader r2(bad);
    EXPECT_THROW(r2.skip_tagged_fields(), decode_error);
}

// ---------------------------------------------------------------- records and splices

class temp_file {
public:
    explicit temp_file(bytes_view content)
    {
        char name[] = "/tmp/samsa_wire_test_XXXXXX";
        _fd = ::mkstemp(name);
        EXPECT_GE(_fd, 0);
        ::unlink(name);
        EXPECT_EQ(::write(_fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    }
    ~temp_file() { ::close(_fd); }
    int fd() const { return _fd; }

private:
    int _fd{-1};
};

TEST(records_payload, null_empty_and_content_equality)
{
    records_payload null_payload;
    EXPECT_TRUE(null_payload.is_null());
    EXPECT_EQ(null_payload.size_bytes(), 0u);
    auto empty = records_payload::empty();
    EXPECT_FALSE(empty.is_null());
    EXPECT_NE(null_payload, empty);

    bytes whole{1, 2, 3, 4, 5};
    records_payload one(whole);
    records_payload two;
    two.append(bytes{1, 2});
    two.append_view(bytes_view(whole).subspan(2));
    EXPECT_EQ(one, two);
    EXPECT_EQ(two.size_bytes(), 5u);
    EXPECT_EQ(two.to_bytes(), whole);
    records_payload other(bytes{1, 2, 3, 4, 6});
    EXPECT_NE(one, other);
}

TEST(records_payload, file_regions_read_with_pread)
{
    bytes content{10, 11, 12, 13, 14, 15, 16, 17};
    temp_file f(content);
    records_payload p;
    p.append(bytes{1});
    p.append(file_region{f.fd(), 2, 4, nullptr});
    EXPECT_EQ(p.size_bytes(), 5u);
    EXPECT_EQ(p.to_bytes(), (bytes{1, 12, 13, 14, 15}));
    EXPECT_EQ(p, records_payload(bytes{1, 12, 13, 14, 15}));

    records_payload past_end;
    past_end.append(file_region{f.fd(), 6, 4, nullptr});
    EXPECT_THROW((void)past_end.to_bytes(), std::system_error);
}

TEST(wire, records_fields_splice_file_regions)
{
    bytes content{10, 11, 12, 13, 14, 15, 16, 17};
    temp_file f(content);
    records_payload p;
    p.append(bytes{1, 2});
    p.append(file_region{f.fd(), 1, 3, nullptr});
    p.append(bytes{3});

    writer w;
    size_t frame = w.reserve_int32();
    w.write_int16(7);
    w.write_records(p, false);
    w.write_int8(-1);
    w.patch_frame_size(frame);
    EXPECT_EQ(w.size(), 4u + 2 + 4 + 6 + 1);
    auto msg = std::move(w).finish();
    ASSERT_EQ(msg.splices.size(), 1u);
    EXPECT_EQ(msg.splices[0].after, 4u + 2 + 4 + 2);
    EXPECT_EQ(msg.data.size(), 4u + 2 + 4 + 3 + 1);
    EXPECT_EQ(msg.total_size(), 4u + 2 + 4 + 6 + 1);

    bytes flat = flatten(msg);
    bytes expected{0, 0, 0, 13, 0, 7, 0, 0, 0, 6, 1, 2, 11, 12, 13, 3, 0xff};
    EXPECT_EQ(flat, expected);

    // Decoding gives a view into the buffer, equal by content.
    reader r(bytes_view(flat).subspan(6));
    auto decoded = r.read_records(false);
    ASSERT_EQ(decoded.chunks().size(), 1u);
    EXPECT_TRUE(std::holds_alternative<bytes_view>(decoded.chunks()[0]));
    EXPECT_EQ(std::get<bytes_view>(decoded.chunks()[0]).data(), flat.data() + 10);
    EXPECT_EQ(decoded, p);
}

TEST(wire, null_and_compact_records)
{
    auto b = encode_with([](writer& w) {
        w.write_records(records_payload{}, false);
        w.write_records(records_payload{}, true);
        w.write_records(records_payload(bytes{5}), true);
    });
    EXPECT_EQ(b, (bytes{0xff, 0xff, 0xff, 0xff, 0, 2, 5}));
    reader r(b);
    EXPECT_TRUE(r.read_records(false).is_null());
    EXPECT_TRUE(r.read_records(true).is_null());
    EXPECT_EQ(r.read_records(true), records_payload(bytes{5}));
}

// ---------------------------------------------------------------- headers

TEST(headers, request_header_versions)
{
    EXPECT_EQ(request_header_version(api_key::produce, 8), 1);
    EXPECT_EQ(request_header_version(api_key::produce, 9), 2);
    EXPECT_EQ(request_header_version(api_key::api_versions, 3), 2);
    EXPECT_EQ(request_header_version(api_key::controlled_shutdown, 0), 0);
    EXPECT_EQ(request_header_version(api_key::controlled_shutdown, 1), 1);
    EXPECT_EQ(request_header_version(api_key::sasl_handshake, 1), 1) << "never flexible";
    EXPECT_EQ(request_header_version(static_cast<api_key>(999), 0), 1);
    EXPECT_EQ(response_header_version(api_key::api_versions, 3), 0) << "ApiVersions quirk";
    EXPECT_EQ(response_header_version(api_key::metadata, 9), 1);
    EXPECT_EQ(response_header_version(api_key::metadata, 8), 0);
}

TEST(headers, request_header_encodings)
{
    request_header h{api_key::metadata, 9, 0x01020304, std::string("cli")};
    auto v2 = encode_with([&](writer& w) { h.encode(w); });
    // The client id stays an int16-length string even in header v2.
    EXPECT_EQ(v2, (bytes{0, 3, 0, 9, 1, 2, 3, 4, 0, 3, 'c', 'l', 'i', 0}));
    reader r(v2);
    request_header back;
    back.decode(r);
    EXPECT_EQ(back, h);
    EXPECT_TRUE(r.empty());

    request_header old{api_key::controlled_shutdown, 0, 7, std::nullopt};
    auto v0 = encode_with([&](writer& w) { old.encode(w); });
    EXPECT_EQ(v0, (bytes{0, 7, 0, 0, 0, 0, 0, 7}));
    reader r0(v0);
    back.decode(r0);
    EXPECT_EQ(back, old);

    request_header v1h{api_key::produce, 3, -1, std::nullopt};
    auto v1 = encode_with([&](writer& w) { v1h.encode(w); });
    EXPECT_EQ(v1, (bytes{0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
    reader r1(v1);
    back.decode(r1);
    EXPECT_EQ(back, v1h);
}

TEST(headers, request_header_skips_unknown_tags_and_rejects_truncation)
{
    bytes b{0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff, 1, 5, 2, 0xaa, 0xbb};
    reader r(b);
    request_header h;
    h.decode(r);
    EXPECT_EQ(h.key, api_key::api_versions);
    EXPECT_EQ(h.client_id, std::nullopt);
    EXPECT_TRUE(r.empty());
    for (size_t n = 0; n < b.size(); ++n) {
        reader short_r(bytes_view(b).first(n));
        EXPECT_THROW(h.decode(short_r), decode_error) << n;
    }
}

TEST(headers, response_header)
{
    response_header h{42};
    EXPECT_EQ(encode_with([&](writer& w) { h.encode(w, 0); }), (bytes{0, 0, 0, 42}));
    auto v1 = encode_with([&](writer& w) { h.encode(w, 1); });
    EXPECT_EQ(v1, (bytes{0, 0, 0, 42, 0}));
    reader r(v1);
    response_header back;
    back.decode(r, 1);
    EXPECT_EQ(back, h);
    EXPECT_TRUE(r.empty());
}

// ---------------------------------------------------------------- codes

TEST(error_codes, table)
{
    EXPECT_EQ(static_cast<int16_t>(error_code::unknown_server_error), -1);
    EXPECT_EQ(static_cast<int16_t>(error_code::offset_out_of_range), 1);
    EXPECT_EQ(static_cast<int16_t>(error_code::not_leader_or_follower), 6);
    EXPECT_EQ(static_cast<int16_t>(error_code::unsupported_version), 35);
    EXPECT_EQ(static_cast<int16_t>(error_code::fenced_leader_epoch), 74);
    EXPECT_EQ(static_cast<int16_t>(error_code::unknown_topic_id), 100);
    EXPECT_EQ(static_cast<int16_t>(error_code::transaction_abortable), 120);
    EXPECT_EQ(to_string(error_code::offset_out_of_range), "OFFSET_OUT_OF_RANGE");
    EXPECT_EQ(to_string(error_code::none), "NONE");
    EXPECT_TRUE(is_retriable(error_code::not_leader_or_follower));
    EXPECT_TRUE(is_retriable(error_code::coordinator_load_in_progress));
    EXPECT_FALSE(is_retriable(error_code::offset_out_of_range));
    EXPECT_FALSE(is_retriable(error_code::none));
    EXPECT_EQ(fmt::format("{}", error_code::unknown_member_id), "UNKNOWN_MEMBER_ID");
    EXPECT_EQ(fmt::format("{}", static_cast<error_code>(5000)), "UNKNOWN(5000)");
    EXPECT_EQ(error_code_from_int(3), error_code::unknown_topic_or_partition);
    EXPECT_EQ(error_code_from_int(-2), std::nullopt);
    // Every code from -1 to the highest is in the table, with a message.
    for (int v = -1; v <= max_error_code; ++v) {
        auto e = static_cast<error_code>(v);
        EXPECT_TRUE(is_known(e)) << v;
        EXPECT_FALSE(message(e).empty()) << v;
    }
    EXPECT_FALSE(is_known(static_cast<error_code>(max_error_code + 1)));
}

TEST(api_keys, table)
{
    EXPECT_EQ(static_cast<int16_t>(api_key::produce), 0);
    EXPECT_EQ(static_cast<int16_t>(api_key::api_versions), 18);
    EXPECT_EQ(static_cast<int16_t>(api_key::describe_producers), 61);
    EXPECT_EQ(to_string(api_key::offset_for_leader_epoch), "OffsetForLeaderEpoch");
    EXPECT_EQ(fmt::format("{}", api_key::sasl_handshake), "SaslHandshake");
    EXPECT_EQ(fmt::format("{}", static_cast<api_key>(-5)), "Unknown(-5)");
    EXPECT_EQ(first_flexible_version(api_key::fetch), 12);
    EXPECT_EQ(first_flexible_version(api_key::offset_delete), never_flexible);
    EXPECT_FALSE(is_flexible(api_key::sasl_handshake, 1));
    EXPECT_TRUE(is_flexible(api_key::describe_cluster, 0));
    // Keys are dense from 0 to the highest one.
    int16_t k = 0;
    while (is_known(static_cast<api_key>(k))) ++k;
    EXPECT_GE(k, 68);
    for (int16_t j = k; j < k + 200; ++j) EXPECT_FALSE(is_known(static_cast<api_key>(j))) << j;
}

} // namespace
} // namespace samsa::protocol
