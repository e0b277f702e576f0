#include "protocol/error_code.h"

namespace samsa::protocol {

std::string_view to_string(error_code e)
{
    switch (e) {
#define SAMSA_ERROR_NAME(name, code, kafka_name, retriable, message)                               \
    case error_code::name: return kafka_name;
        SAMSA_KAFKA_ERRORS(SAMSA_ERROR_NAME)
#undef SAMSA_ERROR_NAME
    }
    return "UNKNOWN";
}

std::string_view message(error_code e)
{
    switch (e) {
#define SAMSA_ERROR_MESSAGE(name, code, kafka_name, retriable, message)                            \
    case error_code::name: return message;
        SAMSA_KAFKA_ERRORS(SAMSA_ERROR_MESSAGE)
#undef SAMSA_ERROR_MESSAGE
    }
    return "Unknown error code.";
}

bool is_retriable(error_code e)
{
    switch (e) {
#define SAMSA_ERROR_RETRIABLE(name, code, kafka_name, retriable, message)                          \
    case error_code::name: return retriable;
        SAMSA_KAFKA_ERRORS(SAMSA_ERROR_RETRIABLE)
#undef SAMSA_ERROR_RETRIABLE
    }
    return false;
}

bool is_known(error_code e)
{
    switch (e) {
#define SAMSA_ERROR_KNOWN(name, code, kafka_name, retriable, message)                              \
    case error_code::name: return true;
        SAMSA_KAFKA_ERRORS(SAMSA_ERROR_KNOWN)
#undef SAMSA_ERROR_KNOWN
    }
    return false;
}

std::optional<error_code> error_code_from_int(int16_t v)
{
    auto e = static_cast<error_code>(v);
    if (!is_known(e)) return std::nullopt;
    return e;
}

} // namespace samsa::protocol
