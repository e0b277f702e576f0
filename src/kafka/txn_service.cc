#include "kafka/txn_service.h"

#include "base/failpoint.h"
#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/group_service.h"
#include "kafka/peer_clients.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/write_txn_markers.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "storage/producer_state.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace samsa::kafka {

namespace asio = boost::asio;

namespace {
constexpr logger log{"txn-coordinator"};
using protocol::error_code;
/// How long a __transaction_state write or a marker may take to be committed (Kafka's
/// coordinator waits request.timeout.ms).
constexpr std::chrono::milliseconds commit_timeout{10000};

} // namespace

marker_write write_txn_marker(broker_context& b, const coordinator::txn_markers& m, const topic_partition& tp)
{
    auto part = b.topics.get(tp.topic, tp.partition());
    if (!part) return {error_code::unknown_topic_or_partition};
    if (!part->is_leader()) return {error_code::not_leader_or_follower};
    storage::control_marker marker{m.commit ? storage::marker_type::commit : storage::marker_type::abort,
                                   m.coordinator_epoch};
    auto batch = storage::build_control_batch(producer_id(m.producer_id), producer_epoch(m.producer_epoch), marker,
                                              b.clk.now_ms());
    auto r = part->append_as_leader(batch, /*crc_checked=*/false, storage::append_origin::coordinator);
    if (!r) {
        log.warn("cannot write the {} marker of producer {} to {}: {}", m.commit ? "COMMIT" : "ABORT", m.producer_id,
                 tp.dir_name(), r.error().message());
        return {to_kafka_error(r.error())};
    }
    if (tp.topic == group_service::offsets_topic && b.groups) {
        b.groups->state().complete_txn(m.producer_id, m.commit, tp.partition(), b.groups->offsets_partitions());
    }
    return {error_code::none, part, r->last_offset + 1};
}

asio::awaitable<error_code> marker_committed(const marker_write& w, std::chrono::steady_clock::time_point deadline)
{
    if (w.error != error_code::none) co_return w.error;
    if (w.part->high_watermark() >= w.end) co_return error_code::none;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto r = co_await w.part->wait_committed(w.end, std::max(left, std::chrono::milliseconds(1)), 1);
    if (r) co_return error_code::none;
    co_return w.part->is_leader() ? to_kafka_error(r.error()) : error_code::not_leader_or_follower;
}

txn_service::txn_service(broker_context& b, coordinator::txn_config cfg, asio::any_io_executor ex)
  : _broker(b), _coordinator(cfg, b.clk), _ex(std::move(ex))
{}

txn_service::~txn_service() { *_alive = false; }

int32_t txn_service::state_partitions() const
{
    if (auto* t = _broker.topics.find(state_topic)) return static_cast<int32_t>(t->partitions.size());
    return _broker.config.current().transaction_state_log_num_partitions;
}

int32_t txn_service::partition_of(const std::string& transactional_id) const
{
    return coordinator::partition_for_group(transactional_id, std::max(state_partitions(), 1));
}

protocol::error_code txn_service::check_coordinator(const std::string& transactional_id)
{
    if (!_broker.topics.find(state_topic)) return error_code::coordinator_not_available;
    _coordinator.set_state_partitions(state_partitions());
    int32_t p = partition_of(transactional_id);
    auto part = _broker.topics.get(state_topic, p);
    if (!part || !part->is_leader()) {
        release(p);
        return error_code::not_coordinator;
    }
    auto it = _loaded.find(p);
    if (it != _loaded.end() && it->second != part->epoch()()) {
        // Led again after another broker led it: what that one wrote is in the log.
        release(p);
        it = _loaded.end();
    }
    if (it == _loaded.end()) load_partition(p, *part);
    return error_code::none;
}

bool txn_service::coordinates(const std::string& transactional_id) const
{
    if (!_broker.topics.find(state_topic)) return false;
    int32_t p = partition_of(transactional_id);
    auto part = _broker.topics.get(state_topic, p);
    auto it = _loaded.find(p);
    return part && part->is_leader() && it != _loaded.end() && it->second == part->epoch()();
}

