#include "app/node.h"

#include "app/gate_wait.h"
#include "base/assert.h"
#include "base/file_limits.h"
#include "base/gate.h"
#include "base/logging.h"
#include "cluster/metadata_store.h"
#include "cluster/topic_manager.h"
#include "cluster/controlled_broker.h"
#include "cluster/zk/admin.h"
#include "cluster/replica_fetcher.h"
#include "cluster/zk/controller_driver.h"
#include "cluster/zk/isr_writer.h"
#include "cluster/zk/member.h"
#include "cluster/zk/producer_id_blocks.h"
#include "config/topic_config.h"
#include "storage/mem_file_ops.h"
#include "cluster/zk/session.h"
#include "cluster/zk/tasks.h"
#include "cluster/zk/znodes.h"
#include "config/broker_config_store.h"
#include "kafka/dispatcher.h"
#include "kafka/group_service.h"
#include "kafka/peer_clients.h"
#include "protocol/messages/controlled_shutdown.h"
#include "kafka/txn_service.h"
#include "storage/background.h"
#include "storage/index_file.h"
#include "storage/log_cleaner.h"
#include "storage/log_manager.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <optional>
#include <stdexcept>
#include <unistd.h>

namespace samsa::app {

namespace asio = boost::asio;

namespace {
constexpr logger log{"server"};

} // namespace

void node::check_supported(const config::broker_config& cfg, bool listen)
{
    // Only PLAINTEXT is served until the security milestone: a listener asking for SSL or SASL
    // is refused, never served as plaintext.
    if (!listen) return;
    for (auto& l : cfg.listeners) {
        if (l.security_protocol.empty() || l.security_protocol == "PLAINTEXT") continue;
        throw std::runtime_error(fmt::format("listener {}://{}:{} uses security protocol {}, which this version of "
                                             "samsa-server does not implement yet (only PLAINTEXT is served)",
                                             l.name, l.host, l.port, l.security_protocol));
    }
}

namespace {
std::string local_hostname()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
    return buf;
}

/// Waits up to 2 s for the tasks of `owner` (a replica fetcher, the ISR writer) to end, then
/// destroys it; one whose tasks still run is left to the process exit (their frames point at it).
template <typename T>
asio::awaitable<void> retire(asio::io_context& io, std::unique_ptr<T>& owner, const char* what)
{
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer t(io);
    t.expires_after(std::chrono::seconds(2));
    co_await (wait_closed(owner->tasks()) || t.async_wait(asio::use_awaitable));
    if (auto left = owner->tasks().count()) {
        log.warn("{} {} task(s) still running at shutdown", left, what);
        (void)owner.release();
    }
    owner.reset();
}
} // namespace

/// Member order is destruction order reversed: what coroutine frames and pool threads use is
/// declared before the io_context (an owned one destroys the frames it still holds before
/// those objects go), the pools after it (their threads stop before it goes).
struct node::impl {
    node_options opts;
    storage::file_ops& fs;
    config::broker_config_store config;
    std::string cluster_id;
    std::unique_ptr<storage::mem_file_ops> zk_meta_fs;
    std::unique_ptr<cluster::local_metadata_store> store;
    std::unique_ptr<storage::log_manager> logs;
    std::unique_ptr<cluster::topic_manager> topics;
    std::unique_ptr<kafka::broker_context> context;
    std::unique_ptr<kafka::group_service> groups;
    std::unique_ptr<kafka::txn_service> txns;
    std::unique_ptr<cluster::producer_id_manager> producer_ids;
    std::shared_ptr<kafka::dispatcher> dispatcher;
    /// Held by the node's detached tasks: the periodic loop and the reconcile turns.
    gate tasks;
    std::optional<asio::io_context> own_io;
    asio::io_context& io;
    std::unique_ptr<storage::log_cleaner> cleaner;
    std::unique_ptr<storage::background> pool;
    /// CPU-heavy request work (decompressing produced batches) off the node's thread.
    std::unique_ptr<asio::thread_pool> cpu;
    std::unique_ptr<net::server> server;
    /// ZooKeeper mode: the registration, election and watches (after join_cluster()).
    std::unique_ptr<cluster::zk::member> member;
    std::unique_ptr<cluster::controlled_broker> controlled;
    std::unique_ptr<cluster::zk::admin> admin;
    std::unique_ptr<cluster::zk::config_watcher> config_watch;
    /// Fetches for the partitions this broker follows (ZooKeeper mode).
    std::unique_ptr<cluster::replica_fetcher> fetcher;
    /// The in-sync set changes of the partitions this broker leads (ZooKeeper mode).
    std::unique_ptr<cluster::zk::isr_writer> isr;
    /// Connections to the other brokers for transaction markers and checks (ZooKeeper mode).
    std::unique_ptr<kafka::peer_clients> peers;
    /// This broker's term as controller, while it is one; ended terms wait here for their tasks.
    std::unique_ptr<cluster::zk::controller_driver> driver;
    std::vector<std::unique_ptr<cluster::zk::controller_driver>> ended_terms;
    /// The periodic loop's timer while it runs (cancelled to stop it).
    asio::steady_timer* tick_timer = nullptr;
    bool reconcile_posted = false;
    bool started = false;
    bool shutting_down = false;

