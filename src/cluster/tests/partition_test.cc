// The partition as the door to a partition's data: appends that wait for the high watermark
// (acks=-1), reads by isolation level, the high watermark kept across a restart, record
// deletion and leader-epoch lookups.
#include "cluster/partition.h"
#include "protocol/record_batch_builder.h"
#include "storage/log_manager.h"
#include "storage/mem_file_ops.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>
#include <optional>
#include <tuple>

namespace samsa::cluster {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const node_id self{0};
const node_id other{1};
const topic_partition tp{"t", partition_id(0)};

bytes batch_of(int records)
{
    protocol::batch_builder b;
    for (int i = 0; i < records; ++i) b.add("k", "value-" + std::to_string(i), timestamp_ms(1'000 + i));
    return b.build();
}

/// Storage for one partition over an in-memory file system that outlives it.
struct replica {
    storage::mem_file_ops& fs;
    storage::log_manager logs;
    std::shared_ptr<partition> part;

    replica(storage::mem_file_ops& f, std::vector<node_id> isr, storage::log_config cfg = {})
      : fs(f), logs(f, system_clock::instance(), storage::log_manager_config{{"/data"}},
                    [cfg](const topic_partition&) { return cfg; })
    {
        EXPECT_TRUE(logs.startup());
        EXPECT_TRUE(logs.get_or_create(tp, cfg));
        partition_state s{self, leader_epoch(3), isr, 0};
        part = std::make_shared<partition>(tp, logs.share(tp), std::vector<node_id>{self, other}, s, self);
    }
    ~replica()
    {
        part->stop();
        EXPECT_TRUE(logs.shutdown());
    }

    append_result append(int records)
    {
        auto b = batch_of(records);
        auto r = part->append_as_leader(mutable_bytes_view(b), false);
        EXPECT_TRUE(r) << r.error().message();
        return r ? *r : append_result{};
    }
};

/// Runs wait_committed on `io`; the outcome lands in `out` when it completes.
void spawn_wait(asio::io_context& io, std::shared_ptr<partition> p, offset end, std::chrono::milliseconds timeout,
                int32_t min_isr, std::optional<result<void>>& out)
{
    asio::co_spawn(io, p->wait_committed(end, timeout, min_isr),
                   [&out](std::exception_ptr e, result<void> r) {
                       if (e) std::rethrow_exception(e);
                       out = r;
                   });
}

TEST(leader_state, high_watermark_is_the_smallest_in_sync_log_end_and_never_moves_back)
{
    leader_state s(self, {self, other}, offset(5));
    EXPECT_FALSE(s.update(self, offset(10))); // the follower has not reported yet
    EXPECT_EQ(s.high_watermark(), offset(5));
    EXPECT_TRUE(s.update(other, offset(8)));
    EXPECT_EQ(s.high_watermark(), offset(8));
    EXPECT_FALSE(s.update(other, offset(6))); // a follower that truncated does not pull it back
    EXPECT_EQ(s.high_watermark(), offset(8));
    EXPECT_TRUE(s.set_isr({self})); // the follower dropped out: the leader's log end counts alone
    EXPECT_EQ(s.high_watermark(), offset(10));
}

TEST(leader_state, a_follower_leaves_the_isr_after_the_lag_and_joins_again_once_caught_up)
{
    const node_id third{2};
    const std::vector<node_id> replicas{self, other, third};
    const int64_t lag = 1000;
    leader_state s(self, replicas, offset(0), /*now_ms=*/0);
    s.update(self, offset(10));
    // Followers count as caught up when the leader starts: nothing changes within the lag.
    EXPECT_FALSE(s.isr_change(replicas, offset(10), offset(0), 900, lag));
    // `other` fetches at the leader's end: caught up. `third` never fetches.
    s.fetched(other, offset(10), offset(10), 500);
    auto next = s.isr_change(replicas, offset(10), offset(0), 1200, lag);
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, (std::vector<node_id>{self, other}));
    // A follower behind the leader's end but at what the leader had at its previous fetch was
    // caught up then (Kafka's rule), so a steady stream of appends does not push it out.
    s.fetched(other, offset(12), offset(15), 1600); // behind: caught up stays at 500
    s.fetched(other, offset(15), offset(18), 2400); // reached the leader's end of 1600
    s.set_isr({self, other});
    EXPECT_FALSE(s.isr_change(replicas, offset(18), offset(0), 2500, lag)) << "caught up at 1600";
    auto out = s.isr_change(replicas, offset(18), offset(0), 2700, lag);
    ASSERT_TRUE(out) << "not caught up since 1600";
    EXPECT_EQ(*out, (std::vector<node_id>{self}));
    // Joining needs the high watermark and the start of the leader's epoch reached, and a
    // recent catch-up.
    s.set_isr({self});
    s.update(self, offset(18));
    EXPECT_EQ(s.high_watermark(), offset(18));
    s.fetched(third, offset(3), offset(18), 2800);
    EXPECT_FALSE(s.isr_change(replicas, offset(18), offset(0), 2800, lag)) << "below the high watermark";
    s.fetched(third, offset(18), offset(18), 2900);
    EXPECT_FALSE(s.isr_change(replicas, offset(18), offset(20), 2900, lag)) << "the leader's epoch began at 20";
    auto joined = s.isr_change(replicas, offset(18), offset(0), 2900, lag);
    ASSERT_TRUE(joined);
    EXPECT_EQ(*joined, (std::vector<node_id>{self, third}));
}

TEST(partition, acks_all_completes_at_once_when_this_node_is_the_only_in_sync_replica)
{
    storage::mem_file_ops fs;
    replica r(fs, {self});
    asio::io_context io;
    auto b = batch_of(3);
    std::optional<result<append_result>> out;
    asio::co_spawn(io, r.part->produce(mutable_bytes_view(b), -1, 1000ms, 1),
                   [&](std::exception_ptr, result<append_result> res) { out = res; });
    io.poll();
    ASSERT_TRUE(out.has_value());
    ASSERT_TRUE(*out) << out->error().message();
    EXPECT_EQ((*out)->base_offset, offset(0));
    EXPECT_EQ((*out)->last_offset, offset(2));
    EXPECT_EQ(r.part->high_watermark(), offset(3));
}

TEST(partition, acks_all_waits_for_the_follower_and_reads_follow_the_isolation_level)
{
    storage::mem_file_ops fs;
    replica r(fs, {self, other});
    auto a = r.append(4);
    EXPECT_EQ(r.part->log_end_offset(), offset(4));
    EXPECT_EQ(r.part->high_watermark(), offset(0)); // the follower holds it back
    // A consumer sees nothing yet, a replica fetch everything.
    auto consumer = r.part->read(offset(0), 1 << 20, isolation::high_watermark);
    ASSERT_TRUE(consumer);
    EXPECT_TRUE(consumer->slice.empty());
    EXPECT_EQ(consumer->high_watermark, offset(0));
    auto follower = r.part->read(offset(0), 1 << 20, isolation::log_end);
    ASSERT_TRUE(follower);
    EXPECT_EQ(follower->slice.last_offset, offset(3));

    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::optional<result<void>> done;
    spawn_wait(io, r.part, a.last_offset + 1, 10'000ms, 1, done);
    io.poll();
    EXPECT_FALSE(done.has_value());
    r.part->update_replica_log_end(other, offset(2));
    io.poll();
    EXPECT_FALSE(done.has_value()); // the high watermark moved to 2, short of 4
    EXPECT_EQ(r.part->high_watermark(), offset(2));
    r.part->update_replica_log_end(other, offset(4));
    io.poll();
    ASSERT_TRUE(done.has_value());
    EXPECT_TRUE(*done);
    auto after = r.part->read(offset(0), 1 << 20, isolation::committed);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->slice.last_offset, offset(3));
}

TEST(partition, waiters_wake_for_what_they_wait_for)
{
    // Followers' fetches wait for the log end, consumers' fetches and acks=all produces for the
    // high watermark; a change of state wakes everyone.
    storage::mem_file_ops fs;
    replica r(fs, {self, other});
    int log_end = 0, high_watermark = 0, any = 0;
    auto a = r.part->on_append([&] { ++log_end; }, partition::wake_on::log_end);
    auto b = r.part->on_append([&] { ++high_watermark; }, partition::wake_on::high_watermark);
    auto c = r.part->on_append([&] { ++any; });
    r.append(2); // the follower holds the high watermark back
    EXPECT_EQ(std::tuple(log_end, high_watermark, any), std::tuple(1, 0, 1));
    r.part->update_replica_log_end(other, offset(2)); // only the high watermark moves
    EXPECT_EQ(std::tuple(log_end, high_watermark, any), std::tuple(1, 1, 2));
    r.part->update_replica_log_end(other, offset(2)); // nothing moves
    EXPECT_EQ(std::tuple(log_end, high_watermark, any), std::tuple(1, 1, 2));
    r.part->set_isr({self}); // the in-sync set alone: both append and high watermark move at once
    int before = log_end;
    r.append(1);
    EXPECT_EQ(log_end, before + 1);
    EXPECT_EQ(r.part->high_watermark(), offset(3));
    EXPECT_EQ(high_watermark, 3); // set_isr (state), then the append's high watermark
    r.part->stop();
    EXPECT_EQ(std::tuple(log_end, high_watermark), std::tuple(before + 2, 4));
}

TEST(partition, acks_all_times_out_fails_after_isr_shrink_and_ends_on_stop)
{
    storage::mem_file_ops fs;
    replica r(fs, {self, other});
    asio::io_context io;
    auto guard = asio::make_work_guard(io); // poll() never finds the context out of work

    auto a = r.append(1);
    std::optional<result<void>> timed_out;
    spawn_wait(io, r.part, a.last_offset + 1, 20ms, 1, timed_out);
    for (int i = 0; i < 500 && !timed_out; ++i) io.run_one_for(10ms);
    ASSERT_TRUE(timed_out.has_value());
    ASSERT_FALSE(*timed_out);
    EXPECT_EQ(timed_out->error(), make_error_code(errc::timeout));

    // min.insync.replicas=2 and the in-sync set shrinks to this node: the append is committed
    // (the high watermark covers it) but short of the required copies.
    auto b = r.append(1);
    std::optional<result<void>> shrunk;
    spawn_wait(io, r.part, b.last_offset + 1, 10'000ms, 2, shrunk);
    io.poll();
    EXPECT_FALSE(shrunk.has_value());
    r.part->set_isr({self});
    io.poll();
    ASSERT_TRUE(shrunk.has_value());
    ASSERT_FALSE(*shrunk);
    EXPECT_EQ(shrunk->error(), make_error_code(errc::not_enough_replicas_after_append));
    // And a new acks=-1 produce is refused before appending.
    EXPECT_EQ(r.part->check_produce(-1, 2).error(), make_error_code(errc::not_enough_replicas));
    EXPECT_TRUE(r.part->check_produce(1, 2));

    r.part->set_isr({self, other});
    auto c = r.append(1);
    std::optional<result<void>> stopped;
    spawn_wait(io, r.part, c.last_offset + 1, 10'000ms, 1, stopped);
    io.poll();
    EXPECT_FALSE(stopped.has_value());
    r.part->stop();
    io.poll();
    ASSERT_TRUE(stopped.has_value());
    EXPECT_EQ(stopped->error(), make_error_code(errc::shutting_down));
    EXPECT_EQ(r.part->append_as_leader(mutable_bytes_view{}, false).error(), make_error_code(errc::not_leader));
}

TEST(partition, acks_all_survives_a_new_epoch_under_the_same_leader_but_not_a_lost_leadership)
{
    storage::mem_file_ops fs;
    replica r(fs, {self, other});
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    // The controller changes the ISR (a third replica stopped, say): the leader epoch goes up,
    // this node still leads, and the append it holds waits on for the follower still in sync.
    auto a = r.append(2);
    std::optional<result<void>> kept;
    spawn_wait(io, r.part, a.last_offset + 1, 10'000ms, 1, kept);
    io.poll();
    EXPECT_FALSE(kept.has_value());
    r.part->apply_state({self, leader_epoch(4), {self, other}, 1});
    io.poll();
    EXPECT_FALSE(kept.has_value()) << "answered at the epoch change: " << (*kept ? "ok" : kept->error().message());
    r.part->update_replica_log_end(other, a.last_offset + 1);
    io.poll();
    ASSERT_TRUE(kept.has_value());
    EXPECT_TRUE(*kept) << kept->error().message();
    EXPECT_EQ(r.part->high_watermark(), offset(2));
    // Leadership lost and won back before the waiter looks again: the follower in between may
    // have truncated what it held, so the append is answered NOT_LEADER_OR_FOLLOWER even
    // though the high watermark later passes its offsets.
    r.part->apply_state({self, leader_epoch(5), {self, other}, 2});
    auto b = r.append(1);
    std::optional<result<void>> lost;
    spawn_wait(io, r.part, b.last_offset + 1, 10'000ms, 1, lost);
    io.poll();
    EXPECT_FALSE(lost.has_value());
    r.part->apply_state({other, leader_epoch(6), {other, self}, 3});
    r.part->apply_state({self, leader_epoch(7), {self}, 4});
    io.poll();
    ASSERT_TRUE(lost.has_value());
    ASSERT_FALSE(*lost);
    EXPECT_EQ(lost->error(), make_error_code(errc::not_leader));
    // Committed before the loss, looked at after: acknowledged.
    r.part->apply_state({self, leader_epoch(8), {self, other}, 5});
    auto c = r.append(1);
    std::optional<result<void>> before;
    spawn_wait(io, r.part, c.last_offset + 1, 10'000ms, 1, before);
    io.poll();
    EXPECT_FALSE(before.has_value());
    r.part->update_replica_log_end(other, c.last_offset + 1);
    r.part->apply_state({other, leader_epoch(9), {other, self}, 6});
    io.poll();
    ASSERT_TRUE(before.has_value());
    EXPECT_TRUE(*before) << before->error().message();
}

TEST(partition, the_checkpointed_high_watermark_survives_a_restart)
{
    storage::mem_file_ops fs;
    {
        replica r(fs, {self, other});
        r.append(3);
        r.append(2);
        r.part->update_replica_log_end(other, offset(3)); // has the first batch
        EXPECT_EQ(r.part->high_watermark(), offset(3));
        r.append(2);
    } // clean shutdown: checkpoints written
    {
        // Still two in-sync replicas, the follower not heard from: the reloaded high watermark
        // stands (the constructor once moved it to the log end).
        replica r(fs, {self, other});
        EXPECT_EQ(r.part->log_end_offset(), offset(7));
        EXPECT_EQ(r.part->high_watermark(), offset(3));
        auto seen = r.part->read(offset(0), 1 << 20, isolation::high_watermark);
        ASSERT_TRUE(seen);
        EXPECT_EQ(seen->slice.last_offset, offset(2));
    }
    {
        // Alone in the in-sync set: everything it has is committed.
        replica r(fs, {self});
        EXPECT_EQ(r.part->high_watermark(), offset(7));
    }
}

TEST(partition, delete_records_moves_the_log_start_within_the_high_watermark)
{
    storage::mem_file_ops fs;
    replica r(fs, {self, other});
    r.append(6);
    r.part->update_replica_log_end(other, offset(4));
    EXPECT_EQ(r.part->delete_records(5).error(), make_error_code(errc::offset_out_of_range));
    auto low = r.part->delete_records(2);
    ASSERT_TRUE(low);
    EXPECT_EQ(*low, offset(2));
    auto all = r.part->delete_records(-1); // up to the high watermark
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, offset(4));
    EXPECT_EQ(r.part->log_start_offset(), offset(4));

    storage::mem_file_ops fs2;
    storage::log_config compact;
    compact.cleanup_delete = false;
    compact.cleanup_compact = true;
    replica c(fs2, {self}, compact);
    c.append(2);
    EXPECT_EQ(c.part->delete_records(1).error(), make_error_code(errc::policy_violation));
}

TEST(partition, leader_epochs_fence_old_callers_and_answer_where_an_epoch_ends)
{
    storage::mem_file_ops fs;
    replica r(fs, {self});
    EXPECT_TRUE(r.part->check_leader_epoch(-1));
    EXPECT_TRUE(r.part->check_leader_epoch(3));
    EXPECT_EQ(r.part->check_leader_epoch(2).error(), make_error_code(errc::fenced_leader_epoch));
    EXPECT_EQ(r.part->check_leader_epoch(4).error(), make_error_code(errc::unknown_leader_epoch));
    r.append(3);
    auto e = r.part->end_offset_for_epoch(leader_epoch(3));
    EXPECT_EQ(e.epoch, leader_epoch(3));
    EXPECT_EQ(e.start_offset, offset(3)); // the current epoch ends at the log end
    auto before = r.part->end_offset_for_epoch(leader_epoch(1));
    EXPECT_EQ(before.epoch, leader_epoch(-1)); // older than the history
}

TEST(partition, a_follower_appends_the_leaders_batches_as_they_are_and_truncates_where_logs_diverge)
{
    storage::mem_file_ops leader_fs, follower_fs;
    replica leader(leader_fs, {self, other});
    leader.append(3);
    leader.append(2); // offsets 0-4, epoch 3
    storage::log_manager logs(follower_fs, system_clock::instance(), storage::log_manager_config{{"/data"}},
                              [](const topic_partition&) { return storage::log_config{}; });
    ASSERT_TRUE(logs.startup());
    ASSERT_TRUE(logs.get_or_create(tp, storage::log_config{}));
    auto f = std::make_shared<partition>(tp, logs.share(tp), std::vector<node_id>{self, other},
                                         partition_state{self, leader_epoch(3), {self, other}, 0}, other);
    EXPECT_FALSE(f->is_leader());
    EXPECT_EQ(f->last_epoch(), leader_epoch(-1));

    auto read = leader.part->read(offset(0), 1 << 20, isolation::log_end);
    ASSERT_TRUE(read);
    auto raw = read->slice.read_all();
    ASSERT_TRUE(raw);
    ASSERT_TRUE(f->append_as_follower(*raw));
    EXPECT_EQ(f->log_end_offset(), offset(5));
    EXPECT_EQ(f->last_epoch(), leader_epoch(3)); // the leader's epochs, kept
    EXPECT_FALSE(leader.part->append_as_follower(*raw)) << "a leader takes no replicated batches";
    EXPECT_FALSE(f->append_as_follower(*raw)) << "offsets below the log end are refused";

    // The leader's high watermark moves with the follower's log end; the follower takes it,
    // capped by its own log end, never backwards.
    EXPECT_EQ(leader.part->high_watermark(), offset(0));
    leader.part->update_replica_log_end(other, offset(5));
    EXPECT_EQ(leader.part->high_watermark(), offset(5));
    f->follower_high_watermark(offset(99));
    EXPECT_EQ(f->high_watermark(), offset(5));
    f->follower_high_watermark(offset(2));
    EXPECT_EQ(f->high_watermark(), offset(5));

    // Two more from the leader (epoch 3, offsets 5-6), which a new leader does not have: its
    // epoch 3 ended at 5. The follower cuts back to 5.
    leader.append(2);
    auto more = leader.part->read(offset(5), 1 << 20, isolation::log_end);
    ASSERT_TRUE(more);
    ASSERT_TRUE(f->append_as_follower(*more->slice.read_all()));
    EXPECT_EQ(f->log_end_offset(), offset(7));
    auto t = f->truncate_diverging(leader_epoch(3), offset(5));
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, offset(5));
    EXPECT_EQ(f->log_end_offset(), offset(5));
    // The leader knows no epoch this old: back to the high watermark (here: no change).
    t = f->truncate_diverging(leader_epoch(-1), offset(-1));
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, offset(5));
    // OFFSET_OUT_OF_RANGE from the leader: within its log, nothing to do; past its high
    // watermark, back to this replica's own high watermark first (committed: 0-4), then to the
    // leader's (it lost them); below its log start, the log starts over there.
    EXPECT_EQ(f->reset_out_of_range(offset(0), offset(5)).value(), offset(5));
    ASSERT_TRUE(f->append_as_follower(*more->slice.read_all()));
    EXPECT_EQ(f->log_end_offset(), offset(7));
    EXPECT_EQ(f->reset_out_of_range(offset(0), offset(3)).value(), offset(5));
    EXPECT_EQ(f->reset_out_of_range(offset(0), offset(3)).value(), offset(3));
    EXPECT_EQ(f->reset_out_of_range(offset(40), offset(60)).value(), offset(40));
    EXPECT_EQ(f->log_start_offset(), offset(40));
    EXPECT_EQ(f->high_watermark(), offset(40));
    EXPECT_EQ(f->last_epoch(), leader_epoch(-1));
    // A follower that became leader takes no more replicated batches.
    f->apply_state(partition_state{other, leader_epoch(4), {other}, 1});
    EXPECT_TRUE(f->is_leader());
    EXPECT_FALSE(f->truncate_diverging(leader_epoch(3), offset(0)));
    EXPECT_FALSE(f->reset_out_of_range(offset(50), offset(60)));
    f->stop();
    EXPECT_TRUE(logs.shutdown());
}

TEST(partition, follows_state_changes_from_the_controller)
{
    storage::mem_file_ops fs;
    replica r(fs, {self});
    r.append(2);
    // Leadership moves away: a follower serves no produce and no consumer reads.
    r.part->apply_state({other, leader_epoch(4), {other, self}, 1});
    EXPECT_FALSE(r.part->is_leader());
    EXPECT_EQ(r.part->check_produce(1, 1).error(), make_error_code(errc::not_leader));
    EXPECT_EQ(r.part->check_leader_epoch(-1).error(), make_error_code(errc::not_leader));
    auto b = batch_of(1);
    EXPECT_EQ(r.part->append_as_leader(mutable_bytes_view(b), false).error(), make_error_code(errc::not_leader));
    // And back, in a later epoch with a follower in sync: appends carry the new epoch, and the
    // high watermark waits for the follower.
    r.part->apply_state({self, leader_epoch(5), {self, other}, 2});
    EXPECT_TRUE(r.part->is_leader());
    EXPECT_EQ(r.part->epoch(), leader_epoch(5));
    auto a = r.append(1);
    EXPECT_EQ(a.base_offset, offset(2));
    EXPECT_EQ(r.part->high_watermark(), offset(2));
    EXPECT_EQ(r.part->end_offset_for_epoch(leader_epoch(3)).start_offset, offset(2)); // epoch 3 ends where 5 starts
    r.part->update_replica_log_end(other, offset(3));
    EXPECT_EQ(r.part->high_watermark(), offset(3));
    // This leader shrank the ISR itself (partition epoch 3 in ZooKeeper); a LeaderAndIsr read
    // before that write (partition epoch 2), or from an older leader epoch, takes nothing back.
    r.part->set_isr({self}, 3);
    r.part->apply_state({self, leader_epoch(5), {self, other}, 2});
    EXPECT_EQ(r.part->state().isr, std::vector<node_id>{self});
    r.part->apply_state({other, leader_epoch(4), {other, self}, 9});
    EXPECT_TRUE(r.part->is_leader());
    // A newer one applies.
    r.part->apply_state({self, leader_epoch(5), {self, other}, 4});
    EXPECT_EQ(r.part->state().isr, (std::vector<node_id>{self, other}));
}

} // namespace
} // namespace samsa::cluster

#include "cluster/replication_throttle.h"

namespace samsa::cluster {
TEST(replication_throttle, spends_a_second_of_rate_then_refills)
{
    replication_throttle t;
    const int64_t rate = 1000;
    EXPECT_TRUE(t.allowed(rate, 0));
    EXPECT_EQ(t.budget(rate, 0), 1000) << "one second's worth at first";
    t.charge(rate, 1500, 0); // a whole batch may exceed the budget
    EXPECT_FALSE(t.allowed(rate, 0));
    EXPECT_GT(t.wait_ms(rate, 0), 500);
    EXPECT_FALSE(t.allowed(rate, 400)) << "-500 + 400";
    EXPECT_TRUE(t.allowed(rate, 600));
    EXPECT_EQ(t.budget(rate, 10000), 1000) << "never more than a second's worth";
    EXPECT_TRUE(t.allowed(replication_throttle::unlimited, 0));
    t.charge(replication_throttle::unlimited, 1 << 30, 0);
    EXPECT_EQ(t.budget(rate, 10000), 1000) << "unlimited traffic is not charged";
}
} // namespace samsa::cluster