boost::asio::awaitable<bool> txn_service::ensure_state_topic()
{
    if (_broker.topics.find(state_topic)) co_return true;
    auto& bc = _broker.config.current();
    cluster::create_topic_request req;
    req.name = state_topic;
    req.partitions = bc.transaction_state_log_num_partitions;
    req.replication_factor = internal_replication_factor(_broker, bc.transaction_state_log_replication_factor);
    req.configs = {{"cleanup.policy", "compact"},
                   {"segment.bytes", std::to_string(bc.transaction_state_log_segment_bytes)},
                   {"min.insync.replicas",
                    std::to_string(std::min<int64_t>(bc.transaction_state_log_min_isr, req.replication_factor))},
                   {"unclean.leader.election.enable", "false"},
                   {"compression.type", "uncompressed"}};
    co_return co_await ensure_internal_topic(_broker, std::move(req));
}

void txn_service::start()
{
    // A single node leads every partition it hosts: they are all replayed now. In ZooKeeper
    // mode nothing is led yet; a partition is replayed when first asked for.
    auto* t = _broker.topics.find(state_topic);
    if (!t) return;
    _coordinator.set_state_partitions(state_partitions());
    for (auto& a : t->partitions) {
        auto part = _broker.topics.get(state_topic, a.id());
        if (part && part->is_leader()) load_partition(a.id(), *part);
    }
}

void txn_service::load_partition(int32_t p, cluster::partition& part)
{
    _coordinator.set_coordinator_epoch(p, part.epoch()());
    size_t records = 0;
    for_each_batch(part, [&](const protocol::batch_header& h, bytes_view batch) {
        if (h.is_control()) return;
        auto reader = protocol::record_reader::open(batch, {});
        if (!reader) return;
        while (auto rec = reader->next()) {
            if (!rec->key) continue;
            _coordinator.load_record(*rec->key, rec->value);
            ++records;
        }
    });
    _loaded[p] = part.epoch()();
    auto unfinished = _coordinator.load_complete(p);
    log.info("replayed {} record(s) of {}-{} at leader epoch {}; finishing {} transaction(s) left committing or "
             "aborting",
             records, state_topic, p, part.epoch()(), unfinished.size());
    for (auto& m : unfinished) deliver(std::move(m));
}

void txn_service::release(int32_t p)
{
    if (!_loaded.erase(p)) return;
    _coordinator.unload_partition(p);
    log.info("{}-{} is led elsewhere now: its transactional ids are forgotten here", state_topic, p);
}

bool txn_service::still_loaded(const written& w) const
{
    auto it = _loaded.find(w.partition);
    return it != _loaded.end() && it->second == w.epoch;
}

std::optional<txn_service::written> txn_service::persist(const coordinator::txn_write& w)
{
    if (!_broker.topics.find(state_topic)) return std::nullopt;
    auto p = partition_of(w.transactional_id);
    auto part = _broker.topics.get(state_topic, p);
    if (!part || !_loaded.contains(p)) return std::nullopt;
    protocol::batch_builder b;
    protocol::record_input rec;
    rec.key = w.key;
    rec.value = w.value;
    rec.timestamp = _broker.clk.now_ms();
    b.add(std::move(rec));
    auto batch = b.build();
    auto res = part->append_as_leader(batch, /*crc_checked=*/false);
    if (!res) {
        log.error("cannot write to {}-{}: {}", state_topic, p, res.error().message());
        return std::nullopt;
    }
    return written{part, res->last_offset + 1, p, _loaded[p]};
}

asio::awaitable<bool> txn_service::committed(written w)
{
    if (w.part->high_watermark() >= w.end) co_return true;
    int32_t min_isr = 1;
    if (auto* t = _broker.topics.find(state_topic)) min_isr = _broker.topics.effective_config(*t)->min_insync_replicas;
    auto r = co_await w.part->wait_committed(w.end, commit_timeout, min_isr);
    if (!r) {
        log.warn("a write to {}-{} was not committed: {}", state_topic, w.partition, r.error().message());
    }
    co_return r.has_value();
}

void txn_service::write_done(const std::string& transactional_id, bool ok)
{
    if (auto m = _coordinator.write_done(transactional_id, ok)) deliver(std::move(*m));
}

