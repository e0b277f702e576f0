#pragma once

#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"

#include <fmt/format.h>

#include <string>

namespace samsa::storage::test {

/// A deterministic batch: batch number `n` holds `records` records whose keys and values are
/// derived from n, `value_bytes` long, with timestamps base_ts + n.
inline bytes make_batch(int64_t n, int records = 3, size_t value_bytes = 40, int64_t base_ts = 1'700'000'000'000)
{
    protocol::batch_builder b;
    for (int i = 0; i < records; ++i) {
        std::string v = fmt::format("batch-{}-record-{}-", n, i);
        while (v.size() < value_bytes) v += static_cast<char>('a' + (v.size() + n) % 26);
        v.resize(value_bytes);
        b.add(fmt::format("key-{}", (n * 7 + i) % 13), v, timestamp_ms(base_ts + n));
    }
    return b.build();
}

/// The CRC-covered part of a batch: equal for the same batch whatever offset it was given.
inline bytes covered(bytes_view batch)
{
    return bytes(batch.begin() + protocol::batch_layout::attributes, batch.end());
}

} // namespace samsa::storage::test
