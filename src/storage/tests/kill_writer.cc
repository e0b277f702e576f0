// A writer process for the SIGKILL test: opens (recovering) a log, appends deterministic
// batches forever, and prints one line per append to stdout after it returns:
//   "A <next offset>"   appended (in the page cache)
//   "F <next offset>"   appended and flushed (only with --flush)
// Batch n (n = base offset / 4) is test::make_batch(n, 4, ...), so a checker can recompute
// every batch. With --flush every append is synced and files go through the sync journal, so
// that a checker can later drop whatever was not synced.
#include "storage/faulty_file_ops.h"
#include "storage/log.h"
#include "storage/tests/test_batches.h"

#include <cstdio>
#include <cstring>
#include <string>

using namespace samsa;
using namespace samsa::storage;

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: kill_writer <dir> [--flush <journal>]\n");
        return 2;
    }
    std::string root = argv[1];
    bool flush = argc >= 4 && std::strcmp(argv[2], "--flush") == 0;
    file_ops* fs = &posix_file_ops();
    std::unique_ptr<sync_journal_file_ops> journal;
    if (flush) {
        journal = std::make_unique<sync_journal_file_ops>(posix_file_ops(), argv[3]);
        fs = journal.get();
    }
    log_config cfg;
    cfg.segment_bytes = 64 * 1024;
    cfg.index_interval_bytes = 1024;
    if (flush) cfg.flush_messages = 1;
    log_open_options o; // never a clean shutdown: always recover
    auto l = log::open(*fs, root + "/t-0", {"t", partition_id(0)}, cfg, system_clock::instance(), o);
    if (!l) {
        std::fprintf(stderr, "open failed: %s\n", l.error().message().c_str());
        return 1;
    }
    std::printf("START %lld\n", static_cast<long long>((*l)->log_end_offset()()));
    std::fflush(stdout);
    for (;;) {
        int64_t n = (*l)->log_end_offset()() / 4;
        auto b = test::make_batch(n, 4, 50 + static_cast<size_t>(n % 200));
        auto r = (*l)->append_as_leader(b, leader_epoch(0));
        if (!r) {
            std::fprintf(stderr, "append failed: %s\n", r.error().message().c_str());
            return 1;
        }
        std::printf("%c %lld\n", flush ? 'F' : 'A', static_cast<long long>(r->last_offset() + 1));
        std::fflush(stdout);
    }
}
