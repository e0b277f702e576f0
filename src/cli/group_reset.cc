#include "cli/group_reset.h"

#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <ctime>

namespace samsa::cli {

namespace {

/// Reads exactly `n` digits at `s[i]`, advancing i.
std::optional<int> digits(std::string_view s, size_t& i, size_t n)
{
    if (i + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t k = 0; k < n; ++k, ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool expect(std::string_view s, size_t& i, char c)
{
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
}

/// The zone suffix in seconds east of UTC: "Z", "+HH:mm", "+HHmm", "+HH".
std::optional<int> zone_offset(std::string_view z)
{
    if (z == "Z") return 0;
    if (z.size() < 3 || (z[0] != '+' && z[0] != '-')) return std::nullopt;
    size_t i = 1;
    auto h = digits(z, i, 2);
    int m = 0;
    if (i < z.size()) {
        expect(z, i, ':');
        auto mm = digits(z, i, 2);
        if (!mm) return std::nullopt;
        m = *mm;
    }
    if (!h || i != z.size()) return std::nullopt;
    int secs = *h * 3600 + m * 60;
    return z[0] == '-' ? -secs : secs;
}

} // namespace

std::optional<int64_t> parse_datetime(std::string_view s)
{
    size_t i = 0;
    std::tm tm{};
    auto y = digits(s, i, 4);
    if (!y || !expect(s, i, '-')) return std::nullopt;
    auto mo = digits(s, i, 2);
    if (!mo || !expect(s, i, '-')) return std::nullopt;
    auto d = digits(s, i, 2);
    if (!d || !expect(s, i, 'T')) return std::nullopt;
    auto h = digits(s, i, 2);
    if (!h || !expect(s, i, ':')) return std::nullopt;
    auto mi = digits(s, i, 2);
    if (!mi || !expect(s, i, ':')) return std::nullopt;
    auto se = digits(s, i, 2);
    if (!se) return std::nullopt;
    int millis = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        auto ms = digits(s, i, 3);
        if (!ms) return std::nullopt;
        millis = *ms;
    }
    if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
    tm.tm_year = *y - 1900;
    tm.tm_mon = *mo - 1;
    tm.tm_mday = *d;
    tm.tm_hour = *h;
    tm.tm_min = *mi;
    tm.tm_sec = *se;
    std::time_t secs;
    if (i == s.size()) {
        tm.tm_isdst = -1;
        secs = std::mktime(&tm);
    } else {
        auto off = zone_offset(s.substr(i));
        if (!off) return std::nullopt;
        secs = ::timegm(&tm) - *off;
    }
    return static_cast<int64_t>(secs) * 1000 + millis;
}

std::optional<int64_t> parse_duration(std::string_view s)
{
    if (s.size() < 3 || (s[0] != 'P' && s[0] != 'p')) return std::nullopt;
    double total_ms = 0;
    bool in_time = false;
    bool any = false;
    size_t i = 1;
    while (i < s.size()) {
        if (s[i] == 'T' || s[i] == 't') {
            if (in_time) return std::nullopt;
            in_time = true;
            ++i;
            continue;
        }
        size_t j = i;
        if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
        while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
        if (j == i || j >= s.size()) return std::nullopt;
        double n = std::strtod(std::string(s.substr(i, j - i)).c_str(), nullptr);
        char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(s[j])));
        if (!in_time && unit == 'D')
            total_ms += n * 86400000.0;
        else if (in_time && unit == 'H')
            total_ms += n * 3600000.0;
        else if (in_time && unit == 'M')
            total_ms += n * 60000.0;
        else if (in_time && unit == 'S')
            total_ms += n * 1000.0;
        else
            return std::nullopt;
        any = true;
        i = j + 1;
    }
    if (!any) return std::nullopt;
    return static_cast<int64_t>(total_ms);
}

namespace {

const std::vector<std::string> scenarios{"to-earliest", "to-latest",   "to-current", "to-offset",
                                         "shift-by",    "to-datetime", "by-duration"};

using plan = std::map<topic_partition_key, int64_t>;

int64_t clamp_offset(const admin_client& admin, const topic_partition_key& tp, int64_t wanted)
{
    auto [low, high] = admin.watermarks(tp.first, tp.second);
    if (wanted < low) {
        std::fprintf(
            stderr,
            "New offset (%lld) is lower than earliest offset for topic partition %s-%d. Value will be set to %lld\n",
            static_cast<long long>(wanted), tp.first.c_str(), tp.second, static_cast<long long>(low));
        return low;
    }
    if (wanted > high) {
        std::fprintf(
            stderr,
            "New offset (%lld) is higher than latest offset for topic partition %s-%d. Value will be set to %lld\n",
            static_cast<long long>(wanted), tp.first.c_str(), tp.second, static_cast<long long>(high));
        return high;
    }
    return wanted;
}

/// The first offset at or after `ts_ms` per partition (the log end where there is none).
plan offsets_at(const admin_client& admin, const std::vector<topic_partition_key>& tps, int64_t ts_ms)
{
    auto list = new_partition_list(static_cast<int>(tps.size()));
    for (auto& [t, p] : tps) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), p)->offset = ts_ms;
    if (auto err = rd_kafka_offsets_for_times(admin.handle(), list.get(), admin.config().timeout_ms())) {
        throw cli_error("Cannot look up offsets by time: " + error_text(err));
    }
    plan out;
    for (int i = 0; i < list->cnt; ++i) {
        auto& e = list->elems[i];
        if (e.err)
            throw cli_error(
                fmt::format("Cannot look up offsets by time for {}-{}: {}", e.topic, e.partition, error_text(e.err)));
        topic_partition_key tp{e.topic, e.partition};
        out[tp] = e.offset >= 0 ? e.offset : admin.watermarks(e.topic, e.partition).second;
    }
    return out;
}

