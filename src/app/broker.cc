#include "app/broker.h"

#include "app/node.h"
#include "base/file_limits.h"
#include "base/logging.h"
#include "cluster/topic_table.h"
#include "cluster/zk/member.h"
#include "cluster/zk/registration.h"
#include "config/broker_config_store.h"
#include "storage/file_ops.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
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
    dir_locks locks; // first: released last
    config::property_map props;
    std::unique_ptr<node> n;
    /// After the node: destroyed first, with any coroutine frame still in it (the last-resort
    /// path of a shutdown) while what those frames use still exists. The node's pools are
    /// joined by then (shutdown, or the reset of a node whose start failed).
    asio::io_context io{1};
    /// SIGINT/SIGTERM, waited on while run() runs (cancelled once shut down: no work left).
    asio::signal_set* signals = nullptr;
    bool shutting_down = false;
    bool started = false;
    int exit_code = 0;
    /// Why startup failed (rethrown by run() once the node is shut down).
    std::exception_ptr startup_error;

    explicit impl(config::property_map p) : props(std::move(p)) {}

    /// Locks each log directory and reads its meta.properties (all must agree).
    stored_identity lock_log_dirs();
    /// In ZooKeeper mode: connects, takes the cluster id from ZooKeeper and resolves broker.id
    /// (configured, stored, or generated). Then writes meta.properties, starts the node and, in
    /// ZooKeeper mode, registers it.
    asio::awaitable<void> start(stored_identity stored);
    asio::awaitable<std::shared_ptr<cluster::zk::session>> connect_zookeeper(const config::broker_config& cfg);
    asio::awaitable<int32_t> resolve_broker_id(cluster::zk::session& zk, const config::broker_config& cfg,
                                               const stored_identity& stored);
    void begin_shutdown();
    asio::awaitable<void> shutdown_then_exit();
};

stored_identity broker::impl::lock_log_dirs()
{
    config::broker_config_store cs(props);
    auto& cfg = cs.current();
    stored_identity out;
    std::string from;
    auto& fs = storage::posix_file_ops();
    for (auto& d : cfg.log_dirs) {
        if (auto r = fs.create_dirs(d); !r) {
            throw std::runtime_error(fmt::format("cannot create log directory {}: {}", d, r.error().message()));
        }
        locks.fds.push_back(lock_log_dir(d));
        auto id = read_meta_properties(d);
        if (!id.cluster_id.empty()) {
            if (!out.cluster_id.empty() && out.cluster_id != id.cluster_id) {
                throw std::runtime_error(fmt::format("{}/meta.properties belongs to cluster {}, {}/meta.properties "
                                                     "to cluster {}",
                                                     d, id.cluster_id, from, out.cluster_id));
            }
            out.cluster_id = id.cluster_id;
            from = d;
        }
        if (id.node_id) {
            if (out.node_id && *out.node_id != *id.node_id) {
                throw std::runtime_error(fmt::format("log directories disagree on the node id: {} in {}, {} in another",
                                                     *id.node_id, d, *out.node_id));
            }
            out.node_id = id.node_id;
        }
    }
    return out;
}

asio::awaitable<std::shared_ptr<cluster::zk::session>> broker::impl::connect_zookeeper(const config::broker_config& cfg)
{
    auto& connect = *cfg.zookeeper_connect;
    auto timeout = std::chrono::milliseconds(cfg.zookeeper_connection_timeout_ms);
    log.info("connecting to ZooKeeper at {}", connect);
    if (auto r = co_await cluster::zk::ensure_chroot(io.get_executor(), connect, timeout); !r) {
        throw std::runtime_error(fmt::format("cannot connect to ZooKeeper at {} within {} ms "
                                             "(zookeeper.connection.timeout.ms): {}",
                                             connect, cfg.zookeeper_connection_timeout_ms, r.error().message()));
    }
    auto zk = std::make_shared<cluster::zk::session>(io.get_executor(), connect,
                                                     std::chrono::milliseconds(cfg.zookeeper_session_timeout_ms));
    auto c = co_await zk->wait_connected(timeout);
    if (!c) {
        throw std::runtime_error(fmt::format("cannot connect to ZooKeeper at {} within {} ms "
                                             "(zookeeper.connection.timeout.ms): {}",
                                             connect, cfg.zookeeper_connection_timeout_ms, c.error().message()));
    }
    co_return zk;
}

asio::awaitable<int32_t> broker::impl::resolve_broker_id(cluster::zk::session& zk, const config::broker_config& cfg,
                                                         const stored_identity& stored)
{
    if (cfg.configured_node_id >= 0) {
        // Ids above the reserved range are the generated ones (Kafka's rule).
        if (cfg.broker_id_generation_enable && cfg.configured_node_id > cfg.reserved_broker_max_id) {
            throw std::runtime_error(fmt::format("broker.id {} is above reserved.broker.max.id {}: ids above it are "
                                                 "generated (raise reserved.broker.max.id or set "
                                                 "broker.id.generation.enable=false)",
                                                 cfg.configured_node_id, cfg.reserved_broker_max_id));
        }
        if (stored.node_id && *stored.node_id != cfg.configured_node_id) {
            throw std::runtime_error(fmt::format("meta.properties says broker.id {} but the configuration says {}",
                                                 *stored.node_id, cfg.configured_node_id));
        }
        co_return cfg.configured_node_id;
    }
    if (stored.node_id) co_return *stored.node_id;
    if (!cfg.broker_id_generation_enable) {
        throw std::runtime_error("broker.id is not set, none is stored in meta.properties, and "
                                 "broker.id.generation.enable is false");
    }
    auto id = co_await cluster::zk::generate_broker_id(zk, cfg.reserved_broker_max_id);
    if (!id) {
        throw std::runtime_error(fmt::format("cannot generate a broker.id in {}: {}", cluster::zk::paths::broker_seqid,
                                             id.error().message()));
    }
    log.info("generated broker.id {}", *id);
    co_return *id;
}

