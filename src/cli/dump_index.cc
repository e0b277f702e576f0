// dump-log for .index and .timeindex files: print the entries and check them against the
// segment's .log (storage/offset_index.h and storage/time_index.h describe the formats).
#include "cli/dump_log.h"

#include "bytes/endian.h"
#include "storage/file_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace samsa::cli {

namespace {

/// An index file's bytes plus what its segment's log looks like.
struct index_input {
    bytes data;
    int64_t base = 0;
    std::optional<std::vector<batch_extent>> batches;
    uint64_t log_size = 0;
};

std::optional<index_input> load(const std::string& path, size_t entry_size, dump_report& report)
{
    auto base = segment_base_offset(path);
    if (!base) {
        report.problem(fmt::format("{}: the file name does not start with the segment's base offset", path));
        return std::nullopt;
    }
    auto data = storage::posix_file_ops().read_file(path);
    if (!data) {
        report.problem(fmt::format("Cannot read {}: {}", path, data.error().message()));
        return std::nullopt;
    }
    index_input in{std::move(*data), *base, {}, 0};
    auto dot = path.rfind('.');
    std::string log_path = path.substr(0, dot) + ".log";
    in.batches = scan_batches(log_path, in.log_size);
    if (!in.batches)
        std::fprintf(stderr, "warning: %s not found; entries are not checked against the log\n", log_path.c_str());
    if (in.data.size() % entry_size != 0) {
        report.problem(fmt::format("{}: size {} is not a multiple of the {}-byte entry size (torn last entry)", path,
                                   in.data.size(), entry_size));
    }
    return in;
}

/// The batch that starts exactly at `position`, if any.
const batch_extent* batch_at(const std::vector<batch_extent>& batches, uint64_t position)
{
    auto it = std::lower_bound(batches.begin(), batches.end(), position,
                               [](const batch_extent& b, uint64_t p) { return b.position < p; });
    return it != batches.end() && it->position == position ? &*it : nullptr;
}

/// The batch holding `off`, if any.
const batch_extent* batch_holding(const std::vector<batch_extent>& batches, int64_t off)
{
    for (auto& b : batches) {
        if (b.base_offset <= off && off <= b.last_offset) return &b;
    }
    return nullptr;
}

void finish(const std::string& path, const dump_options& opts, long problems_before, const dump_report& report)
{
    if (opts.sanity_only && report.problems == problems_before) std::printf("%s passed sanity check.\n", path.c_str());
}

void check_position(const std::string& path, size_t i, int64_t off, uint32_t pos, const index_input& in,
                    dump_report& report)
{
    if (!in.batches) return;
    if (pos >= in.log_size) {
        report.problem(fmt::format("{}: entry {} (offset {}): position {} is beyond the end of the log ({} bytes)",
                                   path, i, off, pos, in.log_size));
        return;
    }
    auto* b = batch_at(*in.batches, pos);
    if (!b) {
        report.problem(fmt::format("{}: entry {} (offset {}): no valid batch starts at position {} of the log", path, i,
                                   off, pos));
    } else if (off < b->base_offset || off > b->last_offset) {
        report.problem(fmt::format("{}: entry {}: index offset {} is not in the batch at position {} (offsets {}-{})",
                                   path, i, off, pos, b->base_offset, b->last_offset));
    }
}

} // namespace

void dump_offset_index(const std::string& path, const dump_options& opts, dump_report& report)
{
    long before = report.problems;
    auto in = load(path, 8, report);
    if (!in) return;
    size_t n = in->data.size() / 8;
    if (n == 0) std::printf("%s is empty.\n", path.c_str());
    int64_t prev_off = -1;
    int64_t prev_pos = -1;
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* p = in->data.data() + i * 8;
        int64_t off = in->base + be::load<uint32_t>(p);
        uint32_t pos = be::load<uint32_t>(p + 4);
        if (i > 0 && off == in->base && pos == 0) break; // zero-filled preallocated tail
        if (!opts.verify_only && !opts.sanity_only) out += fmt::format("offset: {} position: {}\n", off, pos);
        if (off <= prev_off || static_cast<int64_t>(pos) <= prev_pos) {
            report.problem(fmt::format("{}: entry {} (offset {}, position {}) does not increase on the previous "
                                       "entry (offset {}, position {})",
                                       path, i, off, pos, prev_off, prev_pos));
        }
        check_position(path, i, off, pos, *in, report);
        prev_off = off;
        prev_pos = pos;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    finish(path, opts, before, report);
}

void dump_time_index(const std::string& path, const dump_options& opts, dump_report& report)
{
    long before = report.problems;
    auto in = load(path, 12, report);
    if (!in) return;
    size_t n = in->data.size() / 12;
    if (n == 0) std::printf("%s is empty.\n", path.c_str());
    int64_t prev_ts = -1;
    int64_t prev_off = -1;
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* p = in->data.data() + i * 12;
        int64_t ts = be::load<int64_t>(p);
        int64_t off = in->base + be::load<uint32_t>(p + 8);
        if (i > 0 && off == in->base && ts == 0) break; // zero-filled preallocated tail
        if (!opts.verify_only && !opts.sanity_only) out += fmt::format("timestamp: {} offset: {}\n", ts, off);
        if (i > 0 && ts <= prev_ts) {
            report.problem(
                fmt::format("{}: entry {}: timestamp {} is not above the previous entry's {}", path, i, ts, prev_ts));
        }
        if (off < prev_off) {
            report.problem(
                fmt::format("{}: entry {}: offset {} is below the previous entry's {}", path, i, off, prev_off));
        }
        if (in->batches && !batch_holding(*in->batches, off)) {
            report.problem(fmt::format("{}: entry {} (timestamp {}): offset {} is not in the log", path, i, ts, off));
        }
        prev_ts = ts;
        prev_off = off;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    finish(path, opts, before, report);
}

} // namespace samsa::cli
