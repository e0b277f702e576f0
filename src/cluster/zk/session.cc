#include "cluster/zk/session.h"

#include "base/logging.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>

namespace samsa::cluster::zk {

namespace asio = boost::asio;

namespace {
constexpr logger log{"zookeeper"};

struct session_category_t final : std::error_category {
    const char* name() const noexcept override { return "zookeeper"; }
    std::string message(int ev) const override
    {
        switch (static_cast<session_errc>(ev)) {
        case session_errc::no_node: return "the znode does not exist";
        case session_errc::node_exists: return "the znode already exists";
        case session_errc::bad_version: return "the znode's version changed";
        case session_errc::not_empty: return "the znode has children";
        case session_errc::connection_loss: return "the connection to ZooKeeper was lost";
        case session_errc::session_expired: return "the ZooKeeper session expired";
        case session_errc::timeout: return "ZooKeeper did not answer in time";
        case session_errc::closed: return "the ZooKeeper session is closed";
        case session_errc::bad_arguments: return "bad arguments for ZooKeeper";
        case session_errc::other: return "ZooKeeper error";
        }
        return "unknown ZooKeeper error";
    }
};

int flags_of(create_mode m)
{
    switch (m) {
    case create_mode::persistent: return ZOO_PERSISTENT;
    case create_mode::ephemeral: return ZOO_EPHEMERAL;
    case create_mode::persistent_sequential: return ZOO_PERSISTENT_SEQUENTIAL;
    case create_mode::ephemeral_sequential: return ZOO_EPHEMERAL_SEQUENTIAL;
    }
    return ZOO_PERSISTENT;
}

/// An operation handed to the C client and not completed yet.
struct op_any {
    virtual ~op_any() = default;
    /// Completes it as closed: the client will never call it back.
    virtual void abandon() = 0;
};

/// A session's outstanding operations. zookeeper_close does not call back everything still
/// out: completions the client had queued (a session expiry fails every pending request) but
/// its completion thread had not run yet when told to stop are dropped with the handle. The
/// session completes those itself once the client's threads are gone.
struct op_set {
    std::mutex mu;
    std::set<op_any*> out;

