#include "net/server.h"

#include "base/logging.h"
#include "bytes/endian.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <stdexcept>
#include <map>
#include <netinet/tcp.h>
#include <sys/sendfile.h>

namespace samsa::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto use_tuple = asio::as_tuple(use_awaitable);

namespace {
constexpr logger log{"net"};
/// File regions up to this size are read into memory and written with the rest of the
/// response in one call; larger ones go out with sendfile.
constexpr size_t max_inline_region_bytes = 128 * 1024;
/// Ready responses are gathered into one write up to about this many bytes.
constexpr size_t max_gather_bytes = 1 << 20;
/// Per-connection read buffer: room for a few small requests, small enough for many idle
/// connections.
constexpr size_t read_buffer_bytes = 8 * 1024;

int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

class connection;

struct server::impl : std::enable_shared_from_this<server::impl> {
    asio::io_context& io;
    server_config cfg;
    std::shared_ptr<request_handler> handler;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::vector<bound> bounds;
    std::map<uint64_t, std::shared_ptr<connection>> connections;
    uint64_t next_id = 1;
    /// Held by every coroutine below; closed by drain() and stop().
    gate tasks;
    bool stopped = false; // not accepting
    bool closed = false;  // every connection closed

    impl(asio::io_context& i, server_config c, std::shared_ptr<request_handler> h)
      : io(i), cfg(std::move(c)), handler(std::move(h))
    {}
    static awaitable<void> accept_loop(std::shared_ptr<impl> self, gate::holder hold, tcp::acceptor& acc,
                                       std::string listener);
};

/// One client connection: a reader that hands frames to the handler (up to
/// max_in_flight_per_connection at once), a writer that sends responses in request order, and
/// an idle watchdog. All three run on the server's io_context.
class connection : public std::enable_shared_from_this<connection> {
public:
    connection(std::shared_ptr<server::impl> srv, tcp::socket s, std::shared_ptr<connection_info> info)
      : _srv(std::move(srv))
      , _sock(std::move(s))
      , _info(std::move(info))
      , _writer_wake(_sock.get_executor(), asio::steady_timer::time_point::max())
      , _reader_wake(_sock.get_executor(), asio::steady_timer::time_point::max())
      , _idle(_sock.get_executor())
    {
        _last_activity = now_ms();
    }

    /// Starts the reader, the writer and the idle watchdog, each holding the server's gate;
    /// false (the connection closed) when the gate is already closed.
    bool start()
    {
        auto& g = _srv->tasks;
        auto r = g.try_enter(), w = g.try_enter(), i = g.try_enter();
        if (!r || !w || !i) {
            close();
            return false;
        }
        auto self = shared_from_this();
        asio::co_spawn(_sock.get_executor(), read_loop(self, std::move(*r)), asio::detached);
        asio::co_spawn(_sock.get_executor(), write_loop(self, std::move(*w)), asio::detached);
        asio::co_spawn(_sock.get_executor(), idle_watch(self, std::move(*i)), asio::detached);
        return true;
    }

    void close()
    {
        if (_closing) return;
        _closing = true;
        boost::system::error_code ec;
        _sock.shutdown(tcp::socket::shutdown_both, ec);
        _sock.close(ec);
        _writer_wake.cancel();
        _reader_wake.cancel();
        _idle.cancel();
        _srv->connections.erase(_info->id);
    }

    /// Reads no more requests: those already handed to the handler are answered, then the
    /// connection closes (as at the client's end of stream). Frames received but not yet
    /// handed over are dropped unanswered.
    void stop_reading()
    {
        if (_closing || _draining) return;
        _draining = true;
        boost::system::error_code ec;
        _sock.shutdown(tcp::socket::shutdown_receive, ec); // wakes the pending read with EOF
        _reader_wake.cancel();
        _writer_wake.cancel();
    }

private:
    struct slot {
        bool done = false;
        bool failed = false;
        std::optional<protocol::encoded_message> response;
    };

