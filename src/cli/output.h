#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::cli {

/// `s` left-aligned in a field of `width` characters (Java's "%-Ns"); longer text is kept whole.
std::string pad(std::string_view s, size_t width);

/// Joins with a separator.
std::string join(const std::vector<std::string>& parts, std::string_view sep);

/// A JSON string literal (quotes included) with the required escapes.
std::string json_string(std::string_view s);

/// Writes all of `data` to stdout (fwrite, no newline added).
void write_out(std::string_view data);

/// Milliseconds since the Unix epoch, from the system clock.
int64_t now_ms();

/// Formats `epoch_ms` in local time with a Java SimpleDateFormat pattern; supports the letters
/// y (year), M (month), d, H, m, s, S (milliseconds) and 'quoted' literals; anything else is
/// copied. Kafka's perf tools use "yyyy-MM-dd HH:mm:ss:SSS".
std::string format_date(int64_t epoch_ms, std::string_view pattern);

} // namespace samsa::cli
