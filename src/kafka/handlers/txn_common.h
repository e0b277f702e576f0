#pragma once

#include "kafka/handler.h"
#include "kafka/txn_service.h"
#include "protocol/error_code.h"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace samsa::kafka {

/// Before PRODUCER_FENCED existed (InitProducerId v4, AddPartitionsToTxn, AddOffsetsToTxn and
/// EndTxn v2), a fenced producer was told INVALID_PRODUCER_EPOCH, as Kafka still tells old
/// clients.
inline protocol::error_code fenced_as(protocol::error_code e, bool old_version)
{
    return e == protocol::error_code::producer_fenced && old_version ? protocol::error_code::invalid_producer_epoch
                                                                      : e;
}

/// NONE when this broker coordinates the transactional id (creating __transaction_state
/// first if `create`), else the error to answer.
boost::asio::awaitable<protocol::error_code> txn_coordinator_error(request_context& ctx, const std::string& id,
                                                                   bool create = false);

} // namespace samsa::kafka