    /// Reads frames through a small buffer: one recv usually brings a whole request (or
    /// several pipelined ones), instead of one for the size and one for the body. A frame
    /// longer than what is buffered is completed by reading straight into it.
    // Each coroutine keeps the connection (and so the server and its gate) alive through
    // `self`, moved into a local declared before the gate holder's: the holder leaves first.
    awaitable<void> read_loop(std::shared_ptr<connection> keep, gate::holder hold)
    {
        auto self = std::move(keep);
        auto in_gate = std::move(hold);
        const auto& cfg = _srv->cfg;
        std::vector<uint8_t> buf(read_buffer_bytes);
        size_t begin = 0, end = 0; // the unconsumed bytes are buf[begin, end)
        auto fill = [&](size_t need) -> awaitable<bool> {
            if (buf.size() - begin < need) {
                std::memmove(buf.data(), buf.data() + begin, end - begin);
                end -= begin;
                begin = 0;
            }
            while (end - begin < need) {
                auto [ec, n] = co_await _sock.async_read_some(asio::buffer(buf.data() + end, buf.size() - end), use_tuple);
                if (ec) co_return false;
                end += n;
                _last_activity = now_ms();
            }
            co_return true;
        };
        while (!_closing && !_draining) {
            if (!co_await fill(4)) break;
            int32_t size = be::load<int32_t>(buf.data() + begin);
            begin += 4;
            if (size < 0 || size > cfg.max_request_bytes) {
                log.warn("closing connection {} from {}: declared request size {} is outside 0..{} "
                         "(socket.request.max.bytes)",
                         _info->id, _info->peer, size, cfg.max_request_bytes);
                break;
            }
            frame_bytes frame(static_cast<size_t>(size));
            size_t have = std::min(frame.size(), end - begin);
            if (have > 0) std::memcpy(frame.data(), buf.data() + begin, have);
            begin += have;
            if (have < frame.size()) {
                auto [ec, n] = co_await asio::async_read(_sock, asio::buffer(frame.data() + have, frame.size() - have),
                                                         use_tuple);
                if (ec) break;
                _last_activity = now_ms();
            }
            if (begin == end) begin = end = 0;
            while (!_closing && _queue.size() >= cfg.max_in_flight_per_connection) {
                co_await _reader_wake.async_wait(use_tuple);
            }
            if (_closing || _draining) break;
            auto h = _srv->tasks.try_enter();
            if (!h) break; // shutting down: read no more
            auto s = std::make_shared<slot>();
            _queue.push_back(s);
            asio::co_spawn(_sock.get_executor(), run_handler(self, std::move(*h), s, std::move(frame)), asio::detached);
        }
        // Let the writer finish what is queued, then close.
        _reading_done = true;
        _writer_wake.cancel();
    }

    static awaitable<void> run_handler(std::shared_ptr<connection> self, gate::holder hold, std::shared_ptr<slot> s,
                                       frame_bytes frame)
    {
        auto in_gate = std::move(hold);
        try {
            s->response = co_await self->_srv->handler->handle(self->_info, std::move(frame));
        } catch (const std::exception& e) {
            log.warn("closing connection {} from {}: {}", self->_info->id, self->_info->peer, e.what());
            s->failed = true;
        }
        s->done = true;
        self->_writer_wake.cancel();
    }

    awaitable<void> write_loop(std::shared_ptr<connection> keep, gate::holder hold)
    {
        auto self = std::move(keep);
        auto in_gate = std::move(hold);
        while (!_closing) {
            if (_queue.empty() || !_queue.front()->done) {
                if (_reading_done && _queue.empty()) break;
                co_await _writer_wake.async_wait(use_tuple);
                continue;
            }
            // Every response ready at the front goes out together: small ones (file regions
            // read into memory) in one gathered write, a large file region with sendfile.
            // A failed request closes the connection, after the responses to the requests
            // before it.
            bool ok = true, failed = false;
            gather g;
            while (ok && !_queue.empty() && _queue.front()->done) {
                auto s = _queue.front();
                _queue.pop_front();
                _reader_wake.cancel();
                if (s->failed) {
                    failed = true;
                    break;
                }
                if (!s->response) continue;
                if (spliced_bytes(*s->response) > max_inline_region_bytes) {
                    ok = co_await g.flush(_sock) && co_await write_with_sendfile(*s->response);
                } else {
                    ok = g.add(*s->response, s);
                }
                if (g.size() > max_gather_bytes) ok = ok && co_await g.flush(_sock);
            }
            ok = ok && co_await g.flush(_sock);
            if (!ok || failed) break;
            _last_activity = now_ms();
        }
        close();
    }

    static size_t spliced_bytes(const protocol::encoded_message& m)
    {
        size_t n = 0;
        for (auto& sp : m.splices) n += static_cast<size_t>(sp.region.len);
        return n;
    }

