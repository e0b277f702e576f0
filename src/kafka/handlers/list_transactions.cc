// ListTransactions: the transactional ids this broker coordinates, filtered by state, producer
// id and (v1) how long they have been running (what `kafka-transactions.sh list` prints).
#include "kafka/handlers/handlers.h"
#include "kafka/txn_service.h"
#include "protocol/messages/list_transactions.h"

#include <algorithm>

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_list_transactions(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::list_transactions_request>(ctx);
    protocol::list_transactions_response resp;
    std::vector<std::string> states;
    for (auto& s : req.state_filters) {
        bool known = false;
        for (int8_t i = 0; i <= 7; ++i) known |= coordinator::txn_state_name(static_cast<coordinator::txn_state>(i)) == s;
        if (known) states.push_back(s);
        else resp.unknown_state_filters.push_back(s);
    }
    auto* txns = ctx.broker.txns;
    auto now = ctx.broker.clk.now_ms()();
    auto wanted = [&](const coordinator::txn_metadata& m) {
        auto name = std::string(coordinator::txn_state_name(m.state));
        if (!req.state_filters.empty() && std::find(states.begin(), states.end(), name) == states.end()) return false;
        if (!req.producer_id_filters.empty() &&
            std::find(req.producer_id_filters.begin(), req.producer_id_filters.end(), m.producer_id) ==
                req.producer_id_filters.end()) {
            return false;
        }
        // DurationFilter: only transactions running longer than this.
        if (req.duration_filter >= 0 && (m.start_ms < 0 || now - m.start_ms <= req.duration_filter)) return false;
        return true;
    };
    if (txns) {
        for (auto* m : txns->state().all()) {
            if (!txns->coordinates(m->transactional_id) || !wanted(*m)) continue;
            resp.transaction_states.push_back(
                {m->transactional_id, m->producer_id, std::string(coordinator::txn_state_name(m->state))});
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
