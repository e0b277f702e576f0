// A deterministic simulation of one partition replicated on three brokers, in the style of
// Kafka's Raft simulation tests: the real `partition` objects (leader state, ISR decisions,
// follower fetch answers, divergence truncation) over real logs on in-memory file systems,
// talking through a simulated network that delays, reorders and loses Fetch requests and
// answers, under a manual clock, with brokers paused and a controller that moves leadership
// away from a broker whose session "expired" and keeps only live replicas in the ISR. Each
// seed is one run; after every step:
//   - no replica's high watermark ever moves back;
//   - no two replicas lead in the same epoch;
//   - every acknowledged record (acks=all: the leader's high watermark covered it while it
//     still led in the epoch it was appended in) is in the current leader's log at its offset;
//   - every replica's log agrees with the leader's byte for byte up to its high watermark.
// At the end the faults stop, the cluster heals and every log must be identical.
// SAMSA_SIM_SEEDS / SAMSA_SIM_STEPS run more (bench/ or by hand); CI runs the default.
#include "cluster/partition.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"
#include "storage/log_manager.h"
#include "storage/mem_file_ops.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace samsa::cluster {
namespace {

const topic_partition tp{"sim", partition_id(0)};
constexpr int64_t lag_ms = 150;     // replica.lag.time.max.ms
constexpr int64_t session_ms = 250; // the controller acts on a paused broker after this
constexpr int64_t fetch_timeout_ms = 100;

int env_int(const char* name, int fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

const bool tracing = env_int("SAMSA_SIM_TRACE", 0) != 0; // every event of every run on stdout

struct sim_node {
    node_id id;
    storage::mem_file_ops fs;
    std::unique_ptr<storage::log_manager> logs;
    std::shared_ptr<partition> part;
    bool paused = false;
    int64_t paused_at = 0;
    bool fetching = false;
    int64_t fetch_sent_at = 0;
    // One fetch in flight per follower, as the fetcher's one request per connection: a fetch
    // that timed out closed its connection, so its answer never arrives.
    uint64_t fetch_seq = 0;
    offset max_hw{0};
};

struct message {
    bool request = true;
    int from = 0;
    int to = 0;
    int64_t deliver_at = 0;
    uint64_t seq = 0;
    leader_epoch epoch{-1};
    offset fetch_offset{0};
    leader_epoch last_epoch{-1};
    // Answer:
    bool error = false;
    std::optional<storage::epoch_entry> diverging;
    bytes records;
    offset hw{0};
};

struct pending_produce {
    int leader;
    leader_epoch epoch;
    offset end;
    std::map<int64_t, std::string> values; // offset -> value
};

class simulation {
public:
    explicit simulation(uint32_t seed) : _rng(seed), _seed(seed)
    {
        std::vector<node_id> all{node_id(0), node_id(1), node_id(2)};
        _state = partition_state{node_id(0), leader_epoch(0), all, 0};
        for (int i = 0; i < 3; ++i) {
            auto n = std::make_unique<sim_node>();
            n->id = node_id(i);
            n->logs = std::make_unique<storage::log_manager>(
                n->fs, system_clock::instance(), storage::log_manager_config{{"/data"}},
                [](const topic_partition&) { return storage::log_config{}; });
            EXPECT_TRUE(n->logs->startup());
            EXPECT_TRUE(n->logs->get_or_create(tp, storage::log_config{}));
            n->part = std::make_shared<partition>(tp, n->logs->share(tp), all, _state, n->id, _clock);
            _nodes.push_back(std::move(n));
        }
    }
    ~simulation()
    {
        for (auto& n : _nodes) {
            n->part->stop();
            EXPECT_TRUE(n->logs->shutdown());
        }
    }

    void run(int steps)
    {
        for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
            step(/*faults=*/true);
            check(i % 10 == 0);
        }
        heal();
    }

    struct stats {
        size_t acked = 0;
        size_t elections = 0;
        size_t truncations = 0;
        size_t shrinks = 0;
        size_t expands = 0;
    };
    stats result() const
    {
        auto s = _stats;
        s.acked = _acked.size();
        return s;
    }

private:
    bool chance(int percent) { return static_cast<int>(_rng() % 100) < percent; }
    int pick(int n) { return static_cast<int>(_rng() % static_cast<uint32_t>(n)); }
    sim_node& node(int i) { return *_nodes[static_cast<size_t>(i)]; }
    int64_t now() const { return _clock.monotonic_ms(); }
    template <typename... Args>
    void trace(fmt::format_string<Args...> f, Args&&... args)
    {
        if (tracing) std::printf("%6lld %s\n", static_cast<long long>(now()), fmt::format(f, std::forward<Args>(args)...).c_str());
    }
    int leader() const { return _state.leader(); }

    void step(bool faults)
    {
        int r = pick(100);
        if (r < 25) produce();
        else if (r < 45) send_fetches();
        else if (r < 80) deliver();
        else if (r < 93) advance(1 + pick(60));
        else if (faults) fault();
        controller();
        leaders_check_isr();
        settle_produces();
    }

    void produce()
    {
        if (leader() < 0) return;
        // A paused leader takes nothing; a zombie (unpaused, not told yet) may still append.
        for (int i = 0; i < 3; ++i) {
            auto& n = node(i);
            if (n.paused || !n.part->is_leader()) continue;
            if (i != leader() && !chance(30)) continue;
            protocol::batch_builder b;
            int count = 1 + pick(3);
            std::vector<std::string> values;
            for (int k = 0; k < count; ++k) {
                values.push_back("s" + std::to_string(_seed) + "-" + std::to_string(_next_value++));
                b.add("k", values.back(), timestamp_ms(1000 + now()));
            }
            auto batch = b.build();
            auto res = n.part->append_as_leader(mutable_bytes_view(batch), false);
            ASSERT_TRUE(res) << res.error().message();
            trace("produce on {} (epoch {}): {}..{}", i, n.part->epoch()(), res->base_offset(), res->last_offset());
            pending_produce p{i, n.part->epoch(), res->last_offset + 1, {}};
            for (int k = 0; k < count; ++k) p.values[res->base_offset() + k] = values[static_cast<size_t>(k)];
            _pending.push_back(std::move(p));
        }
    }

    void send_fetches()
    {
        for (int i = 0; i < 3; ++i) {
            auto& n = node(i);
            auto& st = n.part->state();
            if (n.paused || n.part->is_leader() || st.leader() < 0) continue;
            if (n.fetching && now() - n.fetch_sent_at < fetch_timeout_ms) continue;
            n.fetching = true;
            n.fetch_sent_at = now();
            message m;
            m.request = true;
            m.from = i;
            m.to = st.leader();
            m.epoch = n.part->epoch();
            m.seq = ++n.fetch_seq;
            m.fetch_offset = n.part->log_end_offset();
            m.last_epoch = n.part->last_epoch();
            send(std::move(m));
        }
    }

    void send(message m)
    {
        if (chance(5)) return; // lost
        m.deliver_at = now() + pick(40);
        _net.push_back(std::move(m));
    }

    void deliver()
    {
        std::vector<size_t> ready;
        for (size_t i = 0; i < _net.size(); ++i) {
            if (_net[i].deliver_at <= now() && !node(_net[i].to).paused) ready.push_back(i);
        }
        if (ready.empty()) return;
        auto at = ready[static_cast<size_t>(pick(static_cast<int>(ready.size())))]; // any order
        auto m = std::move(_net[at]);
        _net.erase(_net.begin() + static_cast<std::ptrdiff_t>(at));
        if (m.request) answer(m);
        else receive(m);
    }

    void answer(const message& q)
    {
        auto& l = node(q.to);
        message a;
        a.request = false;
        a.from = q.to;
        a.to = q.from;
        a.seq = q.seq;
        a.epoch = q.epoch;
        a.fetch_offset = q.fetch_offset;
        if (!l.part->is_leader() || l.part->epoch() != q.epoch) {
            a.error = true; // NOT_LEADER_OR_FOLLOWER / FENCED or UNKNOWN_LEADER_EPOCH
        } else if (auto div = l.part->follower_fetch(node_id(q.from), q.fetch_offset, q.last_epoch)) {
            a.diverging = div;
        } else {
            auto read = l.part->read(q.fetch_offset, 200 + static_cast<size_t>(pick(400)), isolation::log_end);
            if (!read) {
                a.error = true; // OFFSET_OUT_OF_RANGE
            } else if (!read->slice.empty()) {
                auto raw = read->slice.read_all();
                ASSERT_TRUE(raw);
                a.records = std::move(*raw);
            }
        }
        a.hw = l.part->high_watermark();
        send(std::move(a));
    }

    void receive(const message& a)
    {
        auto& f = node(a.to);
        if (a.seq != f.fetch_seq) return; // its connection was closed
        f.fetching = false;
        auto& st = f.part->state();
        if (a.error || f.part->is_leader() || st.leader() != a.from || f.part->epoch() != a.epoch ||
            f.part->log_end_offset() != a.fetch_offset) {
            return; // stale: overtaken by a state change or a truncation
        }
        trace("{} applies fetch from {} at {}: {} bytes, hw {}{}", a.to, a.from, a.fetch_offset(), a.records.size(), a.hw(),
              a.diverging ? fmt::format(", diverging epoch {} end {}", a.diverging->epoch(), a.diverging->start_offset())
                          : std::string());
        // As the Fetch response carries it: (-1, -1) is no divergence at all.
        auto diverging = a.diverging;
        if (diverging && diverging->epoch() < 0 && diverging->start_offset() < 0) diverging.reset();
        auto r = f.part->apply_fetch(diverging, bytes_view(a.records), a.hw);
        ASSERT_TRUE(r) << "node " << a.to << " cannot apply the fetch at " << a.fetch_offset << ": " << r.error().message();
        if (r->truncated && r->log_end < r->truncated_from) ++_stats.truncations;
    }

    void advance(int ms) { _clock.advance(ms); }

    void fault()
    {
        int i = pick(3);
        auto& n = node(i);
        if (n.paused) {
            trace("{} resumes", i);
            n.paused = false;
            tell(i); // the controller's pending LeaderAndIsr reaches it
            return;
        }
        int paused = 0;
        for (auto& x : _nodes) paused += x->paused;
        if (paused >= 2) return;
        trace("{} pauses", i);
        n.paused = true;
        n.paused_at = now();
        n.fetching = false;
    }

    /// LeaderAndIsr to one broker.
    void tell(int i)
    {
        auto& n = node(i);
        if (n.paused) return;
        if (n.part->state() != _state) {
            trace("{} told: leader {} epoch {} isr size {}", i, leader(), _state.epoch(), _state.isr.size());
            n.part->apply_state(_state);
        }
    }

    /// The controller: a broker paused longer than the session is dead; it leaves the ISR (the
    /// last member stays) and, if it led, the first live ISR member leads in a new epoch.
    void controller()
    {
        auto dead = [&](int i) { return node(i).paused && now() - node(i).paused_at >= session_ms; };
        std::vector<node_id> isr;
        for (auto r : _state.isr) {
            if (!dead(r())) isr.push_back(r);
        }
        if (isr.empty() && !_state.isr.empty()) isr.push_back(_state.isr.back());
        int lead = leader();
        if (lead < 0 || dead(lead)) {
            lead = -1;
            for (auto r : isr) {
                if (!dead(r())) {
                    lead = r();
                    break;
                }
            }
        }
        if (lead != leader() || isr != _state.isr) {
            if (lead != leader()) ++_stats.elections;
            std::string members;
            for (auto r : isr) members += std::to_string(r()) + " ";
            trace("controller: leader {} isr [{}] epoch {}", lead, members, _state.epoch() + 1);
            _state.leader = node_id(lead);
            _state.isr = isr;
            _state.epoch = leader_epoch(_state.epoch() + 1);
            ++_state.partition_epoch;
        }
        for (int i = 0; i < 3; ++i) {
            if (chance(50)) tell(i); // LeaderAndIsr arrive at different times
        }
    }

    /// The leader's ISR changes, written "to ZooKeeper" (the controller's state) only while it
    /// still leads in the controller's epoch.
    void leaders_check_isr()
    {
        if (leader() < 0) return;
        auto& l = node(leader());
        if (l.paused || !l.part->is_leader() || l.part->epoch() != _state.epoch) return;
        if (auto next = l.part->isr_change(lag_ms)) {
            (next->size() < _state.isr.size() ? _stats.shrinks : _stats.expands)++;
            std::string members;
            for (auto r : *next) members += std::to_string(r()) + " ";
            trace("leader {} sets isr [{}]", leader(), members);
            _state.isr = *next;
            ++_state.partition_epoch;
            l.part->set_isr(*next, _state.partition_epoch);
        }
    }

    void settle_produces()
    {
        for (auto it = _pending.begin(); it != _pending.end();) {
            auto& n = node(it->leader);
            if (!n.part->is_leader() || n.part->epoch() != it->epoch) {
                it = _pending.erase(it); // the leader moved: the client gets an error
                continue;
            }
            if (n.part->high_watermark() >= it->end) {
                for (auto& [o, v] : it->values) _acked[o] = v;
                it = _pending.erase(it);
                continue;
            }
            ++it;
        }
    }

    /// offset -> value of every record in node i's log below `end`.
    std::map<int64_t, std::string> records_of(int i, offset end)
    {
        std::map<int64_t, std::string> out;
        auto& n = node(i);
        if (end <= n.part->log_start_offset()) return out;
        auto read = n.part->log().read(offset(0), size_t{1} << 30, end, true);
        EXPECT_TRUE(read);
        if (!read || read->empty()) return out;
        auto raw = read->read_all();
        EXPECT_TRUE(raw);
        protocol::batch_iterator it(*raw);
        while (it.next()) {
            auto rd = protocol::record_reader::open(it.current());
            EXPECT_TRUE(rd);
            while (auto rec = rd->next()) {
                out[rec->offset()] = std::string(reinterpret_cast<const char*>(rec->value->data()), rec->value->size());
            }
        }
        return out;
    }

    bytes bytes_below(int i, offset end)
    {
        auto read = node(i).part->log().read(offset(0), size_t{1} << 30, end, true);
        EXPECT_TRUE(read);
        if (!read || read->empty()) return {};
        auto raw = read->read_all();
        EXPECT_TRUE(raw);
        return raw ? *raw : bytes{};
    }

    void check(bool deep)
    {
        std::map<int32_t, int> leaders_per_epoch;
        for (int i = 0; i < 3; ++i) {
            auto& n = node(i);
            auto hw = n.part->high_watermark();
            ASSERT_GE(hw, n.max_hw) << "seed " << _seed << ": node " << i << "'s high watermark moved back";
            n.max_hw = hw;
            if (n.part->is_leader()) {
                ASSERT_EQ(++leaders_per_epoch[n.part->epoch()()], 1)
                    << "seed " << _seed << ": two leaders in epoch " << n.part->epoch();
            }
        }
        if (!deep || leader() < 0) return;
        int l = leader();
        auto lead_end = node(l).part->log_end_offset();
        auto records = records_of(l, lead_end);
        for (auto& [o, v] : _acked) {
            auto it = records.find(o);
            ASSERT_TRUE(it != records.end() && it->second == v)
                << "seed " << _seed << ": acknowledged record " << v << " at " << o << " is not in leader " << l
                << "'s log (epoch " << _state.epoch << ")";
        }
        for (int i = 0; i < 3; ++i) {
            if (i == l) continue;
            auto hw = std::min(node(i).part->high_watermark(), node(l).part->high_watermark());
            ASSERT_EQ(bytes_below(i, hw), bytes_below(l, hw))
                << "seed " << _seed << ": node " << i << " disagrees with leader " << l << " below " << hw;
        }
    }

    void heal()
    {
        for (int i = 0; i < 3; ++i) {
            node(i).paused = false;
        }
        for (int i = 0; i < 5000 && !::testing::Test::HasFatalFailure(); ++i) {
            controller();
            for (int k = 0; k < 3; ++k) tell(k);
            send_fetches();
            deliver();
            advance(5);
            leaders_check_isr();
            settle_produces();
            check(false);
            if (healed()) break;
        }
        ASSERT_TRUE(healed()) << "seed " << _seed << ": the cluster did not heal: " << describe();
        check(true);
        auto reference = bytes_below(0, node(0).part->log_end_offset());
        for (int i = 1; i < 3; ++i) {
            ASSERT_EQ(bytes_below(i, node(i).part->log_end_offset()), reference)
                << "seed " << _seed << ": node " << i << "'s log differs from node 0's after healing";
        }
    }

    std::string describe()
    {
        std::string out = "controller: leader " + std::to_string(leader()) + " epoch " + std::to_string(_state.epoch()) +
                          " isr [";
        for (auto r : _state.isr) out += std::to_string(r()) + " ";
        out += "]; pending produces " + std::to_string(_pending.size());
        for (int i = 0; i < 3; ++i) {
            auto& n = node(i);
            out += "; node " + std::to_string(i) + (n.part->is_leader() ? " leads" : " follows") + " epoch " +
                   std::to_string(n.part->epoch()()) + " leo " + std::to_string(n.part->log_end_offset()()) + " hw " +
                   std::to_string(n.part->high_watermark()()) + (n.part->state() == _state ? "" : " (stale state)");
        }
        return out;
    }

    bool healed()
    {
        if (leader() < 0) return false;
        auto& l = node(leader());
        if (!l.part->is_leader() || _state.isr.size() != 3) return false;
        for (int i = 0; i < 3; ++i) {
            auto& n = node(i);
            if (n.part->state() != _state) return false;
            if (n.part->log_end_offset() != l.part->log_end_offset()) return false;
            if (n.part->high_watermark() != l.part->high_watermark()) return false;
        }
        return l.part->high_watermark() == l.part->log_end_offset() && _pending.empty();
    }

    std::mt19937 _rng;
    uint32_t _seed;
    manual_clock _clock{0}; // every partition's clock of replica lag
    int64_t _next_value = 0;
    partition_state _state;
    std::vector<std::unique_ptr<sim_node>> _nodes;
    std::vector<message> _net;
    std::vector<pending_produce> _pending;
    std::map<int64_t, std::string> _acked;
    stats _stats;
};

TEST(replication_sim, seeded_runs_keep_every_acknowledged_record_and_agree_up_to_the_high_watermark)
{
    int seeds = env_int("SAMSA_SIM_SEEDS", 1000);
    int steps = env_int("SAMSA_SIM_STEPS", 300);
    int first = env_int("SAMSA_SIM_FIRST_SEED", 1);
    simulation::stats total;
    for (int s = first; s < first + seeds && !HasFatalFailure(); ++s) {
        simulation sim(static_cast<uint32_t>(s));
        sim.run(steps);
        auto r = sim.result();
        total.acked += r.acked;
        total.elections += r.elections;
        total.truncations += r.truncations;
        total.shrinks += r.shrinks;
        total.expands += r.expands;
    }
    std::printf("replication simulation: %d seeded runs of %d steps: %zu acknowledged records checked, %zu elections, "
                "%zu truncations of a diverged log, %zu ISR shrinks, %zu ISR expansions\n",
                seeds, steps, total.acked, total.elections, total.truncations, total.shrinks, total.expands);
    // The runs do what they are for: acknowledge writes, move leadership, fork and heal logs.
    EXPECT_GT(total.acked, static_cast<size_t>(seeds));
    EXPECT_GT(total.elections, static_cast<size_t>(seeds) / 10);
    EXPECT_GT(total.truncations, 0u);
    EXPECT_GT(total.shrinks, 0u);
    EXPECT_GT(total.expands, 0u);
}

} // namespace
} // namespace samsa::cluster
