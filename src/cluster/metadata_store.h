#pragma once

#include "base/result.h"
#include "cluster/topic_table.h"
#include "storage/file_ops.h"

#include <map>
#include <string>

namespace samsa::cluster {

/// Where the cluster's metadata lives. Today: local files of the embedded single node (below);
/// with `zookeeper.connect`, ZooKeeper (the cluster milestone).
class metadata_store {
public:
    virtual ~metadata_store() = default;
    virtual result<std::map<std::string, topic_info>> load_topics() = 0;
    virtual result<void> save_topic(const topic_info& t) = 0;
    virtual result<void> remove_topic(const std::string& name) = 0;
    /// Broker-level dynamic config overrides (AlterConfigs on the broker resource), by scope
    /// name ("" for cluster-wide defaults, the node id for this broker).
    virtual result<std::map<std::string, config::property_map>> load_broker_overrides() = 0;
    virtual result<void> save_broker_overrides(const std::string& scope, const config::property_map& m) = 0;
};

/// The embedded node's metadata: one properties file per topic under
/// `<dir>/topics/<topic>.properties` and one per broker config scope under
/// `<dir>/broker-configs/<scope or "default">.properties`, each written atomically.
/// See docs/formats/metadata.md.
class local_metadata_store final : public metadata_store {
public:
    local_metadata_store(storage::file_ops& fs, std::string dir);

    result<std::map<std::string, topic_info>> load_topics() override;
    result<void> save_topic(const topic_info& t) override;
    result<void> remove_topic(const std::string& name) override;
    result<std::map<std::string, config::property_map>> load_broker_overrides() override;
    result<void> save_broker_overrides(const std::string& scope, const config::property_map& m) override;

    /// Serialised form of one topic (exposed for tests and docs).
    static std::string encode_topic(const topic_info& t);
    static result<topic_info> decode_topic(std::string_view text);

private:
    storage::file_ops& _fs;
    std::string _dir;
};

} // namespace samsa::cluster
