#pragma once

#include "protocol/error_code.h"

#include <boost/system/result.hpp>

#include <string>

namespace samsa::kafka {

/// A Kafka-visible failure: the error code a client will see and a one-line message for the
/// response's error_message field.
struct kafka_failure {
    protocol::error_code code = protocol::error_code::unknown_server_error;
    std::string message;
};

/// Outcome of an operation whose failures clients see (topic creation, config changes…).
template<typename T>
using kafka_result = boost::system::result<T, kafka_failure>;

inline kafka_failure kafka_error(protocol::error_code c, std::string msg = {}) { return {c, std::move(msg)}; }

} // namespace samsa::kafka
