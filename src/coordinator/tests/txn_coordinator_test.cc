#include "coordinator/txn_coordinator.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace samsa::coordinator {
namespace {

using protocol::error_code;

/// Drives a txn_coordinator under a manual clock, persisting every write into `log` (the
/// records of __transaction_state, replayable into a fresh coordinator) and writing markers
/// unless told to fail them.
struct txn_fixture : ::testing::Test {
    manual_clock clk{1'000'000};
    txn_config cfg;
    std::unique_ptr<txn_coordinator> tc = std::make_unique<txn_coordinator>(cfg, clk);
    std::vector<txn_write> log;
    std::vector<txn_markers> markers_written;
    std::vector<topic_partition> fail_markers; // these partitions refuse markers
    int64_t next_pid = 1000;
    const topic_partition a{"a", partition_id(0)};
    const topic_partition b{"b", partition_id(1)};

    /// Persists a write (or not) and completes what follows from it: markers, Complete*.
    void settle(const std::optional<txn_write>& w, bool ok = true)
    {
        if (!w) return;
        if (ok) log.push_back(*w);
        if (auto mk = tc->write_done(w->transactional_id, ok)) deliver(*mk);
    }
    void deliver(const txn_markers& mk)
    {
        std::vector<topic_partition> failed;
        for (auto& tp : mk.partitions) {
            if (std::find(fail_markers.begin(), fail_markers.end(), tp) != fail_markers.end()) failed.push_back(tp);
        }
        markers_written.push_back(mk);
        settle(tc->markers_done(mk.transactional_id, failed));
    }
    txn_result init(const std::string& id, int64_t pid = -1, int16_t epoch = -1, int64_t timeout = 60000)
    {
        std::optional<int64_t> fresh;
        if (tc->needs_producer_id(id)) fresh = next_pid++;
        auto r = tc->init_producer_id(id, timeout, pid, epoch, fresh);
        settle(r.write);
        return r;
    }
    txn_result add(const std::string& id, const txn_result& p, std::vector<topic_partition> parts)
    {
        auto r = tc->add_partitions(id, p.producer_id, p.producer_epoch, parts);
        settle(r.write);
        return r;
    }
    txn_result end(const std::string& id, const txn_result& p, bool commit)
    {
        auto r = tc->end_txn(id, p.producer_id, p.producer_epoch, commit);
        settle(r.write);
        return r;
    }
    void tick()
    {
        auto t = tc->tick();
        for (auto& w : t.writes) settle(w);
        for (auto& mk : t.markers) deliver(mk);
    }
    txn_state state(const std::string& id) { return tc->find(id)->state; }
    /// Replays the persisted records into a new coordinator, as a restart does.
    std::vector<txn_markers> restart()
    {
        tc = std::make_unique<txn_coordinator>(cfg, clk);
        for (auto& w : log) {
            std::optional<bytes_view> v;
            if (w.value) v = bytes_view(*w.value);
            tc->load_record(w.key, v);
        }
        return tc->load_complete();
    }
};

TEST_F(txn_fixture, init_gives_a_new_id_epoch_zero_then_bumps_the_epoch)
{
    auto r = init("t1");
    EXPECT_EQ(r.error, error_code::none);
    EXPECT_EQ(r.producer_id, 1000);
    EXPECT_EQ(r.producer_epoch, 0);
    EXPECT_EQ(state("t1"), txn_state::empty);
    auto again = init("t1");
    EXPECT_EQ(again.producer_id, 1000);
    EXPECT_EQ(again.producer_epoch, 1);
    EXPECT_EQ(log.size(), 2u);
}

TEST_F(txn_fixture, rejects_timeouts_above_the_maximum)
{
    cfg.max_timeout_ms = 1000;
    tc = std::make_unique<txn_coordinator>(cfg, clk);
    EXPECT_EQ(init("t1", -1, -1, 1001).error, error_code::invalid_transaction_timeout);
    EXPECT_EQ(init("t1", -1, -1, 0).error, error_code::invalid_transaction_timeout);
    EXPECT_EQ(tc->find("t1"), nullptr);
}

TEST_F(txn_fixture, commit_writes_prepare_markers_then_complete)
{
    auto p = init("t1");
    EXPECT_EQ(add("t1", p, {a, b}).error, error_code::none);
    EXPECT_EQ(state("t1"), txn_state::ongoing);
    EXPECT_EQ(tc->find("t1")->start_ms, 1'000'000);
    auto r = end("t1", p, true);
    EXPECT_EQ(r.error, error_code::none);
    ASSERT_EQ(markers_written.size(), 1u);
    EXPECT_TRUE(markers_written[0].commit);
    EXPECT_EQ(markers_written[0].producer_id, p.producer_id);
    EXPECT_EQ(markers_written[0].producer_epoch, p.producer_epoch);
    EXPECT_EQ(markers_written[0].partitions, (std::vector<topic_partition>{a, b}));
    EXPECT_EQ(state("t1"), txn_state::complete_commit);
    EXPECT_TRUE(tc->find("t1")->partitions.empty());
    // Written: Empty, Ongoing, PrepareCommit, CompleteCommit.
    ASSERT_EQ(log.size(), 4u);
    auto prep = decode_txn_value("t1", bytes_view(*log[2].value));
    ASSERT_TRUE(prep && *prep);
    EXPECT_EQ((*prep)->state, txn_state::prepare_commit);
    EXPECT_EQ((*prep)->partitions.at("a"), std::set<int32_t>{0});
    // A retried commit succeeds; an abort of it is invalid; the next transaction starts anew.
    EXPECT_EQ(end("t1", p, true).error, error_code::none);
    EXPECT_EQ(end("t1", p, false).error, error_code::invalid_txn_state);
    EXPECT_EQ(add("t1", p, {b}).error, error_code::none);
    EXPECT_EQ(tc->find("t1")->partitions.size(), 1u);
}

TEST_F(txn_fixture, transaction_version_2_bumps_the_epoch_at_every_end)
{
    auto p = init("t1");
    add("t1", p, {a});
    auto r = tc->end_txn("t1", p.producer_id, p.producer_epoch, true, /*bump_epoch=*/true);
    settle(r.write);
    EXPECT_EQ(r.error, error_code::none);
    EXPECT_EQ(r.producer_id, p.producer_id);
    EXPECT_EQ(r.producer_epoch, p.producer_epoch + 1);
    ASSERT_EQ(markers_written.size(), 1u);
    EXPECT_EQ(markers_written[0].producer_epoch, p.producer_epoch + 1); // the markers fence the old epoch
    EXPECT_EQ(tc->find("t1")->client_transaction_version, 2);
    // A retry with the old epoch gets the same answer; anything else from it is fenced.
    auto retry = tc->end_txn("t1", p.producer_id, p.producer_epoch, true, true);
    EXPECT_EQ(retry.error, error_code::none);
    EXPECT_EQ(retry.producer_epoch, r.producer_epoch);
    EXPECT_FALSE(retry.write);
    EXPECT_EQ(tc->end_txn("t1", p.producer_id, p.producer_epoch, false, true).error, error_code::producer_fenced);
    EXPECT_EQ(tc->add_partitions("t1", p.producer_id, p.producer_epoch, {b}).error, error_code::producer_fenced);
    // The next transaction runs on the new epoch.
    EXPECT_EQ(add("t1", r, {b}).error, error_code::none);
    auto r2 = tc->end_txn("t1", r.producer_id, r.producer_epoch, false, true);
    settle(r2.write);
    EXPECT_EQ(r2.producer_epoch, r.producer_epoch + 1);
    EXPECT_EQ(state("t1"), txn_state::complete_abort);
}

TEST_F(txn_fixture, transaction_version_2_rotates_the_producer_id_when_the_epoch_runs_out)
{
    auto p = init("t1");
    while (!tc->needs_producer_id("t1")) p = init("t1");
    add("t1", p, {a});
    auto r = tc->end_txn("t1", p.producer_id, p.producer_epoch, true, true, 4242);
    settle(r.write);
    EXPECT_EQ(r.error, error_code::none);
    EXPECT_EQ(r.producer_id, 4242);
    EXPECT_EQ(r.producer_epoch, 0);
    ASSERT_EQ(markers_written.size(), 1u);
    EXPECT_EQ(markers_written[0].producer_id, p.producer_id); // the open transaction's own id
    EXPECT_EQ(markers_written[0].producer_epoch, p.producer_epoch + 1);
    auto* m = tc->find("t1");
    EXPECT_EQ(m->producer_id, 4242);
    EXPECT_EQ(m->previous_producer_id, p.producer_id);
    EXPECT_EQ(m->next_producer_id, -1);
    restart();
    EXPECT_EQ(tc->find("t1")->producer_id, 4242);
}

TEST_F(txn_fixture, adding_known_partitions_writes_nothing)
{
    auto p = init("t1");
    add("t1", p, {a});
    auto n = log.size();
    auto r = add("t1", p, {a});
    EXPECT_EQ(r.error, error_code::none);
    EXPECT_FALSE(r.write);
    EXPECT_EQ(log.size(), n);
    EXPECT_EQ(tc->verify_partitions("t1", p.producer_id, p.producer_epoch, {a}), error_code::none);
    EXPECT_EQ(tc->verify_partitions("t1", p.producer_id, p.producer_epoch, {b}), error_code::invalid_txn_state);
}

TEST_F(txn_fixture, wrong_ids_and_epochs_are_refused)
{
    auto p = init("t1");
    txn_result other = p;
    other.producer_id = p.producer_id + 1;
    EXPECT_EQ(add("t1", other, {a}).error, error_code::invalid_producer_id_mapping);
    EXPECT_EQ(add("nope", p, {a}).error, error_code::invalid_producer_id_mapping);
    txn_result old = p;
    old.producer_epoch = static_cast<int16_t>(p.producer_epoch - 1);
    EXPECT_EQ(add("t1", old, {a}).error, error_code::producer_fenced);
    EXPECT_EQ(end("t1", p, true).error, error_code::invalid_txn_state); // nothing begun
}

TEST_F(txn_fixture, a_new_producer_fences_the_old_and_aborts_its_transaction)
{
    auto p = init("t1");
    add("t1", p, {a});
    auto r = init("t1");
    EXPECT_EQ(r.error, error_code::concurrent_transactions);
    ASSERT_EQ(markers_written.size(), 1u);
    EXPECT_FALSE(markers_written[0].commit);
    EXPECT_EQ(markers_written[0].producer_epoch, p.producer_epoch + 1);
    EXPECT_EQ(state("t1"), txn_state::complete_abort);
    auto r2 = init("t1");
    EXPECT_EQ(r2.error, error_code::none);
    EXPECT_EQ(r2.producer_epoch, p.producer_epoch + 2);
    // The old instance is fenced.
    EXPECT_EQ(end("t1", p, true).error, error_code::producer_fenced);
    EXPECT_EQ(add("t1", p, {a}).error, error_code::producer_fenced);
}

TEST_F(txn_fixture, kip360_bump_with_the_current_epoch_and_fence_with_another)
{
    auto p = init("t1");
    auto r = init("t1", p.producer_id, p.producer_epoch);
    EXPECT_EQ(r.error, error_code::none);
    EXPECT_EQ(r.producer_epoch, p.producer_epoch + 1);
    // A retry of that same bump gets the same answer without another bump.
    auto retry = init("t1", p.producer_id, p.producer_epoch);
    EXPECT_EQ(retry.error, error_code::none);
    EXPECT_EQ(retry.producer_epoch, r.producer_epoch);
    EXPECT_EQ(init("t1", p.producer_id + 7, 0).error, error_code::producer_fenced);
}

TEST_F(txn_fixture, an_exhausted_epoch_rotates_to_a_new_producer_id)
{
    auto p = init("t1");
    while (!tc->needs_producer_id("t1")) p = init("t1");
    EXPECT_EQ(p.producer_epoch, 32765);
    auto r = init("t1");
    EXPECT_EQ(r.error, error_code::none);
    EXPECT_NE(r.producer_id, p.producer_id);
    EXPECT_EQ(r.producer_epoch, 0);
    EXPECT_EQ(tc->find("t1")->previous_producer_id, p.producer_id);
}

TEST_F(txn_fixture, requests_during_a_pending_write_are_concurrent)
{
    auto p = init("t1");
    auto r = tc->add_partitions("t1", p.producer_id, p.producer_epoch, {a});
    ASSERT_TRUE(r.write);
    EXPECT_EQ(tc->end_txn("t1", p.producer_id, p.producer_epoch, true).error, error_code::concurrent_transactions);
    EXPECT_EQ(tc->init_producer_id("t1", 1000, -1, -1, std::nullopt).error, error_code::concurrent_transactions);
    settle(r.write, /*ok=*/false); // the write failed: nothing changed
    EXPECT_EQ(state("t1"), txn_state::empty);
    EXPECT_EQ(add("t1", p, {a}).error, error_code::none);
    EXPECT_EQ(state("t1"), txn_state::ongoing);
}

TEST_F(txn_fixture, a_failed_first_write_forgets_the_new_id)
{
    auto r = tc->init_producer_id("t1", 1000, -1, -1, 5);
    settle(r.write, false);
    EXPECT_EQ(tc->find("t1"), nullptr);
}

TEST_F(txn_fixture, transaction_version_2_a_retried_end_waits_for_the_markers)
{
    auto p = init("t1");
    add("t1", p, {a});
    fail_markers = {a};
    auto r = tc->end_txn("t1", p.producer_id, p.producer_epoch, true, /*bump_epoch=*/true);
    settle(r.write);
    ASSERT_EQ(state("t1"), txn_state::prepare_commit);
    // The retry (old epoch) is told to wait, not fenced; once the markers are out it succeeds.
    EXPECT_EQ(tc->end_txn("t1", p.producer_id, p.producer_epoch, true, true).error,
              error_code::concurrent_transactions);
    EXPECT_EQ(tc->end_txn("t1", p.producer_id, p.producer_epoch, false, true).error, error_code::producer_fenced);
    fail_markers.clear();
    clk.advance(cfg.marker_retry_backoff_ms);
    tick();
    ASSERT_EQ(state("t1"), txn_state::complete_commit);
    auto retry = tc->end_txn("t1", p.producer_id, p.producer_epoch, true, true);
    EXPECT_EQ(retry.error, error_code::none);
    EXPECT_EQ(retry.producer_epoch, r.producer_epoch);
}

TEST_F(txn_fixture, markers_that_fail_are_retried_until_written)
{
    auto p = init("t1");
    add("t1", p, {a, b});
    fail_markers = {b};
    end("t1", p, false);
    EXPECT_EQ(state("t1"), txn_state::prepare_abort);
    EXPECT_EQ(tc->end_txn("t1", p.producer_id, p.producer_epoch, false).error, error_code::concurrent_transactions);
    EXPECT_EQ(tc->end_txn("t1", p.producer_id, p.producer_epoch, true).error, error_code::invalid_txn_state);
    tick(); // before the backoff: nothing
    EXPECT_EQ(markers_written.size(), 1u);
    clk.advance(cfg.marker_retry_backoff_ms);
    fail_markers.clear();
    tick();
    ASSERT_EQ(markers_written.size(), 2u);
    EXPECT_EQ(markers_written[1].partitions, std::vector<topic_partition>{b});
    EXPECT_EQ(state("t1"), txn_state::complete_abort);
}

TEST_F(txn_fixture, failed_markers_and_records_are_retried_between_the_periodic_checks)
{
    cfg.abort_check_interval_ms = 3'600'000;
    cfg.expiry_check_interval_ms = 3'600'000;
    tc = std::make_unique<txn_coordinator>(cfg, clk);
    tick(); // the periodic checks: next in an hour
    auto p = init("t1");
    add("t1", p, {a, b});
    fail_markers = {b};
    end("t1", p, true);
    EXPECT_EQ(state("t1"), txn_state::prepare_commit);
    fail_markers.clear();
    clk.advance(cfg.marker_retry_backoff_ms);
    tick();
    EXPECT_EQ(state("t1"), txn_state::complete_commit);
    ASSERT_EQ(markers_written.size(), 2u);
    EXPECT_EQ(markers_written[1].partitions, std::vector<topic_partition>{b});
    // A Complete* record that did not reach the log is written again.
    add("t1", p, {a});
    auto r = tc->end_txn("t1", p.producer_id, p.producer_epoch, false);
    log.push_back(*r.write);
    auto mk = tc->write_done("t1", true);
    ASSERT_TRUE(mk);
    auto done = tc->markers_done("t1", {});
    ASSERT_TRUE(done);
    tc->write_done("t1", false);
    EXPECT_EQ(state("t1"), txn_state::prepare_abort);
    tick();
    EXPECT_EQ(state("t1"), txn_state::complete_abort);
}

TEST_F(txn_fixture, a_timed_out_transaction_is_aborted_with_a_bumped_epoch)
{
    auto p = init("t1", -1, -1, 5000);
    add("t1", p, {a});
    clk.advance(4999);
    tick();
    EXPECT_EQ(state("t1"), txn_state::ongoing);
    clk.advance(1);
    tick();
    EXPECT_EQ(state("t1"), txn_state::complete_abort);
    ASSERT_EQ(markers_written.size(), 1u);
    EXPECT_FALSE(markers_written[0].commit);
    EXPECT_EQ(markers_written[0].producer_epoch, p.producer_epoch + 1);
    EXPECT_EQ(end("t1", p, true).error, error_code::producer_fenced);
}

TEST_F(txn_fixture, timeouts_are_checked_at_the_configured_interval)
{
    cfg.abort_check_interval_ms = 10000;
    tc = std::make_unique<txn_coordinator>(cfg, clk);
    tick(); // the first check; the next one 10 s later
    auto p = init("t1", -1, -1, 1000);
    add("t1", p, {a});
    clk.advance(5000);
    tick();
    EXPECT_EQ(state("t1"), txn_state::ongoing);
    clk.advance(5000);
    tick();
    EXPECT_EQ(state("t1"), txn_state::complete_abort);
}

TEST_F(txn_fixture, idle_ids_expire_with_a_tombstone)
{
    cfg.id_expiration_ms = 10000;
    tc = std::make_unique<txn_coordinator>(cfg, clk);
    auto p = init("t1");
    add("t1", p, {a});
    clk.advance(20000);
    tick(); // ongoing ones are aborted by their timeout, not expired
    ASSERT_NE(tc->find("t1"), nullptr);
    clk.advance(40000);
    tick(); // past the transaction's 60 s timeout: aborted, and idle from now on
    ASSERT_NE(tc->find("t1"), nullptr);
    EXPECT_EQ(state("t1"), txn_state::complete_abort);
    clk.advance(10000);
    tick();
    EXPECT_EQ(tc->find("t1"), nullptr);
    ASSERT_FALSE(log.empty());
    EXPECT_FALSE(log.back().value);
    restart();
    EXPECT_EQ(tc->find("t1"), nullptr);
}

TEST_F(txn_fixture, restart_mid_commit_finishes_the_markers)
{
    auto p = init("t1");
    add("t1", p, {a, b});
    // The PrepareCommit record is written, then the broker stops before any marker.
    auto r = tc->end_txn("t1", p.producer_id, p.producer_epoch, true);
    log.push_back(*r.write);
    auto pending = restart();
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_TRUE(pending[0].commit);
    EXPECT_EQ(pending[0].partitions, (std::vector<topic_partition>{a, b}));
    EXPECT_EQ(state("t1"), txn_state::prepare_commit);
    deliver(pending[0]);
    EXPECT_EQ(state("t1"), txn_state::complete_commit);
    EXPECT_TRUE(restart().empty());
    EXPECT_EQ(state("t1"), txn_state::complete_commit);
    EXPECT_EQ(tc->find("t1")->producer_epoch, p.producer_epoch);
}

TEST_F(txn_fixture, markers_carry_the_coordinator_epoch)
{
    tc->set_coordinator_epoch(tc->partition_for("t1"), 7);
    auto p = init("t1");
    add("t1", p, {a});
    end("t1", p, true);
    ASSERT_EQ(markers_written.size(), 1u);
    EXPECT_EQ(markers_written[0].coordinator_epoch, 7);
}

TEST_F(txn_fixture, adding_no_partitions_changes_nothing)
{
    auto p = init("t1");
    auto r = add("t1", p, {});
    EXPECT_EQ(r.error, error_code::none);
    EXPECT_FALSE(r.write);
    EXPECT_EQ(state("t1"), txn_state::empty);
}

} // namespace
} // namespace samsa::coordinator

