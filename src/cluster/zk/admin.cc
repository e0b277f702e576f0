#include "cluster/zk/admin.h"

#include "cluster/zk/tasks.h"

#include <fmt/format.h>

namespace samsa::cluster::zk {

namespace {
error failed(const char* what, const std::string& topic, const std::error_code& ec)
{
    return make_error(cluster::errc::metadata_write_failed, fmt::format("Cannot {} for topic {} in ZooKeeper: {}", what, topic,
                                                               ec.message()));
}

std::map<std::string, std::string> as_map(const config::property_map& m) { return {m.begin(), m.end()}; }

boost::asio::awaitable<op_result<void>> write_config(session& zk, const std::string& name,
                                                     const config::property_map& overrides)
{
    auto path = paths::topic_config(name);
    auto data = encode_config(as_map(overrides));
    auto set = co_await zk.set(path, data, -1);
    if (set) co_return op_result<void>{};
    if (!is(set.error(), session_errc::no_node)) co_return failed("write the configs", name, set.error());
    if (auto r = co_await zk.ensure_path(std::string(paths::config_topics)); !r) co_return failed("write the configs", name, r.error());
    auto c = co_await zk.create(path, data, create_mode::persistent);
    if (!c && !is(c.error(), session_errc::node_exists)) co_return failed("write the configs", name, c.error());
    co_return op_result<void>{};
}
} // namespace

topic_assignment assignment_of(const topic_info& t)
{
    topic_assignment a;
    a.topic_id = t.id.to_string();
    for (auto& p : t.partitions) {
        auto& reps = a.partitions[p.id()];
        for (auto r : p.replicas) reps.push_back(r());
    }
    return a;
}

boost::asio::awaitable<op_result<void>> admin::create_topic(const topic_info& t)
{
    auto& zk = _zk();
    if (auto r = co_await zk.ensure_path(std::string(paths::broker_topics)); !r) co_return failed("create", t.name, r.error());
    auto exists = co_await zk.exists(paths::topic(t.name));
    if (exists && *exists) co_return make_error(cluster::errc::topic_exists, fmt::format("Topic '{}' already exists.", t.name));
    if (auto c = co_await write_config(zk, t.name, t.overrides); !c) co_return c;
    auto created = co_await zk.create(paths::topic(t.name), encode_topic(assignment_of(t)), create_mode::persistent);
    if (!created) {
        if (is(created.error(), session_errc::node_exists)) {
            co_return make_error(cluster::errc::topic_exists, fmt::format("Topic '{}' already exists.", t.name));
        }
        co_return failed("create", t.name, created.error());
    }
    co_return op_result<void>{};
}

boost::asio::awaitable<op_result<void>> admin::delete_topic(const std::string& name)
{
    auto& zk = _zk();
    if (auto r = co_await zk.ensure_path(std::string(paths::delete_topics)); !r) co_return failed("delete", name, r.error());
    auto c = co_await zk.create(std::string(paths::delete_topics) + "/" + name, "", create_mode::persistent);
    if (!c && !is(c.error(), session_errc::node_exists)) co_return failed("delete", name, c.error());
    co_return op_result<void>{};
}

boost::asio::awaitable<op_result<void>> admin::add_partitions(const topic_info& t)
{
    auto& zk = _zk();
    auto cur = co_await zk.get(paths::topic(t.name));
    if (!cur) {
        if (is(cur.error(), session_errc::no_node)) co_return make_error(cluster::errc::unknown_topic, "This server does not host this topic-partition.");
        co_return failed("read the assignment", t.name, cur.error());
    }
    auto stored = decode_topic(cur->data);
    if (!stored) co_return failed("read the assignment", t.name, stored.error());
    auto next = assignment_of(t);
    // What is stored stays as it is (a reassignment may be under way); only new partitions are added.
    for (auto& [p, reps] : stored->partitions) next.partitions[p] = reps;
    next.topic_id = stored->topic_id.empty() ? next.topic_id : stored->topic_id;
    next.adding_replicas = stored->adding_replicas;
    next.removing_replicas = stored->removing_replicas;
    auto set = co_await zk.set(paths::topic(t.name), encode_topic(next), cur->version);
    if (!set) {
        if (is(set.error(), session_errc::bad_version)) {
            co_return make_error(cluster::errc::invalid_request, fmt::format("The assignment of topic {} changed meanwhile; try again.", t.name));
        }
        co_return failed("write the assignment", t.name, set.error());
    }
    co_return op_result<void>{};
}

boost::asio::awaitable<op_result<void>> admin::set_topic_overrides(const std::string& name,
                                                                   const config::property_map& overrides)
{
    auto& zk = _zk();
    if (auto c = co_await write_config(zk, name, overrides); !c) co_return c;
    if (auto r = co_await zk.ensure_path(std::string(paths::config_changes)); !r) co_return failed("announce the configs", name, r.error());
    auto n = co_await zk.create(std::string(paths::config_changes) + "/config_change_", encode_config_change("topics/" + name),
                                create_mode::persistent_sequential);
    if (!n) co_return failed("announce the configs", name, n.error());
    co_return op_result<void>{};
}

} // namespace samsa::cluster::zk
