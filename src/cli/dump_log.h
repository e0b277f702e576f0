#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace samsa::cli {

/// What dump-log was asked to show.
struct dump_options {
    bool deep = false;        // --deep-iteration (implied by --print-data-log)
    bool print_data = false;  // --print-data-log: keys and payloads
    bool verify_only = false; // --verify-index-only: check indexes without printing entries
    bool sanity_only = false; // --index-sanity-check
    uint64_t max_bytes = UINT64_MAX;
};

/// Problems found so far, each already printed as one line on stderr.
struct dump_report {
    long problems = 0;
    void problem(const std::string& line);
};

/// Where each valid batch of a .log file lies (for checking indexes against the log).
struct batch_extent {
    uint64_t position = 0;
    uint32_t size = 0;
    int64_t base_offset = 0;
    int64_t last_offset = 0;
};

/// The batches of the .log file at `path`, framing checked (no CRC), up to the first invalid
/// byte; nullopt when the file cannot be opened. `log_size` gets the file size.
std::optional<std::vector<batch_extent>> scan_batches(const std::string& path, uint64_t& log_size);

/// Prints a .log file like kafka-dump-log.sh (a line per batch; with deep iteration one per
/// record) and reports CRC mismatches, invalid records and torn or garbage tails.
void dump_log_file(const std::string& path, const dump_options& opts, dump_report& report);

/// Prints and checks a .index file (offset: O position: P) against its .log.
void dump_offset_index(const std::string& path, const dump_options& opts, dump_report& report);

/// Prints and checks a .timeindex file (timestamp: T offset: O) against its .log.
void dump_time_index(const std::string& path, const dump_options& opts, dump_report& report);

/// The base offset encoded in a segment file name (`00000000000000000042.log` -> 42).
std::optional<int64_t> segment_base_offset(const std::string& path);

} // namespace samsa::cli