namespace samsa::coordinator {
namespace {

/// A seeded random schedule against the coordinator: producer instances of three transactional
/// ids (new instances fence old ones) add partitions, commit and abort; writes to the log and
/// markers fail at random; the clock jumps past timeouts; the coordinator restarts from its
/// log. Checked throughout: a fenced instance never gets a success; a commit that was answered
/// NONE reaches every partition of the transaction as a COMMIT marker before any ABORT of it.
/// At the end, with failures off: every transaction has ended, and the state replayed from the
/// log equals the live one.
struct txn_simulation {
    explicit txn_simulation(uint32_t seed) : rng(seed) {}

    struct instance {
        std::string id;
        int64_t pid = -1;
        int16_t epoch = -1;
        std::set<topic_partition> added;
    };
    struct commit_check {
        topic_partition tp;
        int64_t pid;
        int16_t epoch;
        size_t from; // marker index on the partition when the commit was answered
    };
    struct marker_seen {
        int64_t pid;
        int16_t epoch;
        bool commit;
    };

    std::mt19937 rng;
    manual_clock clk{1'000'000};
    txn_config cfg = [] {
        txn_config c;
        c.id_expiration_ms = 3'600'000;
        return c;
    }();
    std::unique_ptr<txn_coordinator> tc = std::make_unique<txn_coordinator>(cfg, clk);
    std::vector<txn_write> log;
    std::map<topic_partition, std::vector<marker_seen>> markers;
    std::vector<instance> clients;
    std::vector<commit_check> commits;
    std::map<std::string, std::pair<int64_t, int16_t>> newest; // newest (pid, epoch) handed out per id
    int64_t next_pid = 0;
    bool failures = true;

