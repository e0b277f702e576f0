// samsa dump-log: kafka-dump-log.sh. Reads segment files offline with samsa's own storage and
// record code (batch_scanner, validate_batch, record_reader); never talks to a broker.
#include "cli/dump_log.h"

#include "bytes/endian.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "protocol/records.h"
#include "storage/batch_scanner.h"
#include "storage/file_ops.h"

#include <fmt/format.h>

#include <cstdio>

namespace samsa::cli {

namespace {

namespace proto = samsa::protocol;

command_spec dump_spec()
{
    return {
        "dump-log",
        "Prints the batches of .log segment files (and with --deep-iteration their records), and the entries "
        "of .index and .timeindex files, checking them on the way: CRCs, record framing, torn or garbage "
        "tails, index entries that do not increase or point outside the log. Any problem is reported on "
        "stderr with its file and byte position, and the exit status is 1. Works offline on the files.",
        "  samsa dump-log --files data/test-0/00000000000000000000.log\n"
        "  samsa dump-log --files data/test-0/00000000000000000000.log --print-data-log\n"
        "  samsa dump-log --files data/test-0/00000000000000000000.index,data/test-0/00000000000000000000.timeindex\n",
        {
            {"files", arity::one, "file1,file2", "REQUIRED: the files to dump (repeatable, comma-separated)."},
            {"print-data-log", arity::flag, "", "Print keys and payloads (implies --deep-iteration)."},
            {"deep-iteration", arity::flag, "", "Print every record, not only the batches."},
            {"verify-index-only", arity::flag, "", "Check indexes without printing their entries."},
            {"index-sanity-check", arity::flag, "", "Only check indexes and say whether they passed."},
            {"max-bytes", arity::one, "bytes", "Read at most this many bytes of each .log file."},
            {"max-message-size", arity::one, "bytes", "Accepted for compatibility (no limit is needed)."},
        }};
}

std::string show_bytes(const std::optional<bytes_view>& b)
{
    return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("null");
}

/// " endTxnMarker: COMMIT coordinatorEpoch: 3" for transaction markers.
std::string control_text(const proto::record& r)
{
    if (!r.key || r.key->size() < 4) return " controlType: UNKNOWN";
    int16_t type = be::load<int16_t>(r.key->data() + 2);
    if (type != 0 && type != 1) return fmt::format(" controlType: UNKNOWN({})", type);
    int32_t epoch = r.value && r.value->size() >= 6 ? be::load<int32_t>(r.value->data() + 2) : -1;
    return fmt::format(" endTxnMarker: {} coordinatorEpoch: {}", type == 1 ? "COMMIT" : "ABORT", epoch);
}

std::string record_line(const proto::batch_header& h, const proto::record& r, bool print_data)
{
    int32_t seq = h.base_sequence < 0 ? -1 : static_cast<int32_t>(h.base_sequence + r.offset_delta);
    std::vector<std::string> keys;
    for (auto& hd : r.headers) keys.emplace_back(hd.key);
    std::string out =
        fmt::format("| offset: {} {}: {} keySize: {} valueSize: {} sequence: {} headerKeys: [{}]", r.offset(),
                    h.ts_type() == proto::timestamp_type::log_append_time ? "LogAppendTime" : "CreateTime",
                    r.timestamp(), r.key ? static_cast<long>(r.key->size()) : -1L,
                    r.value ? static_cast<long>(r.value->size()) : -1L, seq, join(keys, ","));
    if (h.is_control()) return out + control_text(r) + "\n";
    if (print_data) {
        if (r.key) out += " key: " + show_bytes(r.key);
        if (r.value) out += " payload: " + show_bytes(r.value);
        if (!r.headers.empty()) {
            std::vector<std::string> hs;
            for (auto& hd : r.headers) hs.push_back(std::string(hd.key) + ":" + show_bytes(hd.value));
            out += " headers: [" + join(hs, ",") + "]";
        }
    }
    return out + "\n";
}

std::string batch_line(const storage::scanned_batch& b, bool crc_ok)
{
    auto& h = b.header;
    int32_t last_seq = h.base_sequence < 0 ? -1 : static_cast<int32_t>(h.base_sequence + h.last_offset_delta);
    std::string horizon = h.has_delete_horizon() ? fmt::format(" deleteHorizonMs: {}", h.base_timestamp()) : "";
    return fmt::format("baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {} producerId: {} "
                       "producerEpoch: {} partitionLeaderEpoch: {} isTransactional: {} isControl: {}{} position: {} "
                       "{}: {} size: {} magic: {} compresscodec: {} crc: {} isvalid: {}\n",
                       h.base_offset(), h.last_offset()(), h.record_count, h.base_sequence, last_seq, h.pid(),
                       h.epoch(), h.partition_leader_epoch(), h.is_transactional(), h.is_control(), horizon, b.position,
                       h.ts_type() == proto::timestamp_type::log_append_time ? "LogAppendTime" : "CreateTime",
                       h.max_timestamp(), h.size_bytes(), h.magic, proto::to_string(h.compression()), h.crc, crc_ok);
}

/// Prints the records of one CRC-valid batch; reports a record that does not decode.
void dump_records(const std::string& path, const storage::scanned_batch& b, bool print_data, dump_report& report)
{
    auto reader = proto::record_reader::open(b.data);
    if (!reader) {
        report.problem(fmt::format("{}: batch at position {} (offsets {}-{}): {}", path, b.position,
                                   b.header.base_offset(), b.header.last_offset()(), reader.error().message()));
        return;
    }
    std::string out;
    while (auto r = reader->next()) out += record_line(b.header, *r, print_data);
    write_out(out);
    if (reader->error()) {
        report.problem(fmt::format("{}: batch at position {} (offsets {}-{}): record {}: {}", path, b.position,
                                   b.header.base_offset(), b.header.last_offset()(), reader->records_read(),
                                   reader->error().message()));
    }
}

} // namespace

void dump_report::problem(const std::string& line)
{
    ++problems;
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", line.c_str());
}

std::optional<int64_t> segment_base_offset(const std::string& path)
{
    auto name = storage::base_name(path);
    auto dot = name.find('.');
    auto v = parse_int(name.substr(0, dot));
    if (!v || *v < 0) return std::nullopt;
    return v;
}

std::optional<std::vector<batch_extent>> scan_batches(const std::string& path, uint64_t& log_size)
{
    auto f = storage::posix_file_ops().open(path, storage::open_mode::read_only);
    if (!f) return std::nullopt;
    auto size = (*f)->size();
    if (!size) return std::nullopt;
    log_size = *size;
    std::vector<batch_extent> out;
    storage::batch_scanner scan(*f, 0, *size, false);
    while (auto b = scan.next()) {
        out.push_back({b->position, static_cast<uint32_t>(b->header.size_bytes()), b->header.base_offset(),
                       b->header.last_offset()()});
    }
    return out;
}

void dump_log_file(const std::string& path, const dump_options& opts, dump_report& report)
{
    auto f = storage::posix_file_ops().open(path, storage::open_mode::read_only);
    if (!f) return report.problem(fmt::format("Cannot open {}: {}", path, f.error().message()));
    auto size = (*f)->size();
    if (!size) return report.problem(fmt::format("Cannot read {}: {}", path, size.error().message()));
    if (auto base = segment_base_offset(path))
        std::printf("Log starting offset: %lld\n", static_cast<long long>(*base));
    uint64_t end = std::min(*size, opts.max_bytes);
    storage::batch_scanner scan(*f, 0, end, false);
    int64_t next_expected = -1;
    while (auto b = scan.next()) {
        uint32_t computed = proto::compute_crc(b->data);
        bool crc_ok = computed == b->header.crc;
        write_out(batch_line(*b, crc_ok));
        if (!crc_ok) {
            report.problem(fmt::format("{}: batch at position {} (offsets {}-{}): CRC mismatch: stored {}, computed {}",
                                       path, b->position, b->header.base_offset(), b->header.last_offset()(),
                                       b->header.crc, computed));
        } else if (opts.deep) {
            dump_records(path, *b, opts.print_data, report);
        }
        if (b->header.base_offset() < next_expected) {
            report.problem(
                fmt::format("{}: batch at position {} starts at offset {}, below the previous batch's end {}", path,
                            b->position, b->header.base_offset(), next_expected));
        }
        next_expected = b->header.next_offset()();
    }
    if (scan.error() && scan.position() < end) {
        uint64_t bad = end - scan.position();
        std::printf("Found %llu invalid bytes at the end of %s\n", static_cast<unsigned long long>(bad),
                    storage::base_name(path).c_str());
        report.problem(fmt::format("{}: position {}: {}; the last {} bytes are not a valid batch", path,
                                   scan.position(), scan.error().message(), bad));
    }
}

int run_dump_log(const std::vector<std::string>& args)
{
    auto spec = dump_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    std::vector<std::string> files;
    for (auto& v : a.values("files")) {
        for (auto& f : split(v, ',')) {
            if (!f.empty()) files.push_back(f);
        }
    }
    if (files.empty()) throw usage_error("Missing required option --files");
    dump_options opts;
    opts.print_data = a.has("print-data-log");
    opts.deep = opts.print_data || a.has("deep-iteration");
    opts.verify_only = a.has("verify-index-only");
    opts.sanity_only = a.has("index-sanity-check");
    if (auto m = a.int_value("max-bytes")) opts.max_bytes = static_cast<uint64_t>(std::max<int64_t>(0, *m));
    a.int_value("max-message-size");
    dump_report report;
    for (auto& f : files) {
        std::printf("Dumping %s\n", f.c_str());
        std::fflush(stdout);
        auto name = storage::base_name(f);
        auto ends = [&](std::string_view sfx) {
            return name.size() >= sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0;
        };
        if (ends(".log"))
            dump_log_file(f, opts, report);
        else if (ends(".index"))
            dump_offset_index(f, opts, report);
        else if (ends(".timeindex"))
            dump_time_index(f, opts, report);
        else
            std::fprintf(stderr, "Ignoring unknown file %s\n", f.c_str());
        std::fflush(stdout);
    }
    if (report.problems > 0) throw cli_error(fmt::format("{} problem(s) found", report.problems));
    return 0;
}

} // namespace samsa::cli
