// samsa consumer-groups: kafka-consumer-groups.sh on librdkafka's group admin API.
#include "cli/commands.h"
#include "cli/group_admin.h"
#include "cli/group_reset.h"
#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace samsa::cli {

namespace {

command_spec groups_spec()
{
    command_spec s{
        "consumer-groups",
        "Lists, describes and deletes consumer groups, and resets or deletes their committed offsets. "
        "--describe shows per partition the committed offset, the log end offset and the lag.",
        "  samsa consumer-groups --bootstrap-server localhost:9092 --list\n"
        "  samsa consumer-groups --describe --group g1            (also --members [--verbose], --state)\n"
        "  samsa consumer-groups --reset-offsets --group g1 --topic test --to-earliest --execute\n"
        "  samsa consumer-groups --reset-offsets --group g1 --all-topics --shift-by -10 --dry-run\n"
        "  samsa consumer-groups --reset-offsets --group g1 --topic test:0,1 --to-datetime 2024-01-01T00:00:00.000 "
        "--execute\n"
        "  samsa consumer-groups --delete-offsets --group g1 --topic test\n"
        "  samsa consumer-groups --delete --group g1\n",
        {
            {"list", arity::flag, "", "List all consumer groups."},
            {"describe", arity::flag, "", "Describe the group(s): offsets and lag (default), --members or --state."},
            {"delete", arity::flag, "", "Delete the group(s) (they must have no active members)."},
            {"reset-offsets", arity::flag, "", "Reset the group's committed offsets (the group must be inactive)."},
            {"delete-offsets", arity::flag, "", "Delete the group's committed offsets of --topic."},
            {"group", arity::one, "group", "The group id (repeatable)."},
            {"all-groups", arity::flag, "", "Apply to every group."},
            {"topic", arity::one, "topic[:p,p]", "The topic, optionally with partitions (repeatable)."},
            {"all-topics", arity::flag, "", "--reset-offsets: every topic the group has offsets for."},
            {"members", arity::flag, "", "--describe: the members."},
            {"offsets", arity::flag, "", "--describe: the offsets and lag (the default)."},
            {"state", arity::optional, "states",
             "--describe: the group state; --list: show (and with a value, filter by) the states."},
            {"verbose", arity::flag, "", "--describe --members: show each member's assignment."},
            {"to-earliest", arity::flag, "", "Reset to the earliest offset."},
            {"to-latest", arity::flag, "", "Reset to the latest offset."},
            {"to-current", arity::flag, "", "Reset to the current committed offset."},
            {"to-offset", arity::one, "offset", "Reset to this offset."},
            {"shift-by", arity::one, "n", "Move the committed offset by n (may be negative)."},
            {"to-datetime", arity::one, "YYYY-MM-DDTHH:mm:SS.sss",
             "Reset to the first offset at or after this time (local time unless a zone such as Z or +02:00 "
             "follows)."},
            {"by-duration", arity::one, "PnDTnHnMnS", "Reset to the first offset at or after now minus this duration."},
            {"dry-run", arity::flag, "", "Show the new offsets without committing them (the default)."},
            {"execute", arity::flag, "", "Commit the new offsets."},
            {"export", arity::flag, "", "Print the plan as CSV (topic,partition,offset)."},
            {"timeout", arity::one, "ms", "Same as default.api.timeout.ms."},
        }};
    add_client_options(s);
    return s;
}

int list_command(const admin_client& admin, const parsed_args& a)
{
    auto groups = list_groups(admin);
    if (!a.has("state")) {
        for (auto& [id, state] : groups) std::printf("%s\n", id.c_str());
        return 0;
    }
    std::set<std::string> wanted;
    for (auto& s : split(a.value_or("state", ""), ',')) {
        std::string lower;
        for (char c : s) {
            if (c != ' ') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (!lower.empty()) wanted.insert(lower);
    }
    size_t width = 15;
    for (auto& [id, state] : groups) width = std::max(width, id.size());
    std::string out = pad("GROUP", width + 10) + " " + pad("STATE", 20) + "\n";
    for (auto& [id, state] : groups) {
        std::string lower;
        for (char c : state) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!wanted.empty() && !wanted.count(lower)) continue;
        out += pad(id, width + 10) + " " + pad(state, 20) + "\n";
    }
    write_out(out);
    return 0;
}

/// One row of the offsets table; "-" where there is no value.
struct offset_row {
    std::string topic = "-", partition = "-", current = "-", log_end = "-", lag = "-";
    std::string consumer = "-", host = "-", client = "-";
};

std::vector<offset_row> offset_rows(const admin_client& admin, const group_description& g)
{
    auto committed = committed_offsets(admin, g.group_id);
    std::vector<offset_row> rows;
    std::set<topic_partition_key> assigned;
    auto fill = [&](offset_row& r, const topic_partition_key& tp) {
        r.topic = tp.first;
        r.partition = std::to_string(tp.second);
        auto leo = admin.watermarks(tp.first, tp.second).second;
        r.log_end = std::to_string(leo);
        if (auto c = committed.find(tp); c != committed.end()) {
            r.current = std::to_string(c->second);
            r.lag = std::to_string(leo - c->second);
        }
    };
    std::vector<std::pair<topic_partition_key, const group_description::member*>> owned;
    for (auto& m : g.members) {
        for (auto& tp : m.assignment) owned.emplace_back(tp, &m);
    }
    std::sort(owned.begin(), owned.end(), [](auto& x, auto& y) { return x.first < y.first; });
    for (auto& [tp, m] : owned) {
        offset_row r{.consumer = m->consumer_id, .host = m->host, .client = m->client_id};
        fill(r, tp);
        rows.push_back(r);
        assigned.insert(tp);
    }
    for (auto& [tp, off] : committed) {
        if (assigned.count(tp)) continue;
        offset_row r;
        fill(r, tp);
        rows.push_back(r);
    }
    for (auto& m : g.members) {
        if (m.assignment.empty()) rows.push_back({.consumer = m.consumer_id, .host = m.host, .client = m.client_id});
    }
    return rows;
}

void print_offsets(const group_description& g, const std::vector<offset_row>& rows)
{
    size_t wg = std::max<size_t>(15, g.group_id.size()), wt = 15, wc = 15, wh = 15;
    for (auto& r : rows) {
        wt = std::max(wt, r.topic.size());
        wc = std::max(wc, r.consumer.size());
        wh = std::max(wh, r.host.size());
    }
    auto line = [&](const std::string& grp, const offset_row& r) {
        return "\n" + pad(grp, wg) + " " + pad(r.topic, wt) + " " + pad(r.partition, 10) + " " + pad(r.current, 15) +
               " " + pad(r.log_end, 15) + " " + pad(r.lag, 15) + " " + pad(r.consumer, wc) + " " + pad(r.host, wh) +
               " " + r.client;
    };
    offset_row header{"TOPIC", "PARTITION",   "CURRENT-OFFSET", "LOG-END-OFFSET",
                      "LAG",   "CONSUMER-ID", "HOST",           "CLIENT-ID"};
    std::string out = line("GROUP", header);
    for (auto& r : rows) out += line(g.group_id, r);
    write_out(out + "\n");
}

void print_members(const group_description& g, bool verbose)
{
    size_t wg = std::max<size_t>(15, g.group_id.size()), wc = 15, wh = 15, wl = 15;
    for (auto& m : g.members) {
        wc = std::max(wc, m.consumer_id.size());
        wh = std::max(wh, m.host.size());
        wl = std::max(wl, m.client_id.size());
    }
    auto line = [&](const std::string& grp, const std::string& c, const std::string& h, const std::string& cl,
                    const std::string& n, const std::string& assignment) {
        return pad(grp, wg) + " " + pad(c, wc) + " " + pad(h, wh) + " " + pad(cl, wl) + " " + pad(n, 15) + " " +
               assignment + "\n";
    };
    std::string out =
        "\n" + line("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", verbose ? "ASSIGNMENT" : "");
    for (auto& m : g.members) {
        std::map<std::string, std::vector<std::string>> by_topic;
        for (auto& [t, p] : m.assignment) by_topic[t].push_back(std::to_string(p));
        std::vector<std::string> parts;
        for (auto& [t, ps] : by_topic) parts.push_back(t + "(" + join(ps, ",") + ")");
        std::string assignment = verbose ? (parts.empty() ? "-" : join(parts, ",")) : "";
        out += line(g.group_id, m.consumer_id, m.host, m.client_id, std::to_string(m.assignment.size()), assignment);
    }
    write_out(out);
}

void print_state(const group_description& g)
{
    size_t wg = std::max<size_t>(15, g.group_id.size());
    size_t wc = std::max<size_t>(25, g.coordinator.size());
    auto line = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d,
                    const std::string& e) {
        return "\n" + pad(a, wg) + " " + pad(b, wc) + " " + pad(c, 20) + " " + pad(d, 20) + " " + e;
    };
    write_out(line("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS") +
              line(g.group_id, g.coordinator, g.assignor.empty() ? "-" : g.assignor, g.state,
                   std::to_string(g.members.size())) +
              "\n");
}

