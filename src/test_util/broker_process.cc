#include "test_util/broker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace samsa::test {

namespace {

constexpr std::string_view listening_marker = "listening on PLAINTEXT://127.0.0.1:";

std::string tail(const std::string& text, size_t max_chars)
{
    return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

/// In the child after fork(): wire up the log file and exec the broker. Never returns.
[[noreturn]] void exec_child(const std::vector<std::string>& args, const std::string& log_path, pid_t parent)
{
    // The broker must not outlive a test binary that dies without running destructors.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(126);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) _exit(126);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::string msg = "exec " + args[0] + " failed: " + std::strerror(errno) + "\n";
    (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    _exit(127);
}

} // namespace

pid_t spawn_logged(const std::vector<std::string>& args, const std::string& log_path)
{
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) exec_child(args, log_path, parent);
    return pid;
}

broker_process::broker_process(broker_options opts)
  : _opts(std::move(opts))
{
    _work = std::make_unique<temp_dir>("samsa-broker");
    _data_dir = _opts.data_dir.empty() ? *_work / "data" : _opts.data_dir;
    _log_path = *_work / "server.log";
    start();
}

broker_process::broker_process(const std::string& server_binary, std::vector<std::string> overrides)
  : broker_process(broker_options{
        server_binary, std::move(overrides), {}, std::chrono::milliseconds(30000), std::chrono::milliseconds(15000)})
{}

broker_process::~broker_process()
{
    stop();
}

std::string broker_process::bootstrap() const
{
    return "127.0.0.1:" + std::to_string(_port);
}

void broker_process::start()
{
    std::vector<std::string> args{_opts.server_binary, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                                  "log.dirs=" + _data_dir};
    for (auto& o : _opts.overrides) {
        args.push_back("--override");
        args.push_back(o);
    }
    _pid = spawn_logged(args, _log_path);

    auto deadline = std::chrono::steady_clock::now() + _opts.start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto p = find_port()) {
            _port = *p;
            return;
        }
        int status = 0;
        if (::waitpid(_pid, &status, WNOHANG) == _pid) {
            _pid = -1;
            throw std::runtime_error("samsa-server exited during startup (status " + std::to_string(status) +
                                     "); its log:\n" + tail(log(), 4000));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill();
    throw std::runtime_error("samsa-server did not start listening within " +
                             std::to_string(_opts.start_timeout.count()) + " ms; its log:\n" + tail(log(), 4000));
}

std::optional<uint16_t> broker_process::find_port() const
{
    std::string text = log();
    auto at = text.find(listening_marker);
    if (at == std::string::npos) return std::nullopt;
    size_t i = at + listening_marker.size();
    uint32_t port = 0;
    size_t digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 6; ++i, ++digits) {
        port = port * 10 + static_cast<uint32_t>(text[i] - '0');
    }
    // The line may still be half written; wait for what follows the number.
    if (digits == 0 || i >= text.size() || port == 0 || port > 65535) return std::nullopt;
    return static_cast<uint16_t>(port);
}

bool broker_process::reap(std::chrono::milliseconds timeout, int& status)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        pid_t r = ::waitpid(_pid, &status, WNOHANG);
        if (r == _pid || (r < 0 && errno == ECHILD)) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::optional<int> broker_process::exit_status()
{
    if (_pid > 0) {
        int status = 0;
        if (::waitpid(_pid, &status, WNOHANG) == _pid) {
            _pid = -1;
            _status = status;
        }
    }
    return _status;
}

std::string broker_process::describe_status(int status)
{
    if (WIFSIGNALED(status)) {
        const char* name = ::strsignal(WTERMSIG(status));
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + (name ? name : "?") + ")";
    }
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

std::optional<int> broker_process::stop()
{
    if (_pid <= 0) return std::nullopt;
    int status = 0;
    ::kill(_pid, SIGTERM);
    if (!reap(_opts.stop_timeout, status)) {
        ::kill(_pid, SIGKILL);
        reap(std::chrono::milliseconds(10000), status);
    }
    _pid = -1;
    _status = status;
    return status;
}

void broker_process::kill()
{
    if (_pid <= 0) return;
    int status = 0;
    ::kill(_pid, SIGKILL);
    reap(std::chrono::milliseconds(10000), status);
    _pid = -1;
    _status = status;
}

std::string broker_process::log() const
{
    std::ifstream in(_log_path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace samsa::test
