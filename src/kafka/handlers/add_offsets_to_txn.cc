// AddOffsetsToTxn: a transactional producer will commit a group's offsets in its transaction;
// the group's partition of __consumer_offsets joins the transaction.
#include "coordinator/offsets_records.h"
#include "kafka/group_service.h"
#include "kafka/handlers/handlers.h"
#include "kafka/handlers/txn_common.h"
#include "protocol/messages/add_offsets_to_txn.h"

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<bool> handle_add_offsets_to_txn(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::add_offsets_to_txn_request>(ctx);
    auto& b = ctx.broker;
    protocol::add_offsets_to_txn_response resp;
    auto err = co_await txn_coordinator_error(ctx, req.transactional_id);
    if (err == error_code::none && req.group_id.empty()) err = error_code::invalid_group_id;
    if (err == error_code::none && (!b.groups || !co_await b.groups->ensure_offsets_topic())) {
        err = error_code::coordinator_not_available;
    }
    if (err == error_code::none) {
        topic_partition tp{group_service::offsets_topic,
                           partition_id(coordinator::partition_for_group(req.group_id, b.groups->offsets_partitions()))};
        std::vector<topic_partition> parts{tp};
        auto r = b.txns->state().add_partitions(req.transactional_id, req.producer_id, req.producer_epoch, parts);
        err = co_await b.txns->apply(std::move(r));
    }
    resp.error_code = code(fenced_as(err, ctx.version() < 2));
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