int describe_command(const admin_client& admin, const parsed_args& a)
{
    int views = a.has("members") + a.has("offsets") + a.has("state");
    if (views > 1) throw usage_error("Option --describe takes at most one of --members, --offsets and --state");
    int status = 0;
    for (auto& g : describe_groups(admin, selected_groups(admin, a))) {
        if (g.state == "Dead") {
            std::fprintf(stderr, "Error: Consumer group '%s' does not exist.\n", g.group_id.c_str());
            status = 1;
            continue;
        }
        if (g.state == "Empty" && !a.has("state")) {
            std::fprintf(stderr, "Consumer group '%s' has no active members.\n", g.group_id.c_str());
        }
        if (g.state == "PreparingRebalance" || g.state == "CompletingRebalance") {
            std::fprintf(stderr, "Warning: Consumer group '%s' is rebalancing.\n", g.group_id.c_str());
        }
        // As Kafka: nothing to tabulate (no members, no committed offsets) prints no table.
        if (a.has("state")) {
            print_state(g);
        } else if (a.has("members")) {
            if (!g.members.empty()) print_members(g, a.has("verbose"));
        } else if (auto rows = offset_rows(admin, g); !rows.empty()) {
            print_offsets(g, rows);
        }
    }
    return status;
}

int delete_command(const admin_client& admin, const parsed_args& a)
{
    auto ids = selected_groups(admin, a);
    if (ids.empty()) {
        std::printf("No consumer groups to delete.\n");
        return 0;
    }
    auto failed = delete_groups(admin, ids);
    std::vector<std::string> ok;
    for (auto& id : ids) {
        if (!failed.count(id)) ok.push_back("'" + id + "'");
    }
    if (!ok.empty())
        std::printf("Deletion of requested consumer groups (%s) was successful.\n", join(ok, ", ").c_str());
    for (auto& [id, err] : failed)
        std::fprintf(stderr, "Error: Group '%s' could not be deleted: %s\n", id.c_str(), err.c_str());
    return failed.empty() ? 0 : 1;
}

