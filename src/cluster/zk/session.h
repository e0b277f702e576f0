#pragma once

#include "base/result.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace samsa::cluster::zk {

/// What a ZooKeeper operation can fail with, Kafka-style names for ZooKeeper's codes.
enum class session_errc {
    no_node = 1,       // ZNONODE
    node_exists,       // ZNODEEXISTS
    bad_version,       // ZBADVERSION: a conditional write lost the race
    not_empty,         // ZNOTEMPTY
    connection_loss,   // ZCONNECTIONLOSS: the outcome is unknown
    session_expired,   // ZSESSIONEXPIRED: ephemerals and watches are gone
    timeout,           // no connection within the connection timeout, or ZOPERATIONTIMEOUT
    closed,            // the session was closed
    bad_arguments,     // ZBADARGUMENTS, e.g. a malformed path
    other,             // any other ZooKeeper error (logged with its code)
};
const std::error_category& session_category();
inline std::error_code make_error_code(session_errc e) { return {static_cast<int>(e), session_category()}; }
/// The errc of a ZooKeeper return code (ZOK has none).
session_errc from_zoo(int rc);

/// A znode's data and the version conditional writes name.
struct znode {
    std::string data;
    int32_t version = 0;
    /// The session owning it, 0 for a persistent znode.
    int64_t ephemeral_owner = 0;
    /// The transaction that created it (a broker registration's czxid is its broker epoch).
    int64_t czxid = 0;
};

enum class create_mode { persistent, ephemeral, persistent_sequential, ephemeral_sequential };

/// One ZooKeeper session, driven through the C client (libzookeeper-mt): operations are
/// coroutines completing on `executor` (the broker's event loop), the client's own threads
/// only post to it. Session events (connected, disconnected, expired) and one-shot watches are
/// delivered on the executor too. Not copyable; close() (or destruction) ends the session,
/// failing what is outstanding with session_errc::closed.
///
/// `connect` is Kafka's zookeeper.connect: comma-separated host:port pairs with an optional
/// /chroot after the last one; paths given to operations are below the chroot.
class session {
public:
    enum class state { connecting, connected, expired, closed };
    using state_listener = std::function<void(state)>;
    using watcher = std::function<void()>;

    session(boost::asio::any_io_executor executor, std::string connect, std::chrono::milliseconds session_timeout);
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// Waits until connected; session_errc::timeout after `timeout` (the client keeps trying
    /// until close()).
    boost::asio::awaitable<result<void>> wait_connected(std::chrono::milliseconds timeout);
    /// Called on the executor at every state change.
    void on_state(state_listener l);
    state current_state() const;
    /// The session id negotiated with the server (0 before the first connection).
    int64_t session_id() const;

    /// The created path (with its sequence suffix for sequential modes).
    boost::asio::awaitable<result<std::string>> create(std::string path, std::string data, create_mode mode);
    /// `watch`, if given, fires once when the znode changes or is deleted.
    boost::asio::awaitable<result<znode>> get(std::string path, watcher watch = {});
    /// The new version; bad_version when `expected_version` (-1: any) no longer matches.
    boost::asio::awaitable<result<int32_t>> set(std::string path, std::string data, int32_t expected_version);
    boost::asio::awaitable<result<void>> remove(std::string path, int32_t expected_version);
    /// Children names (not paths); `watch` fires once when the set of children changes.
    boost::asio::awaitable<result<std::vector<std::string>>> children(std::string path, watcher watch = {});
    /// Whether the znode exists; `watch` fires once when it is created, changed or deleted.
    boost::asio::awaitable<result<bool>> exists(std::string path, watcher watch = {});
    /// Creates every missing parent of `path` and `path` itself, persistent and empty.
    boost::asio::awaitable<result<void>> ensure_path(std::string path);

    void close();

    struct impl;

private:
    std::shared_ptr<impl> _impl;
};

/// Creates the chroot of a connect string (`hosts/chroot`) if missing, through a session of
/// its own without the chroot, as Kafka does before its first chrooted session. Nothing to do
/// without a chroot.
boost::asio::awaitable<result<void>> ensure_chroot(boost::asio::any_io_executor ex, const std::string& connect,
                                                   std::chrono::milliseconds connection_timeout);

} // namespace samsa::cluster::zk

template<>
struct std::is_error_code_enum<samsa::cluster::zk::session_errc> : std::true_type {};
