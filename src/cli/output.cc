#include "cli/output.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace samsa::cli {

std::string pad(std::string_view s, size_t width)
{
    std::string out(s);
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep)
{
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += sep;
        out += parts[i];
    }
    return out;
}

std::string json_string(std::string_view s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20)
                out += fmt::format("\\u{:04x}", c);
            else
                out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

void write_out(std::string_view data)
{
    std::fwrite(data.data(), 1, data.size(), stdout);
}

int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

/// One run of a pattern letter ("yyyy") rendered from the broken-down time.
std::string date_field(char letter, size_t count, const std::tm& tm, int millis)
{
    auto num = [&](long v, size_t width) { return fmt::format("{:0{}d}", v, width); };
    switch (letter) {
    case 'y': return count == 2 ? num((tm.tm_year + 1900) % 100, 2) : num(tm.tm_year + 1900, count);
    case 'M': return num(tm.tm_mon + 1, count);
    case 'd': return num(tm.tm_mday, count);
    case 'H': return num(tm.tm_hour, count);
    case 'm': return num(tm.tm_min, count);
    case 's': return num(tm.tm_sec, count);
    case 'S': return num(millis, count);
    default: return std::string(count, letter);
    }
}

} // namespace

std::string format_date(int64_t epoch_ms, std::string_view pattern)
{
    std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    int millis = static_cast<int>(epoch_ms % 1000);
    std::string out;
    for (size_t i = 0; i < pattern.size();) {
        char c = pattern[i];
        if (c == '\'') {
            auto end = pattern.find('\'', i + 1);
            if (end == std::string_view::npos) end = pattern.size();
            out += pattern.substr(i + 1, end - i - 1);
            i = end + 1;
            continue;
        }
        size_t j = i;
        while (j < pattern.size() && pattern[j] == c) ++j;
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        out += letter ? date_field(c, j - i, tm, millis) : std::string(pattern.substr(i, j - i));
        i = j;
    }
    return out;
}

} // namespace samsa::cli
