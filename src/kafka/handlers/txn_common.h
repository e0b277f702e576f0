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

/// Whether a transaction coordinator's answer to a broker's check (KIP-890) means "try again"
/// (it is busy, moving or out of reach) rather than "not part of the transaction".
inline bool retriable_coordinator_error(protocol::error_code e)
{
    using protocol::error_code;
    return e == error_code::concurrent_transactions || e == error_code::coordinator_not_available ||
           e == error_code::not_coordinator || e == error_code::coordinator_load_in_progress ||
           e == error_code::request_timed_out || e == error_code::not_enough_replicas;
}

/// NONE when this broker coordinates the transactional id (creating __transaction_state
/// first if `create`), else the error to answer.
boost::asio::awaitable<protocol::error_code> txn_coordinator_error(request_context& ctx, const std::string& id,
                                                                   bool create = false);

} // namespace samsa::kafka
