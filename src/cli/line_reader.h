#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::cli {

/// How console-producer turns a line into a record (Kafka 3.x LineMessageReader properties):
/// parse.key, key.separator ("\t"), parse.headers, headers.delimiter ("\t"), headers.separator
/// (","), headers.key.separator (":"), ignore.error, null.marker.
struct line_format {
    bool parse_key = false;
    std::string key_separator = "\t";
    bool parse_headers = false;
    std::string headers_delimiter = "\t";
    std::string headers_separator = ",";
    std::string headers_key_separator = ":";
    bool ignore_error = false;
    std::optional<std::string> null_marker;

    /// From --property k=v pairs; usage_error for an unknown property, an empty separator or a
    /// null.marker equal to a separator.
    static line_format from_properties(const std::map<std::string, std::string>& props);
};

/// One record to produce.
struct parsed_line {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

/// Splits one line (without its line ending) into headers, key and value. Throws cli_error
/// naming the line number when a separator is missing (unless ignore_error: then the whole rest
/// is the value and the key is null, as Kafka does).
parsed_line parse_line(std::string_view line, const line_format& f, long line_number);

/// Reads stdin line by line with read(2), so that SIGINT interrupts a blocked read. Strips "\n"
/// and a preceding "\r".
class stdin_lines {
public:
    /// The next line, or nullopt at end of input or once a stop signal arrived (signals.h).
    std::optional<std::string> next();

private:
    std::string _buf;
    bool _eof = false;
};

} // namespace samsa::cli
