#include "app/broker.h"

#include "app/gate_wait.h"
#include "base/file_limits.h"
#include "base/gate.h"

#include "base/logging.h"
#include "cluster/metadata_store.h"
#include "cluster/topic_manager.h"
#include "config/broker_config_store.h"
#include "kafka/broker_context.h"
#include "kafka/dispatcher.h"
#include "kafka/group_service.h"
#include "net/server.h"
#include "storage/index_file.h"
#include "storage/log_manager.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

namespace samsa::app {

namespace asio = boost::asio;

namespace {
constexpr logger log{"server"};

/// Raises the soft limit on open files to the hard limit: a broker keeps one descriptor per
/// segment (and per connection), far more than the usual soft limit of 1024.
/// A broker holds a few descriptors per partition: raise the soft limit to the hard one, and
/// say what it is either way (a topic creation beyond it is refused; see cluster::file_budget).
void raise_file_limit()
{
    auto before = raise_open_file_limit();
    auto now = open_file_limit();
    if (now.soft > before.soft) {
        log.info("open file limit: soft {} (raised from {}), hard {}", now.soft, before.soft, now.hard);
    } else {
        log.info("open file limit: soft {}, hard {}", now.soft, now.hard);
    }
}

/// Kafka's per-directory lock: an exclusive flock on `<dir>/.lock`, held (descriptor open) for
/// the life of the process, so a second broker on the same directory refuses to start instead
/// of writing the same partitions. The file holds the holder's pid, for the error message.
int lock_log_dir(const std::string& dir)
{
    auto path = dir + "/.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw std::runtime_error(fmt::format("cannot open lock file {}: {}", path, std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char buf[32] = {};
        auto n = ::pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        if (err == EWOULDBLOCK) {
            throw std::runtime_error(fmt::format("Failed to acquire lock on file .lock in {}: another broker{} is "
                                                 "using this log directory",
                                                 dir, holder.empty() ? "" : " (pid " + holder + ")"));
        }
        throw std::runtime_error(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    }
    auto pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        log.warn("{}: cannot record the pid in the lock file: {}", path, std::strerror(errno));
    }
    return fd;
}

/// Only PLAINTEXT is served until the security milestone: a listener asking for SSL or SASL is
/// refused, never served as plaintext.
void check_listener_protocols(const config::broker_config& cfg)
{
    for (auto& l : cfg.listeners) {
        if (l.security_protocol.empty() || l.security_protocol == "PLAINTEXT") continue;
        throw std::runtime_error(fmt::format("listener {}://{}:{} uses security protocol {}, which this version of "
                                             "samsa-server does not implement yet (only PLAINTEXT is served)",
                                             l.name, l.host, l.port, l.security_protocol));
    }
}

std::string local_hostname()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
    return buf;
}
} // namespace

/// The .lock descriptors of the log directories. The first member of broker::impl, so the
/// locks are released only after every other part (background threads included) is gone.
struct dir_locks {
    std::vector<int> fds;
    dir_locks() = default;
    dir_locks(const dir_locks&) = delete;
    dir_locks& operator=(const dir_locks&) = delete;
    ~dir_locks()
    {
        for (int fd : fds) ::close(fd);
    }
};

struct broker::impl {
    dir_locks locks; // first: destroyed last
    /// Held by the broker's own detached tasks (the periodic loop, reconcile turns, the
    /// shutdown); before io, so it outlives every coroutine frame io may still hold.
    gate tasks;
    config::broker_config_store config;
    std::unique_ptr<storage::log_manager> logs;
    std::unique_ptr<cluster::local_metadata_store> store;
    std::unique_ptr<cluster::topic_manager> topics;
    std::unique_ptr<kafka::broker_context> context;
    std::unique_ptr<kafka::group_service> groups;
    asio::io_context io{1};
    /// The periodic loop's timer while it runs (cancelled to stop it).
    asio::steady_timer* tick_timer = nullptr;
    /// SIGINT/SIGTERM, waited on while run() runs (cancelled at shutdown: no work left).
    asio::signal_set* signals = nullptr;
    // After io: destroyed first, so their threads never post to a destroyed io_context.
    std::unique_ptr<storage::log_cleaner> cleaner;
    std::unique_ptr<storage::background> pool;
    /// CPU-heavy request work (decompressing produced batches) off the broker thread.
    std::unique_ptr<asio::thread_pool> cpu;
    std::unique_ptr<net::server> server;
    std::string cluster_id;

