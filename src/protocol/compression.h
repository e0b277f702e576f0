#pragma once

#include "base/result.h"
#include "bytes/bytes.h"
#include "protocol/record_batch.h"

namespace samsa::protocol {

/// Compresses `in` with `codec` in the framing Kafka clients expect inside a v2 batch
/// (gzip stream, raw snappy, LZ4 frame, zstd frame).
result<bytes> compress(compression_type codec, bytes_view in);

/// Decompresses `in`. Accepts every framing real producers send (snappy raw or xerial-framed,
/// LZ4 frame). Fails with batch_errc::decompressed_too_large, before allocating more, when the
/// output would exceed `max_output` bytes.
result<bytes> decompress(compression_type codec, bytes_view in, size_t max_output);

} // namespace samsa::protocol
