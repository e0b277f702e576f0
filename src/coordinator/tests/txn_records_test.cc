#include "coordinator/txn_records.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <vector>

namespace samsa::coordinator {
namespace {

const std::vector<txn_state> all_states{txn_state::empty,           txn_state::ongoing,
                                        txn_state::prepare_commit,  txn_state::prepare_abort,
                                        txn_state::complete_commit, txn_state::complete_abort,
                                        txn_state::dead,            txn_state::prepare_epoch_fence};

txn_metadata sample(txn_state state)
{
    txn_metadata m;
    m.transactional_id = "tx";
    m.producer_id = 5;
    m.producer_epoch = 3;
    m.timeout_ms = 60000;
    m.state = state;
    m.last_update_ms = 100;
    m.start_ms = 90;
    return m;
}

txn_metadata decoded(const std::string& id, const bytes& value)
{
    auto r = decode_txn_value(id, bytes_view(value));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    EXPECT_TRUE(r && r->has_value());
    return r && *r ? **r : txn_metadata{};
}

TEST(txn_records, state_ids_and_names_are_kafkas)
{
    const std::vector<std::string_view> names{"Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
                                              "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence"};
    for (size_t i = 0; i < all_states.size(); ++i) {
        EXPECT_EQ(static_cast<int8_t>(all_states[i]), static_cast<int8_t>(i));
        EXPECT_EQ(txn_state_name(all_states[i]), names[i]);
        EXPECT_EQ(txn_state_from_id(static_cast<int8_t>(i)), all_states[i]);
    }
    EXPECT_EQ(txn_state_from_id(8), std::nullopt);
    EXPECT_EQ(txn_state_from_id(-1), std::nullopt);
    EXPECT_EQ(txn_state_name(static_cast<txn_state>(42)), "Unknown");
}

TEST(txn_records, key_layout_and_round_trip)
{
    // int16 version 0, then the id as an int16-length string.
    EXPECT_EQ(encode_txn_key("tx"), (bytes{0, 0, 0, 2, 't', 'x'}));
    auto k = decode_txn_key(bytes{0, 0, 0, 2, 't', 'x'});
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(*k, "tx");
    auto empty = decode_txn_key(encode_txn_key(""));
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(*empty, "");
}

TEST(txn_records, every_state_round_trips_with_and_without_partitions)
{
    for (auto state : all_states) {
        SCOPED_TRACE(std::string(txn_state_name(state)));
        auto m = sample(state);
        EXPECT_EQ(decoded("tx", encode_txn_value(m)), m);

        auto with = m;
        with.partitions = {{"a", {0, 3, 7}}, {"b", {1}}};
        with.previous_producer_id = 4;
        with.next_producer_id = 6;
        with.client_transaction_version = 2;
        auto back = decoded("tx", encode_txn_value(with));
        if (state == txn_state::empty) {
            // An Empty transaction has no partitions: written as a null list, as Kafka does.
            EXPECT_TRUE(back.partitions.empty());
            back.partitions = with.partitions;
        }
        EXPECT_EQ(back, with);
    }
}

TEST(txn_records, decoding_takes_the_id_from_the_key_and_does_not_store_the_last_epoch)
{
    auto m = sample(txn_state::ongoing);
    m.last_producer_epoch = 2;
    auto back = decoded("other", encode_txn_value(m));
    EXPECT_EQ(back.transactional_id, "other");
    EXPECT_EQ(back.last_producer_epoch, -1);
    EXPECT_EQ(back.producer_epoch, 3);
}

TEST(txn_records, value_bytes_by_hand)
{
    auto m = sample(txn_state::ongoing);
    m.partitions = {{"t", {2, 0}}};
    bytes expected{
      0, 1,                         // version 1 (flexible)
      0, 0, 0, 0, 0, 0, 0, 5,       // producer id
      0, 3,                         // producer epoch
      0, 0, 0xea, 0x60,             // timeout 60000
      1,                            // status: Ongoing
      2,                            // one topic (compact array)
      2, 't',                       // topic (compact string)
      3, 0, 0, 0, 0, 0, 0, 0, 2,    // partition ids [0, 2]
      0,                            // topic tags
      0, 0, 0, 0, 0, 0, 0, 100,     // last update
      0, 0, 0, 0, 0, 0, 0, 90,      // start
      0,                            // no tagged fields: all at their defaults
    };
    EXPECT_EQ(encode_txn_value(m), expected);
    EXPECT_EQ(decoded("tx", expected), m);

    // Tagged fields in tag order when not default: 0 previous producer id, 2 client version.
    m.previous_producer_id = 4;
    m.client_transaction_version = 2;
    auto tagged = encode_txn_value(m);
    bytes tail{2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 4, 2, 2, 0, 2};
    ASSERT_EQ(tagged.size(), expected.size() - 1 + tail.size());
    EXPECT_EQ(bytes(tagged.end() - static_cast<ptrdiff_t>(tail.size()), tagged.end()), tail);

    // Empty: the partition list is null (compact 0).
    auto e = encode_txn_value(sample(txn_state::empty));
    EXPECT_EQ(e.at(16), 0); // status Empty
    EXPECT_EQ(e.at(17), 0); // null partitions
    EXPECT_EQ(e.size(), 17u + 1 + 16 + 1);
}

TEST(txn_records, version_0_values_decode)
{
    // v0: classic encoding, no tagged fields.
    bytes v0{
      0, 0,                                 // version 0
      0, 0, 0, 0, 0, 0, 0, 5,               // producer id
      0, 3,                                 // producer epoch
      0, 0, 0xea, 0x60,                     // timeout
      2,                                    // PrepareCommit
      0, 0, 0, 1,                           // one topic
      0, 1, 't',                            // topic
      0, 0, 0, 1, 0, 0, 0, 4,               // partition ids [4]
      0, 0, 0, 0, 0, 0, 0, 100,             // last update
      0, 0, 0, 0, 0, 0, 0, 90,              // start
    };
    auto m = decoded("tx", v0);
    auto want = sample(txn_state::prepare_commit);
    want.partitions = {{"t", {4}}};
    EXPECT_EQ(m, want);

    // A null partition list (as Kafka writes Empty) decodes to none.
    bytes v0_null(v0.begin(), v0.begin() + 17);
    v0_null.insert(v0_null.end(), {0xff, 0xff, 0xff, 0xff});
    v0_null.insert(v0_null.end(), v0.end() - 16, v0.end());
    EXPECT_TRUE(decoded("tx", v0_null).partitions.empty());
}

TEST(txn_records, tombstone_is_nullopt)
{
    auto r = decode_txn_value("tx", std::nullopt);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_value());
}

TEST(txn_records, unknown_versions_and_bad_bytes_are_errors)
{
    auto value = encode_txn_value(sample(txn_state::ongoing));
    for (int16_t v : {int16_t{2}, int16_t{-1}, int16_t{0x7fff}}) {
        SCOPED_TRACE(v);
        bytes b = value;
        b[0] = static_cast<uint8_t>(uint16_t(v) >> 8);
        b[1] = static_cast<uint8_t>(v);
        auto r = decode_txn_value("tx", bytes_view(b));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), txn_record_errc::unknown_version);
    }
    auto key = decode_txn_key(bytes{0, 1, 0, 2, 't', 'x'});
    ASSERT_FALSE(key.has_value());
    EXPECT_EQ(key.error(), txn_record_errc::unknown_version);

    // Truncated records: every strict prefix is malformed.
    for (size_t n = 0; n < value.size(); ++n) {
        auto r = decode_txn_value("tx", bytes_view(value).first(n));
        ASSERT_FALSE(r.has_value()) << n;
        EXPECT_EQ(r.error(), txn_record_errc::malformed) << n;
    }
    auto short_key = decode_txn_key(bytes{0, 0, 0, 5, 't'});
    ASSERT_FALSE(short_key.has_value());
    EXPECT_EQ(short_key.error(), txn_record_errc::malformed);

    // A status outside Kafka's ids.
    bytes bad_state = value;
    bad_state[16] = 8;
    auto s = decode_txn_value("tx", bytes_view(bad_state));
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), txn_record_errc::unknown_state);
    EXPECT_FALSE(s.error().message().empty());
}

} // namespace
} // namespace samsa::coordinator
