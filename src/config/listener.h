#pragma once

#include "config/config_def.h"
#include "config/errors.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::config {

/// One entry of `listeners` / `advertised.listeners`: `NAME://host:port`. The name is
/// upper-cased as Kafka normalises it; an empty host means every interface (for `listeners`)
/// or "the broker's own host name" (for `advertised.listeners`, the broker fills it in).
/// IPv6 hosts are written in brackets (`SSL://[::1]:9093`) and stored without them.
struct listener {
    std::string name;
    std::string host;
    uint16_t port = 0;
    std::string security_protocol; // PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL

    bool operator==(const listener&) const = default;
};

/// Listener name to security protocol, e.g. {"CONTROLLER": "PLAINTEXT", "SSL": "SSL"}.
using security_protocol_map = std::map<std::string, std::string>;

/// Kafka's default `listener.security.protocol.map`.
inline constexpr std::string_view default_security_protocol_map =
    "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL";

/// Parses `NAME:PROTOCOL,...`; names and protocols upper-cased. Fails with
/// errc::invalid_value naming `listener.security.protocol.map`.
config_result<security_protocol_map> parse_security_protocol_map(std::string_view raw);

/// Parses a comma-separated listener list for config `key`. Each name must be unique and,
/// when `protocols` is given, present in it (its protocol is filled in). When `unique_ports`
/// is set two listeners may not bind the same port on overlapping hosts. Fails with
/// errc::invalid_value and a one-line message naming `key`.
config_result<std::vector<listener>> parse_listeners(std::string_view key, std::string_view raw,
                                                     const security_protocol_map* protocols, bool unique_ports);

/// Validators for the definition table: listener syntax (names unique; ports too when
/// `unique_ports`), and `NAME:PROTOCOL` map syntax. Protocol lookups happen at load time.
validator listener_syntax_validator(bool unique_ports);
validator protocol_map_validator();

/// "NAME://host:port" (brackets around IPv6 hosts), the inverse of parse_listeners.
std::string to_string(const listener& l);

} // namespace samsa::config
