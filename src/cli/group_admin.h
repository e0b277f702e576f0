#pragma once

#include "cli/client.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace samsa::cli {

/// (topic, partition), ordered by topic then partition.
using topic_partition_key = std::pair<std::string, int32_t>;

/// A consumer group as DescribeConsumerGroups reports it.
struct group_description {
    struct member {
        std::string consumer_id;
        std::string group_instance_id;
        std::string client_id;
        std::string host;
        std::vector<topic_partition_key> assignment;
    };
    std::string group_id;
    std::string state; // Kafka's names: Stable, Empty, Dead, PreparingRebalance, ...
    std::string assignor;
    std::string coordinator; // "host:port  (id)" as kafka-consumer-groups.sh prints it
    std::vector<member> members;
};

/// Every group id with its state, sorted by id.
std::vector<std::pair<std::string, std::string>> list_groups(const admin_client& admin);

/// Describes the groups; an unknown group comes back in state "Dead" (the broker's answer).
/// cli_error for a group-level error other than that.
std::vector<group_description> describe_groups(const admin_client& admin, const std::vector<std::string>& ids);

/// The committed offset of every partition the group has one for (ListConsumerGroupOffsets).
std::map<topic_partition_key, int64_t> committed_offsets(const admin_client& admin, const std::string& group);

/// Commits `offsets` for the group (AlterConsumerGroupOffsets); cli_error listing the
/// partitions the broker refused.
void alter_group_offsets(const admin_client& admin, const std::string& group,
                         const std::map<topic_partition_key, int64_t>& offsets);

/// Deletes groups; returns the error text per group that could not be deleted.
std::map<std::string, std::string> delete_groups(const admin_client& admin, const std::vector<std::string>& ids);

/// Deletes the group's committed offsets of the partitions; returns the per-partition outcome
/// ("" for success, else the error text). cli_error for a group-level error.
std::map<topic_partition_key, std::string> delete_group_offsets(const admin_client& admin, const std::string& group,
                                                                const std::vector<topic_partition_key>& partitions);

/// Expands --topic values "t" (every partition, from metadata) or "t:0,2" (those partitions).
std::vector<topic_partition_key> topic_partitions(const admin_client& admin, const std::vector<std::string>& specs);

/// The group ids named by --group (repeatable) or, with --all-groups, every group.
std::vector<std::string> selected_groups(const admin_client& admin, const parsed_args& a);

} // namespace samsa::cli
