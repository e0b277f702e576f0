#include "cli/line_reader.h"

#include "cli/args.h"
#include "cli/signals.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace samsa::cli {

namespace {

bool bool_property(const std::string& v)
{
    return v == "true" || v == "TRUE" || v == "True";
}

} // namespace

line_format line_format::from_properties(const std::map<std::string, std::string>& props)
{
    line_format f;
    for (auto& [k, v] : props) {
        if (k == "parse.key")
            f.parse_key = bool_property(v);
        else if (k == "key.separator")
            f.key_separator = v;
        else if (k == "parse.headers")
            f.parse_headers = bool_property(v);
        else if (k == "headers.delimiter")
            f.headers_delimiter = v;
        else if (k == "headers.separator")
            f.headers_separator = v;
        else if (k == "headers.key.separator")
            f.headers_key_separator = v;
        else if (k == "ignore.error")
            f.ignore_error = bool_property(v);
        else if (k == "null.marker")
            f.null_marker = v;
        else
            throw usage_error(fmt::format("Unknown --property '{}'", k));
    }
    for (auto* s : {&f.key_separator, &f.headers_delimiter, &f.headers_separator, &f.headers_key_separator}) {
        if (s->empty()) throw usage_error("Separators given with --property must not be empty");
    }
    if (f.null_marker && f.null_marker->empty()) throw usage_error("null.marker must not be empty");
    if (f.null_marker && (*f.null_marker == f.key_separator || *f.null_marker == f.headers_delimiter ||
                          *f.null_marker == f.headers_separator || *f.null_marker == f.headers_key_separator)) {
        throw usage_error("null.marker must differ from the separators");
    }
    return f;
}

namespace {

std::optional<std::string> nullable(std::string_view s, const line_format& f)
{
    if (f.null_marker && s == *f.null_marker) return std::nullopt;
    return std::string(s);
}

void parse_headers(std::string_view text, const line_format& f, long line_number, parsed_line& out)
{
    size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(f.headers_separator, start);
        std::string_view pair =
            text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        auto ks = pair.find(f.headers_key_separator);
        if (ks == std::string_view::npos) {
            if (!f.ignore_error) {
                throw cli_error(
                    fmt::format("No header key separator found in pair '{}' on line number {}", pair, line_number));
            }
            out.headers.emplace_back(std::string(pair), std::nullopt);
        } else {
            std::string key(pair.substr(0, ks));
            if (f.null_marker && key == *f.null_marker) {
                throw cli_error(fmt::format("Header keys should not be equal to the null marker '{}' as they can't "
                                            "be null (line number {})",
                                            *f.null_marker, line_number));
            }
            out.headers.emplace_back(key, nullable(pair.substr(ks + f.headers_key_separator.size()), f));
        }
        if (end == std::string_view::npos) break;
        start = end + f.headers_separator.size();
    }
}

} // namespace

parsed_line parse_line(std::string_view line, const line_format& f, long line_number)
{
    parsed_line out;
    std::string_view rest = line;
    if (f.parse_headers) {
        auto d = rest.find(f.headers_delimiter);
        if (d == std::string_view::npos) {
            if (!f.ignore_error) {
                throw cli_error(fmt::format("No headers delimiter found on line number {}: '{}'", line_number, line));
            }
        } else {
            std::string_view headers = rest.substr(0, d);
            rest = rest.substr(d + f.headers_delimiter.size());
            if (!f.null_marker || headers != *f.null_marker) parse_headers(headers, f, line_number, out);
        }
    }
    if (f.parse_key) {
        auto k = rest.find(f.key_separator);
        if (k == std::string_view::npos) {
            if (!f.ignore_error) {
                throw cli_error(fmt::format("No key separator found on line number {}: '{}'", line_number, line));
            }
            out.value = nullable(rest, f);
            return out;
        }
        out.key = nullable(rest.substr(0, k), f);
        rest = rest.substr(k + f.key_separator.size());
    }
    out.value = nullable(rest, f);
    return out;
}

std::optional<std::string> stdin_lines::next()
{
    for (;;) {
        auto nl = _buf.find('\n');
        if (nl != std::string::npos) {
            std::string line = _buf.substr(0, nl);
            _buf.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        bool stop = stop_requested();
        if (_eof || stop) {
            if (_buf.empty() || stop) return std::nullopt;
            std::string line = std::move(_buf);
            _buf.clear();
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        char chunk[65536];
        ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n > 0)
            _buf.append(chunk, static_cast<size_t>(n));
        else if (n == 0)
            _eof = true;
        else if (errno != EINTR)
            throw cli_error(fmt::format("Cannot read stdin: {}", std::strerror(errno)));
    }
}

} // namespace samsa::cli
