#include "config/listener.h"

#include "config/config_def.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace samsa::config {
namespace {

constexpr std::string_view map_key = "listener.security.protocol.map";

std::string upper(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
    return out;
}

bool known_protocol(std::string_view p)
{
    return p == "PLAINTEXT" || p == "SSL" || p == "SASL_PLAINTEXT" || p == "SASL_SSL";
}

bool valid_host_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '%' || c == '.' || c == '_' || c == ':';
}

/// Internal results carry only the reason (and the offending entry); the public functions
/// and the validators wrap it into Kafka's message shape.
template<typename T>
using checked = boost::system::result<T, violation>;

violation invalid(std::string_view entry, std::string why) { return violation{std::move(why), std::string(entry)}; }
violation invalid(std::string why) { return violation{std::move(why), std::nullopt}; }

config_failure to_failure(std::string_view key, std::string_view raw, const violation& v)
{
    return make_failure(errc::invalid_value, fmt::format("Invalid value {} for configuration {}: {}",
                                                         v.offending ? *v.offending : raw, key, v.reason));
}

/// Splits "host:port" or "[v6]:port" into host and port text.
bool split_host_port(std::string_view rest, std::string_view& host, std::string_view& port)
{
    if (!rest.empty() && rest[0] == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return false;
        host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
        return true;
    }
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    return host.find(':') == std::string_view::npos; // bare IPv6 needs brackets
}

checked<listener> parse_one(std::string_view entry)
{
    constexpr std::string_view form = "Listener must be of the form NAME://host:port";
    auto sep = entry.find("://");
    if (sep == std::string_view::npos || sep == 0) return invalid(entry, std::string(form));
    std::string_view host, port_text;
    if (!split_host_port(entry.substr(sep + 3), host, port_text)) return invalid(entry, std::string(form));
    if (!std::all_of(host.begin(), host.end(), valid_host_char))
        return invalid(entry, "Host name contains invalid characters");
    int port = -1;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
        return invalid(entry, "Port must be a number between 0 and 65535");
    }
    return listener{upper(entry.substr(0, sep)), std::string(host), static_cast<uint16_t>(port), {}};
}

bool ports_clash(const listener& a, const listener& b)
{
    return a.port == b.port && a.port != 0 && (a.host == b.host || a.host.empty() || b.host.empty());
}

checked<security_protocol_map> check_protocol_map(std::string_view raw)
{
    security_protocol_map out;
    for (const auto& entry : split_list(raw)) {
        auto colon = entry.find(':');
        if (colon == std::string::npos || colon == 0 || entry.find(':', colon + 1) != std::string::npos) {
            return invalid(fmt::format("Entry '{}' must be of the form NAME:PROTOCOL", entry));
        }
        auto protocol = upper(entry.substr(colon + 1));
        if (!known_protocol(protocol)) {
            return invalid(fmt::format("Unknown security protocol '{}'; valid ones are PLAINTEXT, SSL, "
                                       "SASL_PLAINTEXT, SASL_SSL",
                                       entry.substr(colon + 1)));
        }
        auto name = upper(entry.substr(0, colon));
        if (!out.emplace(name, protocol).second) return invalid(fmt::format("Listener name {} is mapped twice", name));
    }
    return out;
}

checked<std::vector<listener>> check_listeners(std::string_view raw, const security_protocol_map* protocols,
                                               bool unique_ports)
{
    std::vector<listener> out;
    std::set<std::string> names;
    for (const auto& entry : split_list(raw)) {
        auto parsed = parse_one(entry);
        if (!parsed) return parsed.error();
        if (!names.insert(parsed->name).second) {
            return invalid(fmt::format("Each listener must have a different name; {} appears twice", parsed->name));
        }
        if (protocols) {
            auto it = protocols->find(parsed->name);
            if (it == protocols->end()) {
                return invalid(fmt::format("No security protocol defined for listener {}", parsed->name));
            }
            parsed->security_protocol = it->second;
        }
        for (const auto& other : out) {
            if (unique_ports && ports_clash(other, *parsed)) {
                return invalid(
                    fmt::format("Listeners {} and {} use the same port {}", other.name, parsed->name, parsed->port));
            }
        }
        out.push_back(std::move(*parsed));
    }
    return out;
}

} // namespace

config_result<security_protocol_map> parse_security_protocol_map(std::string_view raw)
{
    auto r = check_protocol_map(raw);
    if (!r) return to_failure(map_key, raw, r.error());
    return std::move(*r);
}

config_result<std::vector<listener>> parse_listeners(std::string_view key, std::string_view raw,
                                                     const security_protocol_map* protocols, bool unique_ports)
{
    auto r = check_listeners(raw, protocols, unique_ports);
    if (!r) return to_failure(key, raw, r.error());
    return std::move(*r);
}

validator listener_syntax_validator(bool unique_ports)
{
    auto check = [unique_ports](const config_value& v) -> std::optional<violation> {
        auto r = check_listeners(as_string(v), nullptr, unique_ports);
        if (!r) return r.error();
        return std::nullopt;
    };
    return {check, "NAME://host:port,..."};
}

validator protocol_map_validator()
{
    auto check = [](const config_value& v) -> std::optional<violation> {
        auto r = check_protocol_map(as_string(v));
        if (!r) return r.error();
        return std::nullopt;
    };
    return {check, "NAME:PROTOCOL,..."};
}

std::string to_string(const listener& l)
{
    bool v6 = l.host.find(':') != std::string::npos;
    return v6 ? fmt::format("{}://[{}]:{}", l.name, l.host, l.port) : fmt::format("{}://{}:{}", l.name, l.host, l.port);
}

} // namespace samsa::config
