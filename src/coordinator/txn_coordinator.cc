#include "coordinator/txn_coordinator.h"

#include "base/logging.h"
#include "coordinator/offsets_records.h"

#include <algorithm>

namespace samsa::coordinator {

using protocol::error_code;

namespace {
constexpr logger log{"txn-coordinator"};
/// Kafka bumps the epoch up to Short.MaxValue - 1 and then rotates to a new producer id.
constexpr int16_t max_epoch = INT16_MAX - 1;

bool is_complete(txn_state s) { return s == txn_state::complete_commit || s == txn_state::complete_abort; }
bool is_preparing(txn_state s) { return s == txn_state::prepare_commit || s == txn_state::prepare_abort; }

std::vector<topic_partition> partitions_of(const txn_metadata& m)
{
    std::vector<topic_partition> out;
    for (auto& [topic, ps] : m.partitions) {
        for (auto p : ps) out.push_back({topic, partition_id(p)});
    }
    return out;
}
} // namespace

int32_t txn_coordinator::partition_for(const std::string& transactional_id) const
{
    return partition_for_group(transactional_id, std::max(_cfg.state_partitions, 1));
}

const txn_metadata* txn_coordinator::find(const std::string& transactional_id) const
{
    auto it = _entries.find(transactional_id);
    return it == _entries.end() ? nullptr : &it->second.meta;
}

std::vector<const txn_metadata*> txn_coordinator::all() const
{
    std::vector<const txn_metadata*> out;
    out.reserve(_entries.size());
    for (auto& [id, e] : _entries) out.push_back(&e.meta);
    return out;
}

txn_write txn_coordinator::write_of(const txn_metadata& m) const
{
    return txn_write{m.transactional_id, encode_txn_key(m.transactional_id), encode_txn_value(m)};
}

txn_markers txn_coordinator::markers_of(const entry& e) const
{
    txn_markers mk;
    mk.transactional_id = e.meta.transactional_id;
    mk.producer_id = e.meta.producer_id;
    mk.producer_epoch = e.meta.producer_epoch;
    auto it = _epochs.find(partition_for(e.meta.transactional_id));
    mk.coordinator_epoch = it == _epochs.end() ? 0 : it->second;
    mk.commit = e.meta.state == txn_state::prepare_commit;
    mk.partitions = e.unmarked;
    return mk;
}

txn_result txn_coordinator::stage(entry& e, txn_metadata next, error_code answer)
{
    next.last_update_ms = now();
    txn_result r;
    r.error = answer;
    r.producer_id = next.producer_id;
    r.producer_epoch = next.producer_epoch;
    r.write = write_of(next);
    e.pending = std::move(next);
    return r;
}

bool txn_coordinator::needs_producer_id(const std::string& transactional_id) const
{
    auto* m = find(transactional_id);
    return !m || m->producer_epoch >= max_epoch - 1;
}

txn_result txn_coordinator::init_producer_id(const std::string& transactional_id, int64_t timeout_ms,
                                             int64_t expected_producer_id, int16_t expected_epoch,
                                             std::optional<int64_t> fresh_producer_id)
{
    txn_result r;
    if (timeout_ms <= 0 || timeout_ms > _cfg.max_timeout_ms) {
        r.error = error_code::invalid_transaction_timeout;
        return r;
    }
    auto [it, inserted] = _entries.try_emplace(transactional_id);
    auto& e = it->second;
    if (inserted) {
        if (!fresh_producer_id) {
            _entries.erase(it);
            r.error = error_code::coordinator_not_available;
            return r;
        }
        e.meta.transactional_id = transactional_id;
        e.meta.producer_id = *fresh_producer_id;
        e.meta.producer_epoch = -1; // bumped to 0 below
        e.meta.state = txn_state::empty;
    }
    if (e.pending || e.markers_in_flight || is_preparing(e.meta.state)) {
        r.error = error_code::concurrent_transactions;
        return r;
    }
    auto& m = e.meta;
    if (expected_producer_id >= 0) {
        // KIP-360: a producer that already has an id may only bump its own current epoch; a
        // retry of a bump that already happened gets the current id and epoch back.
        bool current = expected_producer_id == m.producer_id && expected_epoch == m.producer_epoch;
        bool retried = m.state == txn_state::empty && expected_epoch == m.last_producer_epoch &&
                       (expected_producer_id == m.producer_id || expected_producer_id == m.previous_producer_id);
        if (retried) {
            r.producer_id = m.producer_id;
            r.producer_epoch = m.producer_epoch;
            return r;
        }
        if (!current) {
            r.error = error_code::producer_fenced;
            return r;
        }
    }
    txn_metadata next = m;
    next.timeout_ms = static_cast<int32_t>(timeout_ms);
    if (m.state == txn_state::ongoing) {
        // A new producer instance fences the old one: abort what it left open with a bumped
        // epoch, and let the newcomer retry once that is done.
        next.last_producer_epoch = m.producer_epoch;
        next.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
        next.state = txn_state::prepare_abort;
        return stage(e, std::move(next), error_code::concurrent_transactions);
    }
    next.partitions.clear();
    next.start_ms = -1;
    next.state = txn_state::empty;
    next.last_producer_epoch = m.producer_epoch;
    if (m.producer_epoch >= max_epoch - 1 && !inserted) {
        if (!fresh_producer_id) {
            r.error = error_code::coordinator_not_available;
            return r;
        }
        next.previous_producer_id = m.producer_id;
        next.producer_id = *fresh_producer_id;
        next.producer_epoch = 0;
    } else {
        next.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
    }
    return stage(e, std::move(next), error_code::none);
}

error_code txn_coordinator::check_producer(const entry* e, int64_t producer_id, int16_t epoch) const
{
    if (!e || e->meta.producer_id != producer_id) return error_code::invalid_producer_id_mapping;
    if (e->meta.producer_epoch != epoch) return error_code::producer_fenced;
    if (e->pending || e->markers_in_flight) return error_code::concurrent_transactions;
    return error_code::none;
}

txn_coordinator::entry* txn_coordinator::checked(const std::string& transactional_id, int64_t producer_id,
                                                 int16_t epoch, txn_result& r)
{
    auto it = _entries.find(transactional_id);
    entry* e = it == _entries.end() ? nullptr : &it->second;
    r.error = check_producer(e, producer_id, epoch);
    if (r.error != error_code::none) return nullptr;
    r.producer_id = e->meta.producer_id;
    r.producer_epoch = e->meta.producer_epoch;
    return e;
}

txn_result txn_coordinator::add_partitions(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                           const std::vector<topic_partition>& partitions)
{
    txn_result r;
    entry* e = checked(transactional_id, producer_id, epoch, r);
    if (!e) return r;
    auto& m = e->meta;
    if (is_preparing(m.state)) {
        r.error = error_code::concurrent_transactions;
        return r;
    }
    if (m.state == txn_state::dead || m.state == txn_state::prepare_epoch_fence) {
        r.error = error_code::invalid_txn_state;
        return r;
    }
    if (partitions.empty()) return r;
    txn_metadata next = m;
    if (m.state != txn_state::ongoing) {
        next.partitions.clear();
        next.start_ms = now();
    }
    bool added = false;
    for (auto& tp : partitions) added |= next.partitions[tp.topic].insert(tp.partition()).second;
    if (!added && m.state == txn_state::ongoing) return r; // nothing new: no write
    next.state = txn_state::ongoing;
    return stage(*e, std::move(next), error_code::none);
}

error_code txn_coordinator::verify_partitions(const std::string& transactional_id, int64_t producer_id, int16_t epoch,
                                              const std::vector<topic_partition>& partitions) const
{
    auto it = _entries.find(transactional_id);
    auto err = check_producer(it == _entries.end() ? nullptr : &it->second, producer_id, epoch);
    if (err != error_code::none) return err;
    auto& m = it->second.meta;
    if (m.state != txn_state::ongoing) return error_code::invalid_txn_state;
    for (auto& tp : partitions) {
        auto t = m.partitions.find(tp.topic);
        if (t == m.partitions.end() || !t->second.contains(tp.partition())) return error_code::invalid_txn_state;
    }
    return error_code::none;
}

txn_result txn_coordinator::end_txn(const std::string& transactional_id, int64_t producer_id, int16_t epoch, bool commit,
                                    bool bump_epoch, std::optional<int64_t> fresh_producer_id)
{
    txn_result r;
    if (bump_epoch) {
        // Transaction version 2: a retry of an EndTxn that already bumped the epoch (the
        // producer does not know its new epoch yet) is asked to retry while the markers are
        // still going out, and gets the same answer once the transaction is complete.
        auto it = _entries.find(transactional_id);
        if (it != _entries.end()) {
            auto& m = it->second.meta;
            bool same = (m.producer_id == producer_id && m.producer_epoch == epoch + 1) ||
                        (m.previous_producer_id == producer_id && m.producer_epoch == 0);
            auto prepared = commit ? txn_state::prepare_commit : txn_state::prepare_abort;
            if (same && (it->second.pending || m.state == prepared)) {
                r.error = error_code::concurrent_transactions;
                return r;
            }
            if (same && m.state == (commit ? txn_state::complete_commit : txn_state::complete_abort)) {
                r.producer_id = m.producer_id;
                r.producer_epoch = m.producer_epoch;
                return r;
            }
        }
    }
    entry* e = checked(transactional_id, producer_id, epoch, r);
    if (!e) return r;
    auto& m = e->meta;
    switch (m.state) {
    case txn_state::ongoing: {
        txn_metadata next = m;
        next.state = commit ? txn_state::prepare_commit : txn_state::prepare_abort;
        if (bump_epoch) {
            // The markers and the next transaction carry the new epoch; the old one is fenced.
            next.client_transaction_version = 2;
            next.last_producer_epoch = m.producer_epoch;
            next.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
            if (m.producer_epoch >= max_epoch - 1) {
                // The epoch runs out: the markers go with the last epoch of this id, the
                // producer carries on with a new id from the Complete* record on.
                if (!fresh_producer_id) {
                    r.error = error_code::coordinator_not_available;
                    return r;
                }
                next.next_producer_id = *fresh_producer_id;
            }
        }
        auto out = stage(*e, std::move(next), error_code::none);
        if (e->pending->next_producer_id >= 0) {
            out.producer_id = e->pending->next_producer_id;
            out.producer_epoch = 0;
        }
        return out;
    }
    case txn_state::complete_commit:
        r.error = commit ? error_code::none : error_code::invalid_txn_state; // a retried commit
        return r;
    case txn_state::complete_abort:
        r.error = commit ? error_code::invalid_txn_state : error_code::none;
        return r;
    case txn_state::prepare_commit:
        r.error = commit ? error_code::concurrent_transactions : error_code::invalid_txn_state;
        return r;
    case txn_state::prepare_abort:
        r.error = commit ? error_code::invalid_txn_state : error_code::concurrent_transactions;
        return r;
    case txn_state::empty:
    case txn_state::dead:
    case txn_state::prepare_epoch_fence:
        r.error = error_code::invalid_txn_state;
        return r;
    }
    r.error = error_code::invalid_txn_state;
    return r;
}

std::optional<txn_markers> txn_coordinator::write_done(const std::string& transactional_id, bool ok)
{
    auto it = _entries.find(transactional_id);
    if (it == _entries.end() || !it->second.pending) return std::nullopt;
    auto& e = it->second;
    auto next = std::move(*e.pending);
    e.pending.reset();
    if (!ok) {
        // Nothing changed; a never-persisted new id is forgotten, a Complete* record is retried.
        if (e.meta.producer_epoch < 0) _entries.erase(it);
        else if (is_preparing(e.meta.state)) _retrying.insert(transactional_id);
        return std::nullopt;
    }
    if (next.state == txn_state::dead) {
        _entries.erase(it);
        return std::nullopt;
    }
    e.meta = std::move(next);
    if (!is_preparing(e.meta.state)) return std::nullopt;
    e.unmarked = partitions_of(e.meta);
    e.markers_in_flight = true;
    return markers_of(e);
}

std::optional<txn_write> txn_coordinator::markers_done(const std::string& transactional_id,
                                                       const std::vector<topic_partition>& failed)
{
    auto it = _entries.find(transactional_id);
    if (it == _entries.end() || !it->second.markers_in_flight) return std::nullopt;
    auto& e = it->second;
    e.markers_in_flight = false;
    e.unmarked = failed;
    if (!failed.empty()) {
        e.retry_at = now() + _cfg.marker_retry_backoff_ms;
        _retrying.insert(transactional_id);
        log.warn("{}: {} marker(s) not written, retrying", transactional_id, failed.size());
        return std::nullopt;
    }
    return complete(e);
}

txn_write txn_coordinator::complete(entry& e)
{
    txn_metadata next = e.meta;
    next.state = next.state == txn_state::prepare_commit ? txn_state::complete_commit : txn_state::complete_abort;
    next.partitions.clear();
    if (next.next_producer_id >= 0) {
        next.previous_producer_id = next.producer_id;
        next.producer_id = next.next_producer_id;
        next.next_producer_id = -1;
        next.producer_epoch = 0;
    }
    return *stage(e, std::move(next), error_code::none).write;
}

bool txn_coordinator::retry(entry& e, int64_t t, tick_result& out)
{
    if (e.pending || e.markers_in_flight || t < e.retry_at) return false;
    if (e.unmarked.empty()) {
        out.writes.push_back(complete(e)); // every marker is out; the record's write failed
    } else {
        e.markers_in_flight = true;
        out.markers.push_back(markers_of(e));
    }
    return true;
}

txn_coordinator::tick_result txn_coordinator::tick()
{
    tick_result out;
    auto t = now();
    bool check_aborts = t >= _next_abort_check;
    bool check_expiry = t >= _next_expiry_check;
    if (check_aborts) _next_abort_check = t + _cfg.abort_check_interval_ms;
    if (check_expiry) _next_expiry_check = t + _cfg.expiry_check_interval_ms;
    if (!check_aborts && !check_expiry) {
        // Between the periodic checks only what failed is looked at, not every id.
        for (auto it = _retrying.begin(); it != _retrying.end();) {
            auto e = _entries.find(*it);
            if (e == _entries.end() || !is_preparing(e->second.meta.state) || retry(e->second, t, out)) {
                it = _retrying.erase(it);
            } else {
                ++it;
            }
        }
        return out;
    }
    for (auto& [id, e] : _entries) {
        if (e.pending) continue;
        auto& m = e.meta;
        if (e.markers_in_flight) continue;
        if (is_preparing(m.state)) {
            if (retry(e, t, out)) _retrying.erase(id);
        } else if (check_aborts && m.state == txn_state::ongoing && m.start_ms >= 0 && t >= m.start_ms + m.timeout_ms) {
            // Kafka aborts an expired transaction with a bumped epoch: the producer is fenced.
            log.info("{}: transaction of producer {} timed out after {} ms, aborting", id, m.producer_id, m.timeout_ms);
            txn_metadata next = m;
            next.last_producer_epoch = m.producer_epoch;
            if (m.producer_epoch < max_epoch) next.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
            next.state = txn_state::prepare_abort;
            out.writes.push_back(*stage(e, std::move(next), error_code::none).write);
        } else if (check_expiry && (m.state == txn_state::empty || is_complete(m.state)) && m.last_update_ms >= 0 &&
                   t >= m.last_update_ms + _cfg.id_expiration_ms) {
            txn_metadata next = m;
            next.state = txn_state::dead;
            e.pending = next;
            out.writes.push_back(txn_write{id, encode_txn_key(id), std::nullopt});
        }
    }
    return out;
}

void txn_coordinator::load_record(bytes_view key, std::optional<bytes_view> value)
{
    auto id = decode_txn_key(key);
    if (!id) {
        log.warn("skipping a __transaction_state record: {}", id.error().message());
        return;
    }
    auto meta = decode_txn_value(*id, value);
    if (!meta) {
        log.warn("skipping the record of {}: {}", *id, meta.error().message());
        return;
    }
    if (!*meta) {
        _entries.erase(*id);
        return;
    }
    auto& e = _entries[*id];
    e = entry{};
    e.meta = std::move(**meta);
}

std::vector<txn_markers> txn_coordinator::load_complete(std::optional<int32_t> partition)
{
    std::vector<txn_markers> out;
    for (auto& [id, e] : _entries) {
        if (partition && partition_for(id) != *partition) continue;
        if (!is_preparing(e.meta.state) || e.pending || e.markers_in_flight) continue;
        e.unmarked = partitions_of(e.meta);
        e.markers_in_flight = true;
        out.push_back(markers_of(e));
    }
    return out;
}

void txn_coordinator::unload_partition(int32_t partition)
{
    for (auto it = _entries.begin(); it != _entries.end();) {
        if (partition_for(it->first) == partition) {
            _retrying.erase(it->first);
            it = _entries.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace samsa::coordinator
