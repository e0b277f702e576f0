#pragma once

#include "cluster/errc.h"
#include "kafka/kafka_result.h"
#include "protocol/error_code.h"

#include <system_error>

namespace samsa::kafka {

/// The one place internal errors become Kafka error codes: storage errc, record batch errc,
/// anything else → UNKNOWN_SERVER_ERROR.
protocol::error_code to_kafka_error(std::error_code ec);

/// A control-plane failure as clients see it: the mapped code and the cluster's message.
inline kafka_failure to_kafka_failure(const cluster::error& e) { return {to_kafka_error(e.code), e.message}; }

inline int16_t code(protocol::error_code e) { return static_cast<int16_t>(e); }

} // namespace samsa::kafka
