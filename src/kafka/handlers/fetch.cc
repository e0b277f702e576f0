// Fetch: read whole batches from each requested partition (sent with sendfile), convert them
// for pre-0.11 fetchers, and long-poll — woken by appends — until min_bytes or max_wait_ms.
#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/legacy_records.h"
#include "protocol/messages/fetch.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <limits>

namespace samsa::kafka {

namespace {

namespace asio = boost::asio;
using protocol::error_code;
using partition_data = protocol::fetch_response::partition_data;

struct fetch_state {
    size_t total_bytes = 0;
    bool any_error = false;
    bool first_batch_pending = true; // KIP-74: the first batch is returned whole, whatever the limits
};

/// The broker a follower fetch comes from (-1: a consumer).
int32_t replica_of(const protocol::fetch_request& req, int16_t v)
{
    return v >= 15 ? req.replica_state.replica_id : req.replica_id;
}

/// How far a fetch may read: followers to the log end, consumers up to the high watermark
/// (read_committed: the last stable offset).
cluster::isolation isolation_of(const protocol::fetch_request& req, int16_t v)
{
    if (replica_of(req, v) >= 0) return cluster::isolation::log_end;
    return v >= 4 && req.isolation_level == 1 ? cluster::isolation::committed : cluster::isolation::high_watermark;
}

/// A follower's fetch: its log end (the fetch offset) counts for the high watermark, unless its
/// log forked from this one — the last epoch it fetched ends earlier here, or is not here — in
/// which case the answer names where this log's epoch ends (diverging_epoch) and the follower
/// truncates; below this log's start, OFFSET_OUT_OF_RANGE. Returns whether the partition is
/// answered already (diverging epoch or error).
bool follower_fetch(cluster::partition& part, int32_t replica, const protocol::fetch_request::fetch_partition& fp,
                    int16_t v, partition_data& pd)
{
    pd.high_watermark = part.high_watermark()();
    pd.last_stable_offset = part.last_stable_offset()();
    pd.log_start_offset = part.log_start_offset()();
    if (offset(fp.fetch_offset) < part.log_start_offset()) {
        // As Kafka, before any epoch check: what the follower needs next is gone here (retention,
        // DeleteRecords); it starts over at this log start.
        pd.error_code = code(error_code::offset_out_of_range);
        return true;
    }
    auto last = leader_epoch(v >= 12 ? fp.last_fetched_epoch : -1);
    auto e = part.follower_fetch(node_id(replica), offset(fp.fetch_offset), last);
    if (!e) return false;
    pd.diverging_epoch.epoch = e->epoch();
    pd.diverging_epoch.end_offset = e->start_offset();
    return true;
}

void read_partition(request_context& ctx, const protocol::fetch_request& req,
                    const protocol::fetch_request::fetch_partition& fp, const std::string& topic, partition_data& pd,
                    fetch_state& st)
{
    auto& b = ctx.broker;
    int16_t v = ctx.version();
    pd.partition_index = fp.partition;
    pd.high_watermark = -1;
    pd.last_stable_offset = -1;
    pd.records = protocol::records_payload::empty();
    if (v >= 4 && req.isolation_level == 0) pd.aborted_transactions = std::nullopt;
    auto part = b.topics.get(topic, fp.partition);
    if (!part) {
        pd.error_code = code(no_replica_error(b, topic, fp.partition));
        st.any_error = true;
        return;
    }
    if (auto ok = part->check_leader_epoch(v >= 9 ? fp.current_leader_epoch : -1); !ok) {
        pd.error_code = code(to_kafka_error(ok.error()));
        st.any_error = true;
        return;
    }
    if (int32_t replica = replica_of(req, v); replica >= 0 && follower_fetch(*part, replica, fp, v, pd)) {
        if (pd.error_code != 0) st.any_error = true;
        return;
    }
    // As Kafka: fetch.max.bytes caps every response, whatever the request asks for (v0-v2 ask
    // for no limit at all); without it a max_bytes of INT32_MAX could read a whole log to memory.
    size_t response_limit = v >= 3 ? static_cast<size_t>(std::max(req.max_bytes, 0)) : std::numeric_limits<size_t>::max();
    response_limit = std::min(response_limit, static_cast<size_t>(std::max<int64_t>(b.config.current().fetch_max_bytes, 0)));
    size_t room = response_limit > st.total_bytes ? response_limit - st.total_bytes : 0;
    size_t limit = std::min(static_cast<size_t>(std::max(fp.partition_max_bytes, 0)), room);
    // leader.replication.throttled.replicas: followers catching up (not in sync) of a throttled
    // replica here share leader.replication.throttled.rate; over budget they get no records.
    int32_t replica = replica_of(req, v);
    int64_t rate = b.config.current().leader_replication_throttled_rate;
    bool throttled = false;
    if (replica >= 0 && rate != cluster::replication_throttle::unlimited) {
        const auto& isr = part->isr();
        bool in_sync = std::find(isr.begin(), isr.end(), node_id(replica)) != isr.end();
        auto* t = b.topics.find(topic);
        throttled = !in_sync && t && b.topics.effective_config(*t)->leader_throttled_replicas.contains(fp.partition, b.self());
    }
    auto now = b.clk.monotonic_ms();
    if (throttled) {
        if (!b.leader_throttle.allowed(rate, now)) {
            pd.high_watermark = part->high_watermark()();
            pd.last_stable_offset = part->last_stable_offset()();
            pd.log_start_offset = part->log_start_offset()();
            return;
        }
        limit = std::min<size_t>(limit, static_cast<size_t>(b.leader_throttle.budget(rate, now)));
    }
    auto read = part->read(offset(fp.fetch_offset), limit, isolation_of(req, v), st.first_batch_pending);
    if (read && throttled) b.leader_throttle.charge(rate, static_cast<int64_t>(read->slice.size), now);
    if (!read) {
        pd.error_code = code(to_kafka_error(read.error()));
        st.any_error = true;
        pd.high_watermark = part->high_watermark()();
        pd.last_stable_offset = part->last_stable_offset()();
        pd.log_start_offset = part->log_start_offset()();
        return;
    }
    pd.high_watermark = read->high_watermark();
    pd.last_stable_offset = read->last_stable_offset();
    pd.log_start_offset = read->log_start_offset();
    if (v >= 4 && pd.aborted_transactions) {
        for (auto& a : read->aborted) pd.aborted_transactions->push_back({a.pid(), a.first_offset()});
    }
    auto* slice = &read->slice;
    if (slice->empty()) return;
    if (v <= 3) {
        if (!b.topics.effective_config(*b.topics.find(topic))->message_downconversion_enable) {
            pd.error_code = code(error_code::unsupported_version);
            st.any_error = true;
            return;
        }
        auto raw = slice->read_all();
        if (!raw) {
            pd.error_code = code(error_code::kafka_storage_error);
            st.any_error = true;
            return;
        }
        auto converted = protocol::down_convert(*raw, v <= 1 ? 0 : 1);
        if (!converted) {
            bool zstd = converted.error() == make_error_code(protocol::batch_errc::unsupported_compression);
            pd.error_code = code(zstd ? error_code::unsupported_compression_type : to_kafka_error(converted.error()));
            st.any_error = true;
            return;
        }
        st.total_bytes += converted->size();
        pd.records = protocol::records_payload(std::move(*converted));
    } else if (int fd = slice->file->native_handle(); fd >= 0) {
        pd.records.append(protocol::file_region{fd, static_cast<int64_t>(slice->position),
                                                static_cast<int32_t>(slice->size), slice->file});
        st.total_bytes += slice->size;
    } else {
        auto raw = slice->read_all();
        if (!raw) {
            pd.error_code = code(error_code::kafka_storage_error);
            st.any_error = true;
            return;
        }
        st.total_bytes += raw->size();
        pd.records = protocol::records_payload(std::move(*raw));
    }
    st.first_batch_pending = false;
}

protocol::fetch_response build_response(request_context& ctx, const protocol::fetch_request& req, fetch_state& st)
{
    protocol::fetch_response resp;
    for (auto& ft : req.topics) {
        protocol::fetch_response::fetchable_topic_response tr;
        tr.topic = ft.topic;
        tr.topic_id = ft.topic_id;
        for (auto& fp : ft.partitions) {
            partition_data pd;
            read_partition(ctx, req, fp, ft.topic, pd, st);
            tr.partitions.push_back(std::move(pd));
        }
        resp.responses.push_back(std::move(tr));
    }
    return resp;
}

/// Waits until `deadline` or an append to one of the requested partitions.
asio::awaitable<void> wait_for_data(request_context& ctx, const protocol::fetch_request& req,
                                    std::chrono::steady_clock::time_point deadline)
{
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, deadline);
    std::vector<cluster::partition::subscription> subs;
    // Followers read to the log end; consumers only up to the high watermark.
    auto on = replica_of(req, ctx.version()) >= 0 ? cluster::partition::wake_on::log_end
                                                  : cluster::partition::wake_on::high_watermark;
    for (auto& ft : req.topics) {
        for (auto& fp : ft.partitions) {
            if (auto part = ctx.broker.topics.get(ft.topic, fp.partition)) {
                subs.push_back(part->on_append([&timer] { timer.cancel(); }, on));
            }
        }
    }
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

} // namespace

boost::asio::awaitable<bool> handle_fetch(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::fetch_request>(ctx);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
    for (;;) {
        fetch_state st;
        auto resp = build_response(ctx, req, st);
        bool enough = st.total_bytes >= static_cast<size_t>(std::max(req.min_bytes, 0)) && st.total_bytes > 0;
        if (enough || st.any_error || req.min_bytes <= 0 || req.topics.empty() ||
            std::chrono::steady_clock::now() >= deadline) {
            // Fetch sessions (KIP-227) are not kept: session id 0 tells the client to send full
            // fetches; an unknown session it names gets FETCH_SESSION_ID_NOT_FOUND.
            if (ctx.version() >= 7 && req.session_id != 0) {
                resp = protocol::fetch_response{};
                resp.error_code = code(error_code::fetch_session_id_not_found);
            }
            resp.encode(out, ctx.version());
            co_return true;
        }
        co_await wait_for_data(ctx, req, deadline);
    }
}

} // namespace samsa::kafka
