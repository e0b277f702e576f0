// InitProducerId: a producer id and epoch for an idempotent producer. Transactional ids wait
// for the transaction coordinator (COORDINATOR_NOT_AVAILABLE until then, as FindCoordinator
// answers for them).
#include "cluster/producer_id_manager.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "protocol/messages/init_producer_id.h"

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<bool> handle_init_producer_id(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::init_producer_id_request>(ctx);
    auto& b = ctx.broker;
    protocol::init_producer_id_response resp;
    resp.producer_id = -1;
    resp.producer_epoch = -1;
    if (req.transactional_id && !req.transactional_id->empty()) {
        resp.error_code = code(error_code::coordinator_not_available);
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
