#include "cli/args.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace samsa::cli {

std::optional<std::string> parsed_args::value(std::string_view name) const
{
    auto it = _values.find(name);
    if (it == _values.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::string parsed_args::value_or(std::string_view name, std::string fallback) const
{
    auto v = value(name);
    return v ? *v : std::move(fallback);
}

std::vector<std::string> parsed_args::values(std::string_view name) const
{
    auto it = _values.find(name);
    return it == _values.end() ? std::vector<std::string>{} : it->second;
}

std::optional<int64_t> parsed_args::int_value(std::string_view name) const
{
    auto v = value(name);
    if (!v) return std::nullopt;
    auto n = parse_int(*v);
    if (!n) throw usage_error(fmt::format("Invalid value '{}' for --{}: not an integer", *v, name));
    return n;
}

int64_t parsed_args::int_or(std::string_view name, int64_t fallback) const
{
    auto v = int_value(name);
    return v ? *v : fallback;
}

void parsed_args::add(const std::string& name, std::optional<std::string> value)
{
    auto& list = _values[name];
    if (value) list.push_back(std::move(*value));
}

namespace {

const option_spec help_option{"help", arity::flag, "", "Print this text."};

/// The option `name` stands for, as joptsimple (Kafka's flag parser) resolves it: the option of
/// that exact name, else the only one whose name starts with it. Nullptr when none does;
/// usage_error naming the candidates when several do.
const option_spec* find_option(const command_spec& spec, std::string_view name)
{
    if (name.empty()) return nullptr;
    std::vector<const option_spec*> all;
    for (auto& o : spec.options) all.push_back(&o);
    all.push_back(&help_option);
    std::vector<const option_spec*> prefixed;
    for (auto* o : all) {
        if (o->name == name) return o;
        if (o->name.starts_with(name)) prefixed.push_back(o);
    }
    if (prefixed.size() == 1) return prefixed.front();
    if (prefixed.empty()) return nullptr;
    std::string names;
    for (auto* o : prefixed) names += (names.empty() ? "--" : ", --") + o->name;
    throw usage_error(fmt::format("Option --{} is ambiguous: it could be {}", name, names));
}

/// An option word: "--name[=value]", or "-name[=value]" as joptsimple also reads long options.
/// Returns the name and the inline value, or nullopt for words that are not options.
std::optional<std::pair<std::string, std::optional<std::string>>> option_word(std::string_view w)
{
    if (w.size() < 2 || w[0] != '-') return std::nullopt;
    std::string_view body = w.substr(w[1] == '-' ? 2 : 1);
    if (body.empty()) return std::nullopt;
    std::optional<std::string> value;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
        value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
    }
    return std::pair{std::string(body), std::move(value)};
}

/// Whether `w` starts another option (ending the values of an optional or multi-value
/// option): any "--word", or a single-dash word naming an option ("-5" stays a value).
bool starts_option(const command_spec& spec, const std::string& w)
{
    if (w.size() > 2 && w[0] == '-' && w[1] == '-') return true;
    auto o = option_word(w);
    if (!o) return false;
    try {
        return find_option(spec, o->first) != nullptr;
    } catch (const usage_error&) {
        return true; // ambiguous, but an option
    }
}

} // namespace

parsed_args parse_args(const command_spec& spec, const std::vector<std::string>& args)
{
    parsed_args out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& w = args[i];
        if (w == "-h") {
            out.add("help", std::nullopt);
            continue;
        }
        auto word = option_word(w);
        if (!word) {
            if (!w.empty() && w[0] == '-') throw usage_error(fmt::format("Unknown option {}", w));
            throw usage_error(fmt::format("Unexpected argument '{}'", w));
        }
        auto& [given, inline_value] = *word;
        const option_spec* o = find_option(spec, given);
        if (!o) throw usage_error(fmt::format("Unknown option {}{}", w[1] == '-' ? "--" : "-", given));
        const std::string& name = o->name;
        switch (o->kind) {
        case arity::flag:
            if (inline_value) throw usage_error(fmt::format("Option --{} does not take a value", name));
            out.add(name, std::nullopt);
            break;
        case arity::one:
            if (!inline_value) {
                if (i + 1 >= args.size()) throw usage_error(fmt::format("Option --{} requires a value", name));
                inline_value = args[++i];
            }
            out.add(name, inline_value);
            break;
        case arity::optional:
            if (!inline_value && i + 1 < args.size() && !starts_option(spec, args[i + 1])) inline_value = args[++i];
            out.add(name, inline_value);
            break;
        case arity::many:
            if (inline_value) out.add(name, inline_value);
            while (i + 1 < args.size() && !starts_option(spec, args[i + 1])) out.add(name, args[++i]);
            if (out.values(name).empty()) throw usage_error(fmt::format("Option --{} requires a value", name));
            break;
        }
    }
    return out;
}

