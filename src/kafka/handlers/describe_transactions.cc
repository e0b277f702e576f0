// DescribeTransactions: the state of transactional ids this broker coordinates (what
// `kafka-transactions.sh describe` prints).
#include "kafka/handlers/handlers.h"
#include "kafka/txn_service.h"
#include "protocol/messages/describe_transactions.h"

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<bool> handle_describe_transactions(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::describe_transactions_request>(ctx);
    auto* txns = ctx.broker.txns;
    protocol::describe_transactions_response resp;
    for (auto& id : req.transactional_ids) {
        protocol::describe_transactions_response::transaction_state_entry e;
        e.transactional_id = id;
        e.transaction_state = "";
        e.producer_id = -1;
        e.producer_epoch = -1;
        e.transaction_start_time_ms = -1;
        auto err = txns ? txns->check_coordinator(id) : error_code::coordinator_not_available;
        const coordinator::txn_metadata* m = err == error_code::none ? txns->state().find(id) : nullptr;
        if (err == error_code::none && !m) err = error_code::transactional_id_not_found;
        e.error_code = code(err);
        if (m) {
            e.transaction_state = std::string(coordinator::txn_state_name(m->state));
            e.transaction_timeout_ms = m->timeout_ms;
            e.transaction_start_time_ms = m->start_ms;
            e.producer_id = m->producer_id;
            e.producer_epoch = m->producer_epoch;
            for (auto& [topic, parts] : m->partitions) e.topics.push_back({topic, {parts.begin(), parts.end()}});
        }
        resp.transaction_states.push_back(std::move(e));
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
