#include "cluster/zk/isr_writer.h"

#include "base/logging.h"
#include "cluster/zk/tasks.h"
#include "cluster/zk/znodes.h"

#include <boost/asio/io_context.hpp>

#include <fmt/ranges.h>

namespace samsa::cluster::zk {

namespace asio = boost::asio;

namespace {
constexpr logger log{"replication"};
} // namespace

isr_writer::isr_writer(asio::io_context& io, member& m, options o) : _io(io), _member(m), _opts(std::move(o)) {}

isr_writer::~isr_writer() { *_alive = false; }

void isr_writer::replica_changed(const std::shared_ptr<partition>& p)
{
    if (!p) return;
    if (p->is_leader()) _leaders[p->tp()] = p;
    else _leaders.erase(p->tp());
}

void isr_writer::start() { spawn_task(_io.get_executor(), _tasks, loop(), "ISR changes"); }

void isr_writer::stop()
{
    _stopped = true;
    _tasks.close();
}

asio::awaitable<void> isr_writer::loop()
{
    auto alive = _alive;
    while (*alive && !_stopped) {
        co_await pause(_io.get_executor(), _opts.check_interval);
        if (!*alive || _stopped) co_return;
        for (auto it = _leaders.begin(); it != _leaders.end();) {
            auto p = it->second.lock();
            if (!p || !p->is_leader()) {
                it = _leaders.erase(it);
                continue;
            }
            if (!_writing.count(it->first)) {
                if (auto next = p->isr_change(_opts.lag_max_ms)) {
                    _writing.insert(it->first);
                    spawn_task(_io.get_executor(), _tasks, write(p, std::move(*next)), "ISR change");
                }
            }
            ++it;
        }
    }
}

asio::awaitable<void> isr_writer::write(std::shared_ptr<partition> p, std::vector<node_id> isr)
{
    auto alive = _alive;
    auto tp = p->tp();
    auto& zk = _member.zk();
    auto path = paths::partition_state(tp.topic, tp.partition());
    auto done = [&] {
        if (*alive) _writing.erase(tp);
    };
    auto n = co_await zk.get(path);
    if (!*alive || _stopped) co_return;
    if (!n) {
        log.warn("{}: cannot read {} to change the in-sync replicas: {}", tp, path, n.error().message());
        done();
        co_return;
    }
    auto z = decode_partition_state(n->data);
    // Only while the znode still says what this leader was told: otherwise a newer state is on
    // its way in a LeaderAndIsr.
    if (!z || z->leader != _opts.self() || z->leader_epoch != p->epoch()() || !p->is_leader()) {
        done();
        co_return;
    }
    auto before = z->isr;
    z->isr = raw_ids(isr);
    auto set = co_await zk.set(path, encode_partition_state(*z), n->version);
    if (!*alive || _stopped) co_return;
    if (!set) {
        if (!is(set.error(), session_errc::bad_version)) {
            log.warn("{}: cannot write the in-sync replicas to {}: {}", tp, path, set.error().message());
        }
        done();
        co_return;
    }
    bool shrank = isr.size() < before.size();
    p->set_isr(isr, *set);
    int32_t min_isr = _opts.min_insync ? _opts.min_insync(tp.topic) : 1;
    if (shrank && static_cast<int32_t>(isr.size()) < min_isr) {
        log.warn("{}: in-sync replicas shrank from [{}] to [{}], below min.insync.replicas={}: acks=all produces "
                 "get NOT_ENOUGH_REPLICAS until a follower catches up",
                 tp, fmt::join(before, ","), fmt::join(z->isr, ","), min_isr);
    } else {
        log.info("{}: in-sync replicas {} from [{}] to [{}]", tp, shrank ? "shrank" : "expanded", fmt::join(before, ","),
                 fmt::join(z->isr, ","));
    }
    done();
    // The controller reads the state again and tells every broker. Its parent exists once a
    // controller has loaded; before that it is created here.
    std::vector<topic_partition_ref> refs{{tp.topic, tp.partition()}};
    auto notification = std::string(paths::isr_change_notification) + "/isr_change_";
    auto c = co_await zk.create(notification, encode_isr_change(refs), create_mode::persistent_sequential);
    if (!*alive || _stopped) co_return;
    if (!c && is(c.error(), session_errc::no_node)) {
        if (auto e = co_await zk.ensure_path(std::string(paths::isr_change_notification)); !e) {
            log.warn("cannot create {}: {}", paths::isr_change_notification, e.error().message());
        }
        if (!*alive || _stopped) co_return;
        c = co_await zk.create(notification, encode_isr_change(refs), create_mode::persistent_sequential);
    }
    if (!c) log.warn("{}: cannot announce the in-sync replica change: {}", tp, c.error().message());
}

} // namespace samsa::cluster::zk