    impl(config::property_map props, node_options o)
      : opts(std::move(o)), fs(opts.fs ? *opts.fs : storage::posix_file_ops()), config(props),
        cluster_id(opts.cluster_id.empty() ? cluster::random_cluster_id() : opts.cluster_id),
        io(opts.io ? *opts.io : own_io.emplace(1))
    {}
    ~impl() { SAMSA_ASSERT(!started || shutting_down, "a started node is destroyed without shutdown()"); }

    void step(std::string_view what)
    {
        log.debug("node {}: shutdown: {}", config.current().node_id, what);
        if (opts.on_shutdown_step) opts.on_shutdown_step(what);
    }
    void open_storage();
    void start_services();
    void start_network();
    /// This node, with the endpoints it advertises, as the metadata cache's live broker.
    void register_self();
    /// Runs the topic manager's queued log work in turns of a few milliseconds, other handlers
    /// (requests) served between turns, until none remains.
    void schedule_reconcile();
    asio::awaitable<void> periodic(gate::holder hold);
    asio::awaitable<void> drain_server();
    /// ZooKeeper mode with controlled.shutdown.enable: asks the controller to move this broker's
    /// leadership and ISR memberships away (ControlledShutdown), retried as configured, then
    /// stops following; gives up (after logging) when it cannot.
    asio::awaitable<void> controlled_shutdown();
    /// What this broker's controller term answers a ControlledShutdown.
    asio::awaitable<kafka::controlled_shutdown_answer> answer_controlled_shutdown(node_id b);
    asio::awaitable<kafka::partition_errors_answer>
    answer_alter_reassignments(std::vector<std::pair<topic_partition, std::optional<std::vector<int32_t>>>> asked,
                               int32_t timeout_ms);
    asio::awaitable<kafka::elect_leaders_answer> answer_elect_leaders(int8_t type,
                                                                      std::optional<std::vector<topic_partition>> parts,
                                                                      int32_t timeout_ms);
    asio::awaitable<void> stop_tasks();
    asio::awaitable<void> stop_fetchers();
    asio::awaitable<void> leave_cluster();
    /// A single node's data dir joining ZooKeeper mode: registers its topics (see join_cluster).
    asio::awaitable<void> register_single_node_topics();
    void become_controller(int32_t epoch);
    void resign();
    void apply_topic_config(const std::string& topic, config::property_map overrides);
    /// /config/brokers/<entity> changed: applied when it is "<default>" or this broker's id.
    void apply_broker_config(const std::string& entity, config::property_map overrides);
    void join_pools();
};

