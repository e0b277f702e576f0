#include "cli/broker_socket.h"

#include "cli/args.h"
#include "protocol/headers.h"
#include "protocol/messages/metadata.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <utility>

namespace samsa::cli {

namespace {

using clock = std::chrono::steady_clock;

/// An owned socket descriptor.
class socket_fd {
public:
    socket_fd() = default;
    explicit socket_fd(int fd) : _fd(fd) {}
    socket_fd(socket_fd&& o) noexcept : _fd(std::exchange(o._fd, -1)) {}
    socket_fd& operator=(socket_fd&& o) noexcept
    {
        std::swap(_fd, o._fd);
        return *this;
    }
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    ~socket_fd()
    {
        if (_fd >= 0) ::close(_fd);
    }
    int get() const { return _fd; }
    int release() { return std::exchange(_fd, -1); }

private:
    int _fd = -1;
};

bool valid_host_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '%' || c == ':';
}

std::string trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

broker_address parse_one(const std::string& text)
{
    auto bad = [&](std::string_view why) {
        return cli_error(fmt::format("Invalid bootstrap server '{}': {}", text, why));
    };
    std::string_view rest = text;
    if (auto scheme = rest.find("://"); scheme != std::string_view::npos) rest.remove_prefix(scheme + 3);
    std::string_view host;
    std::string_view port;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) throw bad("unbalanced '[' in the host");
        host = rest.substr(1, close - 1);
        rest.remove_prefix(close + 1);
        if (!rest.starts_with(':')) throw bad("expected host:port");
        port = rest.substr(1);
    } else {
        auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) throw bad("expected host:port");
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty()) throw bad("no host name");
    for (char c : host) {
        if (!valid_host_char(c)) throw bad(fmt::format("'{}' is not a valid host name", host));
    }
    if (port.empty()) throw bad("no port");
    auto n = parse_int(port);
    if (!n || port.front() == '+' || port.front() == '-') throw bad(fmt::format("the port '{}' is not a number", port));
    if (*n < 1 || *n > 65535) throw bad(fmt::format("the port {} is out of range (1-65535)", *n));
    return {text, std::string(host), static_cast<uint16_t>(*n)};
}

int remaining_ms(clock::time_point deadline)
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

/// A non-blocking connect bounded by `deadline`: the connected socket (blocking again), or the
/// errno of the failure (ETIMEDOUT when the deadline passed).
socket_fd connect_before(const addrinfo& ai, clock::time_point deadline, int& error)
{
    socket_fd fd(::socket(ai.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        error = errno;
        return {};
    }
    if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            error = errno;
            return {};
        }
        pollfd p{fd.get(), POLLOUT, 0};
        int r;
        do {
            r = ::poll(&p, 1, remaining_ms(deadline));
        } while (r < 0 && errno == EINTR);
        if (r == 0) {
            error = ETIMEDOUT;
            return {};
        }
        int so_error = 0;
        socklen_t len = sizeof so_error;
        if (r < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
        if (so_error != 0) {
            error = so_error;
            return {};
        }
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    error = 0;
    return fd;
}

std::string errno_cause(int error, int timeout_ms)
{
    if (error == ECONNREFUSED) return "connection refused";
    if (error == ETIMEDOUT) return fmt::format("no answer within {} ms", timeout_ms);
    if (error == ENETUNREACH) return "network unreachable";
    if (error == EHOSTUNREACH) return "host unreachable";
    return std::strerror(error);
}

/// Connects to the first address that accepts; on failure `causes` gets one "addr: cause" each.
socket_fd connect_any(const std::vector<broker_address>& addresses, int timeout_ms, std::vector<std::string>& causes)
{
    auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
    for (auto& a : addresses) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* list = nullptr;
        int rc = ::getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &list);
        if (rc != 0) {
            causes.push_back(fmt::format("{}: name does not resolve ({})", a.text,
                                         rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)));
            continue;
        }
        std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(list, ::freeaddrinfo);
        int error = ETIMEDOUT;
        for (addrinfo* ai = list; ai; ai = ai->ai_next) {
            // A refusal on one address family (say ::1) says little when another one answers.
            int e = 0;
            auto fd = connect_before(*ai, deadline, e);
            if (fd.get() >= 0) return fd;
            if (error == ETIMEDOUT || e == ECONNREFUSED) error = e;
            if (e == ETIMEDOUT) break;
        }
        causes.push_back(fmt::format("{}: {}", a.text, errno_cause(error, timeout_ms)));
    }
    return {};
}

bool send_all(int fd, bytes_view data)
{
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data = data.subspan(static_cast<size_t>(n));
    }
    return true;
}

