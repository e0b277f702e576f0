// Produce: validate each partition's batches as Kafka's broker does, convert old message
// formats, append, and answer with the base offset.
#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/legacy_records.h"
#include "protocol/messages/produce.h"
#include "protocol/records.h"

#include <cstdlib>
#include <fmt/format.h>
#include <limits>

namespace samsa::kafka {

namespace {

constexpr logger log{"kafka"};
using protocol::error_code;
using partition_response = protocol::produce_response::partition_produce_response;

partition_response fail(int32_t index, error_code ec, std::string msg = {})
{
    partition_response r;
    r.index = index;
    r.error_code = code(ec);
    r.base_offset = -1;
    if (!msg.empty()) r.error_message = std::move(msg);
    return r;
}

/// Checks one v2 batch of a producer. Returns NONE or the error to answer with.
error_code check_batch(mutable_bytes_view batch, const config::topic_config& tc, timestamp_ms now, std::string& msg)
{
    // Framing and CRC are checked once, by validate_records below.
    auto h = protocol::read_header(batch);
    if (!h) {
        msg = h.error().message();
        return to_kafka_error(h.error());
    }
    if (h->size_bytes() > static_cast<size_t>(tc.max_message_bytes)) {
        msg = fmt::format("The batch of {} bytes is larger than max.message.bytes ({})", h->size_bytes(),
                          tc.max_message_bytes);
        return error_code::message_too_large;
    }
    protocol::record_limits limits;
    limits.max_uncompressed_bytes = std::max<size_t>(limits.max_uncompressed_bytes, 4 * h->size_bytes());
    auto s = protocol::validate_records(batch, limits);
    if (!s) {
        msg = s.error().message();
        return to_kafka_error(s.error());
    }
    if (tc.cleanup.compact_enabled && s->has_null_key) {
        msg = "Compacted topic cannot accept message without key.";
        return error_code::invalid_record;
    }
    if (tc.message_timestamp == config::message_timestamp_type::create_time &&
        tc.message_timestamp_difference_max_ms != std::numeric_limits<int64_t>::max()) {
        for (auto ts : {h->base_timestamp, s->max_timestamp}) {
            if (ts() >= 0 && std::llabs(now - ts) > tc.message_timestamp_difference_max_ms) {
                msg = fmt::format("Timestamp {} is out of range (message.timestamp.difference.max.ms {})", ts,
                                  tc.message_timestamp_difference_max_ms);
                return error_code::invalid_timestamp;
            }
        }
    }
    // Producers that put a wrong max timestamp in the header get it corrected, as Kafka does.
    if (s->max_timestamp() >= 0 && s->max_timestamp != h->max_timestamp) protocol::set_max_timestamp(batch, s->max_timestamp);
    return error_code::none;
}

/// The codec a topic's compression.type asks for, or nullopt for "producer" (keep the
/// producer's).
std::optional<protocol::compression_type> topic_codec(config::broker_compression c)
{
    using protocol::compression_type;
    switch (c) {
    case config::broker_compression::producer: return std::nullopt;
    case config::broker_compression::uncompressed: return compression_type::none;
    case config::broker_compression::gzip: return compression_type::gzip;
    case config::broker_compression::snappy: return compression_type::snappy;
    case config::broker_compression::lz4: return compression_type::lz4;
    case config::broker_compression::zstd: return compression_type::zstd;
    }
    return std::nullopt;
}

partition_response produce_partition(request_context& ctx, const protocol::produce_request& req,
                                     const std::string& topic, protocol::produce_request::partition_produce_data& pd)
{
    auto& b = ctx.broker;
    int32_t index = pd.index;
    if (auto ec = ensure_topic(b, topic, true); ec != error_code::none) return fail(index, ec);
    auto part = b.topics.get(topic, index);
    if (!part) return fail(index, error_code::unknown_topic_or_partition);
    const auto* info = b.topics.find(topic);
    auto resolved = b.topics.effective_config(*info);
    const auto& tc = *resolved;
    if (req.acks == -1 && static_cast<size_t>(tc.min_insync_replicas) > part->assignment().isr.size()) {
        return fail(index, error_code::not_enough_replicas,
                    fmt::format("The size of the current ISR {} is insufficient to satisfy the min.isr requirement "
                                "of {}",
                                part->assignment().isr.size(), tc.min_insync_replicas));
    }
    if (pd.records.is_null() || pd.records.size_bytes() == 0) {
        return fail(index, error_code::corrupt_message, "The produce request has no records.");
    }
    // Decoding gives one view into ctx.frame, which this request owns: edit it in place.
    auto& chunks = pd.records.chunks();
    const auto* view = chunks.size() == 1 ? std::get_if<bytes_view>(&chunks.front()) : nullptr;
    if (!view) return fail(index, error_code::corrupt_message);
    mutable_bytes_view data(const_cast<uint8_t*>(view->data()), view->size());
    bytes converted;
    int8_t magic = data.size() > protocol::batch_layout::magic ? static_cast<int8_t>(data[protocol::batch_layout::magic]) : -1;
    if (magic == 0 || magic == 1) {
        if (ctx.version() >= 3) {
            return fail(index, error_code::invalid_record,
                        "Produce requests of version 3 and above may only carry record batches of magic 2.");
        }
        protocol::record_limits limits;
        limits.max_batch_bytes = static_cast<size_t>(tc.max_message_bytes);
        auto c = protocol::convert_to_v2(data, limits);
        if (!c) return fail(index, to_kafka_error(c.error()), c.error().message());
        converted = std::move(c->batch);
        data = mutable_bytes_view(converted);
    }
    auto now = b.clk.now_ms();
    auto target = topic_codec(tc.compression_type);
    bytes recompressed;
    bool changed = false;
    // Walk the batches by their headers; check_batch verifies each one's CRC and records.
    size_t pos = 0;
    while (pos < data.size()) {
        auto rest = data.subspan(pos);
        auto h = protocol::read_framed_header(rest);
        if (!h) {
            return fail(index, error_code::corrupt_message, "A record batch is truncated or has an invalid length.");
        }
        std::string msg;
        auto batch = rest.first(h->size_bytes());
        auto ec = check_batch(batch, tc, now, msg);
        if (ec != error_code::none) return fail(index, ec, msg);
        if (target) {
            // The topic's compression.type is not "producer": store batches in its codec.
            changed |= *target != h->compression();
            auto r = protocol::recompress_batch(batch, *target);
            if (!r) return fail(index, to_kafka_error(r.error()), r.error().message());
            recompressed.insert(recompressed.end(), r->begin(), r->end());
        }
        pos += h->size_bytes();
    }
    if (changed) {
        converted = std::move(recompressed);
        data = mutable_bytes_view(converted);
    }

    auto appended = part->log().append_as_leader(data, part->epoch(), /*crc_checked=*/true);
    if (!appended) {
        auto ec = to_kafka_error(appended.error());
        log.warn("produce to {}-{} failed: {}", topic, index, appended.error().message());
        return fail(index, ec, appended.error().message());
    }
    part->on_appended();
    partition_response r;
    r.index = index;
    r.base_offset = appended->first_offset();
    r.log_append_time_ms = appended->log_append_time();
    r.log_start_offset = appended->log_start_offset();
    return r;
}

} // namespace

boost::asio::awaitable<bool> handle_produce(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::produce_request>(ctx);
    protocol::produce_response resp;
    bool acks_ok = req.acks == -1 || req.acks == 0 || req.acks == 1;
    for (auto& t : req.topic_data) {
        protocol::produce_response::topic_produce_response tr;
        tr.name = t.name;
        for (auto& p : t.partition_data) {
            tr.partition_responses.push_back(acks_ok ? produce_partition(ctx, req, t.name, p)
                                                     : fail(p.index, error_code::invalid_required_acks));
        }
        resp.responses.push_back(std::move(tr));
    }
    if (req.acks == 0) co_return false;
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
