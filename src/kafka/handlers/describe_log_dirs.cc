// DescribeLogDirs (API 35): each configured log directory with the replicas it holds here, their
// size on disk and offset lag (as Kafka: how far the log end is below the high watermark, so 0
// once caught up), and (v4) the directory's filesystem size and free space.
#include "kafka/handlers/handlers.h"
#include "protocol/messages/describe_log_dirs.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace samsa::kafka {

using protocol::error_code;

boost::asio::awaitable<bool> handle_describe_log_dirs(request_context& ctx, protocol::writer& out)
{
    auto req = decode_request<protocol::describe_log_dirs_request>(ctx);
    protocol::describe_log_dirs_response resp;
    std::optional<std::set<topic_partition>> wanted;
    if (req.topics) {
        wanted.emplace();
        for (auto& t : *req.topics) {
            for (auto p : t.partitions) wanted->insert(topic_partition{t.topic, partition_id(p)});
        }
    }
    auto& logs = ctx.broker.logs;
    auto dir_key = [](const std::string& d) { return std::filesystem::path(d).lexically_normal().string(); };
    // Directory -> topic -> partitions.
    std::map<std::string, std::map<std::string, std::vector<protocol::describe_log_dirs_response::describe_log_dirs_partition>>>
        by_dir;
    for (auto& [tp, log] : logs.logs()) {
        if (wanted && !wanted->count(tp)) continue;
        auto* t = ctx.broker.topics.find(tp.topic);
        if (!t) continue; // being deleted, or not a topic this broker knows
        protocol::describe_log_dirs_response::describe_log_dirs_partition p;
        p.partition_index = tp.partition();
        p.partition_size = static_cast<int64_t>(log->size_bytes());
        if (auto part = ctx.broker.topics.get(tp.topic, tp.partition())) {
            p.offset_lag = std::max<int64_t>(0, part->high_watermark()() - part->log_end_offset()());
        }
        p.is_future_key = false;
        auto dir = dir_key(std::filesystem::path(log->dir()).parent_path().string());
        by_dir[dir][tp.topic].push_back(std::move(p));
    }
    for (auto& d : logs.config().log_dirs) {
        protocol::describe_log_dirs_response::describe_log_dirs_result r;
        r.log_dir = d;
        if (logs.dir_offline(d)) {
            r.error_code = code(error_code::kafka_storage_error);
        } else if (auto it = by_dir.find(dir_key(d)); it != by_dir.end()) {
            for (auto& [topic, parts] : it->second) {
                std::sort(parts.begin(), parts.end(), [](auto& a, auto& b) { return a.partition_index < b.partition_index; });
                r.topics.push_back({topic, std::move(parts)});
            }
        }
        struct statvfs fs {};
        if (::statvfs(d.c_str(), &fs) == 0) {
            r.total_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
            r.usable_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
        }
        resp.results.push_back(std::move(r));
    }
    resp.encode(out, ctx.version());
    co_return true;
}

} // namespace samsa::kafka
