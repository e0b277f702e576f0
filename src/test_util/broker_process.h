#pragma once

#include "test_util/temp_dir.h"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace samsa::test {

/// Forks and execs `args` (args[0] a path) with stdin from /dev/null and stdout and stderr
/// appended to `log_path`; the child dies with the test process (PR_SET_PDEATHSIG). Its pid.
pid_t spawn_logged(const std::vector<std::string>& args, const std::string& log_path);

/// How to start a broker for a test.
struct broker_options {
    /// Path of the samsa-server binary.
    std::string server_binary;
    /// Extra `--override key=value` arguments, after the listener and log.dirs ones (they win).
    std::vector<std::string> overrides;
    /// Data directory to use; empty: a fresh temporary one owned by the broker_process.
    std::string data_dir;
    /// How long to wait for the `listening on` line.
    std::chrono::milliseconds start_timeout{30000};
    /// How long stop() waits after SIGTERM before it sends SIGKILL.
    std::chrono::milliseconds stop_timeout{15000};
};

/// A `samsa-server` child process listening on 127.0.0.1 with an ephemeral port, for
/// integration tests. The constructor starts it with
/// `--override listeners=PLAINTEXT://127.0.0.1:0 --override log.dirs=<dir>` (plus the caller's
/// overrides), sends its stdout and stderr to `<work dir>/server.log`, and waits until that log
/// says `listening on PLAINTEXT://127.0.0.1:PORT`; it throws std::runtime_error (with the log's
/// tail) when the broker exits or does not listen in time. The destructor stops the broker
/// (SIGTERM, then SIGKILL) and removes the temporary directories it created. Not thread-safe.
class broker_process {
public:
    explicit broker_process(broker_options opts);
    /// Shorthand: the binary plus overrides, a fresh data directory.
    explicit broker_process(const std::string& server_binary, std::vector<std::string> overrides = {});
    ~broker_process();
    broker_process(const broker_process&) = delete;
    broker_process& operator=(const broker_process&) = delete;

    uint16_t port() const { return _port; }
    /// "127.0.0.1:PORT", for --bootstrap-server.
    std::string bootstrap() const;
    /// The log.dirs directory (kept after stop() so tests can inspect the segments).
    const std::string& data_dir() const { return _data_dir; }
    bool running() const { return _pid > 0; }
    pid_t pid() const { return _pid; }
    /// Reaps the broker if it exited on its own (a crash, a signal) and returns its wait status;
    /// nullopt while it runs. After stop() or kill(), the status they observed.
    std::optional<int> exit_status();
    /// "exited with status N" / "killed by signal N (NAME)" for a wait status.
    static std::string describe_status(int status);

    /// SIGTERM, wait up to stop_timeout, then SIGKILL. Returns the wait status (as waitpid
    /// gives it), or nullopt when the broker was not running. Idempotent.
    std::optional<int> stop();
    /// SIGKILL and reap, for crash tests. Idempotent.
    void kill();
    /// Everything the broker has written to its stdout and stderr so far.
    std::string log() const;

private:
    void start();
    std::optional<uint16_t> find_port() const;
    bool reap(std::chrono::milliseconds timeout, int& status);

    broker_options _opts;
    std::unique_ptr<temp_dir> _work;
    std::string _data_dir;
    std::string _log_path;
    pid_t _pid = -1;
    uint16_t _port = 0;
    std::optional<int> _status;
};

} // namespace samsa::test
