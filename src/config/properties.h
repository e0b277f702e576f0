#pragma once

#include "config/errors.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::config {

/// One `key=value` entry of a .properties text, with the line its logical line starts on.
struct property {
    std::string key;
    std::string value;
    int line = 0;

    bool operator==(const property&) const = default;
};

/// Keys to raw (unparsed) values; a later entry for the same key replaces an earlier one.
using property_map = std::map<std::string, std::string>;

/// Parses text with java.util.Properties semantics: `#`/`!` comment lines, blank lines,
/// `key=value`, `key: value` and `key value` separators, leading whitespace skipped (trailing
/// whitespace of a value is kept, as Java does; typed parsing trims it later), a line ending in
/// an odd number of backslashes continues on the next line, escapes `\t \n \r \f \uXXXX` and
/// `\<any>` for that character (`\: \= \\ \# \ `). Bytes other than escapes pass through, so
/// UTF-8 stays UTF-8. Fails with errc::malformed_text and a message "origin:line: ..." on a
/// malformed `\u` escape or an empty key.
config_result<std::vector<property>> parse_properties(std::string_view text, std::string_view origin);

/// Collapses entries to a map, the last occurrence of a key winning.
property_map to_map(const std::vector<property>& entries);

/// Reads and parses a file. Throws config_error (unreadable_file or malformed_text) on failure.
property_map load_properties_file(const std::string& path);

/// Renders entries, one `key=value` line each in key order, escaped so that
/// parse_properties(write_properties(m)) gives back m exactly. An optional header becomes a
/// leading `# ` comment line.
std::string write_properties(const property_map& entries, std::string_view header = {});

/// Splits one `--override key=value` argument at its first '='. Fails with
/// errc::malformed_text when there is no '=' or the key is empty.
config_result<std::pair<std::string, std::string>> parse_override(std::string_view arg);

/// The broker's startup input: the optional server.properties file, then each override in
/// order (last wins). Throws config_error on an unreadable file, a syntax error or a malformed
/// override.
property_map load_server_properties(const std::optional<std::string>& path, const std::vector<std::string>& overrides);

} // namespace samsa::config