    explicit impl(const config::property_map& props) : config(props) {}

    bool reconcile_posted = false;
    bool shutting_down = false;
    /// How long a shutdown waits for requests in flight (long-polling fetches, parked group
    /// requests) before closing their connections.
    static constexpr std::chrono::milliseconds shutdown_drain_timeout{5000};

    /// The ordered shutdown: stop accepting and reading requests, answer those in flight
    /// (within shutdown_drain_timeout), stop the periodic task and wait for the broker's other
    /// tasks; io.run() then returns for lack of work, and run() joins the pools, flushes and
    /// closes the logs and writes the clean-shutdown markers.
    void begin_shutdown();
    asio::awaitable<void> drain_then_stop(gate::holder hold);

    void open_storage();
    void start_network();
    /// Runs the topic manager's queued log work in turns of a few milliseconds, other handlers
    /// (requests) served between turns, until none remains.
    void schedule_reconcile()
    {
        if (reconcile_posted) return;
        auto h = tasks.try_enter();
        if (!h) return; // shutting down: what is queued is finished at the next start
        reconcile_posted = true;
        asio::post(io, [this, in_gate = std::move(*h)] {
            reconcile_posted = false;
            // A few milliseconds per turn, so a request waits at most that long behind it.
            auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(4);
            bool more = true;
            while (more && std::chrono::steady_clock::now() < until) more = topics->reconcile(8);
            if (more) schedule_reconcile();
        });
    }
    asio::awaitable<void> periodic(gate::holder hold);
};

void broker::impl::open_storage()
{
    auto& cfg = config.current();
    for (auto& w : config.warnings()) log.warn("{}", w);
    if (cfg.zookeeper_connect) {
        throw std::runtime_error(fmt::format("zookeeper.connect={} is set, but ZooKeeper cluster mode is not "
                                             "implemented yet; remove it to run a single node",
                                             *cfg.zookeeper_connect));
    }
    check_listener_protocols(cfg);
    auto& fs = storage::posix_file_ops();
    for (auto& d : cfg.log_dirs) {
        if (auto r = fs.create_dirs(d); !r) {
            throw std::runtime_error(fmt::format("cannot create log directory {}: {}", d, r.error().message()));
        }
        locks.fds.push_back(lock_log_dir(d));
        cluster_id = ensure_meta_properties(d, cfg.node_id, cluster_id);
    }
    // Once the checks that end in a one-line startup error have passed; before the logs open.
    raise_file_limit();
    storage::log_manager_config mc;
    mc.log_dirs = cfg.log_dirs;
    mc.retention_check_interval_ms = cfg.log_retention_check_interval_ms;
    mc.recovery_point_checkpoint_interval_ms = cfg.log_flush_offset_checkpoint_interval_ms;
    mc.log_start_checkpoint_interval_ms = cfg.log_flush_start_offset_checkpoint_interval_ms;
    store = std::make_unique<cluster::local_metadata_store>(fs, storage::join_path(cfg.log_dirs.front(), "__samsa_metadata"));
    auto persisted = store->load_broker_overrides();
    if (!persisted) throw std::runtime_error("cannot read broker config overrides: " + persisted.error().message());
    for (auto& [scope, m] : *persisted) {
        auto s = scope.empty() ? config::dynamic_scope::cluster_default : config::dynamic_scope::broker;
        if (auto r = config.replace_dynamic(s, m); !r) log.warn("ignoring stored broker configs: {}", r.error().message);
    }
    // Topic settings are known once the topics are loaded; until then logs open with defaults
    // and the topic manager applies each topic's settings right after.
    auto* self = this;
    logs = std::make_unique<storage::log_manager>(fs, system_clock::instance(), mc, [self](const topic_partition& tp) {
        auto* t = self->topics ? self->topics->find(tp.topic) : nullptr;
        if (t) return self->topics->log_config_for(*t);
        return cluster::to_log_config(config::resolve_topic_config({}, self->config.current()));
    });
    if (auto r = logs->startup(); !r) throw std::runtime_error("cannot load the logs: " + r.error().message());
    topics = std::make_unique<cluster::topic_manager>(*logs, config, *store, node_id(cfg.node_id));
    cluster::file_budget budget;
    budget.limit = open_file_limit().soft;
    // Index descriptors are a cache (most recently used open): an eighth of the limit at most.
    storage::index_file::set_max_open(std::clamp<size_t>(budget.limit / 8, 16, 1024));
    budget.reserve += storage::index_file::max_open();
    budget.in_use = open_files_in_use;
    topics->set_file_budget(std::move(budget));
    if (auto r = topics->start(); !r) throw std::runtime_error("cannot load topics: " + r.error().message());
    // From here on large topic operations run in steps, other work served in between.
    topics->set_scheduler([this] { schedule_reconcile(); });
    storage::cleaner_config cc;
    cc.enabled = cfg.log_cleaner_enable;
    cc.threads = cfg.log_cleaner_threads;
    cc.dedupe_buffer_bytes = static_cast<size_t>(cfg.log_cleaner_dedupe_buffer_size);
    cc.io_max_bytes_per_second = cfg.log_cleaner_io_max_bytes_per_second;
    cc.backoff_ms = cfg.log_cleaner_backoff_ms;
    // Cleaning runs on the cleaner's threads; the final swap comes back to this thread.
    cleaner = std::make_unique<storage::log_cleaner>(fs, system_clock::instance(), cc,
                                                     [this](std::function<void()> f) { asio::post(io, std::move(f)); });
    logs->set_cleaner(cleaner.get());
    // fsyncs of rolled segments and checkpoint writes leave the network thread.
    pool = std::make_unique<storage::background>(2, [this](std::function<void()> f) { asio::post(io, std::move(f)); });
    logs->set_background(pool.get());
}

