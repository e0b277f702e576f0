#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/all_types_test_message.h"
#include "protocol/messages/api_table.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/end_txn.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/messages/test_support.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>

namespace samsa::protocol {
namespace {

template<typename T>
bytes encode_message(const T& m, int16_t version)
{
    writer w;
    m.encode(w, version);
    auto encoded = std::move(w).finish();
    bytes flat = flatten(encoded);
    EXPECT_EQ(encoded.total_size(), flat.size());
    return flat;
}

template<typename T>
T decode_message(bytes_view b, int16_t version)
{
    reader r(b);
    T m;
    m.decode(r, version);
    EXPECT_TRUE(r.empty()) << "v" << version << ": " << r.remaining() << " bytes left over";
    return m;
}

/// encode -> decode -> equal, re-encode -> same bytes, and every strict prefix of the
/// encoding fails to decode.
template<typename T>
void round_trip(int16_t version, uint64_t seed)
{
    SCOPED_TRACE(fmt::format("{} v{} seed {}", T::message_name, version, seed));
    std::mt19937_64 rng(seed);
    T original;
    fill_random(original, version, rng);
    bytes wire = encode_message(original, version);
    T decoded = decode_message<T>(wire, version);
    EXPECT_TRUE(decoded == original);
    EXPECT_EQ(encode_message(decoded, version), wire);

    size_t step = std::max<size_t>(1, wire.size() / 64);
    for (size_t n = 0; n < wire.size(); n += step) {
        reader r(bytes_view(wire).first(n));
        T partial;
        EXPECT_THROW(partial.decode(r, version), decode_error) << "prefix of " << n << " bytes";
    }
}

TEST(messages, every_message_round_trips_at_every_version)
{
    size_t cases = 0;
    std::set<std::string_view> names;
    for_each_message_type([&](auto type) {
        using T = typename decltype(type)::type;
        names.insert(T::message_name);
        for (int16_t v = T::min_version; v <= T::max_version; ++v) {
            for (uint64_t seed = 1; seed <= 6; ++seed) {
                round_trip<T>(v, seed * 7919 + static_cast<uint64_t>(v));
                ++cases;
            }
        }
    });
    // 41 APIs (request + response), 8 data messages and the all-types test message.
    EXPECT_EQ(names.size(), 97u);
    EXPECT_GT(cases, 2000u);
}

TEST(messages, decoding_rejects_versions_outside_the_schema)
{
    bytes empty;
    reader r(empty);
    heartbeat_request h;
    EXPECT_THROW(h.decode(r, heartbeat_request::max_version + 1), decode_error);
    EXPECT_THROW(h.decode(r, -1), decode_error);
}

TEST(messages, api_table_agrees_with_api_keys_and_traits)
{
    const std::vector<api_key> required{
      api_key::api_versions, api_key::metadata, api_key::produce, api_key::fetch,
      api_key::list_offsets, api_key::create_topics, api_key::delete_topics,
      api_key::create_partitions, api_key::describe_configs, api_key::alter_configs,
      api_key::incremental_alter_configs, api_key::describe_cluster, api_key::delete_records,
      api_key::find_coordinator, api_key::join_group, api_key::sync_group, api_key::heartbeat,
      api_key::leave_group, api_key::offset_commit, api_key::offset_fetch, api_key::list_groups,
      api_key::describe_groups, api_key::delete_groups, api_key::offset_delete,
      api_key::init_producer_id, api_key::offset_for_leader_epoch, api_key::describe_log_dirs,
      api_key::sasl_handshake, api_key::sasl_authenticate, api_key::describe_producers,
      api_key::add_partitions_to_txn, api_key::add_offsets_to_txn, api_key::end_txn,
      api_key::write_txn_markers, api_key::txn_offset_commit, api_key::describe_transactions,
      api_key::list_transactions, api_key::leader_and_isr, api_key::stop_replica, api_key::update_metadata,
      api_key::controlled_shutdown, api_key::elect_leaders, api_key::alter_partition_reassignments,
      api_key::list_partition_reassignments};
    for (auto k : required) EXPECT_NE(find_schema_api(k), nullptr) << to_string(k);

    auto apis = schema_apis();
    EXPECT_EQ(apis.size(), required.size());
    EXPECT_TRUE(std::is_sorted(apis.begin(), apis.end(),
                               [](const api_info& a, const api_info& b) { return a.key < b.key; }));
    for (const auto& a : apis) {
        EXPECT_EQ(a.name, to_string(a.key));
        EXPECT_EQ(a.first_flexible_version, first_flexible_version(a.key)) << a.name;
        EXPECT_LE(a.min_version, a.max_version);
    }
    static_assert(produce_api::key == api_key::produce);
    static_assert(produce_api::min_version == 0 && produce_api::max_version == 12);
    static_assert(produce_api::first_flexible_version == 9);
    static_assert(std::is_same_v<fetch_api::response_type, fetch_response>);
    static_assert(metadata_request::api == api_key::metadata);
    EXPECT_EQ(find_schema_api(api_key::fetch)->max_version, fetch_api::max_version);
    EXPECT_FALSE(find_schema_api(api_key::fetch)->latest_version_unstable);
}

TEST(messages, schema_defaults)
{
    all_types_test_message m;
    EXPECT_TRUE(m.bool_);
    EXPECT_EQ(m.int8, -1);
    EXPECT_EQ(m.int32, std::numeric_limits<int32_t>::min());
    EXPECT_EQ(m.int64, std::numeric_limits<int64_t>::min());
    EXPECT_EQ(m.uint16, 65535);
    EXPECT_EQ(m.uint32, 4294967295u);
    EXPECT_EQ(m.float64, 1.5);
    EXPECT_EQ(m.str, "hello");
    EXPECT_EQ(m.nullable_str, std::nullopt);
    EXPECT_EQ(m.sometimes_null_str, std::optional<std::string>(""));
    EXPECT_FALSE(m.maybe_things.has_value());
    EXPECT_FALSE(m.maybe_point.has_value());
    EXPECT_TRUE(m.records.is_null());
    EXPECT_EQ(m.inner.a, 7);
    EXPECT_EQ(m.tag_int, -1);

    fetch_request f;
    EXPECT_EQ(f.replica_id, -1);
    EXPECT_EQ(f.max_bytes, 0x7fffffff);
    EXPECT_EQ(f.session_epoch, -1);
    EXPECT_EQ(f.cluster_id, std::nullopt);
    EXPECT_EQ(f.replica_state.replica_epoch, -1);
    metadata_request md;
    EXPECT_TRUE(md.topics.has_value()) << "nullable without a null default: empty, not null";
}

TEST(messages, fields_absent_from_a_version_are_not_written)
{
    heartbeat_request h;
    h.group_id = "g";
    h.generation_id = 5;
    h.member_id = "m";
    h.group_instance_id = "i";
    // v0: group_id, generation_id, member_id; no instance id.
    EXPECT_EQ(encode_message(h, 0), (bytes{0, 1, 'g', 0, 0, 0, 5, 0, 1, 'm'}));
    // v3 adds the nullable instance id; v4 is flexible.
    EXPECT_EQ(encode_message(h, 3), (bytes{0, 1, 'g', 0, 0, 0, 5, 0, 1, 'm', 0, 1, 'i'}));
    EXPECT_EQ(encode_message(h, 4), (bytes{2, 'g', 0, 0, 0, 5, 2, 'm', 2, 'i', 0}));
    auto back = decode_message<heartbeat_request>(encode_message(h, 0), 0);
    EXPECT_EQ(back.group_instance_id, std::nullopt) << "absent field keeps its default";
}

TEST(messages, flexible_encodings_byte_by_byte)
{
    // ApiVersions v3 as librdkafka sends it: two compact strings and an empty tag section.
    api_versions_request av;
    av.client_software_name = "rdk";
    av.client_software_version = "2.0";
    bytes av_wire{4, 'r', 'd', 'k', 4, '2', '.', '0', 0};
    EXPECT_EQ(encode_message(av, 3), av_wire);
    EXPECT_EQ(decode_message<api_versions_request>(av_wire, 3), av);
    EXPECT_EQ(encode_message(av, 2), bytes{}) << "v0-2 have no fields";

    // Metadata v12: a compact array of (uuid, compact nullable name, tags), two bools, tags.
    metadata_request md;
    auto& t = md.topics->emplace_back();
    t.name.reset();
    t.topic_id.bytes[15] = 7;
    md.allow_auto_topic_creation = false;
    md.include_topic_authorized_operations = true;
    bytes md_wire{2};
    md_wire.insert(md_wire.end(), t.topic_id.bytes.begin(), t.topic_id.bytes.end());
    md_wire.insert(md_wire.end(), {0, 0, 0, 1, 0});
    EXPECT_EQ(encode_message(md, 12), md_wire);
    auto back = decode_message<metadata_request>(md_wire, 12);
    EXPECT_EQ(back, md);
    EXPECT_EQ(back.topics->at(0).topic_id, t.topic_id);
}

TEST(messages, transaction_requests_byte_by_byte)
{
    // EndTxn v3 (flexible): compact string, int64, int16, bool, empty tag section.
    end_txn_request end;
    end.transactional_id = "tx";
    end.producer_id = 7;
    end.producer_epoch = 2;
    end.committed = true;
    bytes end_v3{3, 't', 'x', 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 1, 0};
    EXPECT_EQ(encode_message(end, 3), end_v3);
    EXPECT_EQ(decode_message<end_txn_request>(end_v3, 3), end);
    // v2: the same fields, classic string, no tag section.
    EXPECT_EQ(encode_message(end, 2), (bytes{0, 2, 't', 'x', 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 1}));
    // The response gains producer id and epoch in v5 only.
    end_txn_response end_resp;
    end_resp.error_code = 51;
    EXPECT_EQ(encode_message(end_resp, 4), (bytes{0, 0, 0, 0, 0, 51, 0}));
    EXPECT_EQ(encode_message(end_resp, 5),
              (bytes{0, 0, 0, 0, 0, 51, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}));
    static_assert(end_txn_api::latest_version_unstable);

    // AddPartitionsToTxn v3: one transaction's fields at the top level.
    add_partitions_to_txn_request v3;
    v3.v3_and_below_transactional_id = "tx";
    v3.v3_and_below_producer_id = 7;
    v3.v3_and_below_producer_epoch = 2;
    auto& topic = v3.v3_and_below_topics.emplace_back();
    topic.name = "t";
    topic.partitions = {0, 3};
    bytes v3_wire{3, 't', 'x', 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, // id, producer id, epoch
                  2, 2, 't', 3, 0, 0, 0, 0, 0, 0, 0, 3, 0,  // topics: "t" [0, 3], tags
                  0};                                       // tags
    EXPECT_EQ(encode_message(v3, 3), v3_wire);
    EXPECT_EQ(decode_message<add_partitions_to_txn_request>(v3_wire, 3), v3);
    EXPECT_EQ(encode_message(v3, 4), (bytes{1, 0})) << "v4+ has only the batched transactions";

    // AddPartitionsToTxn v4: the batched Transactions array (as brokers send it).
    add_partitions_to_txn_request v4;
    auto& txn = v4.transactions.emplace_back();
    txn.transactional_id = "tx";
    txn.producer_id = 7;
    txn.producer_epoch = 2;
    txn.verify_only = true;
    txn.topics.push_back(topic);
    bytes v4_wire{2,                                       // one transaction
                  3, 't', 'x', 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 1, // id, producer id, epoch, verify only
                  2, 2, 't', 3, 0, 0, 0, 0, 0, 0, 0, 3, 0,     // topics: "t" [0, 3], tags
                  0,                                       // transaction tags
                  0};                                      // tags
    EXPECT_EQ(encode_message(v4, 4), v4_wire);
    auto back = decode_message<add_partitions_to_txn_request>(v4_wire, 4);
    EXPECT_EQ(back, v4);
    EXPECT_TRUE(back.v3_and_below_topics.empty());
    EXPECT_EQ(encode_message(v4, 3), (bytes{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}))
        << "v3 has only the top-level fields";

    // The v4 response: a top-level error code and results by transaction.
    add_partitions_to_txn_response resp;
    resp.error_code = 0;
    auto& result = resp.results_by_transaction.emplace_back();
    result.transactional_id = "tx";
    auto& tr = result.topic_results.emplace_back();
    tr.name = "t";
    tr.results_by_partition.push_back({3, 48});
    bytes resp_v4{0, 0, 0, 0, 0, 0, 2, 3, 't', 'x', 2, 2, 't', 2, 0, 0, 0, 3, 0, 48, 0, 0, 0, 0};
    EXPECT_EQ(encode_message(resp, 4), resp_v4);
    EXPECT_EQ(decode_message<add_partitions_to_txn_response>(resp_v4, 4), resp);
}

TEST(messages, unknown_tagged_fields_are_skipped)
{
    // Heartbeat v4 with two unknown tagged fields after the known ones.
    bytes b{2, 'g', 0, 0, 0, 5, 2, 'm', 0, 2, 9, 3, 1, 2, 3, 12, 0};
    auto h = decode_message<heartbeat_request>(b, 4);
    EXPECT_EQ(h.group_id, "g");
    EXPECT_EQ(h.generation_id, 5);
    EXPECT_EQ(h.member_id, "m");
    EXPECT_EQ(h.group_instance_id, std::nullopt);
    // They are not kept: re-encoding writes an empty tagged section.
    EXPECT_EQ(encode_message(h, 4), (bytes{2, 'g', 0, 0, 0, 5, 2, 'm', 0, 0}));
}

TEST(messages, known_tagged_fields_are_written_only_when_not_default)
{
    fetch_response_types::partition_data p;
    p.partition_index = 1;
    p.records = records_payload(bytes{9});
    bytes plain = encode_message(p, 12);
    p.diverging_epoch.epoch = 3;
    p.diverging_epoch.end_offset = 100;
    bytes tagged = encode_message(p, 12);
    // One field: tag 0, size 13 (int32 + int64 + empty tagged section).
    ASSERT_EQ(tagged.size(), plain.size() + 15);
    EXPECT_EQ(plain.back(), 0);
    bytes tail(tagged.end() - 16, tagged.end());
    EXPECT_EQ(tail, (bytes{1, 0, 13, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 100, 0}));
    auto back = decode_message<fetch_response_types::partition_data>(tagged, 12);
    EXPECT_EQ(back.diverging_epoch.epoch, 3);
    EXPECT_EQ(back.diverging_epoch.end_offset, 100);
    EXPECT_EQ(back.current_leader.leader_id, -1);
}

TEST(messages, null_where_a_version_forbids_it)
{
    // Metadata v0 topics are not nullable: an encoded null is malformed input.
    bytes null_topics{0xff, 0xff, 0xff, 0xff};
    reader r(null_topics);
    metadata_request m;
    EXPECT_THROW(m.decode(r, 0), decode_error);
    // From v1 the same bytes mean "all topics".
    auto v1 = decode_message<metadata_request>(null_topics, 1);
    EXPECT_FALSE(v1.topics.has_value());
    // Encoding a null in a version that cannot carry it writes an empty array.
    metadata_request all;
    all.topics.reset();
    EXPECT_EQ(encode_message(all, 0), (bytes{0, 0, 0, 0}));
    EXPECT_EQ(encode_message(all, 1), null_topics);
}

TEST(messages, produce_records_decode_as_views)
{
    produce_request p;
    p.acks = -1;
    p.timeout_ms = 1000;
    auto& topic = p.topic_data.emplace_back();
    topic.name = "t";
    auto& part = topic.partition_data.emplace_back();
    part.index = 2;
    part.records = records_payload(bytes{1, 2, 3, 4});
    bytes wire = encode_message(p, 9);
    auto back = decode_message<produce_request>(wire, 9);
    const auto& records = back.topic_data.at(0).partition_data.at(0).records;
    ASSERT_EQ(records.chunks().size(), 1u);
    auto view = std::get<bytes_view>(records.chunks()[0]);
    EXPECT_GE(view.data(), wire.data());
    EXPECT_LE(view.data() + view.size(), wire.data() + wire.size());
    EXPECT_EQ(records, part.records);
}

TEST(messages, hostile_array_counts_throw)
{
    // Metadata v1: a topic array claiming 2^31-1 elements in 8 bytes.
    bytes b{0x7f, 0xff, 0xff, 0xff, 0, 1, 'a', 0};
    reader r(b);
    metadata_request m;
    EXPECT_THROW(m.decode(r, 1), decode_error);
}

} // namespace
} // namespace samsa::protocol