int64_t shifted(const admin_client& admin, const topic_partition_key& tp, const plan& committed, int64_t by)
{
    auto c = committed.find(tp);
    if (c == committed.end()) {
        throw cli_error(fmt::format(
            "Cannot shift offset for partition {}-{} since there is no current committed offset", tp.first, tp.second));
    }
    return clamp_offset(admin, tp, c->second + by);
}

plan compute_plan(const admin_client& admin, const parsed_args& a, const std::vector<topic_partition_key>& tps,
                  const plan& committed)
{
    if (a.has("to-datetime") || a.has("by-duration")) {
        int64_t ts;
        if (auto dt = a.value("to-datetime")) {
            auto v = parse_datetime(*dt);
            if (!v) throw usage_error(fmt::format("Invalid --to-datetime '{}': expected YYYY-MM-DDTHH:mm:SS.sss", *dt));
            ts = *v;
        } else {
            auto d = parse_duration(*a.value("by-duration"));
            if (!d)
                throw usage_error(
                    fmt::format("Invalid --by-duration '{}': expected PnDTnHnMnS", *a.value("by-duration")));
            ts = now_ms() - *d;
        }
        return offsets_at(admin, tps, ts);
    }
    plan out;
    for (auto& tp : tps) {
        if (a.has("to-earliest"))
            out[tp] = admin.watermarks(tp.first, tp.second).first;
        else if (a.has("to-latest"))
            out[tp] = admin.watermarks(tp.first, tp.second).second;
        else if (a.has("to-offset"))
            out[tp] = clamp_offset(admin, tp, *a.int_value("to-offset"));
        else if (a.has("shift-by"))
            out[tp] = shifted(admin, tp, committed, *a.int_value("shift-by"));
        else if (auto c = committed.find(tp); c != committed.end())
            out[tp] = c->second; // --to-current
        else
            out[tp] = admin.watermarks(tp.first, tp.second).second;
    }
    return out;
}

void validate(const parsed_args& a)
{
    size_t n = std::count_if(scenarios.begin(), scenarios.end(), [&](auto& s) { return a.has(s); });
    if (n != 1) {
        std::string list;
        for (auto& s : scenarios) list += (list.empty() ? "--" : ", --") + s;
        throw usage_error("Option --reset-offsets takes exactly one of " + list);
    }
    if (a.has("topic") == a.has("all-topics")) {
        throw usage_error("Option --reset-offsets needs one of the scopes --all-topics or --topic");
    }
    if (a.has("dry-run") && a.has("execute"))
        throw usage_error("Options --dry-run and --execute cannot be used together");
    if (a.has("shift-by")) a.int_value("shift-by");
    if (a.has("to-offset")) a.int_value("to-offset");
}

void print_plan(const std::map<std::string, plan>& plans, bool csv)
{
    std::string out;
    for (auto& [group, p] : plans) {
        for (auto& [tp, off] : p) {
            if (csv)
                out += fmt::format("{}{},{},{}\n", plans.size() > 1 ? group + "," : "", tp.first, tp.second, off);
            else
                out += fmt::format("{:<30} {:<30} {:<10} {}\n", group, tp.first, tp.second, off);
        }
    }
    if (!csv && !out.empty())
        out = fmt::format("\n{:<30} {:<30} {:<10} {}\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET") + out;
    write_out(out);
}

} // namespace

int reset_offsets(const admin_client& admin, const parsed_args& a)
{
    validate(a);
    if (!a.has("dry-run") && !a.has("execute")) {
        std::fprintf(stderr, "WARN: No action will be performed as the --execute option is missing. Add --dry-run to "
                             "keep this behaviour explicitly, or --execute to commit the new offsets.\n");
    }
    std::map<std::string, plan> plans;
    for (auto& group : selected_groups(admin, a)) {
        auto desc = describe_groups(admin, {group});
        auto state = desc.empty() ? std::string("Dead") : desc.front().state;
        if (state != "Empty" && state != "Dead") {
            throw cli_error(fmt::format("Assignments can only be reset if the group '{}' is inactive, but the current "
                                        "state is {}.",
                                        group, state));
        }
        auto committed = committed_offsets(admin, group);
        std::vector<topic_partition_key> tps;
        if (a.has("all-topics")) {
            for (auto& [tp, off] : committed) tps.push_back(tp);
        } else {
            tps = topic_partitions(admin, a.values("topic"));
        }
        plans[group] = compute_plan(admin, a, tps, committed);
        if (a.has("execute") && !plans[group].empty()) alter_group_offsets(admin, group, plans[group]);
    }
    print_plan(plans, a.has("export"));
    return 0;
}

} // namespace samsa::cli
