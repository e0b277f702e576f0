// Produce: validate each partition's batches as Kafka's broker does, convert old message
// formats, append, and answer with the base offset.
//
// A request goes through three steps. On the broker thread: find each partition and its topic
// config. Then the batches are checked (framing, CRC, records, timestamps, legacy conversion,
// recompression) by a pure function of the request bytes and that config: on the `cpu` pool
// when some batch needs decompressing or a new codec, so a request inflating to hundreds of
// megabytes never holds up the other connections; inline otherwise. Back on the broker thread,
// once every earlier Produce request of the connection has appended (produce_order), the
// checked batches are appended through the partition; with acks=-1 the answer waits until
// the partition's high watermark covers the append.
//
// Decompression is bounded twice. Kafka applies max.message.bytes to a batch as sent, that is
// compressed, so a legitimate batch may inflate well beyond it: one batch may decompress to
// inflation_ratio x max(max.message.bytes, 1 MiB) (32 MiB with the defaults), and decompression
// stops as soon as the output passes that. All the batches of one request together may
// decompress to request_inflation_budget bytes (256 MiB), refused work included; once that is
// spent, the request's remaining compressed batches are refused (INVALID_RECORD) without being
// decompressed at all.
#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/handlers/txn_common.h"
#include "kafka/topic_helpers.h"
#include "protocol/legacy_records.h"
#include "protocol/messages/produce.h"
#include "protocol/records.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <fmt/format.h>
#include <limits>

