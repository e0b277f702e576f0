#include "cluster/zk/admin.h"

#include "cluster/zk/tasks.h"

#include <fmt/format.h>

namespace samsa::cluster::zk {

namespace {
/// `subject`: "topic t", "broker 3", "broker <default>", "topics/t" (a config change).
error failed(const char* what, const std::string& subject, const std::error_code& ec)
{
    return make_error(cluster::errc::metadata_write_failed,
                      fmt::format("Cannot {} for {} in ZooKeeper: {}", what, subject, ec.message()));
}

/// ZooKeeper down or reconnecting (its restart, a network blip): requests wait up to 15 s for
/// the session to come back instead of failing at once.
boost::asio::awaitable<op_result<void>> connected(session& zk)
{
    if (auto c = co_await zk.wait_connected(std::chrono::milliseconds(15000)); !c) {
        co_return make_error(cluster::errc::metadata_write_failed,
                             fmt::format("ZooKeeper is not reachable: {}", c.error().message()));
    }
    co_return op_result<void>{};
}

std::map<std::string, std::string> as_map(const config::property_map& m) { return {m.begin(), m.end()}; }

/// /config/topics/<t> or /config/brokers/<b> (`parent` + "/" + `name`), created if missing.
boost::asio::awaitable<op_result<void>> write_config(session& zk, std::string_view parent, const std::string& name,
                                                     const config::property_map& overrides)
{
    auto path = fmt::format("{}/{}", parent, name);
    auto subject = fmt::format("{} {}", parent == paths::config_topics ? "topic" : "broker", name);
    auto data = encode_config(as_map(overrides));
    auto set = co_await zk.set(path, data, -1);
    if (set) co_return op_result<void>{};
    if (!is(set.error(), session_errc::no_node)) co_return failed("write the configs", subject, set.error());
    if (auto r = co_await zk.ensure_path(std::string(parent)); !r) co_return failed("write the configs", subject, r.error());
    auto c = co_await zk.create(path, data, create_mode::persistent);
    if (!c && !is(c.error(), session_errc::node_exists)) co_return failed("write the configs", subject, c.error());
    co_return op_result<void>{};
}

/// A notification in /config/changes that `entity_path` ("topics/<t>", "brokers/<b>") changed.
boost::asio::awaitable<op_result<void>> announce(session& zk, const std::string& entity_path)
{
    if (auto r = co_await zk.ensure_path(std::string(paths::config_changes)); !r) co_return failed("announce the configs", entity_path, r.error());
    auto n = co_await zk.create(std::string(paths::config_changes) + "/config_change_", encode_config_change(entity_path),
                                create_mode::persistent_sequential);
    if (!n) co_return failed("announce the configs", entity_path, n.error());
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
    if (auto c = co_await connected(zk); !c) co_return c;
    if (auto r = co_await zk.ensure_path(std::string(paths::broker_topics)); !r) co_return failed("create", "topic " + t.name, r.error());
    auto exists = co_await zk.exists(paths::topic(t.name));
    if (exists && *exists) co_return make_error(cluster::errc::topic_exists, fmt::format("Topic '{}' already exists.", t.name));
    if (auto c = co_await write_config(zk, paths::config_topics, t.name, t.overrides); !c) co_return c;
    auto created = co_await zk.create(paths::topic(t.name), encode_topic(assignment_of(t)), create_mode::persistent);
    if (!created) {
        if (is(created.error(), session_errc::node_exists)) {
            co_return make_error(cluster::errc::topic_exists, fmt::format("Topic '{}' already exists.", t.name));
        }
        co_return failed("create", "topic " + t.name, created.error());
    }
    co_return op_result<void>{};
}

boost::asio::awaitable<op_result<void>> admin::delete_topic(const std::string& name)
{
    auto& zk = _zk();
    if (auto c = co_await connected(zk); !c) co_return c;
    if (auto r = co_await zk.ensure_path(std::string(paths::delete_topics)); !r) co_return failed("delete", "topic " + name, r.error());
    auto c = co_await zk.create(std::string(paths::delete_topics) + "/" + name, "", create_mode::persistent);
    if (!c && !is(c.error(), session_errc::node_exists)) co_return failed("delete", "topic " + name, c.error());
    co_return op_result<void>{};
}

boost::asio::awaitable<op_result<void>> admin::add_partitions(const topic_info& t)
{
    auto& zk = _zk();
    if (auto c = co_await connected(zk); !c) co_return c;
    auto cur = co_await zk.get(paths::topic(t.name));
    if (!cur) {
        if (is(cur.error(), session_errc::no_node)) co_return make_error(cluster::errc::unknown_topic, "This server does not host this topic-partition.");
        co_return failed("read the assignment", "topic " + t.name, cur.error());
    }
    auto stored = decode_topic(cur->data);
    if (!stored) co_return failed("read the assignment", "topic " + t.name, stored.error());
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
        co_return failed("write the assignment", "topic " + t.name, set.error());
    }
    co_return op_result<void>{};
}

boost::asio::awaitable<op_result<void>> admin::set_topic_overrides(const std::string& name,
                                                                   const config::property_map& overrides)
{
    auto& zk = _zk();
    if (auto c = co_await connected(zk); !c) co_return c;
    if (auto c = co_await write_config(zk, paths::config_topics, name, overrides); !c) co_return c;
    co_return co_await announce(zk, "topics/" + name);
}

boost::asio::awaitable<op_result<void>> admin::set_broker_overrides(const std::string& entity,
                                                                    const config::property_map& overrides)
{
    auto& zk = _zk();
    if (auto c = co_await connected(zk); !c) co_return c;
    if (auto c = co_await write_config(zk, paths::config_brokers, entity, overrides); !c) co_return c;
    co_return co_await announce(zk, "brokers/" + entity);
}

} // namespace samsa::cluster::zk