asio::awaitable<void> broker::impl::start(stored_identity stored)
{
    config::broker_config_store cs(props);
    auto cfg = cs.current();
    node_options opts;
    opts.io = &io;
    int32_t node_id = cfg.node_id;
    std::string cluster_id = stored.cluster_id;
    if (cfg.zookeeper_connect) {
        opts.zookeeper = co_await connect_zookeeper(cfg);
        // A single node's directory joining ZooKeeper offers its own id; the first broker wins.
        auto candidate = cluster_id.empty() ? cluster::random_cluster_id() : cluster_id;
        auto zk_id = co_await cluster::zk::get_or_create_cluster_id(*opts.zookeeper, candidate);
        if (!zk_id) {
            throw std::runtime_error(fmt::format("cannot read or create {} in ZooKeeper: {}", cluster::zk::paths::cluster_id,
                                                 zk_id.error().message()));
        }
        if (!cluster_id.empty() && *zk_id != cluster_id) {
            throw std::runtime_error(fmt::format("The Cluster ID {} in ZooKeeper doesn't match the stored cluster id {} "
                                                 "in meta.properties: this broker is joining the wrong cluster "
                                                 "(check zookeeper.connect and its chroot)",
                                                 *zk_id, cluster_id));
        }
        cluster_id = *zk_id;
        node_id = co_await resolve_broker_id(*opts.zookeeper, cfg, stored);
        props["broker.id"] = std::to_string(node_id);
        props.erase("node.id");
    } else if (stored.node_id && *stored.node_id != node_id) {
        throw std::runtime_error(fmt::format("meta.properties says node id {} but the configuration says {} "
                                             "(node.id/broker.id)",
                                             *stored.node_id, node_id));
    }
    if (cluster_id.empty()) cluster_id = cluster::random_cluster_id();
    for (auto& d : cfg.log_dirs) write_meta_properties(d, node_id, cluster_id, cfg.zookeeper_connect.has_value());
    opts.cluster_id = cluster_id;
    raise_file_limit();
    n = std::make_unique<node>(props, std::move(opts));
    try {
        n->start();
    } catch (...) {
        n.reset(); // its pools stop before the io_context goes
        throw;
    }
    started = true;
    if (cfg.zookeeper_connect) co_await n->join_cluster();
    std::string dirs;
    for (auto& d : cfg.log_dirs) dirs += (dirs.empty() ? "" : ", ") + d;
    log.info("samsa-server started: node {}, cluster {}, data in {}", node_id, n->cluster_id(), dirs);
}

broker::broker(config::property_map props) : _impl(std::make_unique<impl>(std::move(props)))
{
    // The configuration is checked here, so an invalid one fails before anything is touched.
    config::broker_config_store check(_impl->props);
}

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
    // What this version cannot serve is refused first, as a one-line startup error (node::start
    // checks it again); then the directories; then the file limit, before the logs open.
    node::check_supported(config::broker_config_store(im.props).current(), true);
    auto stored = im.lock_log_dirs();
    asio::co_spawn(im.io, im.start(std::move(stored)), [&](std::exception_ptr e) {
        if (!e || im.shutting_down) return; // a failure caused by a shutdown is not the story
        im.startup_error = e;
        if (im.started) {
            im.begin_shutdown(); // registration failed after the logs opened: close them first
        } else if (im.signals) {
            im.signals->cancel();
        }
    });
    // Returns once nothing is left to run: the node shut down, the signal wait cancelled.
    im.io.run();
    im.signals = nullptr;
    if (im.startup_error) std::rethrow_exception(im.startup_error);
    if (im.exit_code == 0) log.info("shut down cleanly");
    return im.exit_code;
}

void broker::stop()
{
    asio::post(_impl->io, [this] { _impl->begin_shutdown(); });
}

void broker::impl::begin_shutdown()
{
    if (shutting_down) return;
    shutting_down = true;
    asio::co_spawn(io, shutdown_then_exit(), asio::detached);
}

asio::awaitable<void> broker::impl::shutdown_then_exit()
{
    if (!n || !started) {
        // Still starting (connecting to ZooKeeper, say): nothing to close but the wait itself.
        if (signals) signals->cancel();
        io.stop();
        co_return;
    }
    bool clean = co_await n->shutdown();
    exit_code = clean ? 0 : 1;
    if (signals) signals->cancel();
    if (auto* srv = n->server(); srv && srv->tasks().count() > 0) {
        // Last resort: requests that would not finish even with their connections closed;
        // io.run() would never return. The logs are closed already.
        log.warn("{} server task(s) still running after shutdown; stopping the event loop", srv->tasks().count());
        io.stop();
    }
}

} // namespace samsa::app
