// DeleteRecords: moves partitions' log start offsets up (whole segments below it go), then
// checkpoints the new starts at once so that they survive a crash.
#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/delete_records.h"

namespace samsa::kafka {

namespace {

constexpr logger log{"kafka"};
using protocol::error_code;
using partition_result = protocol::delete_records_response::delete_records_partition_result;

partition_result failed(int32_t index, error_code ec)
{
    partition_result r;
    r.partition_index = index;
    r.error_code = code(ec);
    r.low_watermark = -1;
    return r;
}

partition_result delete_below(request_context& ctx, const std::string& topic,
                              const protocol::delete_records_request::delete_records_partition& p, bool& changed)
{
    auto part = ctx.broker.topics.get(topic, p.partition_index);
    if (!part) return failed(p.partition_index, no_replica_error(ctx.broker, topic, p.partition_index));
    auto before = part->log_start_offset();
    // -1 asks for everything below the high watermark.
    auto low = part->delete_records(p.offset);
    if (!low) {
        auto ec = to_kafka_error(low.error());
        if (ec == error_code::kafka_storage_error || ec == error_code::unknown_server_error) {
            log.warn("delete records of {}-{} below {} failed: {}", topic, p.partition_index, p.offset,
                     low.error().message());
        }
        return failed(p.partition_index, ec);
    }
    changed = changed || *low != before;
    partition_result out;
    out.partition_index = p.partition_index;
    out.low_watermark = (*low)();
    return out;
}

} // namespace

boost::asio::awaitable<bool> handle_delete_records(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::delete_records_request>(ctx);
    protocol::delete_records_response resp;
    bool changed = false;
    for (auto& t : req.topics) {
        protocol::delete_records_response::delete_records_topic_result tr;
        tr.name = t.name;
        for (auto& p : t.partitions) tr.partitions.push_back(delete_below(ctx, t.name, p, changed));
        resp.topics.push_back(std::move(tr));
    }
    if (changed) {
        if (auto r = ctx.broker.logs.checkpoint(); !r) {
            log.warn("cannot checkpoint log start offsets after DeleteRecords: {}", r.error().message());
        }
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
