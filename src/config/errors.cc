#include "config/errors.h"

namespace samsa::config {
namespace {
class config_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "config"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::unknown_config: return "unknown configuration name";
        case errc::invalid_value: return "invalid configuration value";
        case errc::conflicting_values: return "configuration values conflict";
        case errc::read_only: return "configuration cannot be updated dynamically";
        case errc::per_broker_only: return "configuration can only be updated per broker";
        case errc::not_a_list: return "list operation on a configuration that is not a list";
        case errc::null_value: return "configuration operation needs a value";
        case errc::duplicate_config: return "configuration named twice in one request";
        case errc::invalid_operation: return "unknown configuration operation";
        case errc::malformed_text: return "configuration text does not parse";
        case errc::unreadable_file: return "configuration file cannot be read";
        }
        return "unknown config error";
    }
};
} // namespace

const std::error_category& config_category()
{
    static config_category_impl c;
    return c;
}

int16_t kafka_error_code(errc e)
{
    constexpr int16_t invalid_config = 40;
    constexpr int16_t invalid_request = 42;
    switch (e) {
    case errc::unknown_config: return invalid_config;
    case errc::invalid_value: return invalid_config;
    case errc::conflicting_values: return invalid_config;
    case errc::not_a_list: return invalid_config;
    case errc::read_only: return invalid_request;
    case errc::per_broker_only: return invalid_request;
    case errc::null_value: return invalid_request;
    case errc::duplicate_config: return invalid_request;
    case errc::invalid_operation: return invalid_request;
    case errc::malformed_text: return invalid_request;
    case errc::unreadable_file: return invalid_request;
    }
    return invalid_request;
}

config_failure make_failure(errc e, std::string message) { return {make_error_code(e), std::move(message)}; }

config_error::config_error(errc e, const std::string& message) : std::runtime_error(message), _code(make_error_code(e))
{
}

config_error::config_error(const config_failure& f) : std::runtime_error(f.message), _code(f.code) {}

void throw_exception_from_error(const config_failure& f, const boost::source_location&) { throw config_error(f); }

} // namespace samsa::config
