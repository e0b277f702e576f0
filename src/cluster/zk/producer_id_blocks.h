#pragma once

#include "base/ids.h"
#include "base/result.h"
#include "cluster/metadata_store.h"
#include "cluster/zk/session.h"

#include <boost/asio/awaitable.hpp>

namespace samsa::cluster::zk {

/// Reserves the next `size` producer ids for `broker` in /latest_producer_id_block, as Kafka's
/// ZooKeeper mode does: read the last block, write the one after it conditionally on the
/// znode's version, and start over when another broker won the race; the first block starts at
/// 0 (the znode is created). No two callers, on any broker, ever get overlapping blocks.
/// zk::errc::malformed for a znode that cannot be read (left alone).
boost::asio::awaitable<result<producer_id_block>> allocate_producer_id_block(session& zk, node_id broker, int64_t size);

} // namespace samsa::cluster::zk
