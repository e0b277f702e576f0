#pragma once

#include "base/result.h"
#include "protocol/record_batch.h"
#include "storage/file_ops.h"

#include <optional>

namespace samsa::storage {

/// One batch found by a scan: where it starts, its header and its bytes (valid until the next
/// call to next()).
struct scanned_batch {
    uint64_t position;
    protocol::batch_header header;
    bytes_view data;
};

/// Reads the batches of a .log file in order, in large sequential chunks (recovery, index
/// rebuilds, log dumps, compaction). Stops at the end of the file or at the first byte that
/// does not start a valid batch; error() then says why and position() where. Never allocates
/// more than the larger of the chunk size and the biggest batch actually present in the file.
class batch_scanner {
public:
    batch_scanner(file_ptr f, uint64_t start, uint64_t end, bool verify_crc, size_t chunk_bytes = 1 << 20);

    std::optional<scanned_batch> next();
    /// Offset in the file of the first byte not yet consumed (after a failure: of the bad batch).
    uint64_t position() const { return _pos; }
    std::error_code error() const { return _err; }

private:
    bool fill(uint64_t pos, size_t n);

    file_ptr _file;
    uint64_t _pos;
    uint64_t _end;
    bool _verify;
    size_t _chunk;
    bytes _buf;
    uint64_t _buf_pos = 0;
    size_t _buf_len = 0;
    std::error_code _err;
};

} // namespace samsa::storage