namespace samsa::kafka {

namespace {

namespace asio = boost::asio;
constexpr logger log{"kafka"};
using protocol::error_code;
using partition_response = protocol::produce_response::partition_produce_response;

/// How many times its max.message.bytes (at least 1 MiB) one batch may inflate to.
constexpr size_t inflation_ratio = 32;
constexpr size_t inflation_floor = size_t{1} << 20;
/// Decompressed bytes one whole request may cost, across all its batches and partitions.
constexpr size_t request_inflation_budget = size_t{256} << 20;

size_t batch_inflation_limit(int32_t max_message_bytes)
{
    return std::max(static_cast<size_t>(std::max(max_message_bytes, 0)), inflation_floor) * inflation_ratio;
}

/// What is left of a request's decompression budget.
struct inflation_budget {
    size_t left = request_inflation_budget;
    void charge(size_t n) { left -= std::min(n, left); }
};

std::string budget_message()
{
    return fmt::format("The compressed batches of this Produce request decompress to more than {} bytes in total, "
                       "the most one request may; send fewer batches per request.",
                       request_inflation_budget);
}

partition_response fail(int32_t index, error_code ec, std::string msg = {})
{
    partition_response r;
    r.index = index;
    r.error_code = code(ec);
    r.base_offset = -1;
    if (!msg.empty()) r.error_message = std::move(msg);
    return r;
}

/// One partition of a request on its way through the three steps.
struct partition_work {
    const std::string* topic = nullptr;
    int32_t index = 0;
    std::shared_ptr<cluster::partition> part;
    std::shared_ptr<const config::topic_config> tc;
    /// The batches to append: a view into the request's frame, or into `owned`.
    mutable_bytes_view data;
    bytes owned;
    /// Set once the partition is refused.
    std::optional<partition_response> failed;
    /// Where step 3 appended the batches.
    cluster::append_result appended;
};

/// The decompressed-size limit for one batch under what is left of the budget, or nullopt
/// (with `msg` set) when nothing is left.
std::optional<size_t> inflation_limit(const config::topic_config& tc, const inflation_budget& budget, std::string& msg)
{
    if (budget.left == 0) {
        msg = budget_message();
        return std::nullopt;
    }
    return std::min(batch_inflation_limit(tc.max_message_bytes), budget.left);
}

/// Checks one v2 batch of a producer. Returns NONE or the error to answer with.
error_code check_batch(mutable_bytes_view batch, const config::topic_config& tc, timestamp_ms now,
                       inflation_budget& budget, std::string& msg)
{
    // Framing and CRC are checked once, by validate_records below.
    auto h = protocol::read_header(batch);
    if (!h) {
        msg = h.error().message();
        return to_kafka_error(h.error());
    }
    if (h->is_control()) {
        msg = "Clients are not allowed to write control records.";
        return error_code::invalid_record;
    }
    if (h->size_bytes() > static_cast<size_t>(tc.max_message_bytes)) {
        msg = fmt::format("The batch of {} bytes is larger than max.message.bytes ({})", h->size_bytes(),
                          tc.max_message_bytes);
        return error_code::message_too_large;
    }
    bool compressed = h->compression() != protocol::compression_type::none;
    protocol::record_limits limits;
    if (compressed) {
        auto limit = inflation_limit(tc, budget, msg);
        if (!limit) return error_code::invalid_record;
        limits.max_uncompressed_bytes = *limit;
    }
    auto s = protocol::validate_records(batch, limits);
    if (!s) {
        if (s.error() == make_error_code(protocol::batch_errc::decompressed_too_large)) {
            budget.charge(limits.max_uncompressed_bytes); // what was inflated before it stopped
            msg = budget.left == 0 ? budget_message()
                                   : fmt::format("The batch decompresses to more than {} bytes, {} times "
                                                 "max.message.bytes or 1 MiB, whichever is larger.",
                                                 limits.max_uncompressed_bytes, inflation_ratio);
        } else {
            msg = s.error().message();
        }
        return to_kafka_error(s.error());
    }
    if (compressed) budget.charge(s->uncompressed_bytes);
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

int8_t magic_of(bytes_view data)
{
    return data.size() > protocol::batch_layout::magic ? static_cast<int8_t>(data[protocol::batch_layout::magic]) : -1;
}

/// Step 1, on the broker thread: the partition, its config and its bytes, or why not.
partition_work prepare(request_context& ctx, const protocol::produce_request& req, const std::string& topic,
                       protocol::produce_request::partition_produce_data& pd)
{
    partition_work w;
    w.topic = &topic;
    w.index = pd.index;
    auto& b = ctx.broker;
    auto refuse = [&](error_code ec, std::string msg = {}) {
        w.failed = fail(pd.index, ec, std::move(msg));
        return std::move(w);
    };
    if (req.acks != -1 && req.acks != 0 && req.acks != 1) return refuse(error_code::invalid_required_acks);
    // Produce never creates a topic (Kafka: Metadata and FindCoordinator do).
    if (auto ec = topic_error(b, topic); ec != error_code::none) return refuse(ec);
    w.part = b.topics.get(topic, pd.index);
    if (!w.part) return refuse(no_replica_error(b, topic, pd.index));
    w.tc = b.topics.effective_config(*b.topics.find(topic));
    if (auto ok = w.part->check_produce(req.acks, w.tc->min_insync_replicas); !ok) {
        auto ec = to_kafka_error(ok.error());
        if (ec != error_code::not_enough_replicas) return refuse(ec);
        return refuse(ec, fmt::format("The size of the current ISR {} is insufficient to satisfy the min.isr "
                                      "requirement of {}",
                                      w.part->isr().size(), w.tc->min_insync_replicas));
    }
    if (pd.records.is_null() || pd.records.size_bytes() == 0) {
        return refuse(error_code::corrupt_message, "The produce request has no records.");
    }
    // Decoding gives one view into ctx.frame, which this request owns: edit it in place.
    auto& chunks = pd.records.chunks();
    const auto* view = chunks.size() == 1 ? std::get_if<bytes_view>(&chunks.front()) : nullptr;
    if (!view) return refuse(error_code::corrupt_message);
    w.data = mutable_bytes_view(const_cast<uint8_t*>(view->data()), view->size());
    int8_t magic = magic_of(w.data);
    if ((magic == 0 || magic == 1) && ctx.version() >= 3) {
        return refuse(error_code::invalid_record,
                      "Produce requests of version 3 and above may only carry record batches of magic 2.");
    }
    return w;
}

/// Whether step 2 for `w` may take long: it decompresses or compresses.
bool heavy(const partition_work& w)
{
    if (w.failed) return false;
    if (magic_of(w.data) != 2 || topic_codec(w.tc->compression_type)) return true;
    for (size_t pos = 0; pos < w.data.size();) {
        auto h = protocol::read_framed_header(w.data.subspan(pos));
        if (!h) return false; // refused in step 2 anyway
        if (h->compression() != protocol::compression_type::none) return true;
        pos += h->size_bytes();
    }
    return false;
}

/// Step 2, on any thread: converts and checks the batches of `w`, recompressing them into the
/// topic's codec; touches nothing but `w` and `budget`.
void check_partition(partition_work& w, timestamp_ms now, inflation_budget& budget)
{
    const auto& tc = *w.tc;
    auto refuse = [&](error_code ec, std::string msg = {}) { w.failed = fail(w.index, ec, std::move(msg)); };
    int8_t magic = magic_of(w.data);
    if (magic == 0 || magic == 1) {
        std::string msg;
        auto limit = inflation_limit(tc, budget, msg);
        if (!limit) return refuse(error_code::invalid_record, msg);
        protocol::record_limits limits;
        limits.max_batch_bytes = static_cast<size_t>(tc.max_message_bytes);
        limits.max_uncompressed_bytes = *limit;
        auto c = protocol::convert_to_v2(w.data, limits);
        if (!c) return refuse(to_kafka_error(c.error()), c.error().message());
        w.owned = std::move(c->batch);
        w.data = mutable_bytes_view(w.owned);
    }
    auto target = topic_codec(tc.compression_type);
    bytes recompressed;
    bool changed = false;
    // Walk the batches by their headers; check_batch verifies each one's CRC and records.
    for (size_t pos = 0; pos < w.data.size();) {
        auto rest = w.data.subspan(pos);
        auto h = protocol::read_framed_header(rest);
        if (!h) return refuse(error_code::corrupt_message, "A record batch is truncated or has an invalid length.");
        std::string msg;
        auto batch = rest.first(h->size_bytes());
        size_t left = budget.left;
        auto ec = check_batch(batch, tc, now, budget, msg);
        if (ec != error_code::none) return refuse(ec, msg);
        if (target) {
            // The topic's compression.type is not "producer": store batches in its codec.
            changed |= *target != h->compression();
            protocol::record_limits limits;
            limits.max_uncompressed_bytes = batch_inflation_limit(tc.max_message_bytes);
            auto r = protocol::recompress_batch(batch, *target, limits);
            if (!r) return refuse(to_kafka_error(r.error()), r.error().message());
            // Decompressing once more costs what check_batch charged (the size is known good).
            if (*target != h->compression()) budget.charge(left - budget.left);
            recompressed.insert(recompressed.end(), r->begin(), r->end());
        }
        pos += h->size_bytes();
    }
    if (changed) {
        w.owned = std::move(recompressed);
        w.data = mutable_bytes_view(w.owned);
    }
}

/// Before step 3, KIP-890 part 1 (transaction.partition.verification.enable): a transactional
/// batch that would open a transaction on this partition is written only if the coordinator has
/// the partition in that producer's transaction, so that no transaction the coordinator does not
/// know about (one it can never end) hangs open here; from v12 (transaction version 2) the
/// batch adds the partition instead. Asked of this broker's coordinator or, when another
/// broker coordinates the transactional id, of that one (AddPartitionsToTxn from a broker).
boost::asio::awaitable<void> verify_transaction(request_context& ctx, const std::optional<std::string>& txn_id,
                                                partition_work& w)
{
    auto& b = ctx.broker;
    bool implicit = ctx.version() >= 12;
    if (w.failed || !txn_id || !b.txns) co_return;
    if (!implicit && !b.config.current().transaction_partition_verification_enable) co_return;
    auto h = protocol::read_framed_header(w.data);
    if (!h || !h->is_transactional() || h->pid() < 0) co_return;
    // Already in this transaction on this partition: nothing to ask. Transaction version 2
    // bumps the epoch at every end, so an open transaction of an older epoch is the previous
    // one, whose marker has not arrived yet: the coordinator is asked (it answers
    // CONCURRENT_TRANSACTIONS until that transaction is complete), or the batch would join it.
    if (auto* e = w.part->producers().find(h->pid);
        e && e->current_txn_first_offset >= offset(0) && e->epoch == h->epoch) {
        co_return;
    }
    // Transaction version 2 (Produce v12): the first batch adds the partition to the
    // transaction; before, AddPartitionsToTxn must have.
    topic_partition tp{*w.topic, partition_id(w.index)};
    auto err = co_await b.txns->include_partition(*txn_id, h->pid(), h->epoch(), tp, implicit);
    if (err == error_code::none) co_return;
    std::string msg = "The partition is not part of the producer's ongoing transaction.";
    if (err == error_code::producer_fenced) {
        err = error_code::invalid_producer_epoch;
    } else if (retriable_coordinator_error(err)) {
        // Retriable for the producer, as Kafka answers: the last transaction is still ending.
        err = error_code::not_enough_replicas;
        msg = "The transaction coordinator is busy with this producer; retry.";
    } else {
        err = ctx.version() >= 11 ? error_code::transaction_abortable : error_code::invalid_txn_state;
    }
    w.failed = fail(w.index, err, std::move(msg));
}

/// Step 3, on the broker thread: appends what step 2 accepted (through the partition, in the
/// connection's order); `w.appended` is then where it landed.
void append(request_context& ctx, partition_work& w)
{
    if (w.failed) return;
    // The topic may have been deleted (or recreated) while step 2 ran.
    if (ctx.broker.topics.get(*w.topic, w.index) != w.part) {
        w.failed = fail(w.index, error_code::unknown_topic_or_partition);
        return;
    }
    auto appended = w.part->append_as_leader(w.data, /*crc_checked=*/true);
    if (!appended) {
        auto ec = to_kafka_error(appended.error());
        // A producer's own mistakes (sequence, epoch) are its to handle; storage failures are ours.
        bool producer_error = ec == error_code::out_of_order_sequence_number || ec == error_code::invalid_producer_epoch;
        if (producer_error) log.debug("produce to {}-{} refused: {}", *w.topic, w.index, appended.error().message());
        else log.warn("produce to {}-{} failed: {}", *w.topic, w.index, appended.error().message());
        w.failed = fail(w.index, ec, appended.error().message());
        return;
    }
    w.appended = *appended;
}

/// Step 4, acks=-1 only: waits until the high watermark covers the append (at once while the
/// in-sync set is this node alone), within the request's timeout.
boost::asio::awaitable<void> wait_committed(partition_work& w, std::chrono::milliseconds timeout)
{
    if (w.failed) co_return;
    auto done = co_await w.part->wait_committed(w.appended.last_offset + 1, timeout, w.tc->min_insync_replicas);
    if (!done) w.failed = fail(w.index, to_kafka_error(done.error()), done.error().message());
}

partition_response answer(partition_work& w)
{
    if (w.failed) return std::move(*w.failed);
    partition_response r;
    r.index = w.index;
    r.base_offset = w.appended.base_offset();
    r.log_append_time_ms = w.appended.log_append_time();
    r.log_start_offset = w.appended.log_start_offset();
    return r;
}

/// A request's place in its connection's produce_order, left however the request ends.
class queue_place {
public:
    queue_place(produce_order& q, uint64_t conn) : _q(q), _conn(conn), _ticket(q.enter(conn)) {}
    queue_place(const queue_place&) = delete;
    queue_place& operator=(const queue_place&) = delete;
    ~queue_place() { leave(); }

    /// Lets the connection's next request go ahead (once this one has appended).
    void leave()
    {
        if (_left) return;
        _left = true;
        _q.leave(_conn, _ticket);
    }

    /// Returns once every earlier Produce request of the connection has left.
    asio::awaitable<void> my_turn()
    {
        if (_q.first(_conn, _ticket)) co_return;
        asio::steady_timer wake(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
        _q.on_first(_conn, _ticket, [&wake] { wake.cancel(); });
        struct forget {
            queue_place& p;
            ~forget() { p._q.forget_wake(p._conn, p._ticket); }
        } guard{*this};
        while (!_q.first(_conn, _ticket)) co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }

private:
    produce_order& _q;
    uint64_t _conn;
    uint64_t _ticket;
    bool _left = false;
};

} // namespace

boost::asio::awaitable<bool> handle_produce(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::produce_request>(ctx);
    auto& b = ctx.broker;
    queue_place place(b.produce_queue, ctx.conn ? ctx.conn->id : 0); // before anything suspends
    std::vector<partition_work> work;
    bool offload = false;
    for (auto& t : req.topic_data) {
        for (auto& p : t.partition_data) {
            work.push_back(prepare(ctx, req, t.name, p));
            offload = offload || heavy(work.back());
        }
    }
    auto check_all = [&work, now = b.clk.now_ms()] {
        inflation_budget budget;
        for (auto& w : work) {
            if (!w.failed) check_partition(w, now, budget);
        }
    };
    if (offload && b.cpu) {
        // The request's frame, which `work` points into, lives until this handler returns.
        co_await asio::co_spawn(
            *b.cpu, [&check_all]() -> asio::awaitable<void> { check_all(); co_return; }, asio::use_awaitable);
    } else {
        check_all();
    }
    co_await place.my_turn();
    for (auto& w : work) {
        co_await verify_transaction(ctx, req.transactional_id, w);
        append(ctx, w);
    }
    if (req.acks == -1) {
        // Appended everywhere first, so the waits overlap; the next request of the connection
        // may append meanwhile (its own acks decide when it is answered).
        place.leave();
        auto timeout = std::chrono::milliseconds(std::max(req.timeout_ms, 0));
        for (auto& w : work) co_await wait_committed(w, timeout);
    }
    protocol::produce_response resp;
    size_t i = 0;
    for (auto& t : req.topic_data) {
        protocol::produce_response::topic_produce_response tr;
        tr.name = t.name;
        for (size_t n = 0; n < t.partition_data.size(); ++n) tr.partition_responses.push_back(answer(work[i++]));
        resp.responses.push_back(std::move(tr));
    }
    if (req.acks == 0) co_return false;
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