int delete_offsets_command(const admin_client& admin, const parsed_args& a)
{
    auto groups = a.values("group");
    if (groups.size() != 1) throw usage_error("--delete-offsets needs exactly one --group");
    if (!a.has("topic")) throw usage_error("--delete-offsets needs --topic");
    auto results = delete_group_offsets(admin, groups[0], topic_partitions(admin, a.values("topic")));
    bool all_ok = std::all_of(results.begin(), results.end(), [](auto& r) { return r.second.empty(); });
    std::string out = fmt::format("Request {} for deleting offsets with topic {} group {}\n",
                                  all_ok ? "succeed" : "failed", join(a.values("topic"), ","), groups[0]);
    out += "\n" + pad("TOPIC", 30) + " " + pad("PARTITION", 15) + " STATUS\n";
    for (auto& [tp, err] : results) {
        out += pad(tp.first, 30) + " " + pad(std::to_string(tp.second), 15) + " " +
               (err.empty() ? std::string("Successful") : "Error: " + err) + "\n";
    }
    write_out(out);
    return all_ok ? 0 : 1;
}

} // namespace

int run_consumer_groups(const std::vector<std::string>& args)
{
    auto spec = groups_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    require_one_action(a, {"list", "describe", "delete", "reset-offsets", "delete-offsets"});
    if (a.has("group") && a.has("all-groups"))
        throw usage_error("Options --group and --all-groups cannot be used together");
    if (!a.has("list") && !a.has("group") && !a.has("all-groups"))
        throw usage_error("Option --group or --all-groups is required");
    auto cfg = client_config::from_args(a);
    if (auto t = a.value("timeout")) cfg.set("default.api.timeout.ms", *t);
    admin_client admin(cfg);
    if (a.has("list")) return list_command(admin, a);
    if (a.has("describe")) return describe_command(admin, a);
    if (a.has("delete")) return delete_command(admin, a);
    if (a.has("delete-offsets")) return delete_offsets_command(admin, a);
    return reset_offsets(admin, a);
}

} // namespace samsa::cli
