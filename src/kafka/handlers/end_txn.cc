// EndTxn: commit or abort the producer's transaction. Answered once the PrepareCommit (or
// PrepareAbort) record is in __transaction_state and the markers are out. From v5 (transaction
// version 2) the epoch is bumped and the answer carries the producer's new id and epoch.
#include "kafka/handlers/handlers.h"
#include "kafka/handlers/txn_common.h"
#include "protocol/messages/end_txn.h"

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<bool> handle_end_txn(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::end_txn_request>(ctx);
    protocol::end_txn_response resp;
    auto err = co_await txn_coordinator_error(ctx, req.transactional_id);
    if (err == error_code::none) {
        auto& b = ctx.broker;
        // v5 is transaction version 2: every transaction ends with a new epoch.
        bool bump = ctx.version() >= 5;
        std::optional<int64_t> fresh;
        if (bump && b.txns->state().needs_producer_id(req.transactional_id) && b.producer_ids) {
            if (auto pid = co_await b.producer_ids->next()) fresh = (*pid)();
        }
        auto r = b.txns->state().end_txn(req.transactional_id, req.producer_id, req.producer_epoch, req.committed,
                                         bump, fresh);
        err = co_await ctx.broker.txns->apply(r);
        resp.producer_id = r.producer_id;
        resp.producer_epoch = r.producer_epoch;
    }
    resp.error_code = code(fenced_as(err, ctx.version() < 2));
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