void txn_service::settle(coordinator::txn_write w)
{
    auto wr = persist(w);
    if (!wr) {
        write_done(w.transactional_id, false);
        return;
    }
    if (wr->part->high_watermark() >= wr->end) {
        write_done(w.transactional_id, true);
        return;
    }
    asio::co_spawn(
        _ex,
        [this, alive = _alive, id = w.transactional_id, wr = *wr]() -> asio::awaitable<void> {
            bool ok = co_await committed(wr);
            if (*alive && still_loaded(wr)) write_done(id, ok);
        },
        asio::detached);
}

asio::awaitable<protocol::error_code> txn_service::apply(coordinator::txn_result r)
{
    if (!r.write) co_return r.error;
    auto alive = _alive;
    auto id = r.write->transactional_id;
    auto wr = persist(*r.write);
    bool ok = false;
    if (wr) ok = co_await committed(*wr);
    if (!*alive) co_return error_code::coordinator_not_available;
    if (wr && !still_loaded(*wr)) co_return error_code::not_coordinator; // its entry went with the partition
    write_done(id, ok);
    co_return ok ? r.error : error_code::coordinator_not_available;
}

void txn_service::deliver(coordinator::txn_markers m)
{
    std::vector<topic_partition> failed;
    std::vector<marker_write> local;
    std::map<int32_t, std::vector<topic_partition>> remote;
    for (size_t i = 0; i < m.partitions.size(); ++i) {
        auto& tp = m.partitions[i];
        auto part = _broker.topics.get(tp.topic, tp.partition());
        if (part && part->is_leader()) {
            if (local.size() == 1) failpoint("txn-after-first-marker");
            auto w = write_txn_marker(_broker, m, tp);
            if (w.error == error_code::none) local.push_back(std::move(w));
            else failed.push_back(tp);
            continue;
        }
        auto* st = _broker.topics.metadata().state(tp);
        if (!st && !_broker.topics.find(tp.topic)) continue; // deleted since it joined: no marker needed
        if (!st || st->leader() < 0 || st->leader == _broker.self || !_broker.peers) {
            failed.push_back(tp); // no leader to take it yet: retried
            continue;
        }
        remote[st->leader()].push_back(tp);
    }
    bool all_committed = std::all_of(local.begin(), local.end(),
                                     [](const marker_write& w) { return w.part->high_watermark() >= w.end; });
    if (remote.empty() && all_committed) {
        markers_done(m, failed);
        return;
    }
    asio::co_spawn(_ex, deliver_rest(std::move(m), std::move(failed), std::move(local), std::move(remote)),
                   asio::detached);
}

asio::awaitable<void> txn_service::deliver_rest(coordinator::txn_markers m, std::vector<topic_partition> failed,
                                                std::vector<marker_write> local,
                                                std::map<int32_t, std::vector<topic_partition>> remote)
{
    auto alive = _alive;
    auto deadline = std::chrono::steady_clock::now() + commit_timeout;
    for (auto& w : local) {
        auto err = co_await marker_committed(w, deadline);
        if (err != error_code::none) failed.push_back(w.part->tp());
    }
    for (auto& [leader, parts] : remote) {
        if (!*alive) co_return;
        if (!_broker.peers) { // shutting down
            failed.insert(failed.end(), parts.begin(), parts.end());
            continue;
        }
        protocol::write_txn_markers_request req;
        protocol::write_txn_markers_request::writable_txn_marker mk;
        mk.producer_id = m.producer_id;
        mk.producer_epoch = m.producer_epoch;
        mk.transaction_result = m.commit;
        mk.coordinator_epoch = m.coordinator_epoch;
        std::map<std::string, std::vector<int32_t>> by_topic;
        for (auto& tp : parts) by_topic[tp.topic].push_back(tp.partition());
        for (auto& [topic, ps] : by_topic) mk.topics.push_back({topic, ps});
        req.markers.push_back(std::move(mk));
        auto r = co_await _broker.peers->send<protocol::write_txn_markers_api>(node_id(leader), req, 1);
        if (!*alive) co_return;
        std::set<topic_partition> done;
        if (r && !(*r)->markers.empty()) {
            for (auto& t : (*r)->markers.front().topics) {
                for (auto& p : t.partitions) {
                    if (p.error_code == 0 ||
                        static_cast<error_code>(p.error_code) == error_code::unknown_topic_or_partition) {
                        done.insert({t.name, partition_id(p.partition_index)});
                    }
                }
            }
        } else if (!r) {
            log.warn("cannot send the markers of {} to broker {}: {}", m.transactional_id, leader, r.error().message());
        }
        for (auto& tp : parts) {
            if (!done.contains(tp)) failed.push_back(tp);
        }
    }
    if (!*alive) co_return;
    int32_t p = partition_of(m.transactional_id);
    auto it = _loaded.find(p);
    if (it == _loaded.end() || it->second != m.coordinator_epoch) co_return; // led elsewhere now
    markers_done(m, failed);
}

