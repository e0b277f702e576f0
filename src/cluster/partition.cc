#include "cluster/partition.h"

#include "base/assert.h"
#include "base/logging.h"
#include "protocol/record_batch.h"
#include "storage/errc.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <vector>

namespace samsa::cluster {

namespace asio = boost::asio;

namespace {
constexpr logger replication_log{"replication"};
} // namespace

leader_state::leader_state(node_id self, std::vector<node_id> isr, offset high_watermark, int64_t now_ms)
  : _self(self), _isr(std::move(isr)), _hw(high_watermark), _since_ms(now_ms)
{
}

bool leader_state::fetched(node_id replica, offset fetch_offset, offset leader_leo, int64_t now_ms)
{
    auto& f = _fetches[replica];
    if (fetch_offset >= leader_leo) f.caught_up_ms = std::max(f.caught_up_ms, now_ms);
    else if (f.leader_leo >= offset(0) && fetch_offset >= f.leader_leo) f.caught_up_ms = std::max(f.caught_up_ms, f.at_ms);
    f.leader_leo = leader_leo;
    f.at_ms = now_ms;
    return update(replica, fetch_offset);
}

std::optional<std::vector<node_id>> leader_state::isr_change(const std::vector<node_id>& replicas, offset leader_leo,
                                                             offset epoch_start, int64_t now_ms,
                                                             int64_t lag_max_ms) const
{
    auto caught_up = [&](node_id r) {
        auto f = _fetches.find(r);
        int64_t at = f == _fetches.end() ? _since_ms : std::max(_since_ms, f->second.caught_up_ms);
        return now_ms - at <= lag_max_ms;
    };
    std::vector<node_id> next;
    for (auto r : _isr) {
        if (r == _self) {
            next.push_back(r);
            continue;
        }
        auto leo = log_end_of(r);
        bool at_end = leo && *leo >= leader_leo;
        if (at_end || caught_up(r)) next.push_back(r);
    }
    for (auto r : replicas) {
        if (r == _self || std::find(_isr.begin(), _isr.end(), r) != _isr.end()) continue;
        auto leo = log_end_of(r);
        auto f = _fetches.find(r);
        if (!leo || f == _fetches.end() || *leo < _hw || *leo < epoch_start) continue;
        if (now_ms - f->second.caught_up_ms <= lag_max_ms) next.push_back(r);
    }
    if (next == _isr) return std::nullopt;
    return next;
}

bool leader_state::update(node_id replica, offset leo)
{
    auto& known = _leo[replica];
    known = leo;
    return recompute();
}

bool leader_state::set_isr(std::vector<node_id> isr)
{
    _isr = std::move(isr);
    return recompute();
}

std::optional<offset> leader_state::log_end_of(node_id replica) const
{
    auto it = _leo.find(replica);
    if (it == _leo.end()) return std::nullopt;
    return it->second;
}

bool leader_state::recompute()
{
    if (_isr.empty()) return false;
    std::optional<offset> low;
    for (auto r : _isr) {
        auto it = _leo.find(r);
        if (it == _leo.end()) return false; // a member not heard from holds the high watermark
        low = low ? std::min(*low, it->second) : it->second;
    }
    if (!low || *low <= _hw) return false; // never backwards
    _hw = *low;
    return true;
}

partition::partition(topic_partition tp, std::shared_ptr<storage::log> log, std::vector<node_id> replicas,
                     partition_state state, node_id self, const clock& clk)
  : _tp(std::move(tp)), _log(std::move(log)), _replicas(std::move(replicas)), _state(std::move(state)), _self(self),
    _clock(clk), _leader(self, _state.isr, _log->high_watermark(), _clock.monotonic_ms()), _epoch_start(_log->log_end_offset())
{
    SAMSA_ASSERT(_log != nullptr, "{}: a partition needs a log", _tp);
    // As Kafka's leader does on becoming leader: its own log end counts at once; followers'
    // as they fetch. With this node the only in-sync replica the high watermark is the log end.
    if (_state.leader == _self) {
        ++_leader_terms;
        begin_epoch();
        if (_leader.update(_self, _log->log_end_offset())) publish_high_watermark();
    }
}

void partition::begin_epoch()
{
    // As Kafka's new leader: its epoch goes into the epoch history at its log end before any
    // batch, so a follower's Fetch (or OffsetForLeaderEpoch) learns where the old epoch ended
    // even before this leader has appended anything.
    auto latest = _log->epochs().latest_epoch();
    if (latest && *latest >= _state.epoch) return;
    if (auto r = _log->epochs().assign(_state.epoch, _log->log_end_offset()); !r) {
        replication_log.warn("{}: cannot record leader epoch {} at {}: {}", _tp, _state.epoch, _log->log_end_offset(), r.error().message());
    }
}

void partition::apply_state(partition_state s)
{
    if (_stopped) return;
    // As Kafka's broker: a state older than the one held (an earlier leader epoch, or the same
    // epoch at an earlier partition epoch — a LeaderAndIsr read before this leader's own ISR
    // write) is ignored; applying it would take back an in-sync set already in ZooKeeper.
    if (s.epoch < _state.epoch || (s.epoch == _state.epoch && s.partition_epoch < _state.partition_epoch)) {
        replication_log.debug("{}: ignoring a stale state (epoch {}, partition epoch {}; have {}, {})", _tp, s.epoch,
                              s.partition_epoch, _state.epoch, _state.partition_epoch);
        return;
    }
    bool was_leader = _state.leader == _self;
    bool new_term = s.epoch != _state.epoch || s.leader != _state.leader;
    if (was_leader && s.leader != _self) {
        _term_ends.emplace_back(_leader_terms, high_watermark());
        if (_term_ends.size() > max_term_ends) _term_ends.erase(_term_ends.begin());
    }
    _state = std::move(s);
    if (_state.leader == _self && !was_leader) ++_leader_terms;
    if (_state.leader == _self && (new_term || !was_leader)) {
        // A new term: replicas' progress is learnt afresh, from the high watermark we have.
        _leader = leader_state(_self, _state.isr, _log->high_watermark(), _clock.monotonic_ms());
        _epoch_start = _log->log_end_offset();
        begin_epoch();
        if (_leader.update(_self, _log->log_end_offset())) publish_high_watermark();
    } else if (_state.leader == _self) {
        if (_leader.set_isr(_state.isr)) publish_high_watermark();
    }
    notify(); // waiters re-check leadership and min.insync.replicas
}

void partition::stop()
{
    if (_stopped) return;
    _stopped = true;
    notify();
}

offset partition::visible_end(isolation iso) const
{
    switch (iso) {
    case isolation::log_end: return log_end_offset();
    case isolation::high_watermark: return high_watermark();
    case isolation::committed: return last_stable_offset();
    }
    return high_watermark();
}

result<void> partition::check_leader_epoch(int32_t current_leader_epoch) const
{
    if (!is_leader()) return make_error_code(errc::not_leader);
    if (current_leader_epoch < 0 || current_leader_epoch == epoch()()) return ok();
    return make_error_code(current_leader_epoch < epoch()() ? errc::fenced_leader_epoch : errc::unknown_leader_epoch);
}

result<void> partition::check_produce(int16_t acks, int32_t min_insync_replicas) const
{
    if (!is_leader()) return make_error_code(errc::not_leader);
    if (acks == -1 && static_cast<int64_t>(isr().size()) < min_insync_replicas) {
        return make_error_code(errc::not_enough_replicas);
    }
    return ok();
}

result<append_result> partition::append_as_leader(mutable_bytes_view batches, bool crc_checked,
                                                  storage::append_origin origin)
{
    if (!is_leader()) return make_error_code(errc::not_leader);
    SAMSA_TRY_ASSIGN(auto info, _log->append_as_leader(batches, _state.epoch, crc_checked, origin));
    append_result r{info.first_offset, info.last_offset, info.log_append_time, info.log_start_offset};
    // Fetches waiting on this partition wake once: with the high watermark if it moved.
    if (_leader.update(_self, _log->log_end_offset())) publish_high_watermark();
    else notify(wake_on::log_end);
    return r;
}

asio::awaitable<result<void>> partition::wait_committed(offset end, std::chrono::milliseconds timeout,
                                                        int32_t min_insync_replicas)
{
    auto self = shared_from_this(); // alive across the wait, even once deleted
    auto deadline = std::chrono::steady_clock::now() + timeout;
    // Leadership lost meanwhile (moved by a controlled shutdown or an election), even if won
    // back since: the append is no longer this broker's to commit, as Kafka's delayed produce
    // answers. A new leader epoch with this broker still leading (an ISR change) is not a
    // loss: the append stays in the log and commits when the high watermark passes it;
    // answering NOT_LEADER_OR_FOLLOWER there would make a producer without idempotence write
    // it twice.
    auto terms = _leader_terms;
    auto moved = [&] { return !is_leader() || _leader_terms != terms; };
    if (high_watermark() < end && !_stopped && !moved()) {
        asio::steady_timer wake(co_await asio::this_coro::executor, deadline);
        auto sub = on_append([&wake] { wake.cancel(); }, wake_on::high_watermark);
        while (high_watermark() < end && !_stopped && !moved() && std::chrono::steady_clock::now() < deadline) {
            wake.expires_at(deadline);
            co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
    if (!_stopped && moved()) {
        // Committed if the high watermark had passed it when this term ended; what a follower
        // (or a later term) has at those offsets since may be other records.
        auto ended = std::find_if(_term_ends.begin(), _term_ends.end(), [&](auto& t) { return t.first == terms; });
        if (ended != _term_ends.end() && ended->second >= end) co_return ok();
        co_return make_error_code(errc::not_leader);
    }
    if (high_watermark() >= end) {
        if (static_cast<int64_t>(isr().size()) < min_insync_replicas) {
            co_return make_error_code(errc::not_enough_replicas_after_append);
        }
        co_return ok();
    }
    co_return make_error_code(_stopped ? errc::shutting_down : errc::timeout);
}

asio::awaitable<result<append_result>> partition::produce(mutable_bytes_view batches, int16_t acks,
                                                          std::chrono::milliseconds timeout, int32_t min_insync_replicas)
{
    auto self = shared_from_this();
    if (auto ok = check_produce(acks, min_insync_replicas); !ok) co_return ok.error();
    auto appended = append_as_leader(batches);
    if (!appended || acks != -1) co_return appended;
    auto committed = co_await wait_committed(appended->last_offset + 1, timeout, min_insync_replicas);
    if (!committed) co_return committed.error();
    co_return appended;
}

result<read_result> partition::read(offset start, size_t max_bytes, isolation iso, bool min_one)
{
    if (_stopped) return make_error_code(errc::not_leader);
    read_result r;
    r.high_watermark = high_watermark();
    r.last_stable_offset = last_stable_offset();
    r.log_start_offset = log_start_offset();
    r.log_end_offset = log_end_offset();
    SAMSA_TRY_ASSIGN(r.slice, _log->read(start, max_bytes, visible_end(iso), min_one));
    if (iso == isolation::committed && !r.slice.empty()) r.aborted = _log->aborted_transactions(start, r.slice.last_offset + 1);
    return r;
}

result<std::optional<storage::timestamp_lookup>> partition::find_by_timestamp(timestamp_ms ts)
{
    if (_stopped) return make_error_code(errc::not_leader);
    return _log->find_by_timestamp(ts);
}

result<offset> partition::delete_records(int64_t target)
{
    if (!is_leader()) return make_error_code(errc::not_leader);
    if (_log->offline()) return make_error_code(storage::errc::log_offline);
    // Kafka refuses to delete records of a compact-only topic.
    if (!_log->config().cleanup_delete) return make_error_code(errc::policy_violation);
    offset to = target == -1 ? high_watermark() : offset(target);
    if (to < offset(0) || to > high_watermark()) return make_error_code(errc::offset_out_of_range);
    SAMSA_TRY(_log->advance_log_start_offset(to));
    return _log->log_start_offset();
}

storage::epoch_entry partition::end_offset_for_epoch(leader_epoch requested) const
{
    return _log->epochs().end_offset_for(requested, _log->log_end_offset());
}

std::optional<storage::epoch_entry> partition::follower_fetch(node_id replica, offset fetch_offset,
                                                             leader_epoch last_fetched_epoch)
{
    if (last_fetched_epoch() >= 0) {
        auto e = end_offset_for_epoch(last_fetched_epoch);
        // An epoch older than any here comes back as epoch -1 ending at this log's start, never
        // (-1, -1): on the wire that pair means "no divergence", and the follower would fetch on
        // past records this log never had. It truncates to its high watermark instead.
        if (e.epoch() < 0) return storage::epoch_entry{leader_epoch(-1), log_start_offset()};
        if (e.epoch < last_fetched_epoch || e.start_offset < fetch_offset) return e;
    }
    if (std::find(_replicas.begin(), _replicas.end(), replica) != _replicas.end()) {
        update_replica_log_end(replica, fetch_offset);
    }
    return std::nullopt;
}

result<partition::fetch_applied> partition::apply_fetch(const std::optional<storage::epoch_entry>& diverging,
                                                        bytes_view records, offset leader_hw,
                                                        offset leader_log_start)
{
    fetch_applied out;
    if (diverging) {
        out.truncated = true;
        out.truncated_from = log_end_offset();
        SAMSA_TRY_ASSIGN(out.log_end, truncate_diverging(diverging->epoch, diverging->start_offset));
        return out;
    }
    if (!records.empty()) SAMSA_TRY(append_as_follower(records));
    follower_high_watermark(leader_hw);
    // The leader's log start (retention, DeleteRecords) holds here too, within what is committed.
    if (leader_log_start > _log->log_start_offset() && leader_log_start <= _log->high_watermark()) {
        SAMSA_TRY(_log->advance_log_start_offset(leader_log_start));
    }
    out.log_end = log_end_offset();
    return out;
}

result<void> partition::append_as_follower(bytes_view batches)
{
    if (_stopped || _state.leader == _self) return make_error_code(errc::not_leader);
    if (_log->log_end_offset() == _log->log_start_offset()) {
        // An empty log started at the leader's log start, which DeleteRecords may have put inside
        // a batch: the batch holding it arrives whole, so the log starts at that batch instead (as
        // Kafka's follower does); the leader's log start is taken from its answer afterwards.
        if (auto h = protocol::read_header(batches);
            h && h->base_offset < _log->log_end_offset() && h->last_offset() >= _log->log_end_offset()) {
            SAMSA_TRY(_log->truncate_fully_and_start_at(h->base_offset));
        }
    }
    SAMSA_TRY(_log->append_with_offsets(batches));
    notify();
    return ok();
}

void partition::follower_high_watermark(offset leader_hw)
{
    if (_stopped || _state.leader == _self) return;
    auto hw = std::min(leader_hw, _log->log_end_offset());
    if (hw <= _log->high_watermark()) return;
    _log->set_high_watermark(hw);
    notify();
}

result<offset> partition::truncate_diverging(leader_epoch epoch, offset end_offset)
{
    if (_stopped || _state.leader == _self) return make_error_code(errc::not_leader);
    auto mine = _log->epochs().end_offset_for(epoch, _log->log_end_offset());
    offset target = mine.epoch() < 0 ? _log->high_watermark() : std::min(end_offset, mine.start_offset);
    if (epoch() < 0 || end_offset < offset(0)) target = std::min(target, _log->high_watermark());
    SAMSA_TRY(_log->truncate_to(target));
    notify();
    return _log->log_end_offset();
}

result<offset> partition::reset_out_of_range(offset leader_log_start, offset leader_hw)
{
    if (_stopped || _state.leader == _self) return make_error_code(errc::not_leader);
    auto end = _log->log_end_offset();
    if (leader_log_start > end) {
        SAMSA_TRY(_log->truncate_fully_and_start_at(leader_log_start));
    } else if (leader_hw >= offset(0) && end > leader_hw) {
        // Records below this replica's own high watermark are committed: a leader just elected
        // may not have advanced its high watermark that far yet but has them, so they are kept
        // and fetched past. Only a leader whose log ends below them (it lost committed records:
        // an unclean election, a crash without fsync) takes them away.
        auto hw = _log->high_watermark();
        auto target = leader_hw;
        if (hw > leader_hw && end > hw) {
            target = hw;
        } else if (hw > leader_hw) {
            replication_log.error("{}: leader {} has none of the committed records {}..{} of this replica: they go",
                                  _tp, _state.leader(), leader_hw(), hw());
        }
        SAMSA_TRY(_log->truncate_to(target));
    } else {
        return end;
    }
    notify();
    return _log->log_end_offset();
}

leader_epoch partition::last_epoch() const
{
    auto e = _log->epochs().latest_epoch();
    return e ? *e : leader_epoch(-1);
}

void partition::update_replica_log_end(node_id replica, offset leo)
{
    if (!is_leader()) return;
    // Only the high watermark moves: followers waiting for new records sleep on.
    if (_leader.fetched(replica, leo, _log->log_end_offset(), _clock.monotonic_ms())) {
        publish_high_watermark(wake_on::high_watermark);
    }
}

std::optional<std::vector<node_id>> partition::isr_change(int64_t lag_max_ms) const
{
    if (!is_leader()) return std::nullopt;
    return _leader.isr_change(_replicas, _log->log_end_offset(), _epoch_start, _clock.monotonic_ms(), lag_max_ms);
}

void partition::set_isr(std::vector<node_id> isr, int32_t partition_epoch)
{
    if (_stopped) return;
    _state.isr = isr;
    if (partition_epoch >= 0) _state.partition_epoch = partition_epoch;
    if (_leader.set_isr(std::move(isr))) publish_high_watermark();
    notify(); // waiters re-check min.insync.replicas
}

void partition::publish_high_watermark(wake_on what)
{
    auto before = _log->high_watermark();
    _log->set_high_watermark(_leader.high_watermark());
    SAMSA_ASSERT(_log->high_watermark() >= before, "{}: high watermark moved back from {} to {}", _tp, before,
                 _log->high_watermark());
    notify(what);
}

void partition::notify(wake_on what)
{
    if (_listeners.empty()) return;
    // Callbacks may unsubscribe themselves (or others): run a snapshot.
    std::vector<std::function<void()>> cbs;
    cbs.reserve(_listeners.size());
    for (auto& [id, l] : _listeners) {
        if (static_cast<uint8_t>(l.first) & static_cast<uint8_t>(what)) cbs.push_back(l.second);
    }
    for (auto& cb : cbs) cb();
}

partition::subscription partition::on_append(std::function<void()> cb, wake_on on)
{
    uint64_t id = _next_listener++;
    _listeners.emplace(id, std::make_pair(on, std::move(cb)));
    return subscription(weak_from_this(), id);
}

partition::subscription& partition::subscription::operator=(subscription&& o) noexcept
{
    if (this != &o) {
        if (auto p = _p.lock(); p && _id) p->_listeners.erase(_id);
        _p = std::move(o._p);
        _id = o._id;
        o._id = 0;
    }
    return *this;
}

partition::subscription::~subscription()
{
    if (auto p = _p.lock(); p && _id) p->_listeners.erase(_id);
}

} // namespace samsa::cluster