    /// Responses collected for one gathered write (writev): size prefixes, encoded bytes and
    /// the contents of small file regions, read with pread.
    class gather {
    public:
        /// `keep` holds the memory `m` lives in until the write is done.
        bool add(const protocol::encoded_message& m, std::shared_ptr<const void> keep)
        {
            auto& prefix = _owned.emplace_back(4);
            be::store<int32_t>(prefix.data(), static_cast<int32_t>(m.total_size()));
            _bufs.push_back(asio::buffer(prefix));
            size_t pos = 0;
            for (auto& sp : m.splices) {
                _bufs.push_back(asio::buffer(m.data.data() + pos, sp.after - pos));
                pos = sp.after;
                auto& region = _owned.emplace_back();
                try {
                    protocol::read_file_region(sp.region, region);
                } catch (const std::exception& e) {
                    log.error("cannot read a file region for a response: {}", e.what());
                    return false;
                }
                _bufs.push_back(asio::buffer(region));
            }
            _bufs.push_back(asio::buffer(m.data.data() + pos, m.data.size() - pos));
            _keep.push_back(std::move(keep));
            _bytes += m.total_size() + 4;
            return true;
        }
        size_t size() const { return _bytes; }
        awaitable<bool> flush(tcp::socket& sock)
        {
            if (_bufs.empty()) co_return true;
            auto [ec, n] = co_await asio::async_write(sock, _bufs, use_tuple);
            _bufs.clear();
            _owned.clear();
            _keep.clear();
            _bytes = 0;
            co_return !ec;
        }

    private:
        std::vector<asio::const_buffer> _bufs;
        std::deque<samsa::bytes> _owned; // stable addresses while the write runs
        std::vector<std::shared_ptr<const void>> _keep;
        size_t _bytes = 0;
    };