void node::impl::open_storage()
{
    auto& cfg = config.current();
    for (auto& w : config.warnings()) log.warn("{}", w);
    check_supported(cfg, opts.listen);
    for (auto& d : cfg.log_dirs) {
        if (auto r = fs.create_dirs(d); !r) {
            throw std::runtime_error(fmt::format("cannot create log directory {}: {}", d, r.error().message()));
        }
    }
    storage::log_manager_config mc;
    mc.log_dirs = cfg.log_dirs;
    mc.retention_check_interval_ms = cfg.log_retention_check_interval_ms;
    mc.recovery_point_checkpoint_interval_ms = cfg.log_flush_offset_checkpoint_interval_ms;
    mc.log_start_checkpoint_interval_ms = cfg.log_flush_start_offset_checkpoint_interval_ms;
    mc.producer_id_expiration_ms = cfg.producer_id_expiration_ms;
    mc.producer_id_expiration_check_interval_ms = cfg.producer_id_expiration_check_interval_ms;
    auto meta_dir = opts.metadata_dir.empty() ? storage::join_path(cfg.log_dirs.front(), "__samsa_metadata")
                                              : opts.metadata_dir;
    if (cfg.zookeeper_connect) {
        // ZooKeeper mode: the topics are what the controller says (UpdateMetadata), kept in
        // memory only, so a restarted broker starts from the controller's picture.
        zk_meta_fs = std::make_unique<storage::mem_file_ops>();
        store = std::make_unique<cluster::local_metadata_store>(*zk_meta_fs, "/metadata");
    } else {
        store = std::make_unique<cluster::local_metadata_store>(fs, meta_dir);
    }
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
    if (!opts.background) {
        while (topics->reconcile()) {
        }
        return;
    }
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

void node::impl::start_services()
{
    auto& cfg = config.current();
    context = std::make_unique<kafka::broker_context>(kafka::broker_context{
        *topics, config, *logs, *store, system_clock::instance(), node_id(cfg.node_id), cluster_id, {}});
    if (!opts.listen) context->endpoints = opts.endpoints;
    coordinator::coordinator_config gcfg;
    gcfg.min_session_timeout_ms = static_cast<int32_t>(cfg.group_min_session_timeout_ms);
    gcfg.max_session_timeout_ms = static_cast<int32_t>(cfg.group_max_session_timeout_ms);
    gcfg.initial_rebalance_delay_ms = static_cast<int32_t>(cfg.group_initial_rebalance_delay_ms);
    gcfg.max_group_size = cfg.group_max_size;
    gcfg.offsets_retention_ms = cfg.offsets_retention_ms;
    gcfg.offset_metadata_max_bytes = cfg.offset_metadata_max_bytes;
    groups = std::make_unique<kafka::group_service>(*context, gcfg);
    context->groups = groups.get();
    producer_ids = std::make_unique<cluster::producer_id_manager>(*store, node_id(cfg.node_id));
    context->producer_ids = producer_ids.get();
    coordinator::txn_config tcfg;
    tcfg.max_timeout_ms = cfg.transaction_max_timeout_ms;
    tcfg.id_expiration_ms = cfg.transactional_id_expiration_ms;
    tcfg.state_partitions = cfg.transaction_state_log_num_partitions;
    tcfg.abort_check_interval_ms = cfg.transaction_abort_timed_out_transaction_cleanup_interval_ms;
    tcfg.expiry_check_interval_ms = cfg.transaction_remove_expired_transaction_cleanup_interval_ms;
    txns = std::make_unique<kafka::txn_service>(*context, tcfg, io.get_executor());
    context->txns = txns.get();
    if (opts.background) {
        cpu = std::make_unique<asio::thread_pool>(2);
        context->cpu = cpu->get_executor();
    }
    if (auto r = groups->start(); !r) throw std::runtime_error("cannot load consumer groups: " + r.error().message());
    // After the groups: finishing a transaction may write markers to __consumer_offsets.
    txns->start();
    dispatcher = std::make_shared<kafka::dispatcher>(*context);
}

void node::impl::start_network()
{
    auto& cfg = config.current();
    net::server_config sc;
    for (auto& l : cfg.listeners) sc.listeners.push_back({l.name, l.host, l.port});
    sc.max_request_bytes = cfg.socket_request_max_bytes;
    sc.connections_max_idle_ms = cfg.connections_max_idle_ms;
    sc.socket_send_buffer_bytes = cfg.socket_send_buffer_bytes;
    sc.socket_receive_buffer_bytes = cfg.socket_receive_buffer_bytes;
    server = std::make_unique<net::server>(io, sc, dispatcher);
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

void node::impl::register_self()
{
    cluster::broker_info me;
    me.id = node_id(config.current().node_id);
    for (auto& e : context->endpoints) me.endpoints.push_back({e.listener, e.host, e.port});
    topics->metadata().set_brokers({std::move(me)});
}

void node::impl::schedule_reconcile()
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

asio::awaitable<void> node::impl::periodic(gate::holder hold)
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
        txns->tick();
    }
    tick_timer = nullptr;
}

/// Stop accepting and reading; answer what is in flight within the deadline; then close the
/// connections left (a handler still running, e.g. a parked group request, gets a last second).
asio::awaitable<void> node::impl::drain_server()
{
    using namespace asio::experimental::awaitable_operators;
    server->drain();
    asio::steady_timer t(io);
    t.expires_after(opts.drain_timeout);
    co_await (wait_closed(server->tasks()) || t.async_wait(asio::use_awaitable));
    if (auto left = server->tasks().count()) {
        log.warn("{} connection task(s) still had requests in flight after {} ms; closing their connections", left,
                 opts.drain_timeout.count());
        server->stop();
        t.expires_after(std::chrono::seconds(1));
        co_await (wait_closed(server->tasks()) || t.async_wait(asio::use_awaitable));
        if (auto still = server->tasks().count()) {
            log.warn("{} server task(s) still running after the shutdown deadline", still);
        }
    }
}

/// The node's own tasks: the periodic loop is woken to end; reconcile turns already posted run.
asio::awaitable<void> node::impl::stop_tasks()
{
    using namespace asio::experimental::awaitable_operators;
    tasks.close();
    if (tick_timer) tick_timer->cancel();
    asio::steady_timer t(io);
    t.expires_after(std::chrono::seconds(1));
    co_await (wait_closed(tasks) || t.async_wait(asio::use_awaitable));
    if (auto left = tasks.count()) log.warn("{} node task(s) still running after the shutdown deadline", left);
}

asio::awaitable<kafka::controlled_shutdown_answer> node::impl::answer_controlled_shutdown(node_id b)
{
    if (!driver) co_return kafka::controlled_shutdown_answer{protocol::error_code::not_controller, {}};
    auto r = co_await driver->controlled_shutdown(b, std::chrono::milliseconds(10000));
    if (!r) co_return kafka::controlled_shutdown_answer{protocol::error_code::broker_not_available, {}};
    co_return kafka::controlled_shutdown_answer{protocol::error_code::none, std::move(*r)};
}