    void add(op_any* o)
    {
        std::lock_guard g(mu);
        out.insert(o);
    }
    /// Takes `o` out: true if it was there (then the caller completes it).
    bool take(op_any* o)
    {
        std::lock_guard g(mu);
        return out.erase(o) == 1;
    }
    /// After zookeeper_close: nothing can call back any more.
    void abandon_all()
    {
        std::set<op_any*> left;
        {
            std::lock_guard g(mu);
            left.swap(out);
        }
        for (auto* o : left) o->abandon();
    }
};

/// One outstanding operation: the C client completes it on its own thread; the result is
/// posted to the executor, where the waiting coroutine resumes.
template<typename T>
struct op_base : op_any {
    virtual void complete(result<T> r) = 0;
};

template<typename T, typename Handler>
struct op final : op_base<T> {
    op(asio::any_io_executor e, Handler h, op_set& s) : ex(std::move(e)), handler(std::move(h)), owner(s) {}
    void complete(result<T> r) override
    {
        if (owner.take(this)) finish(std::move(r));
    }
    void abandon() override { finish(result<T>(boost::system::in_place_error, make_error_code(session_errc::closed))); }
    void finish(result<T> r)
    {
        asio::post(ex, [h = std::move(handler), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
        delete this;
    }
    asio::any_io_executor ex;
    Handler handler;
    op_set& owner;
};

template<typename T>
result<T> failed(int rc)
{
    return result<T>(boost::system::in_place_error, make_error_code(from_zoo(rc)));
}

/// Runs `start(op_base<T>*)`, which hands the op to the C client (returning ZOK) or not.
template<typename T, typename Start>
asio::awaitable<result<T>> call(asio::any_io_executor ex, op_set& ops, Start start)
{
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(result<T>)>(
        [ex, &ops, start](auto handler) mutable {
            auto* o = new op<T, decltype(handler)>(ex, std::move(handler), ops);
            ops.add(o);
            int rc = start(static_cast<op_base<T>*>(o));
            if (rc != ZOK) o->complete(failed<T>(rc));
        },
        asio::use_awaitable);
}

/// A one-shot watch: fires on the executor on the first node event. Owned by the session's
/// set of armed watches (freed when it fires, or at close() for those that never did).
struct watch_ctx {
    asio::any_io_executor ex;
    session::watcher fn;
    struct watch_set* owner;
};

struct watch_set {
    std::mutex mu;
    std::set<watch_ctx*> armed;

    watch_ctx* add(asio::any_io_executor ex, session::watcher fn)
    {
        auto* w = new watch_ctx{std::move(ex), std::move(fn), this};
        std::lock_guard g(mu);
        armed.insert(w);
        return w;
    }
    /// Takes `w` out of the set: true if it was there (then the caller deletes it).
    bool take(watch_ctx* w)
    {
        std::lock_guard g(mu);
        return armed.erase(w) == 1;
    }
    void drop(watch_ctx* w)
    {
        if (w && take(w)) delete w;
    }
    /// After zookeeper_close: no callback can run any more.
    void clear()
    {
        std::lock_guard g(mu);
        for (auto* w : armed) delete w;
        armed.clear();
    }
};

void watch_fn(zhandle_t*, int type, int, const char*, void* ctx)
{
    auto* w = static_cast<watch_ctx*>(ctx);
    if (type == ZOO_SESSION_EVENT) return; // a dead session's watches are freed at close()
    if (!w->owner->take(w)) return;
    asio::post(w->ex, std::move(w->fn));
    delete w;
}

} // namespace

const std::error_category& session_category()
{
    static const session_category_t c;
    return c;
}

session_errc from_zoo(int rc)
{
    switch (rc) {
    case ZNONODE: return session_errc::no_node;
    case ZNODEEXISTS: return session_errc::node_exists;
    case ZBADVERSION: return session_errc::bad_version;
    case ZNOTEMPTY: return session_errc::not_empty;
    case ZCONNECTIONLOSS: return session_errc::connection_loss;
    case ZSESSIONEXPIRED: return session_errc::session_expired;
    case ZOPERATIONTIMEOUT: return session_errc::timeout;
    case ZCLOSING:
    case ZINVALIDSTATE: return session_errc::closed;
    case ZBADARGUMENTS: return session_errc::bad_arguments;
    default: return session_errc::other;
    }
}

struct session::impl : std::enable_shared_from_this<session::impl> {
    asio::any_io_executor ex;
    zhandle_t* zh = nullptr;
    std::atomic<state> st{state::connecting};
    std::atomic<int64_t> id{0};
    std::mutex mu; // guards listeners
    std::vector<state_listener> listeners;
    watch_set watches;
    op_set ops;

    void set_state(state s)
    {
        st = s;
        if (zh) {
            if (auto* cid = zoo_client_id(zh)) id = cid->client_id;
        }
        // Weak: the session may be gone by the time this runs.
        asio::post(ex, [weak = weak_from_this(), s] {
            auto self = weak.lock();
            if (!self) return;
            std::vector<state_listener> ls;
            {
                std::lock_guard g(self->mu);
                ls = self->listeners;
            }
            for (auto& l : ls) l(s);
        });
    }

