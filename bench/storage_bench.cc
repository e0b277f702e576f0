// Storage engine benchmark: append and read throughput of one partition log on the real file
// system, next to the disk's own sequential write speed measured in the same run.
//
//   storage_bench [--dir DIR] [--bytes N] [--json FILE]
//
// Prints a table; with --json also writes the figures as JSON.
#include "base/clock.h"
#include "protocol/record_batch_builder.h"
#include "storage/log.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using namespace samsa;
using namespace samsa::storage;
using clk = std::chrono::steady_clock;

namespace {

double seconds_since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

/// A 16 KiB-ish batch of records of `record_size` value bytes.
bytes make_batch(size_t record_size, int& records_out)
{
    protocol::batch_builder b;
    std::string value(record_size, 'x');
    for (size_t i = 0; i < record_size; ++i) value[i] = static_cast<char>('a' + i % 26);
    size_t approx = 0;
    int n = 0;
    while (approx + record_size + 20 <= 16 * 1024) {
        b.add("", value, timestamp_ms(1'700'000'000'000));
        approx += record_size + 20;
        ++n;
    }
    records_out = n;
    return b.build();
}

/// Sequential write with fdatasync at the end, like dd conv=fdatasync: the disk's limit.
double disk_write_mbps(const std::string& dir, uint64_t total)
{
    auto path = dir + "/disk-probe";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 0;
    std::vector<char> buf(1 << 20, 'z');
    auto t = clk::now();
    for (uint64_t done = 0; done < total; done += buf.size()) {
        if (::write(fd, buf.data(), buf.size()) < 0) break;
    }
    ::fdatasync(fd);
    double s = seconds_since(t);
    ::close(fd);
    ::unlink(path.c_str());
    return static_cast<double>(total) / s / 1e6;
}

struct append_result {
    double mbps, batches_per_s, records_per_s, mbps_with_sync;
};

append_result bench_append(const std::string& dir, size_t record_size, uint64_t total)
{
    std::filesystem::remove_all(dir + "/bench-0");
    log_config cfg; // Kafka defaults: 1 GiB segments, no flush policy
    auto l = log::open(posix_file_ops(), dir + "/bench-0", {"bench", partition_id(0)}, cfg,
                       system_clock::instance(), {}).value();
    int records = 0;
    auto batch = make_batch(record_size, records);
    uint64_t n = total / batch.size();
    auto t = clk::now();
    for (uint64_t i = 0; i < n; ++i) {
        auto r = l->append_as_leader(batch, leader_epoch(0));
        if (!r) {
            fmt::print(stderr, "append failed: {}\n", r.error().message());
            std::exit(1);
        }
        (void)l->flush_rolled();
    }
    double s = seconds_since(t);
    (void)l->flush();
    double s_sync = seconds_since(t);
    double bytes_total = static_cast<double>(n * batch.size());
    append_result out{bytes_total / s / 1e6, static_cast<double>(n) / s, static_cast<double>(n) * records / s,
                      bytes_total / s_sync / 1e6};
    (void)l->close(false);
    return out;
}

double bench_read(const std::string& dir)
{
    log_config cfg;
    auto l = log::open(posix_file_ops(), dir + "/bench-0", {"bench", partition_id(0)}, cfg,
                       system_clock::instance(), {true, offset(0), offset(0), offset(0)}).value();
    offset next(0);
    uint64_t bytes_read = 0;
    bytes buf(1 << 20);
    auto t = clk::now();
    while (next < l->log_end_offset()) {
        auto s = l->read(next, 1 << 20, l->log_end_offset(), true).value();
        if (s.size > buf.size()) buf.resize(s.size);
        (void)s.file->pread(s.position, mutable_bytes_view(buf.data(), s.size));
        bytes_read += s.size;
        next = s.last_offset + 1;
    }
    double s = seconds_since(t);
    return static_cast<double>(bytes_read) / s / 1e6;
}

} // namespace

int main(int argc, char** argv)
{
    std::string dir = std::filesystem::temp_directory_path().string() + "/samsa-storage-bench";
    uint64_t total = 1ull << 30;
    std::string json;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
        else if (!std::strcmp(argv[i], "--bytes")) total = std::stoull(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--json")) json = argv[i + 1];
    }
    std::filesystem::create_directories(dir);
    double disk = disk_write_mbps(dir, total);
    auto a1k = bench_append(dir, 1024, total);
    double r1k = bench_read(dir);
    auto a100 = bench_append(dir, 100, total);
    double r100 = bench_read(dir);
    std::filesystem::remove_all(dir);

    fmt::print("storage benchmark: {} MiB per run, 16 KiB batches, dir {}\n", total >> 20, dir);
    fmt::print("{:<34} {:>10} {:>12} {:>14} {:>14}\n", "", "MB/s", "batches/s", "records/s", "MB/s +fsync");
    fmt::print("{:<34} {:>10.0f}\n", "disk sequential write (fdatasync)", disk);
    fmt::print("{:<34} {:>10.0f} {:>12.0f} {:>14.0f} {:>14.0f}\n", "append 1 KiB records", a1k.mbps, a1k.batches_per_s,
               a1k.records_per_s, a1k.mbps_with_sync);
    fmt::print("{:<34} {:>10.0f} {:>12.0f} {:>14.0f} {:>14.0f}\n", "append 100 B records", a100.mbps, a100.batches_per_s,
               a100.records_per_s, a100.mbps_with_sync);
    fmt::print("{:<34} {:>10.0f}\n", "read (1 KiB records log)", r1k);
    fmt::print("{:<34} {:>10.0f}\n", "read (100 B records log)", r100);
    fmt::print("append+fsync / disk: {:.2f} (1 KiB), {:.2f} (100 B)\n", a1k.mbps_with_sync / disk,
               a100.mbps_with_sync / disk);
    if (!json.empty()) {
        auto out = fmt::format(
            "{{\"disk_write_mbps\": {:.1f}, \"append_1k\": {{\"mbps\": {:.1f}, \"batches_per_s\": {:.0f}, "
            "\"records_per_s\": {:.0f}, \"mbps_with_fsync\": {:.1f}}}, \"append_100b\": {{\"mbps\": {:.1f}, "
            "\"batches_per_s\": {:.0f}, \"records_per_s\": {:.0f}, \"mbps_with_fsync\": {:.1f}}}, "
            "\"read_1k_mbps\": {:.1f}, \"read_100b_mbps\": {:.1f}}}\n",
            disk, a1k.mbps, a1k.batches_per_s, a1k.records_per_s, a1k.mbps_with_sync, a100.mbps, a100.batches_per_s,
            a100.records_per_s, a100.mbps_with_sync, r1k, r100);
        if (FILE* f = std::fopen(json.c_str(), "w")) {
            std::fputs(out.c_str(), f);
            std::fclose(f);
        }
    }
}
