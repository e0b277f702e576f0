#include "kafka/txn_service.h"

#include "base/failpoint.h"
#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/group_service.h"
#include "kafka/topic_helpers.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "storage/producer_state.h"

namespace samsa::kafka {

namespace {
constexpr logger log{"txn-coordinator"};
using protocol::error_code;
} // namespace

protocol::error_code write_txn_marker(broker_context& b, const coordinator::txn_markers& m, const topic_partition& tp)
{
    auto part = b.topics.get(tp.topic, tp.partition());
    if (!part) return error_code::unknown_topic_or_partition;
    if (!part->is_leader()) return error_code::not_leader_or_follower;
    storage::control_marker marker{m.commit ? storage::marker_type::commit : storage::marker_type::abort,
                                   m.coordinator_epoch};
    auto batch = storage::build_control_batch(producer_id(m.producer_id), producer_epoch(m.producer_epoch), marker,
                                              b.clk.now_ms());
    auto r = part->append_as_leader(batch, /*crc_checked=*/false, storage::append_origin::coordinator);
    if (!r) {
        auto err = to_kafka_error(r.error());
        log.warn("cannot write the {} marker of producer {} to {}: {}", m.commit ? "COMMIT" : "ABORT", m.producer_id,
                 tp.dir_name(), r.error().message());
        return err;
    }
    if (tp.topic == group_service::offsets_topic && b.groups) {
        b.groups->state().complete_txn(m.producer_id, m.commit, tp.partition(), b.groups->offsets_partitions());
    }
    return error_code::none;
}

int32_t txn_service::state_partitions() const
{
    if (auto* t = _broker.topics.find(state_topic)) return static_cast<int32_t>(t->partitions.size());
    return _broker.config.current().transaction_state_log_num_partitions;
}

protocol::error_code txn_service::check_coordinator(const std::string& transactional_id) const
{
    if (!_broker.topics.find(state_topic)) return error_code::coordinator_not_available;
    auto part = _broker.topics.get(state_topic, _coordinator.partition_for(transactional_id));
    if (!part || !part->is_leader()) return error_code::not_coordinator;
    return error_code::none;
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
    if (!co_await ensure_internal_topic(_broker, std::move(req))) co_return false;
    _coordinator.set_state_partitions(state_partitions());
    for (auto& a : _broker.topics.find(state_topic)->partitions) {
        if (auto part = _broker.topics.get(state_topic, a.id())) {
            _coordinator.set_coordinator_epoch(a.id(), part->epoch()());
        }
    }
    co_return true;
}

void txn_service::start()
{
    auto* t = _broker.topics.find(state_topic);
    if (!t) return;
    _coordinator.set_state_partitions(state_partitions());
    size_t records = 0;
    for (auto& a : t->partitions) {
        auto part = _broker.topics.get(state_topic, a.id());
        if (!part) continue;
        _coordinator.set_coordinator_epoch(a.id(), part->epoch()());
        for_each_batch(*part, [&](const protocol::batch_header& h, bytes_view batch) {
            if (h.is_control()) return;
            auto reader = protocol::record_reader::open(batch, {});
            if (!reader) return;
            while (auto rec = reader->next()) {
                if (!rec->key) continue;
                _coordinator.load_record(*rec->key, rec->value);
                ++records;
            }
        });
    }
    auto unfinished = _coordinator.load_complete();
    log.info("replayed {} record(s) of {}; finishing {} transaction(s) left committing or aborting", records,
             state_topic, unfinished.size());
    for (auto& m : unfinished) deliver(m);
}

bool txn_service::persist(const coordinator::txn_write& w)
{
    if (!_broker.topics.find(state_topic)) return false;
    auto p = _coordinator.partition_for(w.transactional_id);
    auto part = _broker.topics.get(state_topic, p);
    if (!part) return false;
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
        return false;
    }
    return true;
}

bool txn_service::settle(const coordinator::txn_write& w)
{
    bool ok = persist(w);
    if (auto m = _coordinator.write_done(w.transactional_id, ok)) deliver(*m);
    return ok;
}

void txn_service::deliver(const coordinator::txn_markers& m)
{
    std::vector<topic_partition> failed;
    for (size_t i = 0; i < m.partitions.size(); ++i) {
        auto& tp = m.partitions[i];
        if (i == 1) failpoint("txn-after-first-marker");
        auto err = write_txn_marker(_broker, m, tp);
        // A partition deleted since it joined the transaction needs no marker any more.
        if (err != error_code::none && err != error_code::unknown_topic_or_partition) failed.push_back(tp);
    }
    if (auto w = _coordinator.markers_done(m.transactional_id, failed)) settle(*w);
}

protocol::error_code txn_service::apply(const coordinator::txn_result& r)
{
    if (!r.write) return r.error;
    return settle(*r.write) ? r.error : error_code::coordinator_not_available;
}

protocol::error_code txn_service::include_partition(const std::string& transactional_id, int64_t producer_id,
                                                    int16_t epoch, const topic_partition& tp, bool add)
{
    std::vector<topic_partition> parts{tp};
    if (add) return apply(_coordinator.add_partitions(transactional_id, producer_id, epoch, parts));
    return _coordinator.verify_partitions(transactional_id, producer_id, epoch, parts);
}

void txn_service::tick()
{
    auto t = _coordinator.tick();
    for (auto& w : t.writes) settle(w);
    for (auto& m : t.markers) deliver(m);
}

} // namespace samsa::kafka
