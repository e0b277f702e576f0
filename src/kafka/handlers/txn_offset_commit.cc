// TxnOffsetCommit: a transactional producer commits a consumer group's offsets as part of its
// transaction (sendOffsetsToTransaction); they become visible when the transaction commits.
#include "kafka/group_service.h"
#include "kafka/handlers/group_handlers.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/txn_offset_commit.h"

namespace samsa::kafka {

boost::asio::awaitable<bool> handle_txn_offset_commit(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::txn_offset_commit_request>(ctx);
    auto& b = ctx.broker;
    auto version = ctx.version();
    protocol::txn_offset_commit_response resp;
    if (!b.groups || !b.topics.find(group_service::offsets_topic)) {
        for (auto& t : req.topics) {
            protocol::txn_offset_commit_response::txn_offset_commit_response_topic rt;
            rt.name = t.name;
            for (auto& p : t.partitions) {
                rt.partitions.push_back({p.partition_index, code(protocol::error_code::coordinator_not_available)});
            }
            resp.topics.push_back(std::move(rt));
        }
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