namespace samsa::protocol {
namespace {

// An array of structs is bounded by its elements' smallest wire size, not by one byte each: a
// count that the rest of the input cannot hold is refused before a single element is decoded.
TEST(messages, struct_array_counts_are_bounded_by_the_smallest_element)
{
    for (int16_t version : {int16_t{3}, int16_t{9}}) {
        bool flex = version >= 9;
        writer w;
        w.write_nullable_string(std::nullopt, flex); // transactional id
        w.write_int16(1);                            // acks
        w.write_int32(1000);                         // timeout
        w.write_array_length(1, flex);               // one topic
        w.write_string("t", flex);
        // Partitions take at least 8 bytes each (index, records length), 6 when flexible: room
        // for 99 of them is not room for 100, though it is more than 100 bytes.
        size_t min_partition = flex ? 6 : 8;
        w.write_array_length(100, flex);
        auto msg = flatten(std::move(w).finish());
        msg.resize(msg.size() + 99 * min_partition, 0);
        reader r(msg);
        produce_request req;
        try {
            req.decode(r, version);
            ADD_FAILURE() << "decoded 100 partitions from room for 99 (version " << version << ")";
        } catch (const decode_error& e) {
            EXPECT_NE(std::string(e.what()).find("array of 100 elements exceeds input"), std::string::npos) << e.what();
        }
    }
}

} // namespace
} // namespace samsa::protocol