    awaitable<bool> write_with_sendfile(const protocol::encoded_message& m)
    {
        // Corked, so the size prefix, headers and file data leave in full segments.
        int one = 1, zero = 0;
        ::setsockopt(_sock.native_handle(), IPPROTO_TCP, TCP_CORK, &one, sizeof one);
        bool ok = co_await write_response(m);
        ::setsockopt(_sock.native_handle(), IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
        co_return ok;
    }

    awaitable<bool> write_response(const protocol::encoded_message& m)
    {
        uint8_t size[4];
        be::store<int32_t>(size, static_cast<int32_t>(m.total_size()));
        size_t pos = 0;
        bool first = true;
        auto write_mem = [&](size_t upto) -> awaitable<bool> {
            std::array<asio::const_buffer, 2> bufs{asio::buffer(size, first ? 4 : 0),
                                                   asio::buffer(m.data.data() + pos, upto - pos)};
            first = false;
            auto [ec, n] = co_await asio::async_write(_sock, bufs, use_tuple);
            pos = upto;
            co_return !ec;
        };
        for (auto& sp : m.splices) {
            if (!co_await write_mem(sp.after)) co_return false;
            if (!co_await send_file(sp.region)) co_return false;
        }
        co_return co_await write_mem(m.data.size());
    }

    awaitable<bool> send_file(const protocol::file_region& r)
    {
        off_t off = r.pos;
        size_t left = static_cast<size_t>(r.len);
        _sock.native_non_blocking(true);
        while (left > 0) {
            ssize_t n = ::sendfile(_sock.native_handle(), r.fd, &off, left);
            if (n > 0) {
                left -= static_cast<size_t>(n);
            } else if (n == 0) {
                log.error("connection {}: file region ended early (file truncated?)", _info->id);
                co_return false;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                auto [ec] = co_await _sock.async_wait(tcp::socket::wait_write, use_tuple);
                if (ec) co_return false;
            } else if (errno != EINTR) {
                co_return false;
            }
        }
        co_return true;
    }

    awaitable<void> idle_watch(std::shared_ptr<connection> keep, gate::holder hold)
    {
        auto self = std::move(keep);
        auto in_gate = std::move(hold);
        int64_t idle = _srv->cfg.connections_max_idle_ms;
        if (idle <= 0) co_return;
        while (!_closing) {
            int64_t left = _last_activity + idle - now_ms();
            if (left <= 0) {
                if (_queue.empty()) {
                    log.debug("closing idle connection {} from {}", _info->id, _info->peer);
                    close();
                    break;
                }
                left = idle;
            }
            _idle.expires_after(std::chrono::milliseconds(left));
            co_await _idle.async_wait(use_tuple);
        }
    }

    std::shared_ptr<server::impl> _srv;
    tcp::socket _sock;
    std::shared_ptr<connection_info> _info;
    asio::steady_timer _writer_wake;
    asio::steady_timer _reader_wake;
    asio::steady_timer _idle;
    std::deque<std::shared_ptr<slot>> _queue;
    int64_t _last_activity = 0;
    bool _closing = false;
    bool _draining = false;
    bool _reading_done = false;
};

awaitable<void> server::impl::accept_loop(std::shared_ptr<impl> keep, gate::holder hold, tcp::acceptor& acc,
                                          std::string listener)
{
    auto self = std::move(keep);
    auto in_gate = std::move(hold);
    while (!self->stopped) {
        auto [ec, sock] = co_await acc.async_accept(use_tuple);
        if (!ec && self->stopped) break; // accepted just before drain() or stop(): closed unserved
        if (ec) {
            if (self->stopped || ec == asio::error::operation_aborted) break;
            log.warn("accept on {} failed: {}", listener, ec.message());
            continue;
        }
        boost::system::error_code ig;
        sock.set_option(tcp::no_delay(true), ig);
        if (self->cfg.socket_send_buffer_bytes > 0) sock.set_option(asio::socket_base::send_buffer_size(self->cfg.socket_send_buffer_bytes), ig);
        if (self->cfg.socket_receive_buffer_bytes > 0) {
            sock.set_option(asio::socket_base::receive_buffer_size(self->cfg.socket_receive_buffer_bytes), ig);
        }
        auto info = std::make_shared<connection_info>();
        info->id = self->next_id++;
        info->listener = listener;
        auto ep = sock.remote_endpoint(ig);
        info->peer = ig ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
        auto c = std::make_shared<connection>(self, std::move(sock), info);
        self->connections.emplace(info->id, c);
        if (!c->start()) break;
    }
}

server::server(asio::io_context& io, server_config cfg, std::shared_ptr<request_handler> handler)
  : _impl(std::make_shared<impl>(io, std::move(cfg), std::move(handler)))
{}

server::~server() { stop(); }

void server::start()
{
    for (auto& l : _impl->cfg.listeners) {
        auto acc = std::make_unique<tcp::acceptor>(_impl->io);
        try {
            auto addr = l.host.empty() ? asio::ip::address(asio::ip::address_v4::any())
                                       : asio::ip::make_address(l.host == "localhost" ? "127.0.0.1" : l.host);
            tcp::endpoint ep(addr, l.port);
            acc->open(ep.protocol());
            acc->set_option(asio::socket_base::reuse_address(true));
            acc->bind(ep);
            acc->listen(asio::socket_base::max_listen_connections);
        } catch (const boost::system::system_error& e) {
            // The reason and the address, without Boost's source location.
            throw std::runtime_error(fmt::format("cannot listen on {}://{}:{}: {}", l.name,
                                                 l.host.empty() ? "0.0.0.0" : l.host, l.port, e.code().message()));
        }
        auto local = acc->local_endpoint();
        _impl->bounds.push_back({l.name, local.address().to_string(), local.port()});
        asio::co_spawn(_impl->io, impl::accept_loop(_impl, _impl->tasks.enter(), *acc, l.name), asio::detached);
        _impl->acceptors.push_back(std::move(acc));
    }
}

void server::stop()
{
    if (_impl->closed) return;
    _impl->closed = _impl->stopped = true;
    for (auto& a : _impl->acceptors) {
        boost::system::error_code ec;
        a->close(ec);
    }
    auto conns = _impl->connections;
    for (auto& [id, c] : conns) c->close();
    _impl->tasks.close();
}

void server::drain()
{
    if (_impl->stopped) return;
    _impl->stopped = true;
    for (auto& a : _impl->acceptors) {
        boost::system::error_code ec;
        a->close(ec);
    }
    auto conns = _impl->connections;
    for (auto& [id, c] : conns) c->stop_reading();
    _impl->tasks.close();
}

std::vector<server::bound> server::bound_listeners() const { return _impl->bounds; }
size_t server::connection_count() const { return _impl->connections.size(); }
gate& server::tasks() { return _impl->tasks; }

} // namespace samsa::net
