#pragma once

#include <functional>

#include "base/ids.h"
#include "base/result.h"
#include "cluster/metadata_store.h"

#include <boost/asio/awaitable.hpp>

#include <optional>

namespace samsa::cluster {

/// Hands out producer ids for InitProducerId, cluster-wide unique: ids come from blocks this
/// broker reserves in the metadata store, `block_size` at a time (Kafka's ZooKeeper-mode
/// scheme), so no two brokers and no two runs of one broker hand out the same id. An id of a
/// block left unused by a restart is never used. Used on one shard.
class producer_id_manager {
public:
    static constexpr int64_t block_size = 1000;

    producer_id_manager(metadata_store& store, node_id self) : _store(store), _self(self) {}

    /// Where blocks come from instead of the store (ZooKeeper mode: /latest_producer_id_block).
    using allocator = std::function<boost::asio::awaitable<result<producer_id_block>>(node_id, int64_t)>;
    void set_allocator(allocator a) { _allocate = std::move(a); }

    /// The next id; the store's error when a new block cannot be reserved.
    boost::asio::awaitable<result<producer_id>> next();
    /// The block ids come from now, if one is reserved.
    const std::optional<producer_id_block>& current_block() const { return _block; }

private:
    metadata_store& _store;
    node_id _self;
    std::optional<producer_id_block> _block;
    allocator _allocate;
    int64_t _next = 0;
};

} // namespace samsa::cluster