asio::awaitable<kafka::partition_errors_answer>
node::impl::answer_alter_reassignments(std::vector<std::pair<topic_partition, std::optional<std::vector<int32_t>>>> asked,
                                       int32_t timeout_ms)
{
    using outcome = cluster::controller_state::reassign_outcome;
    kafka::partition_errors_answer a;
    if (!driver) {
        a.error = protocol::error_code::not_controller;
        co_return a;
    }
    std::vector<std::pair<topic_partition, std::optional<std::vector<node_id>>>> targets;
    for (auto& [tp, reps] : asked) {
        std::optional<std::vector<node_id>> t;
        if (reps) {
            t.emplace();
            for (auto r : *reps) t->push_back(node_id(r));
        }
        targets.emplace_back(tp, std::move(t));
    }
    auto wait = std::chrono::milliseconds(std::clamp(timeout_ms, 0, 600000));
    auto r = co_await driver->alter_reassignments(std::move(targets), wait);
    if (!r) {
        a.error = protocol::error_code::not_controller;
        co_return a;
    }
    for (auto& [tp, o] : *r) {
        kafka::partition_errors_answer::partition_result p{tp, protocol::error_code::none, {}};
        if (o == outcome::unknown_partition) {
            p.error = protocol::error_code::unknown_topic_or_partition;
            p.message = "No such partition";
        } else if (o == outcome::invalid_assignment) {
            p.error = protocol::error_code::invalid_replica_assignment;
            p.message = "The replicas must be distinct live brokers, at least one";
        } else if (o == outcome::not_in_progress) {
            p.error = protocol::error_code::no_reassignment_in_progress;
            p.message = "No reassignment is in progress for this partition";
        }
        a.results.push_back(std::move(p));
    }
    co_return a;
}

asio::awaitable<kafka::elect_leaders_answer>
node::impl::answer_elect_leaders(int8_t type, std::optional<std::vector<topic_partition>> parts, int32_t timeout_ms)
{
    using outcome = cluster::controller_state::election_outcome;
    kafka::elect_leaders_answer a;
    if (!driver) {
        a.error = protocol::error_code::not_controller;
        co_return a;
    }
    auto kind = type == 1 ? cluster::controller_state::election_type::unclean : cluster::controller_state::election_type::preferred;
    auto wait = std::chrono::milliseconds(std::clamp(timeout_ms, 0, 600000));
    auto r = co_await driver->elect_leaders(kind, std::move(parts), wait);
    if (!r) {
        a.error = protocol::error_code::not_controller;
        co_return a;
    }
    for (auto& e : *r) {
        kafka::elect_leaders_answer::partition_result p{e.tp, protocol::error_code::none, {}};
        if (e.timed_out) {
            p.error = protocol::error_code::request_timed_out;
            p.message = "The election did not complete within the request's timeout";
        } else if (e.outcome == outcome::unknown_partition) {
            p.error = protocol::error_code::unknown_topic_or_partition;
            p.message = "No such partition";
        } else if (e.outcome == outcome::not_needed) {
            p.error = protocol::error_code::election_not_needed;
            p.message = kind == cluster::controller_state::election_type::preferred
                            ? "The preferred replica is the leader already"
                            : "The partition has a live leader";
        } else if (e.outcome == outcome::not_available) {
            p.error = kind == cluster::controller_state::election_type::preferred
                          ? protocol::error_code::preferred_leader_not_available
                          : protocol::error_code::eligible_leaders_not_available;
            p.message = kind == cluster::controller_state::election_type::preferred
                            ? "The preferred replica is not live or not in sync"
                            : "No replica of the partition is live";
        }
        a.results.push_back(std::move(p));
    }
    co_return a;
}

