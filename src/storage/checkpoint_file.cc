#include "storage/checkpoint_file.h"

#include "storage/errc.h"

#include <charconv>
#include <fmt/format.h>

namespace samsa::storage {
namespace {

constexpr int checkpoint_version = 0;

/// Splits a checkpoint body into lines and checks version and count. Returns the entry lines.
result<std::vector<std::string_view>> parse_lines(std::string_view text)
{
    std::vector<std::string_view> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) return make_error_code(errc::corrupt); // torn last line
        lines.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    if (lines.size() < 2 || lines[0] != "0") return make_error_code(errc::corrupt);
    size_t count = 0;
    auto [p, ec] = std::from_chars(lines[1].data(), lines[1].data() + lines[1].size(), count);
    if (ec != std::errc() || p != lines[1].data() + lines[1].size() || count != lines.size() - 2) {
        return make_error_code(errc::corrupt);
    }
    return std::vector<std::string_view>(lines.begin() + 2, lines.end());
}

template<typename T>
bool parse_num(std::string_view s, T& out)
{
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s)
{
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        auto sp = s.find(' ', pos);
        if (sp == std::string_view::npos) sp = s.size();
        out.push_back(s.substr(pos, sp - pos));
        pos = sp + 1;
    }
    return out;
}

} // namespace

result<void> write_offset_checkpoint(file_ops& fs, const std::string& path, const offset_map& entries)
{
    std::string out = fmt::format("{}\n{}\n", checkpoint_version, entries.size());
    for (auto& [tp, o] : entries) out += fmt::format("{} {} {}\n", tp.topic, tp.partition(), o());
    return fs.write_file_atomic(path, as_bytes(out));
}

result<offset_map> read_offset_checkpoint(file_ops& fs, const std::string& path)
{
    if (!fs.exists(path)) return make_error_code(errc::not_found);
    SAMSA_TRY_ASSIGN(auto raw, fs.read_file(path));
    SAMSA_TRY_ASSIGN(auto lines, parse_lines(as_string_view(raw)));
    offset_map out;
    for (auto l : lines) {
        auto f = split(l);
        int32_t part = 0;
        int64_t off = 0;
        if (f.size() != 3 || f[0].empty() || !parse_num(f[1], part) || !parse_num(f[2], off) || part < 0) {
            return make_error_code(errc::corrupt);
        }
        out[topic_partition{std::string(f[0]), partition_id(part)}] = offset(off);
    }
    return out;
}

result<void> write_epoch_checkpoint(file_ops& fs, const std::string& path, const std::vector<epoch_entry>& entries,
                                    bool durable)
{
    std::string out = fmt::format("{}\n{}\n", checkpoint_version, entries.size());
    for (auto& e : entries) out += fmt::format("{} {}\n", e.epoch(), e.start_offset());
    return fs.write_file_atomic(path, as_bytes(out), durable);
}

result<std::vector<epoch_entry>> read_epoch_checkpoint(file_ops& fs, const std::string& path)
{
    if (!fs.exists(path)) return make_error_code(errc::not_found);
    SAMSA_TRY_ASSIGN(auto raw, fs.read_file(path));
    SAMSA_TRY_ASSIGN(auto lines, parse_lines(as_string_view(raw)));
    std::vector<epoch_entry> out;
    for (auto l : lines) {
        auto f = split(l);
        int32_t ep = 0;
        int64_t off = 0;
        if (f.size() != 2 || !parse_num(f[0], ep) || !parse_num(f[1], off) || ep < 0 || off < 0) {
            return make_error_code(errc::corrupt);
        }
        if (!out.empty() && (ep <= out.back().epoch() || off < out.back().start_offset())) {
            return make_error_code(errc::corrupt);
        }
        out.push_back({leader_epoch(ep), offset(off)});
    }
    return out;
}

bool parse_partition_dir(const std::string& name, topic_partition& out)
{
    auto dash = name.find_last_of('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return false;
    int32_t p = 0;
    if (!parse_num(std::string_view(name).substr(dash + 1), p) || p < 0) return false;
    out.topic = name.substr(0, dash);
    out.partition = partition_id(p);
    return true;
}

} // namespace samsa::storage