    static void global_watcher(zhandle_t*, int type, int state_code, const char*, void* ctx)
    {
        auto* self = static_cast<impl*>(ctx);
        if (type != ZOO_SESSION_EVENT) return;
        if (state_code == ZOO_CONNECTED_STATE) self->set_state(state::connected);
        else if (state_code == ZOO_EXPIRED_SESSION_STATE) self->set_state(state::expired);
        else if (state_code == ZOO_CONNECTING_STATE || state_code == ZOO_ASSOCIATING_STATE) self->set_state(state::connecting);
    }
};

session::session(asio::any_io_executor executor, std::string connect, std::chrono::milliseconds session_timeout)
  : _impl(std::make_shared<impl>())
{
    _impl->ex = std::move(executor);
    static std::once_flag quiet;
    std::call_once(quiet, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR); });
    _impl->zh = zookeeper_init(connect.c_str(), &impl::global_watcher, static_cast<int>(session_timeout.count()),
                               nullptr, _impl.get(), 0);
    if (!_impl->zh) {
        log.error("cannot start a ZooKeeper session with {}: {}", connect, std::strerror(errno));
        _impl->st = state::closed;
    }
}

session::~session() { close(); }

void session::close()
{
    if (!_impl || !_impl->zh) return;
    // Blocks until the client's threads are done; outstanding operations complete as closed.
    zookeeper_close(_impl->zh);
    _impl->zh = nullptr;
    _impl->ops.abandon_all();
    _impl->watches.clear();
    _impl->st = state::closed;
}

void session::on_state(state_listener l)
{
    std::lock_guard g(_impl->mu);
    _impl->listeners.push_back(std::move(l));
}

session::state session::current_state() const { return _impl->st.load(); }
int64_t session::session_id() const { return _impl->id.load(); }

asio::awaitable<result<void>> session::wait_connected(std::chrono::milliseconds timeout)
{
    auto impl = _impl; // this session may be destroyed while the operation is out
    asio::steady_timer t(impl->ex);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (impl->st.load() != state::connected) {
        if (impl->st.load() == state::closed || !impl->zh) co_return make_error_code(session_errc::closed);
        if (impl->st.load() == state::expired) co_return make_error_code(session_errc::session_expired);
        if (std::chrono::steady_clock::now() >= deadline) co_return make_error_code(session_errc::timeout);
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return ok();
}

asio::awaitable<result<std::string>> session::create(std::string path, std::string data, create_mode mode)
{
    if (!_impl->zh) co_return make_error_code(session_errc::closed);
    auto* zh = _impl->zh;
    co_return co_await call<std::string>(_impl->ex, _impl->ops, [&](op_base<std::string>* o) {
        return zoo_acreate(
            zh, path.c_str(), data.data(), static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE, flags_of(mode),
            [](int rc, const char* value, const void* ctx) {
                auto* o = static_cast<op_base<std::string>*>(const_cast<void*>(ctx));
                if (rc == ZOK) o->complete(std::string(value ? value : ""));
                else o->complete(failed<std::string>(rc));
            },
            o);
    });
}

asio::awaitable<result<znode>> session::get(std::string path, watcher watch)
{
    auto impl = _impl; // this session may be destroyed while the operation is out
    if (!impl->zh) co_return make_error_code(session_errc::closed);
    auto* zh = impl->zh;
    auto* w = watch ? impl->watches.add(impl->ex, std::move(watch)) : nullptr;
    auto r = co_await call<znode>(impl->ex, impl->ops, [&](op_base<znode>* o) {
        return zoo_awget(
            zh, path.c_str(), w ? &watch_fn : nullptr, w,
            [](int rc, const char* value, int len, const struct Stat* stat, const void* ctx) {
                auto* o = static_cast<op_base<znode>*>(const_cast<void*>(ctx));
                if (rc != ZOK) return o->complete(failed<znode>(rc));
                znode n;
                if (value && len > 0) n.data.assign(value, static_cast<size_t>(len));
                n.version = stat ? stat->version : 0;
                n.ephemeral_owner = stat ? stat->ephemeralOwner : 0;
                n.czxid = stat ? stat->czxid : 0;
                o->complete(std::move(n));
            },
            o);
    });
    // A watch on a read that failed was never set (ZNONODE sets none for get).
    if (!r) impl->watches.drop(w);
    co_return r;
}

asio::awaitable<result<int32_t>> session::set(std::string path, std::string data, int32_t expected_version)
{
    if (!_impl->zh) co_return make_error_code(session_errc::closed);
    auto* zh = _impl->zh;
    co_return co_await call<int32_t>(_impl->ex, _impl->ops, [&](op_base<int32_t>* o) {
        return zoo_aset(
            zh, path.c_str(), data.data(), static_cast<int>(data.size()), expected_version,
            [](int rc, const struct Stat* stat, const void* ctx) {
                auto* o = static_cast<op_base<int32_t>*>(const_cast<void*>(ctx));
                if (rc == ZOK) o->complete(stat ? stat->version : 0);
                else o->complete(failed<int32_t>(rc));
            },
            o);
    });
}

asio::awaitable<result<void>> session::remove(std::string path, int32_t expected_version)
{
    if (!_impl->zh) co_return make_error_code(session_errc::closed);
    auto* zh = _impl->zh;
    auto r = co_await call<bool>(_impl->ex, _impl->ops, [&](op_base<bool>* o) {
        return zoo_adelete(
            zh, path.c_str(), expected_version,
            [](int rc, const void* ctx) {
                auto* o = static_cast<op_base<bool>*>(const_cast<void*>(ctx));
                if (rc == ZOK) o->complete(true);
                else o->complete(failed<bool>(rc));
            },
            o);
    });
    if (!r) co_return r.error();
    co_return ok();
}

asio::awaitable<result<std::vector<std::string>>> session::children(std::string path, watcher watch)
{
    auto impl = _impl; // this session may be destroyed while the operation is out
    using names = std::vector<std::string>;
    if (!impl->zh) co_return make_error_code(session_errc::closed);
    auto* zh = impl->zh;
    auto* w = watch ? impl->watches.add(impl->ex, std::move(watch)) : nullptr;
    auto r = co_await call<names>(impl->ex, impl->ops, [&](op_base<names>* o) {
        return zoo_awget_children(
            zh, path.c_str(), w ? &watch_fn : nullptr, w,
            [](int rc, const struct String_vector* strings, const void* ctx) {
                auto* o = static_cast<op_base<names>*>(const_cast<void*>(ctx));
                if (rc != ZOK) return o->complete(failed<names>(rc));
                names out;
                for (int i = 0; strings && i < strings->count; ++i) out.emplace_back(strings->data[i]);
                o->complete(std::move(out));
            },
            o);
    });
    if (!r) impl->watches.drop(w);
    co_return r;
}

asio::awaitable<result<bool>> session::exists(std::string path, watcher watch)
{
    auto impl = _impl; // this session may be destroyed while the operation is out
    if (!impl->zh) co_return result<bool>(boost::system::in_place_error, make_error_code(session_errc::closed));
    auto* zh = impl->zh;
    auto* w = watch ? impl->watches.add(impl->ex, std::move(watch)) : nullptr;
    auto r = co_await call<bool>(impl->ex, impl->ops, [&](op_base<bool>* o) {
        return zoo_awexists(
            zh, path.c_str(), w ? &watch_fn : nullptr, w,
            [](int rc, const struct Stat*, const void* ctx) {
                auto* o = static_cast<op_base<bool>*>(const_cast<void*>(ctx));
                if (rc == ZOK) o->complete(true);
                else if (rc == ZNONODE) o->complete(false); // the watch stays set for its creation
                else o->complete(failed<bool>(rc));
            },
            o);
    });
    if (!r) impl->watches.drop(w);
    co_return r;
}

asio::awaitable<result<void>> session::ensure_path(std::string path)
{
    for (size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos != path.size() && path[pos] != '/') continue;
        auto r = co_await create(path.substr(0, pos), "", create_mode::persistent);
        if (!r && r.error() != make_error_code(session_errc::node_exists)) co_return r.error();
    }
    co_return ok();
}

asio::awaitable<result<void>> ensure_chroot(asio::any_io_executor ex, const std::string& connect,
                                           std::chrono::milliseconds connection_timeout)
{
    auto slash = connect.find('/');
    if (slash == std::string::npos) co_return ok();
    auto chroot = connect.substr(slash);
    while (chroot.size() > 1 && chroot.back() == '/') chroot.pop_back();
    if (chroot == "/") co_return ok();
    session root(ex, connect.substr(0, slash), connection_timeout);
    if (auto c = co_await root.wait_connected(connection_timeout); !c) co_return c.error();
    auto r = co_await root.ensure_path(chroot);
    root.close();
    co_return r;
}

} // namespace samsa::cluster::zk
