#pragma once

#include "bytes/bytes.h"

#include <cstddef>
#include <cstdint>

namespace samsa {

/// CRC-32C (Castagnoli), as the RecordBatch v2 checksum. Uses the SSE4.2 instruction when the
/// CPU has it, a table otherwise. `crc` continues a previous call (start with 0).
uint32_t crc32c(const void* data, size_t len, uint32_t crc = 0);
inline uint32_t crc32c(bytes_view b, uint32_t crc = 0) { return crc32c(b.data(), b.size(), crc); }

/// Whether the hardware path is in use (for benchmarks and logs).
bool crc32c_hardware();

/// Plain CRC-32 (IEEE, zlib's), as the legacy message format (magic 0/1) checksum.
uint32_t crc32_ieee(const void* data, size_t len, uint32_t crc = 0);

} // namespace samsa
