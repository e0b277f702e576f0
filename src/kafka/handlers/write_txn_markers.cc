// WriteTxnMarkers: a transaction coordinator has this broker write COMMIT or ABORT markers to
// partitions it leads.
#include "kafka/handlers/handlers.h"
#include "kafka/txn_service.h"
#include "protocol/messages/write_txn_markers.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_write_txn_markers(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::write_txn_markers_request>(ctx);
    protocol::write_txn_markers_response resp;
    for (auto& m : req.markers) {
        coordinator::txn_markers mk;
        mk.producer_id = m.producer_id;
        mk.producer_epoch = m.producer_epoch;
        mk.coordinator_epoch = m.coordinator_epoch;
        mk.commit = m.transaction_result;
        protocol::write_txn_markers_response::writable_txn_marker_result r;
        r.producer_id = m.producer_id;
        for (auto& t : m.topics) {
            protocol::write_txn_markers_response::writable_txn_marker_topic_result tr;
            tr.name = t.name;
            for (auto p : t.partition_indexes) {
                tr.partitions.push_back({p, code(write_txn_marker(ctx.broker, mk, {t.name, partition_id(p)}))});
            }
            r.topics.push_back(std::move(tr));
        }
        resp.markers.push_back(std::move(r));
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
