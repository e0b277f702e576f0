#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::cli::test {

/// How a child ended and what it wrote.
struct run_result {
    int exit_code = -1; // -1 when killed by a signal
    int signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;

    /// The stderr lines (without empty ones), to check the "one clear line" rule.
    std::vector<std::string> err_lines() const;
};

/// A child process with pipes on stdin, stdout and stderr. Output is collected while the test
/// waits (wait_for_output, wait). The destructor SIGKILLs a child that is still running.
class child_process {
public:
    explicit child_process(const std::vector<std::string>& argv);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Queues bytes for the child's stdin (written while waiting).
    void write_stdin(std::string_view data);
    /// Closes stdin once the queued bytes are written.
    void close_stdin();
    /// Pumps the pipes until `needle` appears in stdout (or stderr) or the timeout passes.
    bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout, bool in_stderr = false);
    void send_signal(int sig);
    /// Pumps until the child exits; SIGKILLs it after `timeout` (timed_out is then set).
    run_result wait(std::chrono::milliseconds timeout);

    const std::string& out() const { return _out; }
    const std::string& err() const { return _err; }

private:
    void pump(int timeout_ms);
    bool reap(bool block);

    pid_t _pid = -1;
    int _in = -1;
    int _outfd = -1;
    int _errfd = -1;
    std::string _pending_in;
    bool _close_in = false;
    std::string _out;
    std::string _err;
    int _status = 0;
    bool _exited = false;
};

/// Runs argv to completion with `input` on stdin.
run_result run(const std::vector<std::string>& argv, std::string_view input = {},
               std::chrono::milliseconds timeout = std::chrono::seconds(60));

} // namespace samsa::cli::test
