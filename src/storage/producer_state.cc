#include "storage/producer_state.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "storage/errc.h"

#include <limits>

namespace samsa::storage {
namespace {

constexpr int16_t snapshot_version = 1;
/// version (2) + crc (4) + entry count (4).
constexpr size_t snapshot_header_bytes = 10;
constexpr size_t snapshot_crc_at = 2;
/// pid 8, epoch 2, last seq 4, last offset 8, offset delta 4, timestamp 8, coordinator epoch 4,
/// txn first offset 8.
constexpr size_t snapshot_entry_bytes = 46;

bool in_sequence(int32_t last_seq, int32_t next_seq)
{
    return static_cast<int64_t>(next_seq) == static_cast<int64_t>(last_seq) + 1 ||
           (next_seq == 0 && last_seq == std::numeric_limits<int32_t>::max());
}

producer_batch batch_of(const protocol::batch_header& h)
{
    producer_batch b;
    b.first_seq = h.base_sequence;
    b.last_seq = increment_sequence(h.base_sequence, h.last_offset_delta);
    b.last_offset = h.last_offset();
    b.offset_delta = h.last_offset_delta;
    b.timestamp = h.max_timestamp;
    return b;
}

/// Applies one batch to an entry (no checks): a new epoch forgets the old epoch's batches; a
/// transactional data batch opens the transaction if none is open; a control batch (a
/// commit or abort marker) closes it.
void apply(producer_entry& e, const protocol::batch_header& h)
{
    if (h.epoch != e.epoch) {
        e.batches.clear();
        e.epoch = h.epoch;
    }
    e.last_timestamp = h.max_timestamp;
    if (h.is_control()) {
        e.current_txn_first_offset = offset(-1);
        return;
    }
    e.add_batch(batch_of(h));
    if (h.is_transactional() && e.current_txn_first_offset() < 0) e.current_txn_first_offset = h.base_offset;
}

} // namespace

int32_t increment_sequence(int32_t seq, int32_t n)
{
    constexpr int32_t max = std::numeric_limits<int32_t>::max();
    if (seq > max - n) return n - (max - seq) - 1;
    return seq + n;
}

const producer_batch* producer_entry::find_duplicate(producer_epoch e, int32_t first_seq, int32_t last_seq) const
{
    if (e != epoch) return nullptr;
    for (auto& b : batches) {
        if (b.first_seq == first_seq && b.last_seq == last_seq) return &b;
    }
    return nullptr;
}

void producer_entry::add_batch(const producer_batch& b)
{
    batches.push_back(b);
    while (batches.size() > max_batches) batches.pop_front();
}

const producer_entry* producer_state::find(producer_id pid) const
{
    auto it = _entries.find(pid);
    return it == _entries.end() ? nullptr : &it->second;
}

producer_entry& producer_state::append::updated(producer_id pid)
{
    auto it = _updated.find(pid);
    if (it != _updated.end()) return it->second;
    const auto* cur = _s.find(pid);
    return _updated.emplace(pid, cur ? *cur : producer_entry{}).first->second;
}

result<std::optional<producer_batch>> producer_state::append::check(const protocol::batch_header& h)
{
    if (h.pid() < 0) return std::optional<producer_batch>{};
    // A retry of a batch already in the log (the state before this append, as Kafka checks).
    if (const auto* cur = _s.find(h.pid)) {
        if (auto* dup = cur->find_duplicate(h.epoch, h.base_sequence, increment_sequence(h.base_sequence, h.last_offset_delta))) {
            return std::optional<producer_batch>(*dup);
        }
    }
    auto& e = updated(h.pid);
    if (h.epoch < e.epoch) return make_error_code(errc::invalid_producer_epoch);
    if (!h.is_control()) {
        if (h.epoch != e.epoch) {
            // A new epoch starts at sequence 0, unless this partition never saw the producer.
            if (h.base_sequence != 0 && e.epoch() >= 0) return make_error_code(errc::out_of_order_sequence);
        } else if (!e.batches.empty() && !in_sequence(e.last_seq(), h.base_sequence)) {
            // Same epoch: the next sequence after the last one written. With no batch left of
            // this epoch (all removed by retention or DeleteRecords) any sequence is taken.
            return make_error_code(errc::out_of_order_sequence);
        }
    }
    apply(e, h);
    return std::optional<producer_batch>{};
}

void producer_state::append::record(const protocol::batch_header& h)
{
    if (h.pid() < 0) return;
    apply(updated(h.pid), h);
}

void producer_state::append::commit(producer_state& s)
{
    for (auto& [pid, e] : _updated) s._entries[pid] = std::move(e);
    _updated.clear();
}

void producer_state::replay(const protocol::batch_header& h)
{
    if (h.pid() < 0) return;
    apply(_entries[h.pid], h);
}

size_t producer_state::remove_expired(timestamp_ms now, int64_t expiration_ms)
{
    return std::erase_if(_entries, [&](const auto& kv) {
        const auto& e = kv.second;
        return e.current_txn_first_offset() < 0 && now() - e.last_timestamp() >= expiration_ms;
    });
}

bytes producer_state::encode_snapshot() const
{
    bytes out(snapshot_header_bytes + _entries.size() * snapshot_entry_bytes);
    uint8_t* p = out.data();
    be::store<int16_t>(p, snapshot_version);
    be::store<int32_t>(p + 6, static_cast<int32_t>(_entries.size()));
    p += snapshot_header_bytes;
    for (auto& [pid, e] : _entries) {
        be::store<int64_t>(p, pid());
        be::store<int16_t>(p + 8, e.epoch());
        be::store<int32_t>(p + 10, e.last_seq());
        be::store<int64_t>(p + 14, e.last_offset()());
        be::store<int32_t>(p + 22, e.batches.empty() ? 0 : e.batches.back().offset_delta);
        be::store<int64_t>(p + 26, e.last_timestamp());
        be::store<int32_t>(p + 34, e.coordinator_epoch);
        be::store<int64_t>(p + 38, e.current_txn_first_offset());
        p += snapshot_entry_bytes;
    }
    // The CRC covers everything after itself.
    uint32_t crc = crc32c(out.data() + snapshot_crc_at + 4, out.size() - snapshot_crc_at - 4);
    be::store<uint32_t>(out.data() + snapshot_crc_at, crc);
    return out;
}

result<void> producer_state::decode_snapshot(bytes_view data)
{
    if (data.size() < snapshot_header_bytes) return make_error_code(errc::corrupt);
    const uint8_t* p = data.data();
    if (be::load<int16_t>(p) != snapshot_version) return make_error_code(errc::corrupt);
    uint32_t crc = be::load<uint32_t>(p + snapshot_crc_at);
    if (crc32c(p + snapshot_crc_at + 4, data.size() - snapshot_crc_at - 4) != crc) return make_error_code(errc::corrupt);
    int32_t count = be::load<int32_t>(p + 6);
    if (count < 0 || data.size() != snapshot_header_bytes + static_cast<size_t>(count) * snapshot_entry_bytes) {
        return make_error_code(errc::corrupt);
    }
    std::map<producer_id, producer_entry> entries;
    p += snapshot_header_bytes;
    for (int32_t i = 0; i < count; ++i, p += snapshot_entry_bytes) {
        producer_entry e;
        producer_id pid(be::load<int64_t>(p));
        e.epoch = producer_epoch(be::load<int16_t>(p + 8));
        producer_batch b;
        b.last_seq = be::load<int32_t>(p + 10);
        b.last_offset = offset(be::load<int64_t>(p + 14));
        b.offset_delta = be::load<int32_t>(p + 22);
        b.timestamp = timestamp_ms(be::load<int64_t>(p + 26));
        e.last_timestamp = b.timestamp;
        e.coordinator_epoch = be::load<int32_t>(p + 34);
        e.current_txn_first_offset = offset(be::load<int64_t>(p + 38));
        // Only the last batch is kept: its first sequence follows from the offset delta.
        if (b.last_offset() >= 0 && b.last_seq >= 0) {
            int64_t first = int64_t{b.last_seq} - b.offset_delta;
            if (first < 0) first += int64_t{std::numeric_limits<int32_t>::max()} + 1; // wrapped past INT32_MAX
            b.first_seq = static_cast<int32_t>(first);
            e.batches.push_back(b);
        }
        entries[pid] = std::move(e);
    }
    _entries = std::move(entries);
    return ok();
}

} // namespace samsa::storage
