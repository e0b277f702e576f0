// Process-level durability: a writer process is killed with SIGKILL at random moments, 50
// times; after each kill the log is reopened (recovered) and must hold every batch the writer
// reported, intact. With --flush, unsynced data is also dropped (as a power failure would)
// before reopening, and everything reported flushed must still be there.
#include "storage/faulty_file_ops.h"
#include "storage/log.h"
#include "storage/tests/test_batches.h"
#include "test_util/temp_dir.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <poll.h>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifndef SAMSA_KILL_WRITER
#error "SAMSA_KILL_WRITER must name the writer binary"
#endif

namespace samsa::storage {
namespace {

/// Runs the writer for `run_ms`, SIGKILLs it, and returns the last offset it reported.
int64_t run_and_kill(const std::vector<std::string>& args, int run_ms)
{
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        ::close(out[1]);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        _exit(127);
    }
    ::close(out[1]);
    std::string buf;
    int64_t last = -1;
    bool started = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
    auto start_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        auto now = std::chrono::steady_clock::now();
        if (started && now >= deadline) break;
        if (!started && now >= start_deadline) break;
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, 5) > 0) {
            char tmp[4096];
            ssize_t n = ::read(out[0], tmp, sizeof tmp);
            if (n <= 0) break;
            buf.append(tmp, static_cast<size_t>(n));
            size_t nl;
            while ((nl = buf.find('\n')) != std::string::npos) {
                auto line = buf.substr(0, nl);
                buf.erase(0, nl + 1);
                if (line.rfind("START", 0) == 0) started = true;
                else if (line.size() > 2) last = std::stoll(line.substr(2));
            }
        }
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out[0]);
    EXPECT_TRUE(started) << "writer never started";
    EXPECT_TRUE(WIFSIGNALED(status)) << "writer exited by itself with status " << status;
    return last;
}

/// Opens the log (recovering) and checks it holds every batch up to at least `reported`.
void check(const std::string& root, int64_t reported)
{
    log_config cfg;
    cfg.segment_bytes = 64 * 1024;
    cfg.index_interval_bytes = 1024;
    auto l = log::open(posix_file_ops(), root + "/t-0", {"t", partition_id(0)}, cfg, system_clock::instance(), {});
    ASSERT_TRUE(l) << l.error().message();
    ASSERT_GE((*l)->log_end_offset()(), reported);
    ASSERT_EQ((*l)->log_end_offset()() % 4, 0);
    offset next(0);
    while (next < (*l)->log_end_offset()) {
        auto s = (*l)->read(next, 1 << 20, (*l)->log_end_offset(), true).value();
        auto data = s.read_all().value();
        protocol::batch_iterator it(data);
        while (auto h = it.next()) {
            int64_t n = h->base_offset() / 4;
            auto expect = test::make_batch(n, 4, 50 + static_cast<size_t>(n % 200));
            ASSERT_EQ(test::covered(it.current()), test::covered(expect)) << "batch " << n;
            next = h->next_offset();
        }
        ASSERT_FALSE(it.error());
    }
}

void kill_loop(bool flush)
{
    ::samsa::test::temp_dir tmp("samsa-kill");
    std::string journal = tmp / "sync.journal";
    std::string data = tmp / "data";
    std::mt19937 rng(flush ? 11 : 7);
    int64_t total_reported = 0;
    for (int round = 0; round < 50; ++round) {
        std::vector<std::string> args{SAMSA_KILL_WRITER, data};
        if (flush) {
            args.push_back("--flush");
            args.push_back(journal);
        }
        int64_t reported = run_and_kill(args, 5 + static_cast<int>(rng() % 120));
        if (flush) {
            auto cut = sync_journal_file_ops::drop_unsynced_data(posix_file_ops(), journal, data);
            ASSERT_TRUE(cut) << cut.error().message();
        }
        total_reported = std::max(total_reported, reported);
        check(data, total_reported);
        if (::testing::Test::HasFatalFailure()) return;
    }
    EXPECT_GT(total_reported, 0);
}

TEST(kill_test, sigkill_loses_nothing_appended) { kill_loop(false); }
TEST(kill_test, sigkill_and_dropped_page_cache_lose_nothing_flushed) { kill_loop(true); }

} // namespace
} // namespace samsa::storage
