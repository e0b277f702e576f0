#pragma once

#include "base/ids.h"
#include "cluster/errc.h"
#include "cluster/topic_table.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace samsa::cluster {

/// A broker as replica assignment sees it.
struct assignable_broker {
    node_id id{-1};
    std::optional<std::string> rack;
};

/// Where assignment starts; Kafka draws both at random (per topic creation), tests fix them.
struct assignment_start {
    int32_t start_index = 0;   // broker (in the arranged list) of partition 0's first replica
    int32_t replica_shift = 0; // offset of each partition's second replica from its first
};

/// Kafka's replica assignment for partitions [first_partition, first_partition + count):
/// round-robin over the brokers sorted by id, each partition's first replica one broker on from
/// the previous one, its followers shifted from it by an amount that grows every full round (so
/// followers spread too). When every broker has a rack, the brokers are first interleaved rack
/// by rack and a partition takes a broker of a rack it has no replica on yet, while there is
/// one, so a partition's replicas span min(racks, replication factor) racks.
///
/// invalid_replication_factor when `replication_factor` is not positive or exceeds the brokers;
/// invalid_replica_assignment when some brokers have a rack and others not (Kafka refuses that
/// mix for rack-aware assignment). Pure.
op_result<std::vector<replica_assignment>> assign_replicas(std::vector<assignable_broker> brokers, int32_t count,
                                                           int16_t replication_factor, assignment_start start,
                                                           int32_t first_partition = 0);

} // namespace samsa::cluster