    bool chance(int percent) { return static_cast<int>(rng() % 100) < percent; }

    void settle(const std::optional<txn_write>& w)
    {
        if (!w) return;
        bool ok = !(failures && chance(10));
        if (ok) log.push_back(*w);
        if (auto mk = tc->write_done(w->transactional_id, ok)) deliver(*mk);
    }
    void deliver(const txn_markers& mk)
    {
        std::vector<topic_partition> failed;
        for (auto& tp : mk.partitions) {
            if (failures && chance(15)) {
                failed.push_back(tp);
                continue;
            }
            markers[tp].push_back({mk.producer_id, mk.producer_epoch, mk.commit});
        }
        settle(tc->markers_done(mk.transactional_id, failed));
    }
    void restart()
    {
        tc = std::make_unique<txn_coordinator>(cfg, clk);
        for (auto& w : log) {
            std::optional<bytes_view> v;
            if (w.value) v = bytes_view(*w.value);
            tc->load_record(w.key, v);
        }
        for (auto& mk : tc->load_complete()) deliver(mk);
    }
    void tick()
    {
        auto t = tc->tick();
        for (auto& w : t.writes) settle(w);
        for (auto& mk : t.markers) deliver(mk);
    }
    /// A success for an instance that is not the newest of its id is a fencing failure.
    void expect_current(const instance& c, const char* what)
    {
        auto n = newest[c.id];
        EXPECT_TRUE(c.pid == n.first && c.epoch == n.second)
            << what << " succeeded for fenced instance " << c.id << " pid " << c.pid << " epoch " << c.epoch;
    }

