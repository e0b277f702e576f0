#include "kafka/handlers/txn_common.h"

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<error_code> txn_coordinator_error(request_context& ctx, const std::string& id, bool create)
{
    auto& b = ctx.broker;
    if (id.empty()) co_return error_code::invalid_request;
    if (!b.txns) co_return error_code::coordinator_not_available;
    if (create && !co_await b.txns->ensure_state_topic()) co_return error_code::coordinator_not_available;
    co_return b.txns->check_coordinator(id);
}

} // namespace samsa::kafka
