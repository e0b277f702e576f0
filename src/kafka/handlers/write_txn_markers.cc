// WriteTxnMarkers: a transaction coordinator has this broker write COMMIT or ABORT markers to
// partitions it leads. Answered once every marker is committed (acks=-1, as Kafka writes them):
// a marker the in-sync replicas do not have yet could be lost with this broker after the
// coordinator has completed the transaction.
#include "kafka/handlers/handlers.h"
#include "kafka/txn_service.h"
#include "protocol/messages/write_txn_markers.h"

namespace samsa::kafka {

namespace {
/// How long the markers may take to be committed (less than the coordinator's request timeout).
constexpr std::chrono::milliseconds commit_timeout{10000};
} // namespace

boost::asio::awaitable<bool> handle_write_txn_markers(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::write_txn_markers_request>(ctx);
    protocol::write_txn_markers_response resp;
    std::vector<marker_write> written;
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
                written.push_back(write_txn_marker(ctx.broker, mk, {t.name, partition_id(p)}));
                tr.partitions.push_back({p, 0});
            }
            r.topics.push_back(std::move(tr));
        }
        resp.markers.push_back(std::move(r));
    }
    auto deadline = std::chrono::steady_clock::now() + commit_timeout;
    size_t i = 0;
    for (auto& r : resp.markers) {
        for (auto& t : r.topics) {
            for (auto& p : t.partitions) {
                auto err = co_await marker_committed(written[i++], deadline);
                p.error_code = code(err);
            }
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
