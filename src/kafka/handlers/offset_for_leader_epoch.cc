// OffsetForLeaderEpoch: where a leader epoch ends in this replica's log, so that a consumer
// (KIP-320) or, later, a follower can tell whether its log diverged after a leader change and
// truncate to exactly the right offset.
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/offset_for_leader_epoch.h"

namespace samsa::kafka {

namespace {

using protocol::error_code;
using epoch_end = protocol::offset_for_leader_epoch_response::epoch_end_offset;

epoch_end answer(request_context& ctx, const std::string& topic,
                 const protocol::offset_for_leader_epoch_request::offset_for_leader_partition& rp)
{
    epoch_end out;
    out.partition = rp.partition;
    auto fail = [&](error_code ec) {
        out.error_code = code(ec);
        return out;
    };
    auto part = ctx.broker.topics.get(topic, rp.partition);
    if (!part) return fail(no_replica_error(ctx.broker, topic, rp.partition));
    if (part->offline()) return fail(error_code::kafka_storage_error);
    if (auto ok = part->check_leader_epoch(rp.current_leader_epoch); !ok) return fail(to_kafka_error(ok.error()));
    auto found = part->end_offset_for_epoch(leader_epoch(rp.leader_epoch));
    out.leader_epoch = found.epoch();
    out.end_offset = found.start_offset();
    return out;
}

} // namespace

boost::asio::awaitable<bool> handle_offset_for_leader_epoch(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::offset_for_leader_epoch_request>(ctx);
    protocol::offset_for_leader_epoch_response resp;
    for (auto& t : req.topics) {
        protocol::offset_for_leader_epoch_response::offset_for_leader_topic_result tr;
        tr.topic = t.topic;
        for (auto& p : t.partitions) tr.partitions.push_back(answer(ctx, t.topic, p));
        resp.topics.push_back(std::move(tr));
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