asio::awaitable<void> node::impl::controlled_shutdown()
{
    auto& cfg = config.current();
    node_id self(cfg.node_id);
    int attempts = std::max(cfg.controlled_shutdown_max_retries, 1);
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        auto ctl = topics->metadata().controller();
        kafka::controlled_shutdown_answer a{protocol::error_code::not_controller, {}};
        if (ctl == self) {
            a = co_await answer_controlled_shutdown(self);
        } else if (ctl() >= 0 && peers) {
            protocol::controlled_shutdown_request req;
            req.broker_id = self();
            auto r = co_await peers->send<protocol::controlled_shutdown_api>(ctl, req, 3);
            if (r) {
                a.error = static_cast<protocol::error_code>((*r)->error_code);
                for (auto& p : (*r)->remaining_partitions) a.remaining.push_back({p.topic_name, partition_id(p.partition_index)});
            } else {
                log.warn("controlled shutdown: cannot reach the controller (broker {}): {}", ctl(), r.error().message());
                a.error = protocol::error_code::network_exception;
            }
        }
        if (a.error == protocol::error_code::none && a.remaining.empty()) {
            log.info("controlled shutdown succeeded: this broker leads no replicated partition any more");
            fetcher->stop(); // no longer in any ISR: it must not catch up and rejoin one
            co_return;
        }
        if (a.error == protocol::error_code::none) {
            log.warn("controlled shutdown attempt {} of {}: {} partition(s) still led here (e.g. {})", attempt, attempts,
                     a.remaining.size(), a.remaining.front().dir_name());
        } else {
            log.warn("controlled shutdown attempt {} of {} failed: {}", attempt, attempts, protocol::to_string(a.error));
        }
        if (attempt < attempts) {
            co_await cluster::zk::pause(io.get_executor(), std::chrono::milliseconds(cfg.controlled_shutdown_retry_backoff_ms));
        }
    }
    log.warn("controlled shutdown gave up after {} attempt(s): shutting down anyway", attempts);
}

/// The replica fetchers end (their connections close) before the logs they append to.
asio::awaitable<void> node::impl::stop_fetchers()
{
    if (!fetcher) co_return;
    topics->partitions().on_replica_changed = nullptr;
    fetcher->stop();
    isr->stop();
    context->peers = nullptr;
    peers->close();
    {
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer t(io);
        t.expires_after(std::chrono::seconds(2));
        for (auto* g : peers->tasks()) co_await (wait_closed(*g) || t.async_wait(asio::use_awaitable));
        if (t.expiry() > std::chrono::steady_clock::now()) peers.reset();
        else (void)peers.release(); // tasks still running point at it: left to the process exit
    }
    co_await retire(io, fetcher, "replica fetcher");
    co_await retire(io, isr, "in-sync replica");
    step("replica fetchers stopped");
}

/// Threads stop; what they still post to this thread (flush and swap results) runs before the
/// logs close, after the caller yields once.
void node::impl::join_pools()
{
    if (cpu) cpu->join(); // nothing awaits it any more: the handlers are done
    if (cleaner) {
        cleaner->stop();
        logs->set_cleaner(nullptr);
    }
    if (pool) {
        pool->stop();
        logs->set_background(nullptr);
    }
}

node::node(config::property_map props, node_options opts)
  : _impl(std::make_unique<impl>(std::move(props), std::move(opts)))
{}

node::~node() = default;

void node::start()
{
    auto& im = *_impl;
    SAMSA_ASSERT(!im.started, "node::start() called twice");
    im.open_storage();
    im.start_services();
    if (im.opts.listen) im.start_network();
    im.register_self();
    im.started = true;
    if (im.opts.background) {
        asio::co_spawn(im.io, im.periodic(im.tasks.enter()), asio::detached);
    }
}

asio::awaitable<bool> node::shutdown()
{
    auto& im = *_impl;
    SAMSA_ASSERT(!im.shutting_down, "node::shutdown() called twice");
    im.shutting_down = true;
    if (im.member && im.member->registered() && im.fetcher && im.config.current().controlled_shutdown_enable) {
        co_await im.controlled_shutdown();
        im.step("controlled shutdown done");
    }
    im.step("draining");
    if (im.server) co_await im.drain_server();
    im.step("drained");
    co_await im.stop_tasks();
    im.step("tasks stopped");
    co_await im.stop_fetchers();
    im.join_pools();
    co_await asio::post(im.io, asio::use_awaitable);
    im.step("pools joined");
    bool clean = true;
    // Replicas stop before their logs close: nothing reaches a log from here on.
    if (im.topics) im.topics->stop();
    if (im.logs) {
        if (auto r = im.logs->shutdown(); !r) {
            log.error("shutdown incomplete: {}", r.error().message());
            clean = false;
        }
    }
    im.step("logs closed");
    co_await im.leave_cluster();
    co_return clean;
}

