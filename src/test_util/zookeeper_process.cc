#include "test_util/zookeeper_process.h"

#include "test_util/broker_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace samsa::test {

namespace {
constexpr const char* server_jar = "/usr/share/java/zookeeper.jar";

/// A port nothing listens on now (bound to port 0 and released).
uint16_t free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

bool accepts(uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
}
} // namespace

zookeeper_process::zookeeper_process() : _dir(std::make_unique<temp_dir>("samsa-zookeeper"))
{
    if (::access(server_jar, R_OK) != 0) {
        throw std::runtime_error(std::string(server_jar) + " is missing: install Debian's zookeeper (scripts/setup.sh test)");
    }
    _port = free_port();
    start();
}

zookeeper_process::~zookeeper_process() { stop(); }

std::string zookeeper_process::connect() const { return "127.0.0.1:" + std::to_string(_port); }

void zookeeper_process::start()
{
    if (_pid > 0) return;
    _pid = spawn_logged({"/usr/bin/java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-cp", server_jar,
                         "org.apache.zookeeper.server.ZooKeeperServerMain", std::to_string(_port), *_dir / "data"},
                        *_dir / "zookeeper.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (accepts(_port)) return;
        int status = 0;
        if (::waitpid(_pid, &status, WNOHANG) == _pid) {
            _pid = -1;
            throw std::runtime_error("ZooKeeper exited during startup; its log:\n" + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("ZooKeeper did not listen within 60 s; its log:\n" + log());
}

void zookeeper_process::stop()
{
    if (_pid <= 0) return;
    ::kill(_pid, SIGKILL);
    int status = 0;
    ::waitpid(_pid, &status, 0);
    _pid = -1;
}

std::string zookeeper_process::log() const
{
    std::ifstream in(*_dir / "zookeeper.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace samsa::test