void broker::impl::start_network()
{
    auto& cfg = config.current();
    context = std::make_unique<kafka::broker_context>(
        kafka::broker_context{*topics, config, *logs, *store, system_clock::instance(), node_id(cfg.node_id), cluster_id, {}});
    coordinator::coordinator_config gcfg;
    gcfg.min_session_timeout_ms = static_cast<int32_t>(cfg.group_min_session_timeout_ms);
    gcfg.max_session_timeout_ms = static_cast<int32_t>(cfg.group_max_session_timeout_ms);
    gcfg.initial_rebalance_delay_ms = static_cast<int32_t>(cfg.group_initial_rebalance_delay_ms);
    gcfg.max_group_size = cfg.group_max_size;
    gcfg.offsets_retention_ms = cfg.offsets_retention_ms;
    gcfg.offset_metadata_max_bytes = cfg.offset_metadata_max_bytes;
    groups = std::make_unique<kafka::group_service>(*context, gcfg);
    context->groups = groups.get();
    cpu = std::make_unique<asio::thread_pool>(2);
    context->cpu = cpu->get_executor();
    if (auto r = groups->start(); !r) throw std::runtime_error("cannot load consumer groups: " + r.error().message());
    net::server_config sc;
    for (auto& l : cfg.listeners) sc.listeners.push_back({l.name, l.host, l.port});
    sc.max_request_bytes = cfg.socket_request_max_bytes;
    sc.connections_max_idle_ms = cfg.connections_max_idle_ms;
    sc.socket_send_buffer_bytes = cfg.socket_send_buffer_bytes;
    sc.socket_receive_buffer_bytes = cfg.socket_receive_buffer_bytes;
    server = std::make_unique<net::server>(io, sc, std::make_shared<kafka::dispatcher>(*context));
    server->start();
    for (auto& b : server->bound_listeners()) {
        kafka::advertised_endpoint ep{b.name, b.host, b.port};
        for (auto& a : cfg.advertised_listeners) {
            if (a.name == b.name) ep = {a.name, a.host, a.port ? a.port : b.port};
        }
        if (ep.host.empty() || ep.host == "0.0.0.0") ep.host = local_hostname();
        context->endpoints.push_back(ep);
        log.info("listening on {}://{}:{} (advertised as {}:{})", b.name, b.host, b.port, ep.host, ep.port);
    }
}

