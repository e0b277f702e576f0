#include "kafka/group_service.h"

#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/topic_helpers.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "storage/producer_state.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace samsa::kafka {

namespace asio = boost::asio;

namespace {
constexpr logger log{"coordinator"};

/// Fails every partition of the offset commit responses among `completions` with `err`.
void fail_commits(std::vector<coordinator::completion>& completions, int16_t err)
{
    auto fail = [err](auto& topics) {
        for (auto& t : topics) {
            for (auto& p : t.partitions) {
                if (p.error_code == 0) p.error_code = err;
            }
        }
    };
    for (auto& c : completions) {
        if (auto* r = std::get_if<protocol::offset_commit_response>(&c.resp)) fail(r->topics);
        if (auto* r = std::get_if<protocol::txn_offset_commit_response>(&c.resp)) fail(r->topics);
    }
}
} // namespace

struct group_service::waiter {
    explicit waiter(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    std::optional<coordinator::response> resp;
};

std::string client_host_of(const std::string& peer)
{
    auto colon = peer.find_last_of(':');
    return "/" + (colon == std::string::npos ? peer : peer.substr(0, colon));
}

group_service::group_service(broker_context& b, coordinator::coordinator_config cfg)
  : _broker(b), _coordinator(cfg, b.clk)
{}

group_service::~group_service() = default;

int32_t group_service::offsets_partitions() const
{
    if (auto* t = _broker.topics.find(offsets_topic)) return static_cast<int32_t>(t->partitions.size());
    return _broker.config.current().offsets_topic_num_partitions;
}

boost::asio::awaitable<bool> group_service::ensure_offsets_topic()
{
    if (_broker.topics.find(offsets_topic)) co_return true;
    auto& bc = _broker.config.current();
    cluster::create_topic_request req;
    req.name = offsets_topic;
    req.partitions = bc.offsets_topic_num_partitions;
    req.replication_factor = internal_replication_factor(_broker, bc.offsets_topic_replication_factor);
    req.configs = {{"cleanup.policy", "compact"},
                   {"segment.bytes", std::to_string(bc.offsets_topic_segment_bytes)},
                   {"compression.type", "producer"}};
    co_return co_await ensure_internal_topic(_broker, std::move(req));
}

result<void> group_service::start()
{
    // A single node leads every partition it hosts: its groups are all replayed now. In
    // ZooKeeper mode nothing is led yet; a partition is replayed when first asked for.
    if (auto* t = _broker.topics.find(offsets_topic)) {
        for (auto& a : t->partitions) {
            auto part = _broker.topics.get(offsets_topic, a.id());
            if (part && part->is_leader()) load_partition(a.id(), *part);
        }
    }
    return ok();
}

void group_service::load_partition(int32_t p, cluster::partition& part)
{
    size_t records = 0;
    auto partitions = offsets_partitions();
    for_each_batch(part, [&](const protocol::batch_header& h, bytes_view batch) {
        if (h.is_control()) {
            // The end of a transaction whose offsets (TxnOffsetCommit) were replayed.
            if (auto m = storage::read_control_marker(batch, h)) {
                _coordinator.complete_txn(h.pid(), m->type == storage::marker_type::commit, p, partitions);
            }
            return;
        }
        auto reader = protocol::record_reader::open(batch, {});
        if (!reader) return;
        std::optional<int64_t> txn;
        if (h.is_transactional()) txn = h.pid();
        while (auto rec = reader->next()) {
            if (!rec->key) continue;
            _coordinator.load_record(*rec->key, rec->value, txn);
            ++records;
        }
    });
    _coordinator.load_complete();
    _loaded[p] = part.epoch()();
    log.info("replayed {} record(s) of {}-{}", records, offsets_topic, p);
}

void group_service::release(int32_t p)
{
    if (!_loaded.erase(p)) return;
    auto o = _coordinator.unload_partition(p, offsets_partitions());
    process(o);
}

protocol::error_code group_service::coordinator_for(const std::string& group)
{
    if (!_broker.topics.find(offsets_topic)) return protocol::error_code::coordinator_not_available;
    int32_t p = coordinator::partition_for_group(group, offsets_partitions());
    auto part = _broker.topics.get(offsets_topic, p);
    if (!part || !part->is_leader()) {
        release(p);
        return protocol::error_code::not_coordinator;
    }
    auto it = _loaded.find(p);
    if (it != _loaded.end() && it->second != part->epoch()()) {
        // Led again after another broker led it: what that one wrote is in the log.
        release(p);
        it = _loaded.end();
    }
    if (it == _loaded.end()) load_partition(p, *part);
    return protocol::error_code::none;
}

result<group_service::persisted> group_service::persist(const std::string& group,
                                                        const std::vector<coordinator::offsets_record>& records,
                                                        const std::optional<coordinator::txn_producer>& txn)
{
    if (records.empty()) return persisted{};
    // FindCoordinator creates the topic; a client that skipped it gets COORDINATOR_NOT_AVAILABLE.
    if (!_broker.topics.find(offsets_topic)) return make_error_code(std::errc::no_such_device);
    int32_t p = coordinator::partition_for_group(group, offsets_partitions());
    auto part = _broker.topics.get(offsets_topic, p);
    if (!part) return make_error_code(std::errc::no_such_device);
    protocol::batch_builder::options opts;
    if (txn) {
        // TxnOffsetCommit: part of the producer's transaction, ended by its marker.
        opts.pid = producer_id(txn->producer_id);
        opts.epoch = producer_epoch(txn->producer_epoch);
        opts.transactional = true;
    }
    protocol::batch_builder b(opts);
    auto now = _broker.clk.now_ms();
    for (auto& r : records) b.add(protocol::record_input{r.key, r.value, {}, now});
    auto batch = b.build();
    auto res = part->append_as_leader(batch, /*crc_checked=*/false,
                                      txn ? storage::append_origin::coordinator : storage::append_origin::client);
    if (!res) {
        log.error("cannot write to {}-{}: {}", offsets_topic, p, res.error().message());
        return res.error();
    }
    return persisted{part, res->last_offset + 1};
}

void group_service::process(coordinator::outcome& o)
{
    auto written = persist(o.group, o.records, o.txn);
    std::error_code ec = written ? std::error_code{} : written.error();
    if (o.commit) {
        _coordinator.commit_persisted(*o.commit, !ec);
        if (ec) {
            // The commit did not reach the log: every partition of its response fails.
            auto err = static_cast<int16_t>(to_kafka_error(ec) == protocol::error_code::unknown_server_error
                                                ? protocol::error_code::coordinator_not_available
                                                : to_kafka_error(ec));
            fail_commits(o.completions, err);
        }
    }
    if (!ec && written->part && written->part->high_watermark() < written->end && !o.completions.empty()) {
        // Answered once committed, not merely appended (offsets.commit.required.acks=-1).
        auto w = _waiters.find(o.completions.front().id);
        if (w != _waiters.end()) {
            asio::co_spawn(w->second->timer.get_executor(),
                           deliver_when_committed(written->part, written->end, std::move(o.completions)),
                           asio::detached);
            return;
        }
    }
    deliver(o.completions);
}

asio::awaitable<void> group_service::deliver_when_committed(std::shared_ptr<cluster::partition> part, offset end,
                                                            std::vector<coordinator::completion> completions)
{
    auto timeout = std::chrono::milliseconds(_broker.config.current().offsets_commit_timeout_ms);
    auto r = co_await part->wait_committed(end, timeout, 1);
    if (!r) {
        // As Kafka's coordinator: a leader that lost the partition is NOT_COORDINATOR, anything
        // else (timeout, shutdown) COORDINATOR_NOT_AVAILABLE; the client commits again.
        bool moved = !part->is_leader();
        fail_commits(completions, static_cast<int16_t>(moved ? protocol::error_code::not_coordinator
                                                              : protocol::error_code::coordinator_not_available));
    }
    deliver(completions);
}

void group_service::deliver(std::vector<coordinator::completion>& completions)
{
    for (auto& c : completions) {
        auto it = _waiters.find(c.id);
        if (it == _waiters.end()) {
            // Every request registers before the state machine sees it; nobody is left to answer.
            log.debug("dropping a completion for request {} that no longer waits", c.id);
            continue;
        }
        it->second->resp = std::move(c.resp);
        it->second->timer.cancel();
        _waiters.erase(it);
    }
}

asio::awaitable<coordinator::response> group_service::call(std::function<coordinator::outcome(coordinator::request_id)> op)
{
    co_return co_await call_many([&op](coordinator::request_id id) {
        std::vector<coordinator::outcome> v;
        v.push_back(op(id));
        return v;
    });
}

asio::awaitable<coordinator::response>
group_service::call_many(std::function<std::vector<coordinator::outcome>(coordinator::request_id)> op)
{
    auto id = _next_id++;
    auto w = std::make_shared<waiter>(co_await asio::this_coro::executor);
    _waiters[id] = w;
    auto outs = op(id);
    for (auto& o : outs) process(o);
    while (!w->resp) co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::move(*w->resp);
}

void group_service::tick()
{
    std::vector<int32_t> lost;
    for (auto& [p, epoch] : _loaded) {
        auto part = _broker.topics.get(offsets_topic, p);
        if (!part || !part->is_leader() || part->epoch()() != epoch) lost.push_back(p);
    }
    for (auto p : lost) release(p);
    auto outs = _coordinator.tick();
    for (auto& o : outs) process(o);
}

} // namespace samsa::kafka
