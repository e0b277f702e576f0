#include "kafka/handlers/handlers.h"

#include "kafka/handlers/group_handlers.h"

#include <algorithm>

namespace samsa::kafka {

using protocol::api_key;

const std::vector<api_handler>& api_handlers()
{
    static const std::vector<api_handler> table = [] {
        std::vector<api_handler> t = {
            {api_key::produce, 0, 12, &handle_produce},
            {api_key::fetch, 0, 12, &handle_fetch},
            {api_key::metadata, 0, 12, &handle_metadata},
            {api_key::api_versions, 0, 3, &handle_api_versions},
            {api_key::list_offsets, 0, 7, &handle_list_offsets},
            {api_key::offset_for_leader_epoch, 0, 4, &handle_offset_for_leader_epoch},
            {api_key::create_topics, 0, 7, &handle_create_topics},
            {api_key::delete_topics, 0, 6, &handle_delete_topics},
            {api_key::delete_records, 0, 2, &handle_delete_records},
            {api_key::describe_configs, 0, 4, &handle_describe_configs},
            {api_key::alter_configs, 0, 2, &handle_alter_configs},
            {api_key::create_partitions, 0, 3, &handle_create_partitions},
            {api_key::incremental_alter_configs, 0, 1, &handle_incremental_alter_configs},
            {api_key::describe_cluster, 0, 1, &handle_describe_cluster},
            {api_key::find_coordinator, 0, 4, &handle_find_coordinator},
            {api_key::join_group, 0, 9, &handle_join_group},
            {api_key::sync_group, 0, 5, &handle_sync_group},
            {api_key::heartbeat, 0, 4, &handle_heartbeat},
            {api_key::leave_group, 0, 5, &handle_leave_group},
            {api_key::offset_commit, 0, 8, &handle_offset_commit},
            {api_key::offset_fetch, 0, 8, &handle_offset_fetch},
            {api_key::list_groups, 0, 4, &handle_list_groups},
            {api_key::describe_groups, 0, 5, &handle_describe_groups},
            {api_key::delete_groups, 0, 2, &handle_delete_groups},
            {api_key::offset_delete, 0, 0, &handle_offset_delete},
            {api_key::init_producer_id, 0, 5, &handle_init_producer_id},
            {api_key::describe_producers, 0, 0, &handle_describe_producers},
            {api_key::add_partitions_to_txn, 0, 5, &handle_add_partitions_to_txn},
            {api_key::add_offsets_to_txn, 0, 4, &handle_add_offsets_to_txn},
            {api_key::end_txn, 0, 5, &handle_end_txn},
            {api_key::write_txn_markers, 0, 1, &handle_write_txn_markers},
            {api_key::txn_offset_commit, 0, 5, &handle_txn_offset_commit},
            {api_key::describe_transactions, 0, 0, &handle_describe_transactions},
            {api_key::list_transactions, 0, 1, &handle_list_transactions},
            {api_key::leader_and_isr, 0, 7, &handle_leader_and_isr},
            {api_key::stop_replica, 0, 4, &handle_stop_replica},
            {api_key::update_metadata, 0, 8, &handle_update_metadata},
            {api_key::controlled_shutdown, 0, 3, &handle_controlled_shutdown},
            {api_key::elect_leaders, 0, 2, &handle_elect_leaders},
            {api_key::describe_log_dirs, 0, 4, &handle_describe_log_dirs},
            {api_key::alter_partition_reassignments, 0, 0, &handle_alter_partition_reassignments},
            {api_key::list_partition_reassignments, 0, 0, &handle_list_partition_reassignments},
        };
        std::sort(t.begin(), t.end(), [](auto& a, auto& b) { return a.key < b.key; });
        return t;
    }();
    return table;
}

const api_handler* find_handler(api_key key)
{
    for (auto& h : api_handlers()) {
        if (h.key == key) return &h;
    }
    return nullptr;
}

} // namespace samsa::kafka
