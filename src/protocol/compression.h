#pragma once

#include "base/result.h"
#include "bytes/bytes.h"
#include "protocol/record_batch.h"

namespace samsa::protocol {

/// The codecs of Kafka's compressed record sets, in the framing Kafka clients use:
///
///   gzip    a gzip stream (RFC 1952). Decompression also takes a zlib stream and several
///           gzip members end to end.
///   snappy  compression writes raw snappy (as librdkafka); decompression takes raw snappy and
///           the xerial / snappy-java framing the Java client and kafka-python write:
///           "\x82SNAPPY\0", int32 version, int32 compatible version, then
///           [int32 compressed length, raw snappy block]*.
///   lz4     the LZ4 frame format (independent 64 KiB blocks, no content size when we write;
///           every frame option is accepted when we read). Several frames may follow each other.
///   zstd    zstd frames, decompressed as a stream since frames need not carry a content size.
///           A frame asking for a window above 8 MiB (levels up to 19 never need more) or above
///           max_output rounded up to a power of two, whichever is larger, and never above
///           128 MiB, is refused: that bounds the decoder's own memory.
///
/// All functions are thread-compatible and keep no state between calls.

/// Compresses `in` with `codec` in the framing Kafka clients expect inside a batch.
result<bytes> compress(compression_type codec, bytes_view in);

/// Decompresses `in`. Fails with batch_errc::decompressed_too_large as soon as the output
/// would exceed `max_output` bytes (the output buffer grows in steps and never much beyond
/// max_output), with batch_errc::decompression_failed for corrupt or truncated input, and with
/// batch_errc::unsupported_compression for an unknown codec.
result<bytes> decompress(compression_type codec, bytes_view in, size_t max_output);

/// The header checksum byte of an LZ4 frame. Kafka's magic-0 message sets carry a wrong one
/// (KAFKA-1493: the hash also covered the 4-byte frame magic); magic 1 and v2 use the standard.
enum class lz4_header_checksum : uint8_t { standard, kafka_legacy };

/// Rewrites the header checksum byte of the LZ4 frame at the start of `frame` to `flavour`.
/// Fails with batch_errc::decompression_failed when `frame` does not start with an LZ4 frame
/// header.
result<void> set_lz4_header_checksum(mutable_bytes_view frame, lz4_header_checksum flavour);

/// XXH32 of `data` with `seed` (the hash LZ4 frames use for their checksums).
uint32_t xxh32(bytes_view data, uint32_t seed = 0);

} // namespace samsa::protocol