asio::awaitable<void> node::join_cluster()
{
    auto& im = *_impl;
    SAMSA_ASSERT(im.started && im.opts.zookeeper, "join_cluster() needs a started node with a ZooKeeper session");
    auto& cfg = im.config.current();
    cluster::zk::member::options mo;
    mo.connect = *cfg.zookeeper_connect;
    mo.session_timeout = std::chrono::milliseconds(cfg.zookeeper_session_timeout_ms);
    mo.connection_timeout = std::chrono::milliseconds(cfg.zookeeper_connection_timeout_ms);
    mo.self.id = cfg.node_id;
    mo.self.rack = cfg.broker_rack;
    for (auto& e : im.context->endpoints) {
        cluster::zk::broker_registration::endpoint ep;
        ep.listener = e.listener;
        ep.host = e.host;
        ep.port = e.port;
        if (auto p = cfg.listener_security_protocol_map.find(e.listener); p != cfg.listener_security_protocol_map.end()) {
            ep.security_protocol = p->second;
        }
        mo.self.endpoints.push_back(std::move(ep));
    }
    cluster::zk::member::listeners l;
    // The live brokers reach the metadata cache through the controller's UpdateMetadata, as in
    // Kafka; the membership's view of them feeds this broker's controller term, if any.
    auto* cache = &im.topics->metadata();
    auto* self = &im;
    l.brokers = [self](const std::vector<cluster::zk::broker_registration>& live) {
        if (self->driver) self->driver->brokers_changed(live);
    };
    l.controller = [cache](cluster::zk::controller_view v) { cache->set_controller(node_id(v.id)); };
    l.elected = [self](int32_t epoch) { self->become_controller(epoch); };
    l.resigned = [self] { self->resign(); };
    im.member = std::make_unique<cluster::zk::member>(im.io.get_executor(), im.opts.zookeeper, std::move(mo), std::move(l));
    auto* m = im.member.get();
    im.controlled = std::make_unique<cluster::controlled_broker>(
        node_id(cfg.node_id), *im.store, im.topics->metadata(), *im.logs,
        [m](std::string topic) { return cluster::zk::read_topic_config(m->zk(), std::move(topic)); });
    im.context->controlled = im.controlled.get();
    cluster::replica_fetcher::options fo;
    fo.self = node_id(cfg.node_id);
    if (cfg.inter_broker_listener_name) fo.listener = *cfg.inter_broker_listener_name;
    fo.max_bytes = static_cast<int32_t>(cfg.replica_fetch_max_bytes);
    fo.response_max_bytes = static_cast<int32_t>(cfg.replica_fetch_response_max_bytes);
    fo.wait_max_ms = static_cast<int32_t>(cfg.replica_fetch_wait_max_ms);
    fo.min_bytes = cfg.replica_fetch_min_bytes;
    fo.backoff_ms = cfg.replica_fetch_backoff_ms;
    fo.fetchers = cfg.num_replica_fetchers;
    fo.throttled_rate = [&im] { return im.config.current().follower_replication_throttled_rate; };
    fo.throttled = [&im, self_id = cfg.node_id](const topic_partition& tp) {
        auto* t = im.topics->find(tp.topic);
        return t && im.topics->effective_config(*t)->follower_throttled_replicas.contains(tp.partition(), self_id);
    };
    im.fetcher = std::make_unique<cluster::replica_fetcher>(im.io, im.topics->metadata(), fo);
    kafka::peer_clients::options po;
    po.self = node_id(cfg.node_id);
    po.listener = fo.listener;
    im.peers = std::make_unique<kafka::peer_clients>(im.io, im.topics->metadata(), po);
    im.context->peers = im.peers.get();
    im.context->controlled_shutdown = [self](node_id b, int64_t) { return self->answer_controlled_shutdown(b); };
    im.context->alter_reassignments = [self](std::vector<std::pair<topic_partition, std::optional<std::vector<int32_t>>>> asked,
                                             int32_t timeout_ms) {
        return self->answer_alter_reassignments(std::move(asked), timeout_ms);
    };
    im.context->list_reassignments = [self](std::optional<std::vector<topic_partition>> only) {
        kafka::reassignments_answer a;
        if (!self->driver || !self->driver->loaded()) {
            a.error = protocol::error_code::not_controller;
            return a;
        }
        auto raw = [](const std::vector<node_id>& v) {
            std::vector<int32_t> out;
            for (auto r : v) out.push_back(r());
            return out;
        };
        for (auto& [tp, set] : self->driver->state().reassignments(only)) {
            a.partitions.push_back({tp, raw(set.replicas), raw(set.adding), raw(set.removing)});
        }
        return a;
    };
    im.context->elect_leaders = [self](int8_t type, std::optional<std::vector<topic_partition>> parts, int32_t timeout_ms) {
        return self->answer_elect_leaders(type, std::move(parts), timeout_ms);
    };
    cluster::zk::isr_writer::options isr_opts;
    isr_opts.self = node_id(cfg.node_id);
    isr_opts.lag_max_ms = cfg.replica_lag_time_max_ms;
    isr_opts.check_interval = std::chrono::milliseconds(std::clamp<int64_t>(cfg.replica_lag_time_max_ms / 4, 10, 250));
    isr_opts.min_insync = [topics = im.topics.get()](const std::string& topic) {
        auto* t = topics->find(topic);
        return t ? topics->effective_config(*t)->min_insync_replicas : 1;
    };
    im.isr = std::make_unique<cluster::zk::isr_writer>(im.io, *m, std::move(isr_opts));
    im.topics->partitions().on_replica_changed = [f = im.fetcher.get(), w = im.isr.get()](
                                                     const std::shared_ptr<cluster::partition>& p) {
        f->replica_changed(p);
        w->replica_changed(p);
    };
    im.isr->start();
    im.admin = std::make_unique<cluster::zk::admin>(*m);
    im.topics->controller().set_cluster_admin(im.admin.get(), std::chrono::milliseconds(30000));
    im.producer_ids->set_allocator([m](node_id b, int64_t n) { return cluster::zk::allocate_producer_id_block(m->zk(), b, n); });
    im.config_watch = std::make_unique<cluster::zk::config_watcher>(
        im.io.get_executor(), *m,
        [self](cluster::zk::config_watcher::entity kind, const std::string& name, config::property_map o) {
            if (kind == cluster::zk::config_watcher::entity::topic) self->apply_topic_config(name, std::move(o));
            else self->apply_broker_config(name, std::move(o));
        });
    auto r = co_await im.member->start();
    if (!r) {
        if (r.error() == make_error_code(cluster::zk::session_errc::node_exists)) {
            throw std::runtime_error(fmt::format("broker.id {} is already registered in ZooKeeper ({}) by another live "
                                                 "broker: every broker needs its own broker.id",
                                                 cfg.node_id, cluster::zk::paths::broker(cfg.node_id)));
        }
        throw std::runtime_error(fmt::format("cannot register broker {} in ZooKeeper: {}", cfg.node_id,
                                             r.error().message()));
    }
    co_await im.register_single_node_topics();
    // Broker configs live in ZooKeeper (/config/brokers/<default> and /config/brokers/<id>):
    // read now, then followed through /config/changes.
    for (auto entity : {std::string("<default>"), std::to_string(cfg.node_id)}) {
        auto stored = co_await cluster::zk::read_broker_config(*im.opts.zookeeper, entity);
        if (stored) im.apply_broker_config(entity, std::move(*stored));
    }
    im.config_watch->start();
}

