#include "cluster/replica_fetcher.h"

#include "base/clock.h"
#include "base/logging.h"
#include "cluster/zk/tasks.h"
#include "net/client.h"
#include "protocol/error_code.h"
#include "protocol/messages/fetch.h"

#include <boost/asio/io_context.hpp>

#include <algorithm>

namespace samsa::cluster {

namespace asio = boost::asio;

namespace {
constexpr logger log{"replication"};

/// Fetch v12: topic names, last fetched epoch, diverging epoch in the response (KIP-595/320).
constexpr int16_t fetch_version = 12;

bool follows(const partition& p, node_id self)
{
    return !p.stopped() && p.state().leader() >= 0 && p.state().leader != self;
}
} // namespace

replica_fetcher::replica_fetcher(asio::io_context& io, const metadata_cache& cache, options o)
  : _io(io), _cache(cache), _opts(std::move(o))
{
    _opts.fetchers = std::max(_opts.fetchers, 1);
}

replica_fetcher::~replica_fetcher() { *_alive = false; }

void replica_fetcher::forget(const topic_partition& tp)
{
    auto w = _where.find(tp);
    if (w == _where.end()) return;
    if (auto s = _sources.find(w->second); s != _sources.end()) s->second.parts.erase(tp);
    _where.erase(w);
}

void replica_fetcher::replica_changed(const std::shared_ptr<partition>& p)
{
    if (_stopped || !p) return;
    const auto& tp = p->tp();
    if (!follows(*p, _opts.self)) {
        forget(tp);
        return;
    }
    int32_t leader = p->state().leader();
    auto index = static_cast<int32_t>(std::hash<std::string>{}(tp.topic) % 7919 + tp.partition()) % _opts.fetchers;
    source_key key{leader, index};
    if (auto w = _where.find(tp); w != _where.end() && w->second != key) forget(tp);
    _where[tp] = key;
    auto& s = _sources[key];
    auto& f = s.parts[tp];
    f.replica = p;
    f.epoch = p->epoch();
    f.backoff_until = 0;
    if (!s.running) {
        s.running = true;
        zk::spawn_task(_io.get_executor(), _tasks, run(key), "replica fetcher");
    }
}

void replica_fetcher::stop()
{
    if (_stopped) return;
    _stopped = true;
    for (auto& [key, s] : _sources) {
        if (s.client) s.client->close();
    }
    _tasks.close();
}

net::client* replica_fetcher::client_for(source& s, int32_t leader)
{
    if (s.client) return s.client.get();
    auto* b = _cache.broker(node_id(leader));
    if (!b) return nullptr; // not announced yet (UpdateMetadata follows LeaderAndIsr)
    auto* ep = b->endpoint_for(_opts.listener);
    if (!ep) return nullptr;
    net::client_config cfg;
    cfg.host = ep->host;
    cfg.port = static_cast<uint16_t>(ep->port);
    cfg.client_id = "samsa-replica-fetcher-" + std::to_string(_opts.self());
    cfg.request_timeout = _opts.socket_timeout + std::chrono::milliseconds(_opts.wait_max_ms);
    cfg.connect_timeout = std::chrono::milliseconds(5000);
    cfg.max_in_flight = 1;
    cfg.max_response_bytes = std::max(_opts.response_max_bytes, _opts.max_bytes) + (1 << 20);
    s.client = std::make_unique<net::client>(_io, cfg);
    return s.client.get();
}

asio::awaitable<void> replica_fetcher::run(source_key key)
{
    auto alive = _alive;
    for (;;) {
        if (!*alive || _stopped) co_return;
        auto s = _sources.find(key);
        if (s == _sources.end()) co_return;
        if (s->second.parts.empty()) {
            // Nothing to follow from this leader any more: the loop and its connection end.
            if (s->second.client) s->second.client->close();
            _sources.erase(s);
            co_return;
        }
        bool ok = co_await fetch_once(key);
        if (!*alive || _stopped) co_return;
        if (!ok) co_await zk::pause(_io.get_executor(), std::chrono::milliseconds(_opts.backoff_ms));
    }
}

asio::awaitable<bool> replica_fetcher::fetch_once(source_key key)
{
    auto alive = _alive;
    auto& s = _sources.at(key);
    auto now = system_clock::instance().monotonic_ms();
    protocol::fetch_request req;
    req.replica_id = _opts.self();
    req.max_wait_ms = _opts.wait_max_ms;
    req.min_bytes = _opts.min_bytes;
    req.max_bytes = _opts.response_max_bytes;
    req.isolation_level = 0;
    req.session_id = 0;
    req.session_epoch = -1;
    // What each partition was fetched at, to drop answers a change overtook.
    std::map<topic_partition, std::pair<leader_epoch, offset>> asked;
    int64_t next_retry = 0;
    // Replicas catching up under follower.replication.throttled.replicas share the rate (as in
    // Kafka, in-sync ones are never throttled); over budget they wait, the others go on.
    auto rate = _opts.throttled_rate ? _opts.throttled_rate() : replication_throttle::unlimited;
    std::set<topic_partition> throttled;
    for (auto& [tp, f] : s.parts) {
        auto p = f.replica.lock();
        if (!p || !follows(*p, _opts.self) || p->state().leader() != key.first) continue;
        if (f.backoff_until > now) {
            next_retry = next_retry == 0 ? f.backoff_until : std::min(next_retry, f.backoff_until);
            continue;
        }
        bool in_sync = std::find(p->state().isr.begin(), p->state().isr.end(), _opts.self) != p->state().isr.end();
        if (rate != replication_throttle::unlimited && !in_sync && _opts.throttled && _opts.throttled(tp)) {
            if (!_throttle.allowed(rate, now)) {
                auto due = now + _throttle.wait_ms(rate, now);
                next_retry = next_retry == 0 ? due : std::min(next_retry, due);
                continue;
            }
            throttled.insert(tp);
        }
        if (req.topics.empty() || req.topics.back().topic != tp.topic) {
            protocol::fetch_request_types::fetch_topic ft;
            ft.topic = tp.topic;
            req.topics.push_back(std::move(ft));
        }
        protocol::fetch_request_types::fetch_partition fp;
        fp.partition = tp.partition();
        fp.current_leader_epoch = p->epoch()();
        fp.fetch_offset = p->log_end_offset()();
        fp.last_fetched_epoch = p->last_epoch()();
        fp.log_start_offset = p->log_start_offset()();
        fp.partition_max_bytes = _opts.max_bytes;
        if (throttled.count(tp)) {
            fp.partition_max_bytes = static_cast<int32_t>(std::min<int64_t>(_opts.max_bytes, _throttle.budget(rate, now)));
        }
        req.topics.back().partitions.push_back(fp);
        asked[tp] = {p->epoch(), p->log_end_offset()};
    }
    if (req.topics.empty()) {
        // Everything is backing off (or moving): wait for the first to be due.
        auto wait = next_retry > now ? next_retry - now : _opts.backoff_ms;
        co_await zk::pause(_io.get_executor(), std::chrono::milliseconds(std::min<int64_t>(wait, _opts.backoff_ms)));
        co_return true;
    }
    auto* c = client_for(s, key.first);
    if (!c) co_return false;
    auto resp = co_await c->send<protocol::fetch_api>(req, fetch_version);
    if (!*alive || _stopped) co_return true;
    auto it = _sources.find(key);
    if (it == _sources.end()) co_return true;
    auto& src = it->second;
    if (!resp) {
        log.debug("fetch from broker {} failed: {}", key.first, resp.error().message());
        if (src.client) {
            src.client->close();
            src.client.reset(); // the endpoint is looked up again
        }
        co_return false;
    }
    if ((*resp)->error_code != 0) {
        log.warn("fetch from broker {}: error {}", key.first, (*resp)->error_code);
        co_return false;
    }
    now = system_clock::instance().monotonic_ms();
    for (auto& tr : (*resp)->responses) {
        for (auto& pd : tr.partitions) {
            topic_partition tp{tr.topic, partition_id(pd.partition_index)};
            if (throttled.count(tp)) _throttle.charge(rate, static_cast<int64_t>(pd.records.size_bytes()), now);
            auto f = src.parts.find(tp);
            auto a = asked.find(tp);
            if (f == src.parts.end() || a == asked.end()) continue;
            auto p = f->second.replica.lock();
            // Moved on meanwhile (new leader or epoch, truncated, stopped): the answer is stale.
            if (!p || !follows(*p, _opts.self) || p->epoch() != a->second.first ||
                p->log_end_offset() != a->second.second) {
                continue;
            }
            if (pd.error_code == static_cast<int16_t>(protocol::error_code::offset_out_of_range)) {
                auto at = p->log_end_offset();
                auto r = p->reset_out_of_range(offset(pd.log_start_offset), offset(pd.high_watermark));
                if (!r) {
                    log.error("{}: cannot reset to the leader's log {}..{}: {}", tp, pd.log_start_offset,
                              pd.high_watermark, r.error().message());
                } else if (*r != at) {
                    log.info("{}: out of range of leader {} (log start {}, high watermark {}): log end {} -> {}", tp,
                             key.first, pd.log_start_offset, pd.high_watermark, at, *r);
                    continue; // fetch again at once
                }
                f->second.backoff_until = now + _opts.backoff_ms;
                continue;
            }
            if (pd.error_code != 0) {
                // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH (a LeaderAndIsr is on its
                // way), OFFSET_OUT_OF_RANGE, ...: try again after the backoff.
                log.debug("{}: fetch from broker {}: error {}", tp, key.first, pd.error_code);
                f->second.backoff_until = now + _opts.backoff_ms;
                continue;
            }
            std::optional<storage::epoch_entry> diverging;
            if (pd.diverging_epoch.epoch >= 0 || pd.diverging_epoch.end_offset >= 0) {
                diverging = storage::epoch_entry{leader_epoch(pd.diverging_epoch.epoch),
                                                 offset(pd.diverging_epoch.end_offset)};
            }
            bytes owned;
            bytes_view view;
            if (pd.records.size_bytes() > 0) {
                auto& chunks = pd.records.chunks();
                if (chunks.size() == 1 && std::holds_alternative<bytes_view>(chunks.front())) {
                    view = std::get<bytes_view>(chunks.front());
                } else {
                    owned = pd.records.to_bytes();
                    view = bytes_view(owned);
                }
            }
            auto at = p->log_end_offset();
            auto r = p->apply_fetch(diverging, view, offset(pd.high_watermark), offset(pd.log_start_offset));
            if (!r) {
                log.error("{}: cannot {} the leader's log at {}: {}", tp, diverging ? "truncate to" : "append",
                          at, r.error().message());
                f->second.backoff_until = now + _opts.backoff_ms;
            } else if (r->truncated) {
                log.info("{}: diverged from leader {} (its epoch {} ends at {}): truncated from {} to {}", tp, key.first,
                         pd.diverging_epoch.epoch, pd.diverging_epoch.end_offset, r->truncated_from, r->log_end);
            }
        }
    }
    co_return true;
}

} // namespace samsa::cluster
