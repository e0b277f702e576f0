#pragma once

#include "bytes/bytes.h"
#include "protocol/records_payload.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::protocol {

/// Malformed wire input: short buffers, bad lengths, nulls where the schema forbids them.
/// The connection loop logs it once and closes the socket.
class decode_error : public std::runtime_error {
public:
    explicit decode_error(const std::string& what) : std::runtime_error(what) {}
};

/// A value the wire format cannot carry (a string longer than an int16 length allows, more
/// than INT32_MAX array elements). Kafka's encoders fail the same way.
class encode_error : public std::runtime_error {
public:
    explicit encode_error(const std::string& what) : std::runtime_error(what) {}
};

/// Kafka's 16-byte UUID (topic ids, directory ids). All zeros is Kafka's "zero UUID".
struct uuid {
    std::array<uint8_t, 16> bytes{};

    bool is_zero() const;
    /// The 22-character URL-safe base64 form Kafka prints.
    std::string to_string() const;
    auto operator<=>(const uuid&) const = default;
};

struct tagged_field;

/// Bounds-checked reader of Kafka primitive types over a buffer it does not own.
///
/// Every short or invalid input throws decode_error. Lengths and counts are checked against
/// the remaining input before anything is allocated, so a hostile length cannot cause an
/// allocation larger than a small multiple of the input size.
class reader {
public:
    explicit reader(bytes_view in) : _in(in) {}

    size_t remaining() const { return _in.size() - _pos; }
    size_t position() const { return _pos; }
    bool empty() const { return remaining() == 0; }

    int8_t read_int8();
    int16_t read_int16();
    int32_t read_int32();
    int64_t read_int64();
    uint16_t read_uint16();
    uint32_t read_uint32();
    double read_float64();
    /// Any non-zero byte is true, as Kafka reads it.
    bool read_bool();
    uuid read_uuid();
    /// Unsigned LEB128 of at most 5 bytes (32 bits).
    uint32_t read_uvarint();
    /// Unsigned LEB128 of at most 10 bytes.
    uint64_t read_uvarlong();
    int32_t read_varint();
    int64_t read_varlong();

    /// int16 length (or unsigned varint length + 1 when `compact`); null throws.
    std::string read_string(bool compact);
    std::optional<std::string> read_nullable_string(bool compact);
    /// int32 length (or unsigned varint length + 1 when `compact`); null throws.
    bytes read_bytes(bool compact);
    std::optional<bytes> read_nullable_bytes(bool compact);
    /// A records field: a length like bytes, content returned as a view into the input.
    records_payload read_records(bool compact);

    /// An array count: int32 (or unsigned varint count + 1 when `compact`). Returns -1 for a
    /// null array when `nullable`, throws for a null otherwise. Each element must take at
    /// least `min_element_size` (>= 1) bytes of the remaining input.
    int32_t read_array_length(bool compact, bool nullable, size_t min_element_size = 1);

    /// One entry of a tagged-field section: its tag and a reader over exactly its data.
    tagged_field read_tagged_field();
    /// Reads a whole tagged-field section, ignoring every field.
    void skip_tagged_fields();

    /// The next `n` bytes as a view into the input.
    bytes_view read_raw(size_t n);
    void skip(size_t n) { (void)read_raw(n); }

private:
    const uint8_t* take(size_t n);
    [[noreturn]] void fail(std::string_view what, size_t wanted) const;
    /// Reads a string/bytes length: -1 for null, otherwise checked against the input.
    int64_t read_length(bool compact, bool wide);

    bytes_view _in;
    size_t _pos{0};
};

/// An entry of a tagged-field section (see reader::read_tagged_field).
struct tagged_field {
    uint32_t tag{0};
    reader data;
};

/// "After byte `after` of the encoded data, send this file region."
struct splice {
    size_t after{0};
    file_region region;
};

/// The output of a writer: in-memory bytes plus file regions to splice in when sending.
struct encoded_message {
    bytes data;
    std::vector<splice> splices;

    /// Bytes on the wire: data plus every spliced region.
    size_t total_size() const;
};

/// The message as one buffer, file regions read with pread (tests, TLS).
bytes flatten(const encoded_message& m);

/// Appends Kafka primitive types to a growable buffer. Records fields that live in files are
/// not read: the writer records a splice point instead (see encoded_message).
class writer {
public:
    writer() = default;

    /// Bytes written so far, spliced file regions included.
    size_t size() const { return _data.size() + _spliced_bytes; }
    /// The in-memory bytes written so far.
    bytes_view data() const { return _data; }
    bool has_splices() const { return !_splices.empty(); }
    void reserve(size_t n) { _data.reserve(n); }

    void write_int8(int8_t v);
    void write_int16(int16_t v);
    void write_int32(int32_t v);
    void write_int64(int64_t v);
    void write_uint16(uint16_t v);
    void write_uint32(uint32_t v);
    void write_float64(double v);
    void write_bool(bool v) { write_int8(v ? 1 : 0); }
    void write_uuid(const uuid& v);
    void write_uvarint(uint64_t v);
    void write_varint(int32_t v);
    void write_varlong(int64_t v);

    void write_string(std::string_view s, bool compact);
    void write_nullable_string(const std::optional<std::string>& s, bool compact);
    void write_bytes(bytes_view b, bool compact);
    void write_nullable_bytes(const std::optional<bytes>& b, bool compact);
    /// Length (null when the payload is null) then content; file regions become splices.
    void write_records(const records_payload& r, bool compact);
    void write_array_length(size_t n, bool compact);
    void write_null_array(bool compact);

    /// One tagged field: tag, size, then the bytes of `field` (which must have no splices).
    void write_tagged_field(uint32_t tag, const writer& field);
    void write_raw(bytes_view b);

    /// Reserves an int32 (a frame size) and returns its position for a later patch.
    size_t reserve_int32();
    void patch_int32(size_t pos, int32_t v);
    /// Patches the int32 at `pos` with the number of bytes written after it, spliced file
    /// regions included: the Kafka frame size.
    void patch_frame_size(size_t pos);

    encoded_message finish() &&;

private:
    void write_length(int64_t len, bool compact, bool wide);

    bytes _data;
    std::vector<splice> _splices;
    size_t _spliced_bytes{0};
};

} // namespace samsa::protocol
