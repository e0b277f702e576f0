#include "app/broker.h"
#include "cluster/topic_table.h"
#include "storage/file_ops.h"

#include <fmt/format.h>
#include <stdexcept>

namespace samsa::app {

std::string ensure_meta_properties(const std::string& dir, int32_t node_id, const std::string& cluster_id_hint)
{
    auto& fs = storage::posix_file_ops();
    auto path = storage::join_path(dir, "meta.properties");
    if (fs.exists(path)) {
        auto raw = fs.read_file(path);
        if (!raw) throw std::runtime_error(fmt::format("cannot read {}: {}", path, raw.error().message()));
        auto parsed = config::parse_properties(as_string_view(*raw), path);
        if (!parsed) throw std::runtime_error(parsed.error().message);
        auto m = config::to_map(*parsed);
        std::string stored = m.count("node.id") ? m["node.id"] : m["broker.id"];
        if (!stored.empty() && stored != std::to_string(node_id)) {
            throw std::runtime_error(fmt::format("{} says node id {} but the configuration says {} (node.id/broker.id)",
                                                 path, stored, node_id));
        }
        if (!m["cluster.id"].empty()) {
            if (!cluster_id_hint.empty() && cluster_id_hint != m["cluster.id"]) {
                throw std::runtime_error(fmt::format("{} belongs to cluster {}, other log directories to cluster {}",
                                                     path, m["cluster.id"], cluster_id_hint));
            }
            return m["cluster.id"];
        }
    }
    std::string cluster_id = cluster_id_hint.empty() ? cluster::random_cluster_id() : cluster_id_hint;
    config::property_map m{{"version", "1"}, {"cluster.id", cluster_id}, {"node.id", std::to_string(node_id)}};
    auto text = config::write_properties(m, "Written by samsa-server. Identifies this log directory.");
    if (auto r = fs.write_file_atomic(path, as_bytes(text)); !r) {
        throw std::runtime_error(fmt::format("cannot write {}: {}", path, r.error().message()));
    }
    return cluster_id;
}

} // namespace samsa::app