namespace {

/// Word-wraps `text` to `width` columns; continuation lines start with `indent` spaces.
std::string wrap(std::string_view text, size_t width, size_t indent, size_t first_column)
{
    std::string out;
    size_t col = first_column;
    size_t i = 0;
    while (i < text.size()) {
        size_t end = text.find(' ', i);
        if (end == std::string_view::npos) end = text.size();
        std::string_view word = text.substr(i, end - i);
        if (col > indent && col + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            col = indent;
        } else if (!out.empty()) {
            out += ' ';
            ++col;
        }
        out += word;
        col += word.size();
        i = end + 1;
    }
    return out;
}

} // namespace

std::string help_text(const command_spec& spec)
{
    constexpr size_t width = 100;
    constexpr size_t column = 36;
    std::string out =
        fmt::format("usage: samsa {} [options]\n\n{}\n\nOptions:\n", spec.name, wrap(spec.summary, width, 0, 0));
    std::vector<const option_spec*> opts;
    for (auto& o : spec.options) opts.push_back(&o);
    std::sort(opts.begin(), opts.end(), [](auto* a, auto* b) { return a->name < b->name; });
    opts.push_back(&help_option);
    for (auto* o : opts) {
        std::string left = "  --" + o->name;
        if (o->kind == arity::one) left += " <" + o->value_name + ">";
        if (o->kind == arity::optional) left += " [" + o->value_name + "]";
        if (o->kind == arity::many) left += " <" + o->value_name + ">...";
        if (left.size() + 1 > column)
            left += "\n" + std::string(column, ' ');
        else
            left += std::string(column - left.size(), ' ');
        out += left + wrap(o->help, width, column, column) + "\n";
    }
    if (!spec.examples.empty()) out += "\nExamples:\n" + spec.examples;
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out;
}

void add_client_options(command_spec& spec)
{
    spec.options.push_back({"bootstrap-server", arity::one, "host:port[,host:port]",
                            "The broker(s) to connect to (default: localhost:9092)."});
    spec.options.push_back({"command-config", arity::one, "file",
                            "Client properties file (Java properties syntax). default.api.timeout.ms sets how "
                            "long to wait for the broker (default 10000)."});
}

void add_broker_list_option(command_spec& spec)
{
    spec.options.push_back({"broker-list", arity::one, "host:port[,host:port]",
                            "DEPRECATED, use --bootstrap-server instead (ignored when --bootstrap-server is given)."});
}

std::optional<int64_t> parse_int(std::string_view s)
{
    if (s.empty()) return std::nullopt;
    int64_t v = 0;
    const char* b = s.data();
    const char* e = s.data() + s.size();
    if (*b == '+') ++b;
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc{} || r.ptr != e) return std::nullopt;
    return v;
}

std::pair<std::string, std::string> split_key_value(std::string_view kv, std::string_view flag)
{
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw usage_error(fmt::format("Invalid --{} '{}': expected key=value", flag, kv));
    }
    return {std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1))};
}

std::vector<std::string> split(std::string_view s, char sep)
{
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        auto at = s.find(sep, start);
        out.emplace_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) return out;
        start = at + 1;
    }
}

void require_one_action(const parsed_args& a, const std::vector<std::string>& actions)
{
    size_t n = std::count_if(actions.begin(), actions.end(), [&](auto& x) { return a.has(x); });
    if (n == 1) return;
    std::string list;
    for (size_t i = 0; i < actions.size(); ++i) {
        if (i > 0) list += i + 1 == actions.size() ? " or " : ", ";
        list += "--" + actions[i];
    }
    throw usage_error("Command must include exactly one action: " + list);
}

} // namespace samsa::cli
