#include "protocol/record_batch_builder.h"

#include "bytes/endian.h"
#include "bytes/varint.h"
#include "protocol/compression.h"

#include <algorithm>
#include <stdexcept>

namespace samsa::protocol {
namespace L = batch_layout;
namespace {

void append_bytes_field(bytes& out, const std::optional<bytes>& b)
{
    if (!b) {
        varint::append_signed(out, -1);
        return;
    }
    varint::append_signed(out, static_cast<int64_t>(b->size()));
    out.insert(out.end(), b->begin(), b->end());
}

} // namespace

void encode_record(bytes& out, const record_input& r, int64_t timestamp_delta, int32_t offset_delta)
{
    bytes body;
    body.reserve(32 + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0));
    body.push_back(0); // attributes (unused)
    varint::append_signed(body, timestamp_delta);
    varint::append_signed(body, offset_delta);
    append_bytes_field(body, r.key);
    append_bytes_field(body, r.value);
    varint::append_signed(body, static_cast<int64_t>(r.headers.size()));
    for (auto& h : r.headers) {
        varint::append_signed(body, static_cast<int64_t>(h.key.size()));
        body.insert(body.end(), h.key.begin(), h.key.end());
        append_bytes_field(body, h.value);
    }
    varint::append_signed(out, static_cast<int64_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
}

batch_builder& batch_builder::add(record_input r)
{
    _records.push_back(std::move(r));
    return *this;
}

batch_builder& batch_builder::add(std::string_view key, std::string_view value, timestamp_ms ts)
{
    return add(record_input{to_bytes(key), to_bytes(value), {}, ts});
}

bytes batch_builder::build() const
{
    timestamp_ms base_ts = _records.empty() ? timestamp_ms(0) : _records.front().timestamp;
    timestamp_ms max_ts = base_ts;
    for (auto& r : _records) max_ts = std::max(max_ts, r.timestamp);

    bytes records;
    for (size_t i = 0; i < _records.size(); ++i) {
        encode_record(records, _records[i], _records[i].timestamp - base_ts, static_cast<int32_t>(i));
    }
    if (_opts.compression != compression_type::none) {
        auto c = compress(_opts.compression, records);
        if (!c) throw std::runtime_error("record batch compression failed: " + c.error().message());
        records = std::move(*c);
    }

    batch_header h;
    h.base_offset = _opts.base_offset;
    h.partition_leader_epoch = _opts.partition_leader_epoch;
    h.attributes = static_cast<uint16_t>(_opts.compression);
    if (_opts.ts_type == timestamp_type::log_append_time) h.attributes |= batch_attr::timestamp_type;
    if (_opts.transactional) h.attributes |= batch_attr::transactional;
    if (_opts.control) h.attributes |= batch_attr::control;
    h.last_offset_delta = _records.empty() ? 0 : static_cast<int32_t>(_records.size() - 1);
    h.base_timestamp = base_ts;
    h.max_timestamp = max_ts;
    h.pid = _opts.pid;
    h.epoch = _opts.epoch;
    h.base_sequence = _opts.base_sequence;
    h.record_count = static_cast<int32_t>(_records.size());
    return assemble_batch(h, records);
}

bytes assemble_batch(const batch_header& h, bytes_view records)
{
    bytes out(L::header_size + records.size());
    uint8_t* p = out.data();
    be::store<int64_t>(p + L::base_offset, h.base_offset());
    be::store<int32_t>(p + L::batch_length, static_cast<int32_t>(out.size() - L::log_overhead));
    be::store<int32_t>(p + L::partition_leader_epoch, h.partition_leader_epoch());
    p[L::magic] = static_cast<uint8_t>(h.magic);
    be::store<uint16_t>(p + L::attributes, h.attributes);
    be::store<int32_t>(p + L::last_offset_delta, h.last_offset_delta);
    be::store<int64_t>(p + L::base_timestamp, h.base_timestamp());
    be::store<int64_t>(p + L::max_timestamp, h.max_timestamp());
    be::store<int64_t>(p + L::producer_id, h.pid());
    be::store<int16_t>(p + L::producer_epoch, h.epoch());
    be::store<int32_t>(p + L::base_sequence, h.base_sequence);
    be::store<int32_t>(p + L::record_count, h.record_count);
    std::copy(records.begin(), records.end(), out.begin() + L::header_size);
    be::store<uint32_t>(p + L::crc, compute_crc(out));
    return out;
}

} // namespace samsa::protocol
