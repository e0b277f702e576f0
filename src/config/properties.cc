#include "config/properties.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace samsa::config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

std::string_view skip_blanks(std::string_view s)
{
    size_t i = 0;
    while (i < s.size() && is_blank(s[i])) ++i;
    return s.substr(i);
}

/// Splits text into natural lines ending in \n, \r or \r\n, counting them from 1.
class line_reader {
public:
    explicit line_reader(std::string_view text) : _text(text) {}

    std::optional<std::string_view> next()
    {
        if (_pos >= _text.size()) return std::nullopt;
        size_t end = _text.find_first_of("\r\n", _pos);
        if (end == std::string_view::npos) end = _text.size();
        auto line = _text.substr(_pos, end - _pos);
        _pos = end;
        if (_pos < _text.size()) {
            bool crlf = _text[_pos] == '\r' && _pos + 1 < _text.size() && _text[_pos + 1] == '\n';
            _pos += crlf ? 2 : 1;
        }
        ++_line;
        return line;
    }
    int line() const { return _line; }

private:
    std::string_view _text;
    size_t _pos = 0;
    int _line = 0;
};

bool ends_in_continuation(std::string_view s)
{
    size_t n = 0;
    while (n < s.size() && s[s.size() - 1 - n] == '\\') ++n;
    return n % 2 == 1;
}

void append_utf8(std::string& out, uint32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Reads the four hex digits of a `\u` escape starting at s[i]; -1 when malformed.
int32_t read_hex4(std::string_view s, size_t i)
{
    if (i + 4 > s.size()) return -1;
    int32_t v = 0;
    for (size_t k = i; k < i + 4; ++k) {
        char c = s[k];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/// Decodes `\u` at s[i] (i points at 'u'), joining a surrogate pair when one follows.
/// Returns the index after the escape, or npos when malformed.
size_t decode_unicode(std::string_view s, size_t i, std::string& out)
{
    int32_t unit = read_hex4(s, i + 1);
    if (unit < 0) return std::string_view::npos;
    size_t next = i + 5;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        int32_t low = (next + 1 < s.size() && s[next] == '\\' && s[next + 1] == 'u') ? read_hex4(s, next + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF) return std::string_view::npos;
        append_utf8(out,
                    0x10000 + ((static_cast<uint32_t>(unit) - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00));
        return next + 6;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) return std::string_view::npos;
    append_utf8(out, static_cast<uint32_t>(unit));
    return next;
}

/// Resolves the escapes of one key or value; false on a malformed `\u`.
bool unescape(std::string_view s, std::string& out)
{
    for (size_t i = 0; i < s.size();) {
        if (s[i] != '\\') {
            out += s[i++];
            continue;
        }
        if (i + 1 >= s.size()) break; // a dangling backslash at the very end is dropped
        char c = s[i + 1];
        if (c == 'u') {
            i = decode_unicode(s, i + 1, out);
            if (i == std::string_view::npos) return false;
            continue;
        }
        out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'f' ? '\f' : c;
        i += 2;
    }
    return true;
}

/// Index where the (still escaped) key of a logical line ends.
size_t key_end(std::string_view s)
{
    size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '\\') {
            i += 2;
            continue;
        }
        if (s[i] == '=' || s[i] == ':' || is_blank(s[i])) return i;
        ++i;
    }
    return s.size();
}

config_failure syntax_error(std::string_view origin, int line, std::string_view what)
{
    return make_failure(errc::malformed_text, fmt::format("{}:{}: {}", origin, line, what));
}

config_result<property> split_entry(std::string_view logical, std::string_view origin, int line)
{
    size_t k = key_end(logical);
    std::string_view rest = skip_blanks(logical.substr(std::min(k, logical.size())));
    if (!rest.empty() && (rest[0] == '=' || rest[0] == ':')) rest = skip_blanks(rest.substr(1));
    property p;
    p.line = line;
    if (k == 0) return syntax_error(origin, line, "missing key before the separator");
    if (!unescape(logical.substr(0, k), p.key) || !unescape(rest, p.value)) {
        return syntax_error(origin, line, "malformed \\uXXXX escape");
    }
    return p;
}

} // namespace

config_result<std::vector<property>> parse_properties(std::string_view text, std::string_view origin)
{
    std::vector<property> out;
    line_reader reader(text);
    while (auto natural = reader.next()) {
        std::string_view first = skip_blanks(*natural);
        if (first.empty() || first[0] == '#' || first[0] == '!') continue;
        int start_line = reader.line();
        std::string logical(first);
        while (ends_in_continuation(logical)) {
            logical.pop_back();
            auto more = reader.next();
            if (!more) break;
            logical += skip_blanks(*more);
        }
        auto entry = split_entry(logical, origin, start_line);
        if (!entry) return entry.error();
        out.push_back(std::move(*entry));
    }
    return out;
}

property_map to_map(const std::vector<property>& entries)
{
    property_map m;
    for (const auto& e : entries) m[e.key] = e.value;
    return m;
}

property_map load_properties_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(errc::unreadable_file, fmt::format("Cannot open configuration file {}", path));
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) throw config_error(errc::unreadable_file, fmt::format("Cannot read configuration file {}", path));
    return to_map(parse_properties(buf.str(), path).value());
}

namespace {

void escape_char(std::string& out, char c, bool is_key)
{
    switch (c) {
    case '\\': out += "\\\\"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\f': out += "\\f"; return;
    default: break;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else if (is_key && (c == '=' || c == ':' || c == ' ' || c == '#' || c == '!')) {
        out += '\\';
        out += c;
    } else {
        out += c;
    }
}

std::string escape(std::string_view s, bool is_key)
{
    std::string out;
    size_t i = 0;
    if (!is_key) {
        // Leading blanks of a value would be skipped on reading: keep them escaped.
        for (; i < s.size() && s[i] == ' '; ++i) out += "\\ ";
    }
    for (; i < s.size(); ++i) escape_char(out, s[i], is_key);
    return out;
}

} // namespace

std::string write_properties(const property_map& entries, std::string_view header)
{
    std::string out;
    if (!header.empty()) out += fmt::format("# {}\n", header);
    for (const auto& [k, v] : entries) {
        out += escape(k, true);
        out += '=';
        out += escape(v, false);
        out += '\n';
    }
    return out;
}

config_result<std::pair<std::string, std::string>> parse_override(std::string_view arg)
{
    auto eq = arg.find('=');
    std::string_view key = eq == std::string_view::npos ? std::string_view{} : skip_blanks(arg.substr(0, eq));
    while (!key.empty() && is_blank(key.back())) key.remove_suffix(1);
    if (key.empty()) {
        return make_failure(errc::malformed_text, fmt::format("Invalid override '{}': expected key=value", arg));
    }
    return std::pair<std::string, std::string>(std::string(key), std::string(arg.substr(eq + 1)));
}

property_map load_server_properties(const std::optional<std::string>& path, const std::vector<std::string>& overrides)
{
    property_map props = path ? load_properties_file(*path) : property_map{};
    for (const auto& o : overrides) {
        auto kv = parse_override(o).value();
        props[kv.first] = kv.second;
    }
    return props;
}

} // namespace samsa::config
