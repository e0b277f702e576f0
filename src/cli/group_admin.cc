#include "cli/group_admin.h"

#include <fmt/format.h>

#include <algorithm>

namespace samsa::cli {

namespace {

std::string group_error(const rd_kafka_group_result_t* g)
{
    const rd_kafka_error_t* e = rd_kafka_group_result_error(g);
    return e ? rd_kafka_error_string(e) : std::string();
}

partition_list_ptr to_list(const std::map<topic_partition_key, int64_t>& offsets)
{
    auto list = new_partition_list(static_cast<int>(offsets.size()));
    for (auto& [tp, off] : offsets)
        rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = off;
    return list;
}

partition_list_ptr to_list(const std::vector<topic_partition_key>& tps)
{
    auto list = new_partition_list(static_cast<int>(tps.size()));
    for (auto& tp : tps) rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second);
    return list;
}

group_description::member to_member(const rd_kafka_MemberDescription_t* m)
{
    group_description::member out;
    auto str = [](const char* s) { return s ? std::string(s) : std::string(); };
    out.consumer_id = str(rd_kafka_MemberDescription_consumer_id(m));
    out.group_instance_id = str(rd_kafka_MemberDescription_group_instance_id(m));
    out.client_id = str(rd_kafka_MemberDescription_client_id(m));
    out.host = str(rd_kafka_MemberDescription_host(m));
    if (auto* a = rd_kafka_MemberDescription_assignment(m)) {
        if (auto* parts = rd_kafka_MemberAssignment_partitions(a)) {
            for (int i = 0; i < parts->cnt; ++i)
                out.assignment.emplace_back(parts->elems[i].topic, parts->elems[i].partition);
        }
    }
    std::sort(out.assignment.begin(), out.assignment.end());
    return out;
}

} // namespace

std::vector<std::pair<std::string, std::string>> list_groups(const admin_client& admin)
{
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, "ListGroups failed",
                        [](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_ListConsumerGroups(rk, o, q);
                        });
    auto* res = rd_kafka_event_ListConsumerGroups_result(ev.get());
    size_t nerr = 0;
    const rd_kafka_error_t** errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    if (nerr > 0) throw cli_error(fmt::format("ListGroups failed: {}", rd_kafka_error_string(errs[0])));
    size_t n = 0;
    const rd_kafka_ConsumerGroupListing_t** groups = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 0; i < n; ++i) {
        out.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]),
                         rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(groups[i])));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<group_description> describe_groups(const admin_client& admin, const std::vector<std::string>& ids)
{
    std::vector<const char*> names;
    for (auto& id : ids) names.push_back(id.c_str());
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, "DescribeGroups failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_DescribeConsumerGroups(rk, names.data(), names.size(), o, q);
                        });
    size_t n = 0;
    auto** groups =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
    std::vector<group_description> out;
    for (size_t i = 0; i < n; ++i) {
        auto* g = groups[i];
        group_description d;
        d.group_id = rd_kafka_ConsumerGroupDescription_group_id(g);
        if (auto* e = rd_kafka_ConsumerGroupDescription_error(g)) {
            throw cli_error(fmt::format("Cannot describe group '{}': {}", d.group_id, rd_kafka_error_string(e)));
        }
        d.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(g));
        const char* assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(g);
        d.assignor = assignor ? assignor : "";
        if (auto* c = rd_kafka_ConsumerGroupDescription_coordinator(g)) {
            d.coordinator =
                fmt::format("{}:{}  ({})", rd_kafka_Node_host(c), rd_kafka_Node_port(c), rd_kafka_Node_id(c));
        }
        for (size_t m = 0; m < rd_kafka_ConsumerGroupDescription_member_count(g); ++m) {
            d.members.push_back(to_member(rd_kafka_ConsumerGroupDescription_member(g, m)));
        }
        out.push_back(std::move(d));
    }
    return out;
}

std::map<topic_partition_key, int64_t> committed_offsets(const admin_client& admin, const std::string& group)
{
    rd_kafka_ListConsumerGroupOffsets_t* req = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, "OffsetFetch failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, o, q);
                        });
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    size_t n = 0;
    auto** res =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
    std::map<topic_partition_key, int64_t> out;
    for (size_t i = 0; i < n; ++i) {
        if (auto e = group_error(res[i]); !e.empty())
            throw cli_error(fmt::format("OffsetFetch failed for group '{}': {}", group, e));
        const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(res[i]);
        for (int p = 0; parts && p < parts->cnt; ++p) {
            auto& e = parts->elems[p];
            if (!e.err && e.offset >= 0) out[{e.topic, e.partition}] = e.offset;
        }
    }
    return out;
}

