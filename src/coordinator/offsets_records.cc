#include "coordinator/offsets_records.h"

#include "protocol/messages/group_metadata_key.h"
#include "protocol/messages/group_metadata_value.h"
#include "protocol/messages/offset_commit_key.h"
#include "protocol/messages/offset_commit_value.h"

#include <fmt/format.h>

namespace samsa::coordinator {

namespace {
constexpr int16_t offset_value_version = 3;
constexpr int16_t group_value_version = 3;

template<typename T>
bytes encode_versioned(const T& msg, int16_t version)
{
    protocol::writer w;
    w.write_int16(version);
    msg.encode(w, version);
    return std::move(w).finish().data;
}
} // namespace

bytes encode_key(const offsets_key& k)
{
    if (auto* o = std::get_if<offset_key>(&k)) {
        protocol::offset_commit_key key;
        key.group = o->group;
        key.topic = o->tp.topic;
        key.partition = o->tp.partition();
        return encode_versioned(key, 1);
    }
    protocol::group_metadata_key key;
    key.group = std::get<group_key>(k).group;
    return encode_versioned(key, 2);
}

bytes encode_offset_value(const committed_offset& v)
{
    protocol::offset_commit_value val;
    val.offset = v.offset;
    val.leader_epoch = v.leader_epoch;
    val.metadata = v.metadata;
    val.commit_timestamp = v.commit_timestamp_ms;
    val.expire_timestamp = v.expire_timestamp_ms;
    // Version 1 is the one that carries an explicit expiry; otherwise Kafka's current v3.
    return encode_versioned(val, v.expire_timestamp_ms >= 0 ? int16_t(1) : offset_value_version);
}

bytes encode_group_value(const group_metadata& g)
{
    protocol::group_metadata_value val;
    val.protocol_type = g.protocol_type;
    val.generation = g.generation;
    val.protocol = g.protocol_name;
    val.leader = g.leader;
    val.current_state_timestamp = g.state_timestamp_ms;
    for (auto& m : g.members) {
        protocol::group_metadata_value::member_metadata mm;
        mm.member_id = m.member_id;
        mm.group_instance_id = m.instance_id;
        mm.client_id = m.client_id;
        mm.client_host = m.client_host;
        mm.rebalance_timeout = m.rebalance_timeout_ms;
        mm.session_timeout = m.session_timeout_ms;
        mm.subscription = m.subscription;
        mm.assignment = m.assignment;
        val.members.push_back(std::move(mm));
    }
    return encode_versioned(val, group_value_version);
}

offsets_key decode_key(bytes_view b)
{
    protocol::reader r(b);
    int16_t v = r.read_int16();
    if (v == 0 || v == 1) {
        protocol::offset_commit_key k;
        k.decode(r, v);
        return offset_key{k.group, topic_partition{k.topic, partition_id(k.partition)}};
    }
    if (v == 2) {
        protocol::group_metadata_key k;
        k.decode(r, v);
        return group_key{k.group};
    }
    throw protocol::decode_error(fmt::format("unknown __consumer_offsets key version {}", v));
}

committed_offset decode_offset_value(bytes_view b)
{
    protocol::reader r(b);
    int16_t v = r.read_int16();
    if (v < 0 || v > protocol::offset_commit_value::max_version) {
        throw protocol::decode_error(fmt::format("unknown offset commit value version {}", v));
    }
    protocol::offset_commit_value val;
    val.decode(r, v);
    return committed_offset{val.offset, val.leader_epoch, val.metadata, val.commit_timestamp, val.expire_timestamp};
}

group_metadata decode_group_value(bytes_view b)
{
    protocol::reader r(b);
    int16_t v = r.read_int16();
    if (v < 0 || v > protocol::group_metadata_value::max_version) {
        throw protocol::decode_error(fmt::format("unknown group metadata value version {}", v));
    }
    protocol::group_metadata_value val;
    val.decode(r, v);
    group_metadata g;
    g.protocol_type = val.protocol_type;
    g.generation = val.generation;
    g.protocol_name = val.protocol;
    g.leader = val.leader;
    g.state_timestamp_ms = val.current_state_timestamp;
    for (auto& mm : val.members) {
        g.members.push_back({mm.member_id, mm.group_instance_id, mm.client_id, mm.client_host, mm.rebalance_timeout,
                             mm.session_timeout, mm.subscription, mm.assignment});
    }
    return g;
}

int32_t java_string_hash(std::string_view s)
{
    uint32_t h = 0;
    auto add = [&](uint32_t unit) { h = h * 31 + unit; };
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<uint8_t>(s[i]);
        uint32_t cp;
        size_t len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c >> 5) == 6 && i + 1 < s.size()) { cp = ((c & 0x1f) << 6) | (s[i + 1] & 0x3f); len = 2; }
        else if ((c >> 4) == 14 && i + 2 < s.size()) {
            cp = ((c & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f);
            len = 3;
        } else if ((c >> 3) == 30 && i + 3 < s.size()) {
            cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3f) << 12) | ((s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f);
            len = 4;
        } else { cp = 0xfffd; len = 1; } // invalid UTF-8 decodes to U+FFFD, as Java's decoder does
        if (cp >= 0x10000) {
            cp -= 0x10000;
            add(0xd800 + (cp >> 10));
            add(0xdc00 + (cp & 0x3ff));
        } else {
            add(cp);
        }
        i += len;
    }
    return static_cast<int32_t>(h);
}

int32_t partition_for_group(std::string_view group_id, int32_t partitions)
{
    int32_t h = java_string_hash(group_id);
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return a % partitions;
}

} // namespace samsa::coordinator
