#include "storage/producer_state.h"

#include "bytes/crc32c.h"
#include "bytes/endian.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "storage/errc.h"

#include <limits>
#include <utility>

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
/// commit or abort marker) closes it and says which transaction it completed (one with no
/// data here starts and ends at the marker, as in Kafka).
std::optional<completed_txn> apply(producer_entry& e, const protocol::batch_header& h, const control_marker* marker)
{
    if (h.epoch != e.epoch) {
        e.batches.clear();
        e.epoch = h.epoch;
    }
    e.last_timestamp = h.max_timestamp;
    if (h.is_control()) {
        if (!marker) return std::nullopt;
        completed_txn c{h.pid, e.current_txn_first_offset() >= 0 ? e.current_txn_first_offset : h.base_offset,
                        h.base_offset, marker->type == marker_type::abort};
        e.current_txn_first_offset = offset(-1);
        e.coordinator_epoch = marker->coordinator_epoch;
        return c;
    }
    e.add_batch(batch_of(h));
    if (h.is_transactional() && e.current_txn_first_offset() < 0) e.current_txn_first_offset = h.base_offset;
    return std::nullopt;
}

} // namespace

std::optional<control_marker> read_control_marker(bytes_view batch, const protocol::batch_header& h)
{
    if (!h.is_control() || h.compression() != protocol::compression_type::none || h.record_count < 1 ||
        batch.size() <= protocol::batch_layout::header_size) {
        return std::nullopt;
    }
    auto r = protocol::decode_record(batch.subspan(protocol::batch_layout::header_size), h);
    if (!r || !r->key || r->key->size() < 4) return std::nullopt;
    auto type = be::load<int16_t>(r->key->data() + 2);
    if (type != 0 && type != 1) return std::nullopt;
    control_marker m;
    m.type = static_cast<marker_type>(type);
    if (r->value && r->value->size() >= 6) m.coordinator_epoch = be::load<int32_t>(r->value->data() + 2);
    return m;
}

bytes build_control_batch(producer_id pid, producer_epoch epoch, const control_marker& m, timestamp_ms ts)
{
    protocol::batch_builder::options o;
    o.pid = pid;
    o.epoch = epoch;
    o.transactional = true;
    o.control = true;
    protocol::record_input r;
    bytes key(4), value(6);
    be::store<int16_t>(key.data(), 0);
    be::store<int16_t>(key.data() + 2, static_cast<int16_t>(m.type));
    be::store<int16_t>(value.data(), 0);
    be::store<int32_t>(value.data() + 2, m.coordinator_epoch);
    r.key = std::move(key);
    r.value = std::move(value);
    r.timestamp = ts;
    protocol::batch_builder b(o);
    b.add(std::move(r));
    return b.build();
}

namespace {
constexpr size_t txn_index_entry_bytes = 34;
} // namespace

bytes encode_txn_index(const std::vector<aborted_txn>& entries)
{
    bytes out(entries.size() * txn_index_entry_bytes);
    uint8_t* p = out.data();
    for (auto& e : entries) {
        be::store<int16_t>(p, 0);
        be::store<int64_t>(p + 2, e.pid());
        be::store<int64_t>(p + 10, e.first_offset());
        be::store<int64_t>(p + 18, e.last_offset());
        be::store<int64_t>(p + 26, e.last_stable_offset());
        p += txn_index_entry_bytes;
    }
    return out;
}

result<std::vector<aborted_txn>> decode_txn_index(bytes_view data)
{
    std::vector<aborted_txn> out;
    for (size_t pos = 0; pos + txn_index_entry_bytes <= data.size(); pos += txn_index_entry_bytes) {
        const uint8_t* p = data.data() + pos;
        if (be::load<int16_t>(p) != 0) return make_error_code(errc::corrupt);
        out.push_back({producer_id(be::load<int64_t>(p + 2)), offset(be::load<int64_t>(p + 10)),
                       offset(be::load<int64_t>(p + 18)), offset(be::load<int64_t>(p + 26))});
    }
    return out;
}

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

result<std::optional<producer_batch>> producer_state::append::check(const protocol::batch_header& h,
                                                                     const control_marker* marker, bool sequenced)
{
    if (h.pid() < 0) return std::optional<producer_batch>{};
    if (marker) {
        auto& e = updated(h.pid);
        if (h.epoch < e.epoch) return make_error_code(errc::invalid_producer_epoch);
        if (marker->coordinator_epoch < e.coordinator_epoch) return make_error_code(errc::coordinator_fenced);
        if (auto c = apply(e, h, marker)) _completed.push_back(*c);
        return std::optional<producer_batch>{};
    }
    if (!sequenced) {
        // The coordinator's own transactional writes (TxnOffsetCommit) carry no sequence.
        auto& e = updated(h.pid);
        if (h.epoch < e.epoch) return make_error_code(errc::invalid_producer_epoch);
        apply(e, h, nullptr);
        return std::optional<producer_batch>{};
    }
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
        } else if (!in_sequence(e.last_seq(), h.base_sequence)) {
            // Same epoch: the next sequence after the last one written. With no batch of this
            // epoch yet (a marker brought it: transaction version 2 bumps the epoch at every
            // end, and a new producer instance's fencing abort carries its epoch) that is 0:
            // a later batch that overtook the first one (refused, to be retried) must wait,
            // or the first one could never follow it.
            return make_error_code(errc::out_of_order_sequence);
        }
    }
    apply(e, h, nullptr);
    return std::optional<producer_batch>{};
}

void producer_state::append::record(const protocol::batch_header& h, const control_marker* marker)
{
    if (h.pid() < 0) return;
    if (auto c = apply(updated(h.pid), h, marker)) _completed.push_back(*c);
}

std::vector<completed_txn> producer_state::append::commit(producer_state& s)
{
    for (auto& [pid, e] : _updated) s.put(pid, std::move(e));
    _updated.clear();
    return std::exchange(_completed, {});
}

void producer_state::put(producer_id pid, producer_entry e)
{
    auto [it, fresh] = _entries.try_emplace(pid);
    if (!fresh && it->second.current_txn_first_offset() >= 0) _ongoing.erase(it->second.current_txn_first_offset);
    if (e.current_txn_first_offset() >= 0) _ongoing[e.current_txn_first_offset] = pid;
    it->second = std::move(e);
}

std::optional<completed_txn> producer_state::replay(const protocol::batch_header& h, const control_marker* marker)
{
    if (h.pid() < 0) return std::nullopt;
    auto it = _entries.find(h.pid);
    producer_entry e = it == _entries.end() ? producer_entry{} : it->second;
    auto c = apply(e, h, marker);
    put(h.pid, std::move(e));
    return c;
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
    clear();
    for (auto& [pid, e] : entries) put(pid, std::move(e));
    return ok();
}

} // namespace samsa::storage