void alter_group_offsets(const admin_client& admin, const std::string& group,
                         const std::map<topic_partition_key, int64_t>& offsets)
{
    auto list = to_list(offsets);
    rd_kafka_AlterConsumerGroupOffsets_t* req = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get());
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, "OffsetCommit failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, o, q);
                        });
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    size_t n = 0;
    auto** res =
        rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
        if (auto e = group_error(res[i]); !e.empty())
            throw cli_error(fmt::format("Cannot commit offsets for group '{}': {}", group, e));
        const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(res[i]);
        for (int p = 0; parts && p < parts->cnt; ++p) {
            auto& e = parts->elems[p];
            if (e.err) {
                throw cli_error(fmt::format("Cannot commit the offset of {}-{} for group '{}': {}", e.topic,
                                            e.partition, group, error_text(e.err)));
            }
        }
    }
}

std::map<std::string, std::string> delete_groups(const admin_client& admin, const std::vector<std::string>& ids)
{
    std::vector<rd_kafka_DeleteGroup_t*> dels;
    for (auto& id : ids) dels.push_back(rd_kafka_DeleteGroup_new(id.c_str()));
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_DELETEGROUPS, "DeleteGroups failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_DeleteGroups(rk, dels.data(), dels.size(), o, q);
                        });
    rd_kafka_DeleteGroup_destroy_array(dels.data(), dels.size());
    size_t n = 0;
    auto** res = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
    std::map<std::string, std::string> failed;
    for (size_t i = 0; i < n; ++i) {
        if (auto e = group_error(res[i]); !e.empty()) failed[rd_kafka_group_result_name(res[i])] = e;
    }
    return failed;
}

std::map<topic_partition_key, std::string> delete_group_offsets(const admin_client& admin, const std::string& group,
                                                                const std::vector<topic_partition_key>& partitions)
{
    auto list = to_list(partitions);
    rd_kafka_DeleteConsumerGroupOffsets_t* req = rd_kafka_DeleteConsumerGroupOffsets_new(group.c_str(), list.get());
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS, "OffsetDelete failed",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* o, rd_kafka_queue_t* q) {
                            rd_kafka_DeleteConsumerGroupOffsets(rk, &req, 1, o, q);
                        });
    rd_kafka_DeleteConsumerGroupOffsets_destroy(req);
    size_t n = 0;
    auto** res = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
        rd_kafka_event_DeleteConsumerGroupOffsets_result(ev.get()), &n);
    std::map<topic_partition_key, std::string> out;
    for (size_t i = 0; i < n; ++i) {
        if (auto e = group_error(res[i]); !e.empty())
            throw cli_error(fmt::format("Cannot delete offsets of group '{}': {}", group, e));
        const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(res[i]);
        for (int p = 0; parts && p < parts->cnt; ++p) {
            auto& e = parts->elems[p];
            out[{e.topic, e.partition}] = e.err ? error_text(e.err) : std::string();
        }
    }
    return out;
}

std::vector<topic_partition_key> topic_partitions(const admin_client& admin, const std::vector<std::string>& specs)
{
    std::vector<topic_partition_key> out;
    for (auto& spec : specs) {
        auto colon = spec.find(':');
        std::string topic = spec.substr(0, colon);
        if (topic.empty()) throw usage_error(fmt::format("Invalid --topic '{}'", spec));
        if (colon != std::string::npos) {
            for (auto& p : split(spec.substr(colon + 1), ',')) {
                auto n = parse_int(p);
                if (!n || *n < 0) throw usage_error(fmt::format("Invalid partition '{}' in --topic '{}'", p, spec));
                out.emplace_back(topic, static_cast<int32_t>(*n));
            }
            continue;
        }
        auto md = admin.metadata(topic);
        auto& t = find_topic(*md, topic);
        for (int i = 0; i < t.partition_cnt; ++i) out.emplace_back(topic, t.partitions[i].id);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> selected_groups(const admin_client& admin, const parsed_args& a)
{
    if (a.has("all-groups")) {
        std::vector<std::string> ids;
        for (auto& [id, state] : list_groups(admin)) ids.push_back(id);
        return ids;
    }
    auto ids = a.values("group");
    if (ids.empty()) throw usage_error("Option --group or --all-groups is required");
    return ids;
}

} // namespace samsa::cli