    void step()
    {
        static const std::vector<std::string> ids = {"a", "b", "c"};
        int op = static_cast<int>(rng() % 100);
        if (op < 10 || clients.empty()) {
            instance c;
            c.id = ids[rng() % ids.size()];
            std::optional<int64_t> fresh;
            if (tc->needs_producer_id(c.id)) fresh = next_pid++;
            auto r = tc->init_producer_id(c.id, 5000, -1, -1, fresh);
            settle(r.write);
            auto* m = tc->find(c.id);
            if (r.error == protocol::error_code::none && m && m->producer_epoch == r.producer_epoch) {
                c.pid = r.producer_id;
                c.epoch = r.producer_epoch;
                newest[c.id] = {c.pid, c.epoch};
                clients.push_back(c);
            }
        } else if (op < 55) {
            auto& c = clients[rng() % clients.size()];
            std::vector<topic_partition> parts;
            for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i) {
                parts.push_back({"t" + std::to_string(rng() % 3), partition_id(static_cast<int32_t>(rng() % 2))});
            }
            auto r = tc->add_partitions(c.id, c.pid, c.epoch, parts);
            auto before = log.size();
            settle(r.write);
            if (r.error == protocol::error_code::none && (!r.write || log.size() > before)) {
                expect_current(c, "AddPartitionsToTxn");
                c.added.insert(parts.begin(), parts.end());
            }
        } else if (op < 80) {
            auto& c = clients[rng() % clients.size()];
            bool commit = chance(60);
            auto r = tc->end_txn(c.id, c.pid, c.epoch, commit);
            auto before = log.size();
            // Where each partition's markers stand before this commit's.
            std::map<topic_partition, size_t> at;
            for (auto& tp : c.added) at[tp] = markers[tp].size();
            settle(r.write);
            bool answered = r.error == protocol::error_code::none && (!r.write || log.size() > before);
            if (answered && r.write) {
                expect_current(c, "EndTxn");
                if (commit) {
                    for (auto& tp : c.added) commits.push_back({tp, c.pid, c.epoch, at[tp]});
                }
                c.added.clear();
            }
        } else if (op < 95) {
            clk.advance(static_cast<int64_t>(rng() % 3000));
            tick();
        } else {
            restart();
        }
    }