void txn_service::markers_done(const coordinator::txn_markers& m, const std::vector<topic_partition>& failed)
{
    if (auto w = _coordinator.markers_done(m.transactional_id, failed)) settle(std::move(*w));
}

asio::awaitable<protocol::error_code> txn_service::include_partition(std::string transactional_id,
                                                                     int64_t producer_id, int16_t epoch,
                                                                     topic_partition tp, bool add)
{
    auto err = check_coordinator(transactional_id);
    if (err == error_code::not_coordinator && _broker.peers) {
        co_return co_await ask_coordinator(std::move(transactional_id), producer_id, epoch, std::move(tp), add);
    }
    if (err != error_code::none) co_return err;
    std::vector<topic_partition> parts{tp};
    if (add) co_return co_await apply(_coordinator.add_partitions(transactional_id, producer_id, epoch, parts));
    co_return _coordinator.verify_partitions(transactional_id, producer_id, epoch, parts);
}

asio::awaitable<protocol::error_code> txn_service::ask_coordinator(std::string transactional_id, int64_t producer_id,
                                                                   int16_t epoch, topic_partition tp, bool add)
{
    // Another broker coordinates the id: it is asked as a broker asks (AddPartitionsToTxn v4+,
    // verify_only unless the write adds the partition).
    auto* st = _broker.topics.metadata().state({state_topic, partition_id(partition_of(transactional_id))});
    if (!st || st->leader() < 0 || st->leader == _broker.self) co_return error_code::coordinator_not_available;
    protocol::add_partitions_to_txn_request req;
    protocol::add_partitions_to_txn_request::add_partitions_to_txn_transaction t;
    t.transactional_id = transactional_id;
    t.producer_id = producer_id;
    t.producer_epoch = epoch;
    t.verify_only = !add;
    t.topics.push_back({tp.topic, {tp.partition()}});
    req.transactions.push_back(std::move(t));
    auto r = co_await _broker.peers->send<protocol::add_partitions_to_txn_api>(st->leader, req, 5);
    if (!r) {
        log.warn("cannot reach broker {}, the coordinator of {}: {}", st->leader(), transactional_id,
                 r.error().message());
        co_return error_code::coordinator_not_available;
    }
    if ((*r)->error_code != 0) co_return static_cast<error_code>((*r)->error_code);
    for (auto& res : (*r)->results_by_transaction) {
        for (auto& topic : res.topic_results) {
            for (auto& p : topic.results_by_partition) {
                if (topic.name == tp.topic && p.partition_index == tp.partition()) {
                    co_return static_cast<error_code>(p.partition_error_code);
                }
            }
        }
    }
    co_return error_code::coordinator_not_available;
}

void txn_service::tick()
{
    // Leadership moves are followed here, not only when a client asks: a partition led here
    // since the last tick is replayed now, so the transactions its last leader left committing
    // or aborting are finished even if their producers never come back (until then their
    // partitions' last stable offsets wait).
    if (auto* t = _broker.topics.find(state_topic)) {
        _coordinator.set_state_partitions(state_partitions());
        for (auto& a : t->partitions) {
            int32_t p = a.id();
            auto part = _broker.topics.get(state_topic, p);
            bool led = part && part->is_leader();
            auto it = _loaded.find(p);
            if (it != _loaded.end() && (!led || it->second != part->epoch()())) {
                release(p);
                it = _loaded.end();
            }
            if (led && it == _loaded.end()) load_partition(p, *part);
        }
    } else {
        while (!_loaded.empty()) release(_loaded.begin()->first);
    }
    auto t = _coordinator.tick();
    for (auto& w : t.writes) settle(std::move(w));
    for (auto& m : t.markers) deliver(std::move(m));
}

} // namespace samsa::kafka
