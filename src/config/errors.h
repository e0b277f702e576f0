#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace samsa::config {

/// Expected failures of configuration parsing, validation and alteration. Every one carries a
/// one-line message (see config_failure); the broker maps the code with kafka_error_code().
enum class errc {
    unknown_config = 1, // a name that is not a known (topic or broker) config
    invalid_value,      // a value of the wrong type or outside the validator's range/choices
    conflicting_values, // each value is valid alone, the combination is not (node.id vs broker.id)
    read_only,          // a broker config that cannot be updated dynamically
    per_broker_only,    // a per-broker config altered at the cluster-default level
    not_a_list,         // APPEND/SUBTRACT on a config whose type is not LIST
    null_value,         // SET/APPEND/SUBTRACT without a value
    duplicate_config,   // one request names the same config twice
    invalid_operation,  // an alter operation code outside SET/DELETE/APPEND/SUBTRACT
    malformed_text,     // .properties text or an --override argument that does not parse
    unreadable_file,    // server.properties cannot be opened or read (startup only)
};

const std::error_category& config_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), config_category()}; }

/// Kafka's error code for an errc (INVALID_CONFIG = 40, INVALID_REQUEST = 42). The one place
/// that maps config failures to the wire; the kafka module converts it to protocol::error_code.
int16_t kafka_error_code(errc e);

/// A failure on a request path: the code for the error mapping and the one-line message for
/// the response's ErrorMessage, e.g. "Invalid value abc for configuration num.partitions: Not
/// a number of type INT".
struct config_failure {
    std::error_code code;
    std::string message;
};

config_failure make_failure(errc e, std::string message);

/// Startup-path failure (server.properties, --override, a bad static value). The message is
/// one line and names the key or the file:line.
class config_error : public std::runtime_error {
public:
    config_error(errc e, const std::string& message);
    explicit config_error(const config_failure& f);
    std::error_code code() const { return _code; }

private:
    std::error_code _code;
};

/// Request-path result: a value or a config_failure. Calling .value() on a failure throws
/// config_error, which is what startup paths want.
template<typename T>
using config_result = boost::system::result<T, config_failure>;

/// Found by boost::system::result::value() through ADL.
[[noreturn]] void throw_exception_from_error(const config_failure& f, const boost::source_location& loc);

} // namespace samsa::config

/// Propagates the config_failure of a config_result expression (base's SAMSA_TRY carries
/// std::error_code only).
#define SAMSA_CONFIG_TRY(expr)                                                                     \
    do {                                                                                           \
        if (auto _config_r = (expr); !_config_r) return _config_r.error();                         \
    } while (0)

#define SAMSA_CONFIG_CONCAT_IMPL(a, b) a##b
#define SAMSA_CONFIG_CONCAT(a, b) SAMSA_CONFIG_CONCAT_IMPL(a, b)

/// `SAMSA_CONFIG_TRY_ASSIGN(auto x, expr);` binds the value of `expr` or returns its failure.
#define SAMSA_CONFIG_TRY_ASSIGN(decl, expr)                                                        \
    SAMSA_CONFIG_TRY_ASSIGN_IMPL(SAMSA_CONFIG_CONCAT(_config_r_, __LINE__), decl, expr)
#define SAMSA_CONFIG_TRY_ASSIGN_IMPL(tmp, decl, expr)                                              \
    auto tmp = (expr);                                                                             \
    if (!tmp) return tmp.error();                                                                  \
    decl = std::move(*tmp)

template<>
struct std::is_error_code_enum<samsa::config::errc> : std::true_type {};