    void quiesce()
    {
        failures = false;
        for (int i = 0; i < 20; ++i) {
            clk.advance(10'000);
            tick();
        }
    }

    void check_commits()
    {
        for (auto& c : commits) {
            auto& seen = markers[c.tp];
            bool found = false;
            for (size_t i = c.from; i < seen.size() && !found; ++i) {
                if (seen[i].pid != c.pid || seen[i].epoch != c.epoch) continue;
                EXPECT_TRUE(seen[i].commit) << "an ABORT reached " << c.tp.dir_name() << " before the COMMIT of pid "
                                            << c.pid << " epoch " << c.epoch;
                found = true;
            }
            EXPECT_TRUE(found) << "the COMMIT of pid " << c.pid << " epoch " << c.epoch << " never reached "
                               << c.tp.dir_name();
        }
    }
};

TEST(txn_simulation, random_schedules_keep_fencing_and_commits)
{
    for (uint32_t seed = 1; seed <= 300; ++seed) {
        SCOPED_TRACE(::testing::Message() << "seed " << seed);
        txn_simulation sim(seed);
        if (seed % 2 == 0) {
            // Timeouts and expiry checked only now and then: failed markers are retried in between.
            sim.cfg.abort_check_interval_ms = 2000;
            sim.cfg.expiry_check_interval_ms = 60000;
            sim.tc = std::make_unique<txn_coordinator>(sim.cfg, sim.clk);
        }
        for (int i = 0; i < 300; ++i) sim.step();
        sim.quiesce();
        sim.check_commits();
        for (auto* m : sim.tc->all()) {
            EXPECT_TRUE(m->state == txn_state::empty || m->state == txn_state::complete_commit ||
                        m->state == txn_state::complete_abort)
                << m->transactional_id << " left in " << txn_state_name(m->state);
        }
        // The log says what the live coordinator holds (last_producer_epoch is not persisted).
        std::map<std::string, txn_metadata> live;
        for (auto* m : sim.tc->all()) {
            live[m->transactional_id] = *m;
            live[m->transactional_id].last_producer_epoch = -1;
        }
        sim.restart();
        std::map<std::string, txn_metadata> replayed;
        for (auto* m : sim.tc->all()) replayed[m->transactional_id] = *m;
        EXPECT_EQ(live, replayed);
        if (::testing::Test::HasFailure()) break;
    }
}

} // namespace
} // namespace samsa::coordinator