asio::awaitable<void> node::impl::register_single_node_topics()
{
    // The topics a single node kept in its metadata directory go into ZooKeeper, every
    // partition on this broker (its logs are here), with their ids and config overrides; the
    // controller then makes this broker their leader. Once only: the directory is renamed
    // after, so that a topic deleted in the cluster later does not come back at a restart.
    auto& cfg = config.current();
    auto meta_dir = opts.metadata_dir.empty() ? storage::join_path(cfg.log_dirs.front(), "__samsa_metadata")
                                              : opts.metadata_dir;
    if (!fs.is_dir(meta_dir)) co_return;
    cluster::local_metadata_store disk(fs, meta_dir);
    auto loaded = disk.load_topics();
    if (!loaded) throw std::runtime_error(fmt::format("cannot read the single-node topics in {}: {}", meta_dir, loaded.error().message()));
    auto& zk = *opts.zookeeper;
    std::vector<cluster::topic_info> todo;
    std::vector<std::string> conflicts;
    size_t already = 0;
    for (auto& [name, r] : *loaded) {
        if (r.topic.deleting) continue;
        auto got = co_await zk.get(cluster::zk::paths::topic(name));
        if (got) {
            // Registered by an earlier start that stopped before the rename: the same topic.
            auto stored = cluster::zk::decode_topic(got->data);
            if (stored && stored->topic_id == r.topic.id.to_string()) {
                ++already;
                continue;
            }
            conflicts.push_back(name);
            continue;
        }
        if (!cluster::zk::is(got.error(), cluster::zk::session_errc::no_node)) {
            throw std::runtime_error(fmt::format("cannot read topic {} in ZooKeeper: {}", name, got.error().message()));
        }
        auto t = r.topic;
        for (auto& a : t.partitions) a.replicas = {node_id(cfg.node_id)};
        t.replication_factor = 1;
        todo.push_back(std::move(t));
    }
    if (!conflicts.empty()) {
        throw std::runtime_error(fmt::format(
            "the single-node topics in {} cannot join this cluster: {} already exist(s) in ZooKeeper as other topics; "
            "move that directory and the topics' logs away, or delete the topics from the cluster",
            meta_dir, fmt::join(conflicts, ", ")));
    }
    cluster::zk::admin writer(zk);
    for (auto& t : todo) {
        auto c = co_await writer.create_topic(t);
        if (!c) throw std::runtime_error(fmt::format("cannot register topic {} in ZooKeeper: {}", t.name, c.error().message));
    }
    auto moved = meta_dir + ".registered-in-zookeeper";
    if (auto r = fs.rename(meta_dir, moved); !r) {
        throw std::runtime_error(fmt::format("cannot rename {} after registering its topics: {}", meta_dir, r.error().message()));
    }
    log.info("registered {} topic(s) of this broker's single-node data in ZooKeeper ({} already there); {} is now {}",
             todo.size(), already, meta_dir, moved);
}

