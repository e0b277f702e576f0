#include "app/broker.h"

#include "app/node.h"
#include "base/file_limits.h"
#include "base/logging.h"
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
    int exit_code = 0;

    explicit impl(config::property_map p) : props(std::move(p)) {}

    /// Locks each log directory and reads or writes its meta.properties; returns the cluster id.
    std::string prepare_log_dirs();
    void begin_shutdown();
    asio::awaitable<void> shutdown_then_exit();
};

std::string broker::impl::prepare_log_dirs()
{
    config::broker_config_store cs(props);
    auto& cfg = cs.current();
    std::string cluster_id;
    auto& fs = storage::posix_file_ops();
    for (auto& d : cfg.log_dirs) {
        if (auto r = fs.create_dirs(d); !r) {
            throw std::runtime_error(fmt::format("cannot create log directory {}: {}", d, r.error().message()));
        }
        locks.fds.push_back(lock_log_dir(d));
        cluster_id = ensure_meta_properties(d, cfg.node_id, cluster_id);
    }
    return cluster_id;
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
    node_options opts;
    opts.io = &im.io;
    // What this version cannot serve is refused first, as a one-line startup error (node::start
    // checks it again); then the directories; then the file limit, before the logs open.
    node::check_supported(config::broker_config_store(im.props).current(), true);
    opts.cluster_id = im.prepare_log_dirs();
    raise_file_limit();
    im.n = std::make_unique<node>(im.props, std::move(opts));
    try {
        im.n->start();
    } catch (...) {
        im.n.reset(); // its pools stop before the io_context goes
        throw;
    }
    auto& cfg = im.n->config().current();
    std::string dirs;
    for (auto& d : cfg.log_dirs) dirs += (dirs.empty() ? "" : ", ") + d;
    log.info("samsa-server started: node {}, cluster {}, data in {}", cfg.node_id, im.n->cluster_id(), dirs);
    // Returns once nothing is left to run: the node shut down, the signal wait cancelled.
    im.io.run();
    im.signals = nullptr;
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
