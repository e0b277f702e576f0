#include "config/config_def.h"

#include "base/assert.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace samsa::config {
namespace {

std::string_view trim(std::string_view s)
{
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string join(const std::vector<std::string>& items, std::string_view sep)
{
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

/// Java's Integer/Long/Short.parseLong: optional sign, decimal digits, within [lo, hi].
std::optional<int64_t> parse_integer(std::string_view s, int64_t lo, int64_t hi)
{
    if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
    return v;
}

std::optional<double> parse_double(std::string_view s)
{
    if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
    if (!s.empty() && (s.back() == 'd' || s.back() == 'D' || s.back() == 'f' || s.back() == 'F')) {
        s.remove_suffix(1); // Java accepts a type suffix: "0.5d"
    }
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || std::isnan(v)) return std::nullopt;
    return v;
}

std::optional<config_value> parse_typed(config_type type, std::string_view raw)
{
    std::string_view t = trim(raw);
    switch (type) {
    case config_type::boolean:
        if (equals_ignore_case(t, "true")) return config_value{true};
        if (equals_ignore_case(t, "false")) return config_value{false};
        return std::nullopt;
    case config_type::int32: return parse_integer(t, INT32_MIN, INT32_MAX);
    case config_type::int16: return parse_integer(t, INT16_MIN, INT16_MAX);
    case config_type::int64: return parse_integer(t, INT64_MIN, INT64_MAX);
    case config_type::float64: return parse_double(t);
    case config_type::string:
    case config_type::class_name: return config_value{std::string(t)};
    case config_type::password: return config_value{std::string(raw)};
    case config_type::list: return config_value{split_list(t)};
    }
    return std::nullopt;
}

std::string type_failure(config_type type)
{
    if (type == config_type::boolean) return "Expected value to be either true or false";
    return fmt::format("Not a number of type {}", kafka_type_name(type));
}

double as_number(const config_value& v)
{
    if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
    return as_double(v);
}

std::string format_bound(double b)
{
    return b == std::floor(b) && std::fabs(b) < 1e15 ? fmt::format("{}", static_cast<int64_t>(b))
                                                     : format_java_double(b);
}

} // namespace

std::string_view kafka_type_name(config_type t)
{
    switch (t) {
    case config_type::boolean: return "BOOLEAN";
    case config_type::string: return "STRING";
    case config_type::int32: return "INT";
    case config_type::int16: return "SHORT";
    case config_type::int64: return "LONG";
    case config_type::float64: return "DOUBLE";
    case config_type::list: return "LIST";
    case config_type::class_name: return "CLASS";
    case config_type::password: return "PASSWORD";
    }
    return "UNKNOWN";
}

validator::validator(check_fn check, std::string description)
    : _check(std::move(check)), _description(std::move(description))
{
}

std::optional<violation> validator::check(const config_value& v) const
{
    if (!_check || is_null(v)) return std::nullopt;
    return _check(v);
}

validator validator::at_least(int64_t min)
{
    auto check = [min](const config_value& v) -> std::optional<violation> {
        if (as_number(v) < static_cast<double>(min))
            return violation{fmt::format("Value must be at least {}", min), {}};
        return std::nullopt;
    };
    return {check, fmt::format("[{},...]", min)};
}

validator validator::between(double min, double max)
{
    auto check = [min, max](const config_value& v) -> std::optional<violation> {
        double n = as_number(v);
        if (n < min) return violation{fmt::format("Value must be at least {}", format_bound(min)), {}};
        if (n > max) return violation{fmt::format("Value must be no more than {}", format_bound(max)), {}};
        return std::nullopt;
    };
    return {check, fmt::format("[{},...,{}]", format_bound(min), format_bound(max))};
}

validator validator::one_of(std::vector<std::string> choices)
{
    auto desc = fmt::format("[{}]", join(choices, ", "));
    auto check = [choices = std::move(choices)](const config_value& v) -> std::optional<violation> {
        if (std::find(choices.begin(), choices.end(), as_string(v)) != choices.end()) return std::nullopt;
        return violation{fmt::format("String must be one of: {}", join(choices, ", ")), {}};
    };
    return {check, desc};
}

validator validator::list_of(std::vector<std::string> choices, bool allow_empty)
{
    auto desc = fmt::format("[{}]", join(choices, ", "));
    auto check = [choices = std::move(choices), allow_empty](const config_value& v) -> std::optional<violation> {
        const auto& items = as_list(v);
        if (items.empty() && !allow_empty) {
            return violation{fmt::format("List must contain at least one of: {}", join(choices, ", ")), {}};
        }
        for (const auto& item : items) {
            if (std::find(choices.begin(), choices.end(), item) == choices.end()) {
                return violation{fmt::format("String must be one of: {}", join(choices, ", ")), item};
            }
        }
        return std::nullopt;
    };
    return {check, desc};
}

validator validator::non_empty()
{
    auto check = [](const config_value& v) -> std::optional<violation> {
        bool empty = std::holds_alternative<std::string>(v) ? as_string(v).empty() : as_list(v).empty();
        if (empty) return violation{"String must be non-empty", {}};
        return std::nullopt;
    };
    return {check, "non-empty string"};
}

config_def& config_def::define(config_key key)
{
    SAMSA_ASSERT(!_index.contains(key.name), "config {} defined twice", key.name);
    if (key.default_value) {
        auto parsed = parse_value(key, *key.default_value);
        SAMSA_ASSERT(parsed.has_value(), "default of {} is invalid: {}", key.name, parsed.error().message);
    }
    _index.emplace(key.name, _keys.size());
    _keys.push_back(std::move(key));
    return *this;
}

const config_key* config_def::find(std::string_view name) const
{
    auto it = _index.find(name);
    return it == _index.end() ? nullptr : &_keys[it->second];
}

config_result<config_value> parse_value(const config_key& key, std::string_view raw)
{
    auto parsed = parse_typed(key.type, raw);
    if (!parsed) {
        return make_failure(errc::invalid_value, fmt::format("Invalid value {} for configuration {}: {}", raw, key.name,
                                                             type_failure(key.type)));
    }
    if (auto bad = key.valid.check(*parsed)) {
        std::string shown = bad->offending ? *bad->offending : std::string(raw);
        return make_failure(errc::invalid_value,
                            fmt::format("Invalid value {} for configuration {}: {}", shown, key.name, bad->reason));
    }
    return *parsed;
}

config_value default_value(const config_key& key)
{
    if (!key.default_value) return std::monostate{};
    return parse_value(key, *key.default_value).value();
}

std::optional<std::string> format_value(const config_value& v)
{
    struct visitor {
        std::optional<std::string> operator()(std::monostate) const { return std::nullopt; }
        std::optional<std::string> operator()(bool b) const { return b ? "true" : "false"; }
        std::optional<std::string> operator()(int64_t i) const { return fmt::format("{}", i); }
        std::optional<std::string> operator()(double d) const { return format_java_double(d); }
        std::optional<std::string> operator()(const std::string& s) const { return s; }
        std::optional<std::string> operator()(const std::vector<std::string>& l) const { return join_list(l); }
    };
    return std::visit(visitor{}, v);
}

std::string format_java_double(double d)
{
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    SAMSA_ASSERT(ec == std::errc{}, "to_chars failed for a double");
    std::string_view sci(buf, static_cast<size_t>(end - buf)); // e.g. "-1.2345e+07", shortest digits
    bool negative = sci[0] == '-';
    if (negative) sci.remove_prefix(1);
    auto e = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e)) {
        if (c != '.') digits += c;
    }
    int exp = std::stoi(std::string(sci.substr(e + 1)));
    std::string out = negative ? "-" : "";
    double mag = std::fabs(d);
    if (mag >= 1e-3 && mag < 1e7) {
        if (exp >= 0) {
            digits.resize(std::max(digits.size(), static_cast<size_t>(exp) + 2), '0');
            out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
        } else {
            out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
        }
        while (out.size() > 2 && out.back() == '0' && out[out.size() - 2] != '.') out.pop_back();
        return out;
    }
    out += digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0");
    return out + fmt::format("E{}", exp);
}

