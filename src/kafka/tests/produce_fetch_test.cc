// Produce and Fetch through the dispatcher: validation errors, legacy formats both ways, the
// fetch size limits and long polling.
#include "kafka/tests/broker_fixture.h"
#include "protocol/legacy_records.h"
#include "protocol/record_batch_builder.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace samsa::kafka::test {
namespace {

namespace asio = boost::asio;
using protocol::api_key;

bytes to_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

bytes batch_of(std::vector<std::string> values, int64_t ts = 1'000, bool null_keys = false)
{
    protocol::batch_builder b;
    for (auto& v : values) {
        protocol::record_input r;
        if (!null_keys) r.key = to_bytes("key-" + v);
        r.value = to_bytes(v);
        r.timestamp = timestamp_ms(ts++);
        b.add(std::move(r));
    }
    return b.build();
}

/// A legacy message set of `values`, magic 0 or 1, relative offsets.
bytes legacy_set(int8_t magic, const std::vector<std::string>& values)
{
    bytes out;
    std::vector<bytes> keep;
    for (size_t i = 0; i < values.size(); ++i) {
        keep.push_back(to_bytes("key-" + values[i]));
        keep.push_back(to_bytes(values[i]));
        protocol::legacy_message m;
        m.offset = offset(static_cast<int64_t>(i));
        m.magic = magic;
        m.timestamp = magic == 0 ? no_timestamp : timestamp_ms(5'000 + static_cast<int64_t>(i));
        m.key = bytes_view(keep[keep.size() - 2]);
        m.value = bytes_view(keep.back());
        protocol::append_legacy_message(out, m);
    }
    return out;
}

std::vector<std::string> values_of(const std::vector<fetched_record>& rs)
{
    std::vector<std::string> out;
    for (auto& r : rs) out.push_back(r.value.value_or("<null>"));
    return out;
}

const protocol::fetch_response::partition_data& only_partition(const protocol::fetch_response& r)
{
    if (r.responses.size() != 1 || r.responses[0].partitions.size() != 1) throw std::runtime_error("bad fetch shape");
    return r.responses[0].partitions[0];
}

std::vector<fetched_record> fetch_records(broker_fixture& f, int64_t from, int16_t version)
{
    auto resp = f.call(broker_fixture::fetch_request("t", 0, from), version);
    auto& p = only_partition(resp);
    EXPECT_EQ(p.error_code, 0);
    return decode_records(p.records.to_bytes());
}

TEST(produce, appends_and_answers_base_offsets_at_several_versions)
{
    broker_fixture f;
    f.create_topic("t");
    int64_t expected = 0;
    for (int16_t v : {3, 7, 8, 9}) {
        auto r = f.produce("t", 0, batch_of({"a", "b"}), v);
        EXPECT_EQ(r.error_code, 0) << "v" << v;
        EXPECT_EQ(r.base_offset, expected) << "v" << v;
        expected += 2;
    }
    EXPECT_EQ(f.topics().get("t", 0)->log().log_end_offset(), offset(8));
    EXPECT_EQ(values_of(fetch_records(f, 0, 12)), (std::vector<std::string>{"a", "b", "a", "b", "a", "b", "a", "b"}));
}

TEST(produce, acks_zero_gets_no_response_but_appends)
{
    broker_fixture f;
    f.create_topic("t");
    protocol::produce_request req;
    req.acks = 0;
    req.topic_data.push_back({"t", {}});
    protocol::produce_request::partition_produce_data pd;
    pd.index = 0;
    pd.records = protocol::records_payload(batch_of({"x"}));
    req.topic_data[0].partition_data.push_back(std::move(pd));
    for (int16_t v : {3, 9}) {
        protocol::writer w;
        req.encode(w, v);
        EXPECT_FALSE(f.exchange(api_key::produce, v, protocol::flatten(std::move(w).finish()))) << "v" << v;
    }
    EXPECT_EQ(f.topics().get("t", 0)->log().log_end_offset(), offset(2));
}

TEST(produce, invalid_acks)
{
    broker_fixture f;
    f.create_topic("t");
    protocol::produce_request req;
    req.acks = 2;
    req.topic_data.push_back({"t", {}});
    protocol::produce_request::partition_produce_data pd;
    pd.index = 0;
    pd.records = protocol::records_payload(batch_of({"x"}));
    req.topic_data[0].partition_data.push_back(std::move(pd));
    for (int16_t v : {3, 9}) {
        auto resp = f.call(req, v);
        EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code, 21) << "v" << v;
    }
    EXPECT_EQ(f.topics().get("t", 0)->log().log_end_offset(), offset(0));
}

TEST(produce, message_too_large)
{
    broker_fixture f;
    f.create_topic("t", 1, {{"max.message.bytes", "200"}});
    auto r = f.produce("t", 0, batch_of({std::string(500, 'x')}), 9);
    EXPECT_EQ(r.error_code, 10);
    EXPECT_TRUE(r.error_message);
    EXPECT_EQ(f.produce("t", 0, batch_of({"small"}), 8).error_code, 0);
}

/// Sets a topic's overrides through the controller, as AlterConfigs does.
cluster::op_result<void> set_overrides(broker_fixture& f, const std::string& topic, config::property_map m)
{
    std::optional<cluster::op_result<void>> out;
    boost::asio::co_spawn(f.io(), f.topics().controller().set_topic_overrides(topic, std::move(m)),
                          [&](std::exception_ptr e, cluster::op_result<void> r) {
                              if (e) std::rethrow_exception(e);
                              out = std::move(r);
                          });
    f.io().restart();
    f.io().run();
    return out.value();
}

TEST(produce, config_changes_apply_to_the_next_request)
{
    broker_fixture f;
    f.create_topic("t");
    auto big = std::string(500, 'x');
    EXPECT_EQ(f.produce("t", 0, batch_of({big}), 9).error_code, 0);
    // A topic override, then its removal, then a dynamic broker default under it.
    ASSERT_TRUE(set_overrides(f, "t", {{"max.message.bytes", "200"}}));
    EXPECT_EQ(f.produce("t", 0, batch_of({big}), 9).error_code, 10);
    ASSERT_TRUE(set_overrides(f, "t", {}));
    EXPECT_EQ(f.produce("t", 0, batch_of({big}), 9).error_code, 0);
    ASSERT_TRUE(f.config().replace_dynamic(config::dynamic_scope::cluster_default, {{"message.max.bytes", "300"}}));
    f.topics().broker_config_changed();
    EXPECT_EQ(f.produce("t", 0, batch_of({big}), 9).error_code, 10);
    ASSERT_TRUE(f.config().replace_dynamic(config::dynamic_scope::cluster_default, {}));
    EXPECT_EQ(f.produce("t", 0, batch_of({big}), 9).error_code, 0);
}

TEST(produce, bad_crc_is_corrupt_message)
{
    broker_fixture f;
    f.create_topic("t");
    for (int16_t v : {3, 9}) {
        auto b = batch_of({"hello"});
        b.back() ^= 0x5a;
        EXPECT_EQ(f.produce("t", 0, std::move(b), v).error_code, 2) << "v" << v;
    }
    EXPECT_EQ(f.topics().get("t", 0)->log().log_end_offset(), offset(0));
}

TEST(produce, compacted_topic_rejects_null_keys)
{
    broker_fixture f;
    f.create_topic("c", 1, {{"cleanup.policy", "compact"}});
    auto r = f.produce("c", 0, batch_of({"v"}, 1'000, true), 9);
    EXPECT_EQ(r.error_code, 87);
    EXPECT_EQ(f.produce("c", 0, batch_of({"v"}), 9).error_code, 0);
}

TEST(produce, not_enough_replicas_with_acks_all)
{
    broker_fixture f;
    f.create_topic("t", 1, {{"min.insync.replicas", "2"}});
    protocol::produce_request req;
    req.acks = -1;
    req.topic_data.push_back({"t", {}});
    protocol::produce_request::partition_produce_data pd;
    pd.index = 0;
    pd.records = protocol::records_payload(batch_of({"x"}));
    req.topic_data[0].partition_data.push_back(std::move(pd));
    auto resp = f.call(req, 9);
    EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code, 19);
    req.acks = 1;
    EXPECT_EQ(f.call(req, 9).responses.at(0).partition_responses.at(0).error_code, 0);
}

TEST(produce, acks_all_is_answered_once_the_high_watermark_covers_the_append)
{
    broker_fixture f;
    f.create_topic("t");
    protocol::produce_request req;
    req.acks = -1;
    req.timeout_ms = 5000;
    req.topic_data.push_back({"t", {}});
    for (int i = 0; i < 2; ++i) {
        protocol::produce_request::partition_produce_data pd;
        pd.index = 0;
        pd.records = protocol::records_payload(batch_of({"a", "b"}));
        req.topic_data[0].partition_data.push_back(std::move(pd));
    }
    auto resp = f.call(req, 9);
    auto& parts = resp.responses.at(0).partition_responses;
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].error_code, 0);
    EXPECT_EQ(parts[0].base_offset, 0);
    EXPECT_EQ(parts[1].error_code, 0);
    EXPECT_EQ(parts[1].base_offset, 2);
    // Committed means visible: a consumer's fetch returns both batches.
    auto fetched = f.call(broker_fixture::fetch_request("t", 0, 0), 12);
    auto& pd = fetched.responses.at(0).partitions.at(0);
    EXPECT_EQ(pd.high_watermark, 4);
    EXPECT_EQ(decode_records(pd.records.to_bytes()).size(), 4u);
}

TEST(produce, unknown_partition_and_topic_are_never_created)
{
    broker_fixture f;
    f.create_topic("t");
    EXPECT_EQ(f.produce("t", 5, batch_of({"x"}), 9).error_code, 3);
    // As in Kafka, Produce does not auto-create (Metadata with allow_auto_topic_creation does).
    EXPECT_EQ(f.produce("fresh", 0, batch_of({"x"}), 9).error_code, 3);
    EXPECT_EQ(f.topics().find("fresh"), nullptr);
    EXPECT_EQ(f.produce("bad/name", 0, batch_of({"x"}), 9).error_code, 17); // INVALID_TOPIC_EXCEPTION
}

TEST(produce, legacy_message_sets_are_converted)
{
    broker_fixture f;
    f.create_topic("t");
    auto r0 = f.produce("t", 0, legacy_set(0, {"m0-a", "m0-b"}), 0);
    EXPECT_EQ(r0.error_code, 0);
    EXPECT_EQ(r0.base_offset, 0);
    auto r1 = f.produce("t", 0, legacy_set(1, {"m1-a"}), 2);
    EXPECT_EQ(r1.error_code, 0);
    EXPECT_EQ(r1.base_offset, 2);
    auto r2 = f.produce("t", 0, legacy_set(0, {"m0-c"}), 2);
    EXPECT_EQ(r2.error_code, 0);
    EXPECT_EQ(r2.base_offset, 3);
    auto rs = fetch_records(f, 0, 12);
    ASSERT_EQ(rs.size(), 4u);
    EXPECT_EQ(values_of(rs), (std::vector<std::string>{"m0-a", "m0-b", "m1-a", "m0-c"}));
    EXPECT_EQ(rs[0].key, "key-m0-a");
    EXPECT_EQ(rs[0].timestamp, -1);
    EXPECT_EQ(rs[2].timestamp, 5'000);
    EXPECT_EQ(rs[2].offset, 2);
    // From v3 on only magic 2 is accepted.
    EXPECT_EQ(f.produce("t", 0, legacy_set(1, {"late"}), 3).error_code, 87);
}

TEST(fetch, reads_back_what_was_produced)
{
    broker_fixture f;
    f.create_topic("t");
    f.produce_values("t", 0, {"a", "b", "c"});
    f.produce_values("t", 0, {"d"});
    for (int16_t v : {4, 10, 11, 12}) {
        auto resp = f.call(broker_fixture::fetch_request("t", 0, 1), v);
        auto& p = only_partition(resp);
        EXPECT_EQ(p.error_code, 0) << "v" << v;
        EXPECT_EQ(p.high_watermark, 4);
        auto rs = decode_records(p.records.to_bytes());
        // Whole batches: the one holding offset 1 starts at 0.
        EXPECT_EQ(values_of(rs), (std::vector<std::string>{"a", "b", "c", "d"})) << "v" << v;
        if (v >= 5) {
            EXPECT_EQ(p.log_start_offset, 0);
        }
    }
}

TEST(fetch, max_bytes_limits_and_first_batch_is_whole)
{
    broker_fixture f;
    f.create_topic("t");
    for (int i = 0; i < 3; ++i) f.produce_values("t", 0, {std::string(150, static_cast<char>('a' + i))});
    // Each batch is a little over 150 bytes: a response limit of 300 holds one of them.
    auto req = broker_fixture::fetch_request("t", 0, 0);
    req.max_bytes = 300;
    for (int16_t v : {4, 12}) {
        auto rs = decode_records(only_partition(f.call(req, v)).records.to_bytes());
        EXPECT_EQ(rs.size(), 1u) << "v" << v;
    }
    // Above every limit, the first batch still comes whole (KIP-74).
    req = broker_fixture::fetch_request("t", 0, 1, 10);
    req.max_bytes = 10;
    for (int16_t v : {4, 11, 12}) {
        auto rs = decode_records(only_partition(f.call(req, v)).records.to_bytes());
        ASSERT_EQ(rs.size(), 1u) << "v" << v;
        EXPECT_EQ(rs[0].offset, 1);
    }
    // Per-partition limit alone.
    req = broker_fixture::fetch_request("t", 0, 0, 500);
    EXPECT_EQ(decode_records(only_partition(f.call(req, 12)).records.to_bytes()).size(), 2u);
}

TEST(fetch, offset_out_of_range)
{
    broker_fixture f;
    f.create_topic("t");
    f.produce_values("t", 0, {"a"});
    for (int16_t v : {0, 4, 12}) {
        auto resp = f.call(broker_fixture::fetch_request("t", 0, 100), v);
        EXPECT_EQ(only_partition(resp).error_code, 1) << "v" << v;
    }
    auto resp = f.call(broker_fixture::fetch_request("t", 3, 0), 12);
    EXPECT_EQ(only_partition(resp).error_code, 3);
}

TEST(fetch, long_poll_returns_when_data_arrives)
{
    broker_fixture f;
    f.create_topic("t");
    auto req = broker_fixture::fetch_request("t", 0, 0);
    req.max_wait_ms = 20'000;
    req.min_bytes = 1;
    protocol::produce_request produce;
    produce.acks = 1;
    produce.topic_data.push_back({"t", {}});
    protocol::produce_request::partition_produce_data pd;
    pd.index = 0;
    pd.records = protocol::records_payload(batch_of({"late-arrival"}));
    produce.topic_data[0].partition_data.push_back(std::move(pd));
    protocol::writer w;
    produce.encode(w, 9);
    auto frame = broker_fixture::frame(api_key::produce, 9, 4242, protocol::flatten(std::move(w).finish()));
    bool produced = false;
    asio::co_spawn(
        f.io(),
        [&]() -> asio::awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(30));
            co_await t.async_wait(asio::use_awaitable);
            auto resp = co_await f.handler().handle(f.conn(), frame);
            produced = resp.has_value();
        },
        asio::detached);
    auto start = std::chrono::steady_clock::now();
    auto resp = f.call(req, 12);
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(produced);
    EXPECT_EQ(values_of(decode_records(only_partition(resp).records.to_bytes())),
              std::vector<std::string>{"late-arrival"});
    // Woken by the append, long before max_wait_ms.
    EXPECT_LT(waited, std::chrono::seconds(10));
}

