// InitProducerId: a producer id and epoch for an idempotent producer, or for a transactional
// id from its transaction coordinator (which fences older producers of the id).
#include "cluster/producer_id_manager.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/handlers/txn_common.h"
#include "protocol/messages/init_producer_id.h"

namespace samsa::kafka {

using protocol::error_code;

namespace {
boost::asio::awaitable<void> init_transactional(request_context& ctx, const protocol::init_producer_id_request& req,
                                                protocol::init_producer_id_response& resp)
{
    auto& b = ctx.broker;
    const auto& id = *req.transactional_id;
    auto err = co_await txn_coordinator_error(ctx, id, /*create=*/true);
    if (err == error_code::none) {
        std::optional<int64_t> fresh;
        if (b.txns->state().needs_producer_id(id) && b.producer_ids) {
            // (No co_await inside ?: — g++ 12 miscompiles it.)
            auto pid = co_await b.producer_ids->next();
            if (pid) fresh = (*pid)();
        }
        bool kip360 = ctx.version() >= 3;
        auto r = b.txns->state().init_producer_id(id, req.transaction_timeout_ms, kip360 ? req.producer_id : -1,
                                                  kip360 ? req.producer_epoch : int16_t(-1), fresh);
        err = co_await b.txns->apply(r);
        if (err == error_code::none) {
            resp.producer_id = r.producer_id;
            resp.producer_epoch = r.producer_epoch;
        }
    }
    resp.error_code = code(fenced_as(err, ctx.version() < 4));
}
} // namespace

boost::asio::awaitable<bool> handle_init_producer_id(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::init_producer_id_request>(ctx);
    auto& b = ctx.broker;
    protocol::init_producer_id_response resp;
    resp.producer_id = -1;
    resp.producer_epoch = -1;
    if (req.transactional_id) {
        // An empty transactional id is INVALID_REQUEST, as Kafka answers; null is idempotent.
        co_await init_transactional(ctx, req, resp);
    } else if (!b.producer_ids) {
        resp.error_code = code(error_code::coordinator_not_available);
    } else {
        // An idempotent producer always gets a fresh id (a producer id and epoch it sends from
        // v3 on are for transactional ids only), as Kafka does.
        auto pid = co_await b.producer_ids->next();
        if (!pid) {
            resp.error_code = code(error_code::coordinator_not_available);
        } else {
            resp.producer_id = (*pid)();
            resp.producer_epoch = 0;
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
