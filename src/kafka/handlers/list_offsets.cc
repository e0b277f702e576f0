// ListOffsets: where a consumer may start reading — the earliest or latest offset, the record
// with the largest timestamp (v7 MAX_TIMESTAMP), or the first record at or after a timestamp.
#include "base/logging.h"
#include "kafka/errors.h"
#include "kafka/handlers/handlers.h"
#include "kafka/topic_helpers.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/records.h"

#include <set>
#include <utility>

namespace samsa::kafka {

namespace {

constexpr logger log{"kafka"};
using protocol::error_code;
using partition_response = protocol::list_offsets_response::list_offsets_partition_response;

// Kafka's special timestamps.
constexpr int64_t latest_timestamp = -1;
constexpr int64_t earliest_timestamp = -2;
constexpr int64_t max_timestamp = -3;
constexpr int64_t earliest_local_timestamp = -4; // no tiered storage: the same as earliest

/// One answer: an offset with its timestamp and epoch, or an error. offset -1 means "none".
struct lookup {
    error_code ec = error_code::none;
    int64_t offset = -1;
    int64_t timestamp = -1;
    int32_t epoch = -1;
};

lookup failed(error_code ec) { return lookup{ec}; }

/// The first record of `batch` at or after `target` whose offset is not below `from`.
result<std::optional<protocol::timestamp_offset>> first_record_at_or_after(bytes_view batch, timestamp_ms target,
                                                                           offset from)
{
    SAMSA_TRY_ASSIGN(auto found, protocol::find_first_at_or_after(batch, target));
    if (!found || found->offset >= from) return found;
    // The batch straddles the log start offset: skip the records below it.
    SAMSA_TRY_ASSIGN(auto reader, protocol::record_reader::open(batch));
    while (auto r = reader.next()) {
        if (r->offset >= from && r->timestamp >= target) {
            return std::optional<protocol::timestamp_offset>(protocol::timestamp_offset{r->timestamp, r->offset});
        }
    }
    if (reader.error()) return samsa::fail(reader.error());
    return std::optional<protocol::timestamp_offset>{};
}

lookup by_timestamp(cluster::partition& l, timestamp_ms target, cluster::isolation iso)
{
    auto found = l.find_by_timestamp(target);
    if (!found) return failed(to_kafka_error(found.error()));
    if (!*found) return {};
    auto& batch = **found;
    auto raw = batch.batch.read_all();
    if (!raw) return failed(to_kafka_error(raw.error()));
    auto rec = first_record_at_or_after(*raw, target, l.log_start_offset());
    if (!rec) {
        log.warn("{}: cannot read the batch at {} for a timestamp lookup: {}", l.tp(), batch.batch.first_offset,
                 rec.error().message());
        return failed(error_code::kafka_storage_error);
    }
    // Only committed records are visible to consumers.
    if (!*rec || (*rec)->offset >= l.visible_end(iso)) return {};
    return {error_code::none, (*rec)->offset(), (*rec)->timestamp(), batch.epoch()};
}

/// The first record carrying the log's largest timestamp (KIP-734).
lookup by_max_timestamp(cluster::partition& l, cluster::isolation iso)
{
    auto max_ts = l.max_timestamp();
    if (max_ts < timestamp_ms(0)) return {};
    auto found = l.find_by_timestamp(max_ts);
    if (!found) return failed(to_kafka_error(found.error()));
    if (!*found) return {};
    auto& batch = **found;
    auto raw = batch.batch.read_all();
    if (!raw) return failed(to_kafka_error(raw.error()));
    auto rec = protocol::find_max_timestamp(*raw);
    if (!rec) {
        log.warn("{}: cannot read the batch at {} for MAX_TIMESTAMP: {}", l.tp(), batch.batch.first_offset,
                 rec.error().message());
        return failed(error_code::kafka_storage_error);
    }
    if (!*rec || (*rec)->offset >= l.visible_end(iso)) return {};
    return {error_code::none, (*rec)->offset(), (*rec)->timestamp(), batch.epoch()};
}

lookup find_offset(cluster::partition& p, int64_t timestamp, cluster::isolation iso)
{
    int32_t epoch = p.epoch()();
    switch (timestamp) {
    case earliest_timestamp:
    case earliest_local_timestamp: return {error_code::none, p.log_start_offset()(), -1, epoch};
    // read_committed ends at the last stable offset, read_uncommitted at the high watermark.
    case latest_timestamp: return {error_code::none, p.visible_end(iso)(), -1, epoch};
    case max_timestamp: return by_max_timestamp(p, iso);
    default: return by_timestamp(p, timestamp_ms(timestamp), iso);
    }
}

/// Checks the partition and the client's idea of its leader epoch; nullopt when all is well.
std::optional<error_code> check_partition(const std::shared_ptr<cluster::partition>& part, int32_t current_epoch)
{
    if (!part) return error_code::unknown_topic_or_partition;
    if (part->offline()) return error_code::kafka_storage_error;
    if (auto ok = part->check_leader_epoch(current_epoch); !ok) return to_kafka_error(ok.error());
    return std::nullopt;
}

/// v0: a list of offsets (Kafka's segment base offsets before the time); we answer with the one
/// offset the lookup finds, within max_num_offsets.
void fill_v0(partition_response& out, const lookup& found, int32_t max_num_offsets)
{
    out.error_code = code(found.ec);
    if (found.ec == error_code::none && found.offset >= 0 && max_num_offsets > 0) {
        out.old_style_offsets.push_back(found.offset);
    }
}

partition_response answer(request_context& ctx, const std::string& topic,
                          const protocol::list_offsets_request::list_offsets_partition& rp, bool duplicate,
                          cluster::isolation iso)
{
    partition_response out;
    out.partition_index = rp.partition_index;
    if (duplicate) {
        out.error_code = code(error_code::invalid_request);
        return out;
    }
    auto part = ctx.broker.topics.get(topic, rp.partition_index);
    int32_t current_epoch = ctx.version() >= 4 ? rp.current_leader_epoch : -1;
    auto found = [&] {
        if (!part) return failed(no_replica_error(ctx.broker, topic, rp.partition_index));
        if (auto ec = check_partition(part, current_epoch)) return failed(*ec);
        return find_offset(*part, rp.timestamp, iso);
    }();
    if (ctx.version() == 0) {
        fill_v0(out, found, rp.max_num_offsets);
        return out;
    }
    out.error_code = code(found.ec);
    if (found.ec == error_code::none) {
        out.offset = found.offset;
        out.timestamp = found.offset >= 0 ? found.timestamp : -1;
        out.leader_epoch = found.offset >= 0 ? found.epoch : -1;
    }
    return out;
}

/// v1+ rejects a partition named twice (in each of its entries).
std::set<std::pair<std::string, int32_t>> duplicate_partitions(const protocol::list_offsets_request& req)
{
    std::set<std::pair<std::string, int32_t>> seen, dups;
    for (auto& t : req.topics) {
        for (auto& p : t.partitions) {
            if (!seen.emplace(t.name, p.partition_index).second) dups.emplace(t.name, p.partition_index);
        }
    }
    return dups;
}

} // namespace

boost::asio::awaitable<bool> handle_list_offsets(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::list_offsets_request>(ctx);
    // replica_id >= 0 (a follower) or -2 (debugging) get what a consumer gets: on one node
    // the high watermark is the log end offset anyway. isolation_level needs no special case
    // until there are transactions.
    auto dups = ctx.version() >= 1 ? duplicate_partitions(req) : std::set<std::pair<std::string, int32_t>>{};
    auto iso = ctx.version() >= 2 && req.isolation_level == 1 ? cluster::isolation::committed
                                                              : cluster::isolation::high_watermark;
    protocol::list_offsets_response resp;
    for (auto& t : req.topics) {
        protocol::list_offsets_response::list_offsets_topic_response tr;
        tr.name = t.name;
        for (auto& p : t.partitions) {
            tr.partitions.push_back(answer(ctx, t.name, p, dups.count({t.name, p.partition_index}) > 0, iso));
        }
        resp.topics.push_back(std::move(tr));
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
