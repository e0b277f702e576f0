#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::cli {

/// What a consumed record looks like to the formatter.
struct formatted_record {
    enum class ts_kind { none, create_time, log_append_time };
    ts_kind timestamp_type = ts_kind::none;
    int64_t timestamp = -1;
    int32_t partition = 0;
    int64_t offset = 0;
    std::optional<std::string_view> key;
    std::optional<std::string_view> value;
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

/// Kafka's DefaultMessageFormatter: the enabled fields in the order timestamp
/// (`CreateTime:<ms>`, `LogAppendTime:<ms>` or `NO_TIMESTAMP`), `Partition:<n>`, `Offset:<n>`,
/// headers (`k:v` joined by headers.separator, or `NO_HEADERS`), key, value; each followed by
/// key.separator when another field follows, the last by line.separator. Null keys, values and
/// header values print as null.literal. Properties: print.timestamp, print.partition,
/// print.offset, print.headers, print.key, print.value (default true), key.separator ("\t"),
/// line.separator ("\n"), headers.separator (","), null.literal ("null").
class message_formatter {
public:
    /// Unknown properties draw a warning on stderr; key.deserializer/value.deserializer and
    /// headers.deserializer are accepted and ignored (bytes are printed as they are).
    explicit message_formatter(const std::map<std::string, std::string>& props);

    void format(const formatted_record& r, std::string& out) const;

private:
    bool _print_timestamp = false;
    bool _print_partition = false;
    bool _print_offset = false;
    bool _print_headers = false;
    bool _print_key = false;
    bool _print_value = true;
    std::string _key_separator = "\t";
    std::string _line_separator = "\n";
    std::string _headers_separator = ",";
    std::string _null_literal = "null";
};

} // namespace samsa::cli