bool as_bool(const config_value& v)
{
    SAMSA_ASSERT(std::holds_alternative<bool>(v), "config value is not a boolean");
    return std::get<bool>(v);
}

int64_t as_int(const config_value& v)
{
    SAMSA_ASSERT(std::holds_alternative<int64_t>(v), "config value is not an integer");
    return std::get<int64_t>(v);
}

double as_double(const config_value& v)
{
    SAMSA_ASSERT(std::holds_alternative<double>(v), "config value is not a double");
    return std::get<double>(v);
}

const std::string& as_string(const config_value& v)
{
    SAMSA_ASSERT(std::holds_alternative<std::string>(v), "config value is not a string");
    return std::get<std::string>(v);
}

const std::vector<std::string>& as_list(const config_value& v)
{
    SAMSA_ASSERT(std::holds_alternative<std::vector<std::string>>(v), "config value is not a list");
    return std::get<std::vector<std::string>>(v);
}

bool is_null(const config_value& v) { return std::holds_alternative<std::monostate>(v); }

std::vector<std::string> split_list(std::string_view raw)
{
    std::vector<std::string> out;
    raw = trim(raw);
    if (raw.empty()) return out;
    size_t start = 0;
    while (true) {
        size_t comma = raw.find(',', start);
        out.emplace_back(trim(raw.substr(start, comma == std::string_view::npos ? raw.npos : comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string join_list(const std::vector<std::string>& items) { return join(items, ","); }

} // namespace samsa::config