bool recv_all(int fd, uint8_t* out, size_t size)
{
    while (size > 0) {
        ssize_t n = ::recv(fd, out, size, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        out += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

} // namespace

std::vector<broker_address> parse_bootstrap(std::string_view servers)
{
    std::vector<broker_address> out;
    for (auto& piece : split(servers, ',')) {
        auto text = trim(piece);
        if (!text.empty()) out.push_back(parse_one(text));
    }
    if (out.empty()) throw cli_error("No bootstrap server given (bootstrap.servers is empty)");
    return out;
}

namespace {
/// cli_error "Cannot reach the broker(s) at ..." with the cause of each failed address.
[[noreturn]] void throw_unreachable(const std::vector<broker_address>& addresses, const std::vector<std::string>& causes)
{
    std::string servers;
    for (auto& a : addresses) servers += (servers.empty() ? "" : ",") + a.text;
    if (addresses.size() == 1) {
        // "host:port: cause" would name the address twice.
        auto& only = causes.front();
        throw cli_error(fmt::format("Cannot reach the broker(s) at {}", only));
    }
    std::string all;
    for (auto& c : causes) all += (all.empty() ? "" : "; ") + c;
    throw cli_error(fmt::format("Cannot reach the broker(s) at {}: {}", servers, all));
}
} // namespace

void check_reachable(const std::vector<broker_address>& addresses, int timeout_ms)
{
    std::vector<std::string> causes;
    if (connect_any(addresses, timeout_ms, causes).get() < 0) throw_unreachable(addresses, causes);
}

broker_connection::broker_connection(const std::vector<broker_address>& addresses, int timeout_ms)
{
    std::vector<std::string> causes;
    auto fd = connect_any(addresses, timeout_ms, causes);
    if (fd.get() < 0) throw_unreachable(addresses, causes);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    for (auto& a : addresses) _peer += (_peer.empty() ? "" : ",") + a.text;
    _fd = fd.release();
}

broker_connection::~broker_connection()
{
    if (_fd >= 0) ::close(_fd);
}

void broker_connection::throw_bad_response(const char* what) const
{
    throw cli_error(fmt::format("The broker at {} sent a response that cannot be read: {}", _peer, what));
}

bytes broker_connection::exchange(protocol::api_key key, int16_t version, bytes_view body)
{
    const int32_t correlation_id = _next_correlation++;
    protocol::writer w;
    auto frame = w.reserve_int32();
    protocol::request_header{key, version, correlation_id, std::string("samsa-cli")}.encode(w);
    w.write_raw(body);
    w.patch_frame_size(frame);
    auto msg = std::move(w).finish();
    auto lost = [&] { return cli_error(fmt::format("The connection to the broker at {} failed ({} request)", _peer, key)); };
    if (!send_all(_fd, msg.data)) throw lost();
    uint8_t size_bytes[4];
    if (!recv_all(_fd, size_bytes, sizeof size_bytes)) throw lost();
    uint32_t size = (uint32_t(size_bytes[0]) << 24) | (uint32_t(size_bytes[1]) << 16) | (uint32_t(size_bytes[2]) << 8) |
                    uint32_t(size_bytes[3]);
    if (size > (64u << 20)) throw_bad_response("oversized frame");
    bytes resp(size);
    if (!recv_all(_fd, resp.data(), resp.size())) throw lost();
    size_t header_bytes = 0;
    decode_response(resp, [&](protocol::reader& r) {
        protocol::response_header h;
        h.decode(r, protocol::response_header_version(key, version));
        if (h.correlation_id != correlation_id) throw protocol::decode_error("correlation id mismatch");
        header_bytes = resp.size() - r.remaining();
    });
    return bytes(resp.begin() + static_cast<std::ptrdiff_t>(header_bytes), resp.end());
}

std::map<std::string, protocol::uuid> fetch_topic_ids(const std::vector<broker_address>& addresses,
                                                      const std::vector<std::string>& topics, int timeout_ms)
{
    std::map<std::string, protocol::uuid> ids;
    if (topics.empty()) return ids;
    // Metadata v10 is the first version with topic ids (Kafka 2.8).
    constexpr int16_t version = 10;
    protocol::metadata_request req;
    req.allow_auto_topic_creation = false;
    for (auto& t : topics) {
        protocol::metadata_request::metadata_request_topic rt;
        rt.name = t;
        req.topics->push_back(std::move(rt));
    }
    try {
        broker_connection conn(addresses, timeout_ms);
        auto resp = conn.call<protocol::metadata_api>(req, version);
        for (auto& t : resp.topics) {
            if (t.error_code == 0 && t.name && !t.topic_id.is_zero()) ids[*t.name] = t.topic_id;
        }
    } catch (const cli_error&) {
        ids.clear(); // best effort
    }
    return ids;
}

} // namespace samsa::cli

namespace samsa::cli {

cluster_view describe_cluster(broker_connection& conn, const std::optional<std::string>& topic, bool all_topics)
{
    protocol::metadata_request req;
    req.allow_auto_topic_creation = false;
    if (all_topics) {
        req.topics = std::nullopt;
    } else if (topic) {
        protocol::metadata_request::metadata_request_topic t;
        t.name = *topic;
        req.topics->push_back(std::move(t));
    } else {
        req.topics = std::vector<protocol::metadata_request::metadata_request_topic>{};
    }
    auto resp = conn.call<protocol::metadata_api>(req, 9);
    return {resp.controller_id, resp.brokers, resp.topics};
}

std::vector<broker_address> address_of(const protocol::metadata_response::metadata_response_broker& b)
{
    return {broker_address{fmt::format("{}:{}", b.host, b.port), b.host, static_cast<uint16_t>(b.port)}};
}

const protocol::metadata_response::metadata_response_broker& broker_by_id(const cluster_view& c, int32_t id)
{
    for (auto& b : c.brokers) {
        if (b.node_id == id) return b;
    }
    throw cli_error(fmt::format("Broker {} is not in the cluster", id));
}

} // namespace samsa::cli
