#pragma once

#include "bytes/bytes.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

namespace samsa::protocol {

/// A byte range of an open file, sent later without copying it into memory (sendfile).
/// `keepalive` holds whatever keeps `fd` open (a segment handle) while the region is queued.
struct file_region {
    int fd{-1};
    int64_t pos{0};
    int32_t len{0};
    std::shared_ptr<const void> keepalive;
};

/// The value of every `records` field of the protocol (Produce and Fetch record data).
///
/// It is either null or a sequence of chunks; each chunk is owned bytes, a view into a buffer
/// someone else owns (decoding gives views into the request buffer: the payload is only valid
/// while that buffer lives) or a region of a file (encoding does not read it; see
/// protocol::writer). Equality compares null-ness and content, reading file regions.
class records_payload {
public:
    using chunk = std::variant<bytes, bytes_view, file_region>;

    /// A null payload.
    records_payload() = default;
    /// A non-null payload of one owned chunk (possibly empty).
    explicit records_payload(bytes data);

    /// A non-null payload with no chunks (zero bytes).
    static records_payload empty();
    /// A non-null payload of one view chunk; `data` must outlive the payload.
    static records_payload view(bytes_view data);

    bool is_null() const { return _null; }
    /// Total content size in bytes (0 when null).
    size_t size_bytes() const { return _size; }
    const std::vector<chunk>& chunks() const { return _chunks; }

    /// Appending makes a null payload non-null.
    void append(bytes data);
    void append_view(bytes_view data);
    void append(file_region region);

    /// The content as one buffer; file regions are read with pread. Throws std::system_error
    /// when a file read fails or ends early.
    bytes to_bytes() const;

    friend bool operator==(const records_payload& a, const records_payload& b);

private:
    bool has_file_regions() const;

    std::vector<chunk> _chunks;
    size_t _size{0};
    bool _null{true};
};

/// Reads exactly `region.len` bytes of the region into `out` (appending). Throws
/// std::system_error on a failed or short read.
void read_file_region(const file_region& region, bytes& out);

} // namespace samsa::protocol
