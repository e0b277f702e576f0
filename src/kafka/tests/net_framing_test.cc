// The connection layer's framing over a real loopback socket: whatever way the bytes of
// size-prefixed frames arrive (many frames in one segment, one byte at a time, frames larger
// than the read buffer), each frame reaches the handler whole and its response comes back in
// order.
#include "bytes/endian.h"
#include "net/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <random>
#include <thread>

namespace samsa::net {
namespace {

/// Answers every frame with the frame itself; rejects a frame that starts with 0xff.
class echo_handler : public request_handler {
public:
    boost::asio::awaitable<std::optional<protocol::encoded_message>>
    handle(std::shared_ptr<const connection_info>, frame_bytes frame) override
    {
        if (!frame.empty() && frame[0] == 0xff) throw std::runtime_error("rejected frame");
        protocol::encoded_message m;
        m.data.assign(frame.begin(), frame.end());
        co_return m;
    }
};

class echo_server {
public:
    echo_server()
    {
        server_config cfg;
        cfg.listeners.push_back({"PLAINTEXT", "127.0.0.1", 0});
        cfg.max_request_bytes = 1 << 20;
        _server = std::make_unique<server>(_io, cfg, std::make_shared<echo_handler>());
        _server->start();
        port = _server->bound_listeners().at(0).port;
        _thread = std::thread([this] { _io.run(); });
    }
    ~echo_server()
    {
        std::promise<void> stopped;
        boost::asio::post(_io, [&] {
            _server->stop();
            stopped.set_value();
        });
        stopped.get_future().wait();
        _io.stop();
        _thread.join();
    }
    uint16_t port = 0;

private:
    boost::asio::io_context _io;
    std::unique_ptr<server> _server;
    std::thread _thread;
};

int connect_to(uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

void send_all(int fd, const uint8_t* p, size_t n)
{
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) throw std::runtime_error("send failed");
        p += w;
        n -= static_cast<size_t>(w);
    }
}

bytes recv_exactly(int fd, size_t n)
{
    bytes out(n);
    size_t got = 0;
    while (got < n) {
        ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
        if (r <= 0) throw std::runtime_error("connection closed or timed out while reading a response");
        got += static_cast<size_t>(r);
    }
    return out;
}

bytes frame_of(const bytes& body)
{
    bytes f(4 + body.size());
    be::store<int32_t>(f.data(), static_cast<int32_t>(body.size()));
    std::copy(body.begin(), body.end(), f.begin() + 4);
    return f;
}

/// The frames of `bodies`, back to back: what a client pipelining them writes.
bytes frames_of(const std::vector<bytes>& bodies)
{
    bytes all;
    for (auto& b : bodies) {
        auto f = frame_of(b);
        all.insert(all.end(), f.begin(), f.end());
    }
    return all;
}

std::vector<bytes> bodies(std::vector<size_t> sizes)
{
    std::mt19937 rng(7);
    std::vector<bytes> out;
    for (size_t s : sizes) {
        bytes b(s);
        for (auto& c : b) c = static_cast<uint8_t>(rng());
        if (!b.empty() && b[0] == 0xff) b[0] = 0; // 0xff: what echo_handler rejects
        out.push_back(std::move(b));
    }
    return out;
}

void expect_echoes(int fd, const std::vector<bytes>& sent)
{
    for (size_t i = 0; i < sent.size(); ++i) {
        auto size = recv_exactly(fd, 4);
        ASSERT_EQ(be::load<int32_t>(size.data()), static_cast<int32_t>(sent[i].size())) << "response " << i;
        EXPECT_EQ(recv_exactly(fd, sent[i].size()), sent[i]) << "response " << i;
    }
}

TEST(net_framing, many_frames_in_one_write_including_empty_and_larger_than_the_buffer)
{
    echo_server srv;
    int fd = connect_to(srv.port);
    auto sent = bodies({1, 0, 100, 4096, 8188, 8192, 8200, 200'000, 3, 65'536, 17});
    auto all = frames_of(sent);
    send_all(fd, all.data(), all.size());
    expect_echoes(fd, sent);
    ::close(fd);
}

TEST(net_framing, frames_arriving_a_byte_at_a_time)
{
    echo_server srv;
    int fd = connect_to(srv.port);
    auto sent = bodies({5, 0, 300, 9000});
    for (auto& b : sent) {
        auto f = frame_of(b);
        for (size_t i = 0; i < f.size(); ++i) {
            send_all(fd, &f[i], 1);
            if (i % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    expect_echoes(fd, sent);
    ::close(fd);
}

TEST(net_framing, request_response_in_lockstep_across_buffer_boundaries)
{
    echo_server srv;
    int fd = connect_to(srv.port);
    // Sizes chosen so that consecutive frames straddle the read buffer's end in every way.
    std::vector<size_t> sizes;
    for (size_t s = 1000; s < 1100; ++s) sizes.push_back(s);
    for (auto& b : bodies(sizes)) {
        auto f = frame_of(b);
        send_all(fd, f.data(), f.size());
        expect_echoes(fd, {b});
    }
    ::close(fd);
}

TEST(net_framing, an_oversized_declared_size_closes_only_that_connection)
{
    echo_server srv;
    int bad = connect_to(srv.port);
    uint8_t huge[4];
    be::store<int32_t>(huge, (1 << 20) + 1);
    send_all(bad, huge, 4);
    uint8_t c;
    EXPECT_EQ(::recv(bad, &c, 1, 0), 0) << "the connection should be closed";
    ::close(bad);
    int good = connect_to(srv.port);
    auto sent = bodies({10});
    auto f = frame_of(sent[0]);
    send_all(good, f.data(), f.size());
    expect_echoes(good, sent);
    ::close(good);
}

TEST(net_framing, requests_before_a_rejected_one_are_answered_then_the_connection_closes)
{
    echo_server srv;
    int fd = connect_to(srv.port);
    auto sent = bodies({10, 2000, 30});
    auto all = sent;
    all.push_back(bytes{0xff, 0x00}); // rejected
    all.push_back(bytes{0x01});       // never answered
    auto wire = frames_of(all);
    send_all(fd, wire.data(), wire.size()); // one segment: the reader sees all five at once
    expect_echoes(fd, sent);
    uint8_t c;
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0) << "nothing after the rejected request, then the close";
    ::close(fd);
}

} // namespace
} // namespace samsa::net
