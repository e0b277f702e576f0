#include "app/broker.h"
#include "cluster/topic_table.h"
#include "storage/file_ops.h"

#include <charconv>
#include <fmt/format.h>
#include <stdexcept>

namespace samsa::app {

stored_identity read_meta_properties(const std::string& dir)
{
    auto& fs = storage::posix_file_ops();
    auto path = storage::join_path(dir, "meta.properties");
    stored_identity id;
    if (!fs.exists(path)) return id;
    auto raw = fs.read_file(path);
    if (!raw) throw std::runtime_error(fmt::format("cannot read {}: {}", path, raw.error().message()));
    auto parsed = config::parse_properties(as_string_view(*raw), path);
    if (!parsed) throw std::runtime_error(parsed.error().message);
    auto m = config::to_map(*parsed);
    std::string node = m.count("node.id") ? m["node.id"] : m["broker.id"];
    if (!node.empty()) {
        int32_t v = -1;
        auto [p, e] = std::from_chars(node.data(), node.data() + node.size(), v);
        if (e != std::errc() || p != node.data() + node.size() || v < 0) {
            throw std::runtime_error(fmt::format("{}: invalid node id {}", path, node));
        }
        id.node_id = v;
    }
    id.cluster_id = m["cluster.id"];
    return id;
}

void write_meta_properties(const std::string& dir, int32_t node_id, const std::string& cluster_id, bool zookeeper)
{
    auto path = storage::join_path(dir, "meta.properties");
    // ZooKeeper mode writes Kafka's version 0 (broker.id); KRaft-era version 1 names node.id.
    config::property_map m{{"cluster.id", cluster_id}};
    if (zookeeper) {
        m["version"] = "0";
        m["broker.id"] = std::to_string(node_id);
    } else {
        m["version"] = "1";
        m["node.id"] = std::to_string(node_id);
    }
    auto text = config::write_properties(m, "Written by samsa-server. Identifies this log directory.");
    if (auto r = storage::posix_file_ops().write_file_atomic(path, as_bytes(text)); !r) {
        throw std::runtime_error(fmt::format("cannot write {}: {}", path, r.error().message()));
    }
}

std::string ensure_meta_properties(const std::string& dir, int32_t node_id, const std::string& cluster_id_hint)
{
    auto path = storage::join_path(dir, "meta.properties");
    auto stored = read_meta_properties(dir);
    if (stored.node_id && *stored.node_id != node_id) {
        throw std::runtime_error(fmt::format("{} says node id {} but the configuration says {} (node.id/broker.id)",
                                             path, *stored.node_id, node_id));
    }
    if (!stored.cluster_id.empty()) {
        if (!cluster_id_hint.empty() && cluster_id_hint != stored.cluster_id) {
            throw std::runtime_error(fmt::format("{} belongs to cluster {}, other log directories to cluster {}",
                                                 path, stored.cluster_id, cluster_id_hint));
        }
        return stored.cluster_id;
    }
    std::string cluster_id = cluster_id_hint.empty() ? cluster::random_cluster_id() : cluster_id_hint;
    write_meta_properties(dir, node_id, cluster_id, false);
    return cluster_id;
}

} // namespace samsa::app