asio::awaitable<void> broker::impl::periodic(gate::holder hold)
{
    auto in_gate = std::move(hold);
    asio::steady_timer t(io);
    tick_timer = &t;
    while (!tasks.is_closed()) {
        t.expires_after(std::chrono::milliseconds(200));
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || tasks.is_closed()) break;
        logs->tick();
        groups->tick();
    }
    tick_timer = nullptr;
}

broker::broker(config::property_map props) : _impl(std::make_unique<impl>(props)) {}
broker::~broker() = default;

int broker::run()
{
    auto& im = *_impl;
    // Signals are caught from the start, so a SIGTERM during startup is a clean shutdown too.
    asio::signal_set signals(im.io, SIGINT, SIGTERM);
    im.signals = &signals;
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        log.info("signal {} received: shutting down", sig);
        im.begin_shutdown();
    });
    im.open_storage();
    im.start_network();
    auto& cfg = im.config.current();
    std::string dirs;
    for (auto& d : cfg.log_dirs) dirs += (dirs.empty() ? "" : ", ") + d;
    log.info("samsa-server started: node {}, cluster {}, data in {}", cfg.node_id, im.cluster_id, dirs);
    if (auto h = im.tasks.try_enter()) asio::co_spawn(im.io, im.periodic(std::move(*h)), asio::detached);
    if (!im.io.stopped()) im.io.run();
    im.signals = nullptr;
    im.server->stop();
    im.server.reset();
    if (im.cpu) im.cpu->join(); // its work points into requests that die with io
    im.cleaner->stop();
    im.logs->set_cleaner(nullptr);
    im.pool->stop();
    im.logs->set_background(nullptr);
    if (auto r = im.logs->shutdown(); !r) {
        log.error("shutdown incomplete: {}", r.error().message());
        return 1;
    }
    log.info("shut down cleanly");
    return 0;
}

void broker::stop()
{
    asio::post(_impl->io, [this] { _impl->begin_shutdown(); });
}

void broker::impl::begin_shutdown()
{
    if (shutting_down) return;
    shutting_down = true;
    if (!server) {
        io.stop(); // a signal during startup: nothing is running yet
        return;
    }
    // Stop accepting and reading; answer what is in flight, within a deadline; then stop.
    server->drain();
    asio::co_spawn(io, drain_then_stop(tasks.enter()), asio::detached);
}

asio::awaitable<void> broker::impl::drain_then_stop(gate::holder hold)
{
    using namespace asio::experimental::awaitable_operators;
    auto in_gate = std::move(hold);
    asio::steady_timer t(io);
    t.expires_after(shutdown_drain_timeout);
    co_await (wait_closed(server->tasks()) || t.async_wait(asio::use_awaitable));
    if (auto left = server->tasks().count()) {
        log.warn("{} connection task(s) still had requests in flight after {} ms; closing their connections", left,
                 std::chrono::duration_cast<std::chrono::milliseconds>(shutdown_drain_timeout).count());
        server->stop();
        // A handler still running (a parked group request) keeps the gate: a last short wait.
        t.expires_after(std::chrono::seconds(1));
        co_await (wait_closed(server->tasks()) || t.async_wait(asio::use_awaitable));
    }
    // The broker's own tasks: the periodic loop ends at its next wake-up, cancelled now; the
    // reconcile turns already posted run; no new ones start.
    tasks.close();
    if (tick_timer) tick_timer->cancel();
    if (signals) signals->cancel();
    if (auto left = server->tasks().count()) {
        // Last resort: coroutines that would not finish; io.run() would never return.
        log.warn("{} server task(s) still running after the shutdown deadline; stopping the event loop", left);
        io.stop();
    }
}

} // namespace samsa::app
