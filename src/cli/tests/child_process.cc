#include "cli/tests/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace samsa::cli::test {

std::vector<std::string> run_result::err_lines() const
{
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < err.size()) {
        auto nl = err.find('\n', start);
        if (nl == std::string::npos) nl = err.size();
        if (nl > start) lines.push_back(err.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

child_process::child_process(const std::vector<std::string>& argv)
{
    ::signal(SIGPIPE, SIG_IGN);
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    _pid = ::fork();
    if (_pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (_pid == 0) {
        ::dup2(in[0], STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err[1], STDERR_FILENO);
        ::signal(SIGPIPE, SIG_DFL);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        _exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    _in = in[1];
    _outfd = out[0];
    _errfd = err[0];
    ::fcntl(_in, F_SETFL, O_NONBLOCK);
}

child_process::~child_process()
{
    if (!_exited && _pid > 0) {
        ::kill(_pid, SIGKILL);
        reap(true);
    }
    for (int fd : {_in, _outfd, _errfd}) {
        if (fd >= 0) ::close(fd);
    }
}

void child_process::write_stdin(std::string_view data)
{
    _pending_in.append(data);
    pump(0);
}

void child_process::close_stdin()
{
    _close_in = true;
    pump(0);
}

void child_process::pump(int timeout_ms)
{
    pollfd fds[3];
    int n = 0;
    if (_outfd >= 0) fds[n++] = {_outfd, POLLIN, 0};
    if (_errfd >= 0) fds[n++] = {_errfd, POLLIN, 0};
    if (_in >= 0 && !_pending_in.empty()) fds[n++] = {_in, POLLOUT, 0};
    if (n > 0 && ::poll(fds, static_cast<nfds_t>(n), timeout_ms) < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
        if (!fds[i].revents) continue;
        if (fds[i].fd == _in) {
            ssize_t w = ::write(_in, _pending_in.data(), _pending_in.size());
            if (w > 0)
                _pending_in.erase(0, static_cast<size_t>(w));
            else if (w < 0 && errno != EAGAIN)
                _pending_in.clear();
            continue;
        }
        char buf[65536];
        ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
        std::string& sink = fds[i].fd == _outfd ? _out : _err;
        if (r > 0) {
            sink.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || errno != EINTR) {
            int& fd = fds[i].fd == _outfd ? _outfd : _errfd;
            ::close(fd);
            fd = -1;
        }
    }
    if (_in >= 0 && _close_in && _pending_in.empty()) {
        ::close(_in);
        _in = -1;
    }
}

bool child_process::reap(bool block)
{
    if (_exited) return true;
    pid_t r = ::waitpid(_pid, &_status, block ? 0 : WNOHANG);
    if (r == _pid) _exited = true;
    return _exited;
}

bool child_process::wait_for_output(std::string_view needle, std::chrono::milliseconds timeout, bool in_stderr)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const std::string& s = in_stderr ? _err : _out;
        if (s.find(needle) != std::string::npos) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        if (_outfd < 0 && _errfd < 0 && reap(false)) return false;
        pump(20);
    }
}

void child_process::send_signal(int sig)
{
    if (!_exited) ::kill(_pid, sig);
}

run_result child_process::wait(std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    run_result r;
    while (_outfd >= 0 || _errfd >= 0 || !reap(false)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            r.timed_out = true;
            ::kill(_pid, SIGKILL);
            break;
        }
        pump(20);
        if (_outfd < 0 && _errfd < 0) {
            reap(false);
            if (!_exited) ::usleep(5000);
        }
    }
    reap(true);
    while (_outfd >= 0 || _errfd >= 0) pump(100);
    if (WIFEXITED(_status)) r.exit_code = WEXITSTATUS(_status);
    if (WIFSIGNALED(_status)) r.signal = WTERMSIG(_status);
    r.out = _out;
    r.err = _err;
    return r;
}

run_result run(const std::vector<std::string>& argv, std::string_view input, std::chrono::milliseconds timeout)
{
    child_process c(argv);
    c.write_stdin(input);
    c.close_stdin();
    return c.wait(timeout);
}

} // namespace samsa::cli::test