void node::impl::become_controller(int32_t epoch)
{
    if (shutting_down && !member) return;
    auto& cfg = config.current();
    cluster::zk::controller_driver::options o;
    if (cfg.control_plane_listener_name) o.listener = *cfg.control_plane_listener_name;
    else if (cfg.inter_broker_listener_name) o.listener = *cfg.inter_broker_listener_name;
    o.state.auto_leader_rebalance = cfg.auto_leader_rebalance_enable;
    o.state.imbalance_check_interval_ms = cfg.leader_imbalance_check_interval_seconds * 1000;
    o.state.imbalance_percentage = cfg.leader_imbalance_per_broker_percentage;
    o.state.unclean_leader_election = cfg.unclean_leader_election_enable;
    resign();
    driver = std::make_unique<cluster::zk::controller_driver>(io, *member, node_id(cfg.node_id), epoch, o);
    driver->brokers_changed(member->brokers());
    driver->start();
}

void node::impl::resign()
{
    if (!driver) return;
    driver->stop();
    ended_terms.push_back(std::move(driver));
    // Terms whose tasks are done go now.
    std::erase_if(ended_terms, [](auto& d) { return d->tasks().count() == 0; });
}

/// A config change notification: the topic's overrides as now stored in ZooKeeper.
void node::impl::apply_topic_config(const std::string& topic, config::property_map overrides)
{
    if (driver) driver->topic_config_changed(topic, overrides);
    auto* t = topics->find(topic);
    if (!t || t->overrides == overrides) return;
    if (auto v = config::validate_topic_overrides(overrides); !v) {
        log.warn("topic {}: ignoring invalid configs from ZooKeeper: {}", topic, v.error().message);
        return;
    }
    cluster::topic_record r{*t, topics->metadata().states_of(topic)};
    r.topic.overrides = std::move(overrides);
    if (auto w = store->save_topic(r); !w) log.error("topic {}: cannot apply its new configs: {}", topic, w.error().message());
    else log.info("topic {}: configs changed", topic);
}

void node::impl::apply_broker_config(const std::string& entity, config::property_map overrides)
{
    auto self = std::to_string(config.current().node_id);
    if (entity != "<default>" && entity != self) return; // another broker's
    auto scope = entity == self ? config::dynamic_scope::broker : config::dynamic_scope::cluster_default;
    if (auto r = config.replace_dynamic(scope, std::move(overrides)); !r) {
        log.warn("broker configs {}: ignoring invalid configs from ZooKeeper: {}", entity, r.error().message);
        return;
    }
    topics->broker_config_changed();
    if (driver) driver->unclean_default(config.current().unclean_leader_election_enable);
    log.info("broker configs {}: applied from ZooKeeper", entity);
}

cluster::zk::member* node::membership() { return _impl->member.get(); }

/// The session closes (registration and /controller go with it); the member's tasks end.
asio::awaitable<void> node::impl::leave_cluster()
{
    using namespace asio::experimental::awaitable_operators;
    if (!member) {
        if (opts.zookeeper) opts.zookeeper->close();
        co_return;
    }
    resign();
    if (config_watch) config_watch->stop();
    member->stop();
    asio::steady_timer t(io);
    t.expires_after(std::chrono::seconds(2));
    co_await (wait_closed(member->tasks()) || t.async_wait(asio::use_awaitable));
    for (auto& d : ended_terms) {
        t.expires_after(std::chrono::seconds(2));
        co_await (wait_closed(d->tasks()) || t.async_wait(asio::use_awaitable));
    }
    if (config_watch) {
        t.expires_after(std::chrono::seconds(2));
        co_await (wait_closed(config_watch->tasks()) || t.async_wait(asio::use_awaitable));
    }
    // The terms' connections hold timers of this io_context, which goes before the node: they
    // are destroyed now. One whose tasks are still running is left to the process exit (its
    // frames still point at it).
    for (auto& d : ended_terms) {
        if (d->tasks().count() == 0) continue;
        log.warn("a controller term still has {} task(s) running at shutdown", d->tasks().count());
        (void)d.release();
    }
    ended_terms.clear();
    if (auto left = member->tasks().count()) log.warn("{} ZooKeeper task(s) still running after the session closed", left);
    step("left the cluster");
}

bool node::shutting_down() const { return _impl->shutting_down; }
asio::io_context& node::io() { return _impl->io; }
kafka::broker_context& node::context() { return *_impl->context; }
cluster::topic_manager& node::topics() { return *_impl->topics; }
storage::log_manager& node::logs() { return *_impl->logs; }
config::broker_config_store& node::config() { return _impl->config; }
cluster::metadata_store& node::store() { return *_impl->store; }
kafka::dispatcher& node::dispatcher() { return *_impl->dispatcher; }
kafka::group_service& node::groups() { return *_impl->groups; }
net::server* node::server() { return _impl->server.get(); }
std::vector<net::server::bound> node::listeners() const
{
    return _impl->server ? _impl->server->bound_listeners() : std::vector<net::server::bound>{};
}
const std::string& node::cluster_id() const { return _impl->cluster_id; }
node_id node::self() const { return node_id(_impl->config.current().node_id); }

} // namespace samsa::app