TEST(fetch, long_poll_returns_empty_after_max_wait)
{
    broker_fixture f;
    f.create_topic("t");
    auto req = broker_fixture::fetch_request("t", 0, 0);
    req.max_wait_ms = 100;
    for (int16_t v : {4, 12}) {
        auto start = std::chrono::steady_clock::now();
        auto resp = f.call(req, v);
        EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
        auto& p = only_partition(resp);
        EXPECT_EQ(p.error_code, 0);
        EXPECT_EQ(p.records.size_bytes(), 0u);
    }
}

TEST(fetch, old_versions_get_legacy_message_sets)
{
    broker_fixture f;
    f.create_topic("t");
    f.produce_values("t", 0, {"a", "b"}, 7'000);
    struct expectation {
        int16_t version;
        int8_t magic;
    };
    for (auto [v, magic] : {expectation{0, 0}, expectation{1, 0}, expectation{2, 1}, expectation{3, 1}}) {
        auto resp = f.call(broker_fixture::fetch_request("t", 0, 0), v);
        auto& p = only_partition(resp);
        ASSERT_EQ(p.error_code, 0) << "v" << v;
        auto set = protocol::read_message_set(p.records.to_bytes(), protocol::partial_tail::ignore);
        ASSERT_TRUE(set) << "v" << v;
        ASSERT_EQ(set->records.size(), 2u);
        for (size_t i = 0; i < 2; ++i) {
            auto& r = set->records[i];
            EXPECT_EQ(r.magic, magic) << "v" << v;
            EXPECT_EQ(r.offset, offset(static_cast<int64_t>(i)));
            EXPECT_EQ(r.value, to_bytes(i == 0 ? "a" : "b"));
            EXPECT_EQ(r.timestamp, magic == 0 ? no_timestamp : timestamp_ms(7'000 + static_cast<int64_t>(i)));
        }
    }
}

TEST(fetch, topics_and_configs_survive_restart)
{
    broker_fixture f;
    f.create_topic("t", 2, {{"retention.ms", "123456"}});
    f.produce_values("t", 0, {"a", "b"});
    f.produce_values("t", 1, {"c"});
    auto id = f.topics().find("t")->id;
    f.restart();
    auto* t = f.topics().find("t");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->id, id);
    EXPECT_EQ(t->partitions.size(), 2u);
    EXPECT_EQ(t->overrides.at("retention.ms"), "123456");
    EXPECT_EQ(f.topics().get("t", 0)->log().config().retention_ms, 123456);
    EXPECT_EQ(values_of(fetch_records(f, 0, 12)), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(f.produce_values("t", 0, {"after"}), 2);
}

} // namespace
} // namespace samsa::kafka::test
