#include "cli/message_formatter.h"

#include <cctype>
#include <cstdio>

namespace samsa::cli {

namespace {

/// Kafka reads these booleans as "true" (case-insensitive, trimmed) or anything else = false.
bool is_true(std::string v)
{
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v == "true";
}

} // namespace

message_formatter::message_formatter(const std::map<std::string, std::string>& props)
{
    const std::map<std::string, bool*> flags{
        {"print.timestamp", &_print_timestamp},
        {"print.partition", &_print_partition},
        {"print.offset", &_print_offset},
        {"print.headers", &_print_headers},
        {"print.key", &_print_key},
        {"print.value", &_print_value},
    };
    const std::map<std::string, std::string*> texts{
        {"key.separator", &_key_separator},
        {"line.separator", &_line_separator},
        {"headers.separator", &_headers_separator},
        {"null.literal", &_null_literal},
    };
    for (auto& [k, v] : props) {
        if (auto f = flags.find(k); f != flags.end())
            *f->second = is_true(v);
        else if (auto t = texts.find(k); t != texts.end())
            *t->second = v;
        else if (k == "key.deserializer" || k == "value.deserializer" || k == "headers.deserializer")
            continue;
        else
            std::fprintf(stderr, "warning: ignoring unknown formatter property '%s'\n", k.c_str());
    }
}

void message_formatter::format(const formatted_record& r, std::string& out) const
{
    // Each field is followed by the column separator when something else follows, otherwise by
    // the line separator.
    bool more[6] = {_print_partition || _print_offset || _print_headers || _print_key || _print_value,
                    _print_offset || _print_headers || _print_key || _print_value,
                    _print_headers || _print_key || _print_value,
                    _print_key || _print_value,
                    _print_value,
                    false};
    auto sep = [&](int field) { out += more[field] ? _key_separator : _line_separator; };
    auto bytes = [&](const std::optional<std::string_view>& b) {
        if (b)
            out += *b;
        else
            out += _null_literal;
    };
    if (_print_timestamp) {
        switch (r.timestamp_type) {
        case formatted_record::ts_kind::create_time: out += "CreateTime:" + std::to_string(r.timestamp); break;
        case formatted_record::ts_kind::log_append_time: out += "LogAppendTime:" + std::to_string(r.timestamp); break;
        case formatted_record::ts_kind::none: out += "NO_TIMESTAMP"; break;
        }
        sep(0);
    }
    if (_print_partition) {
        out += "Partition:" + std::to_string(r.partition);
        sep(1);
    }
    if (_print_offset) {
        out += "Offset:" + std::to_string(r.offset);
        sep(2);
    }
    if (_print_headers) {
        if (r.headers.empty()) out += "NO_HEADERS";
        for (size_t i = 0; i < r.headers.size(); ++i) {
            if (i > 0) out += _headers_separator;
            out += r.headers[i].first;
            out += ':';
            bytes(r.headers[i].second);
        }
        sep(3);
    }
    if (_print_key) {
        bytes(r.key);
        sep(4);
    }
    if (_print_value) {
        bytes(r.value);
        out += _line_separator;
    }
}

} // namespace samsa::cli
