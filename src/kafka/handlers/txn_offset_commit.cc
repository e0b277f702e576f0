// TxnOffsetCommit: a transactional producer commits a consumer group's offsets as part of its
// transaction (sendOffsetsToTransaction); they become visible when the transaction commits.
#include "kafka/group_service.h"
#include "kafka/handlers/group_handlers.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "kafka/handlers/txn_common.h"
#include "coordinator/offsets_records.h"
#include "protocol/messages/txn_offset_commit.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_txn_offset_commit(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::txn_offset_commit_request>(ctx);
    auto& b = ctx.broker;
    auto version = ctx.version();
    protocol::txn_offset_commit_response resp;
    auto err = protocol::error_code::none;
    if (!b.groups) {
        err = protocol::error_code::coordinator_not_available;
    } else if (auto c = b.groups->coordinator_for(req.group_id); c != protocol::error_code::none) {
        err = c;
    } else if (b.txns && (version >= 5 || b.config.current().transaction_partition_verification_enable)) {
        // KIP-890 part 1, as Produce: the group's offsets partition must be in the transaction
        // (AddOffsetsToTxn), or its offsets would wait for a marker that never comes.
        topic_partition tp{group_service::offsets_topic,
                           partition_id(coordinator::partition_for_group(req.group_id, b.groups->offsets_partitions()))};
        // From v5 (transaction version 2) the commit adds the partition itself.
        auto v = co_await b.txns->include_partition(req.transactional_id, req.producer_id, req.producer_epoch, tp,
                                                    version >= 5);
        if (v == protocol::error_code::producer_fenced) err = protocol::error_code::invalid_producer_epoch;
        else if (retriable_coordinator_error(v)) err = protocol::error_code::coordinator_not_available;
        else if (v != protocol::error_code::none) err = protocol::error_code::invalid_txn_state;
    }
    if (err != protocol::error_code::none) {
        resp = coordinator::every_partition_failed<protocol::txn_offset_commit_response>(req, code(err));
    } else {
        auto exists = [&b](const topic_partition& tp) {
            return topic_error(b, tp.topic) == protocol::error_code::none && b.topics.metadata().state(tp) != nullptr;
        };
        auto r = co_await b.groups->call([&](coordinator::request_id id) {
            return b.groups->state().txn_commit_offsets(id, req, version, exists);
        });
        resp = std::get<protocol::txn_offset_commit_response>(std::move(r));
    }
    resp.encode(out, version);
    co_return true;
}

} // namespace samsa::kafka
