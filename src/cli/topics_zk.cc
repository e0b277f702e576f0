// samsa topics --zookeeper: kafka-topics.sh's old ZooKeeper-side flow. It reads and writes the
// znodes of Kafka's layout directly (as Kafka's AdminZkClient did), through the same writer the
// brokers use (cluster::zk::admin); the controller acts on what it writes.
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/topics_zk.h"
#include "cluster/assignment.h"
#include "cluster/zk/admin.h"
#include "cluster/zk/session.h"
#include "cluster/zk/tasks.h"
#include "cluster/zk/znodes.h"
#include "config/topic_config.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <random>
#include <regex>
#include <set>

namespace samsa::cli {

namespace {

namespace zk = cluster::zk;
using boost::asio::awaitable;

constexpr auto connect_timeout = std::chrono::seconds(30);

[[noreturn]] void zk_failed(const std::string& what, const std::error_code& ec)
{
    throw cli_error(fmt::format("Error while executing topic command : cannot {} in ZooKeeper: {}", what, ec.message()));
}

/// What ZooKeeper holds for one topic.
struct zk_topic {
    std::string name;
    zk::topic_assignment assignment;
    std::map<std::string, std::string> configs;
    bool deleting = false;
};

class zk_topics {
public:
    zk_topics(zk::session& s, const parsed_args& a) : _zk(s), _a(a) {}

    awaitable<int> run()
    {
        if (_a.has("list")) co_return co_await list();
        if (_a.has("create")) co_return co_await create();
        if (_a.has("delete")) co_return co_await remove();
        if (_a.has("alter")) co_return co_await alter();
        co_return co_await describe();
    }

private:
    awaitable<std::vector<std::string>> children(const std::string& path)
    {
        auto r = co_await _zk.children(path);
        if (!r) {
            if (zk::is(r.error(), zk::session_errc::no_node)) co_return std::vector<std::string>{};
            zk_failed("list " + path, r.error());
        }
        auto names = *r;
        std::sort(names.begin(), names.end());
        co_return names;
    }

    /// The topics selected by --topic (a regular expression matched against whole names) and
    /// --exclude-internal.
    awaitable<std::vector<std::string>> selected()
    {
        std::optional<std::regex> re;
        if (auto t = _a.value("topic")) {
            try {
                re.emplace(*t);
            } catch (const std::regex_error& e) {
                throw usage_error(fmt::format("Invalid --topic regular expression '{}': {}", *t, e.what()));
            }
        }
        std::vector<std::string> out;
        for (auto& name : co_await children(std::string(zk::paths::broker_topics))) {
            if (_a.has("exclude-internal") && is_internal_topic(name)) continue;
            if (re && !std::regex_match(name, *re)) continue;
            out.push_back(name);
        }
        co_return out;
    }

    bool check_found(const std::vector<std::string>& found) const
    {
        if (!found.empty()) return true;
        if (_a.has("if-exists")) return false;
        throw cli_error(fmt::format("Topic '{}' does not exist as expected", _a.value_or("topic", "")));
    }

    awaitable<std::optional<zk_topic>> read_topic(const std::string& name)
    {
        auto got = co_await _zk.get(zk::paths::topic(name));
        if (!got) {
            if (zk::is(got.error(), zk::session_errc::no_node)) co_return std::nullopt;
            zk_failed("read topic " + name, got.error());
        }
        auto assignment = zk::decode_topic(got->data);
        if (!assignment) {
            throw cli_error(fmt::format("Error while executing topic command : the znode of topic {} is malformed: {}",
                                        name, assignment.error().message()));
        }
        zk_topic t{name, *assignment, {}, false};
        if (auto cfg = co_await _zk.get(zk::paths::topic_config(name))) {
            if (auto m = zk::decode_config(cfg->data)) t.configs = *m;
        }
        auto del = co_await _zk.exists(std::string(zk::paths::delete_topics) + "/" + name);
        t.deleting = del && *del;
        co_return t;
    }

    awaitable<std::vector<cluster::assignable_broker>> live_brokers()
    {
        std::vector<cluster::assignable_broker> out;
        for (auto& id_text : co_await children(std::string(zk::paths::broker_ids))) {
            auto id = parse_int(id_text);
            if (!id) continue;
            auto got = co_await _zk.get(zk::paths::broker(static_cast<int32_t>(*id)));
            if (!got) continue;
            auto reg = zk::decode_broker(static_cast<int32_t>(*id), got->data);
            if (!reg) continue; // a malformed registration is not a broker to assign to
            out.push_back({node_id(static_cast<int32_t>(*id)), reg->rack});
        }
        co_return out;
    }

    static cluster::assignment_start random_start(size_t brokers)
    {
        std::random_device rd;
        std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(std::max<size_t>(brokers, 1)) - 1);
        return {d(rd), d(rd)};
    }

    awaitable<int> list()
    {
        for (auto& name : co_await selected()) {
            auto del = co_await _zk.exists(std::string(zk::paths::delete_topics) + "/" + name);
            write_out(del && *del ? name + " - marked for deletion\n" : name + "\n");
        }
        co_return 0;
    }

    /// --replica-assignment "1:2,2:3" as partitions of registered, distinct brokers, all with the
    /// same number of replicas.
    std::vector<cluster::replica_assignment> manual_assignment(const std::string& spec,
                                                               const std::vector<cluster::assignable_broker>& live,
                                                               int32_t first_partition) const
    {
        std::set<int32_t> known;
        for (auto& b : live) known.insert(b.id());
        std::vector<cluster::replica_assignment> out;
        auto parts = split(spec, ',');
        for (size_t p = 0; p < parts.size(); ++p) {
            cluster::replica_assignment ra{partition_id(first_partition + static_cast<int32_t>(p)), {}};
            std::set<int32_t> seen;
            for (auto& b : split(parts[p], ':')) {
                auto id = parse_int(b);
                if (!id) throw usage_error(fmt::format("Invalid --replica-assignment '{}'", spec));
                auto bid = static_cast<int32_t>(*id);
                if (!seen.insert(bid).second) {
                    throw cli_error(fmt::format("Error while executing topic command : Partition replica lists may "
                                                "not contain duplicate entries: {}", bid));
                }
                if (!known.count(bid)) {
                    throw cli_error(fmt::format("Error while executing topic command : Unknown broker {} in "
                                                "--replica-assignment (registered: {})", bid, known.size()));
                }
                ra.replicas.push_back(node_id(bid));
            }
            if (!out.empty() && out.front().replicas.size() != ra.replicas.size()) {
                throw cli_error("Error while executing topic command : Partition " + std::to_string(ra.id()) +
                                " has different replication factor: " + parts[p]);
            }
            out.push_back(std::move(ra));
        }
        return out;
    }

    awaitable<int> create()
    {
        auto name = _a.value("topic");
        if (!name) throw usage_error("Missing required option --topic");
        if (auto bad = cluster::validate_topic_name(*name)) throw cli_error("Error while executing topic command : " + *bad);
        if (!_a.has("replica-assignment") && (!_a.has("partitions") || !_a.has("replication-factor"))) {
            throw usage_error("--create with --zookeeper needs --partitions and --replication-factor (or --replica-assignment)");
        }
        if (_a.has("replica-assignment") && (_a.has("partitions") || _a.has("replication-factor"))) {
            throw usage_error("--replica-assignment cannot be used with --partitions or --replication-factor");
        }
        cluster::topic_info t;
        t.name = *name;
        t.id = cluster::random_uuid();
        for (auto& kv : _a.values("config")) {
            auto [k, v] = split_key_value(kv, "config");
            t.overrides[k] = v;
        }
        if (auto ok = config::validate_topic_overrides(t.overrides); !ok) {
            throw cli_error("Error while executing topic command : " + ok.error().message);
        }
        if (auto existing = co_await _zk.exists(zk::paths::topic(*name)); existing && *existing) {
            if (_a.has("if-not-exists")) co_return 0;
            throw cli_error(fmt::format("Error while executing topic command : Topic '{}' already exists.", *name));
        }
        auto brokers = co_await live_brokers();
        if (_a.has("replica-assignment")) {
            t.partitions = manual_assignment(*_a.value("replica-assignment"), brokers, 0);
        } else {
            auto partitions = _a.int_or("partitions", 0);
            auto rf = _a.int_or("replication-factor", 0);
            if (partitions < 1) throw usage_error("The partitions must be greater than 0");
            if (rf < 1 || rf > 32767) throw usage_error("The replication factor must be between 1 and 32767");
            if (rf > static_cast<int64_t>(brokers.size())) {
                throw cli_error(fmt::format("Error while executing topic command : Replication factor: {} larger than "
                                            "available brokers: {}.", rf, brokers.size()));
            }
            auto planned = cluster::assign_replicas(brokers, static_cast<int32_t>(partitions), static_cast<int16_t>(rf),
                                                    random_start(brokers.size()));
            if (!planned) throw cli_error("Error while executing topic command : " + planned.error().message);
            t.partitions = std::move(*planned);
        }
        t.replication_factor = static_cast<int16_t>(t.partitions.front().replicas.size());
        zk::admin admin(_zk);
        auto r = co_await admin.create_topic(t);
        if (!r) {
            if (r.error().code == cluster::make_error_code(cluster::errc::topic_exists) && _a.has("if-not-exists")) co_return 0;
            throw cli_error("Error while executing topic command : " + r.error().message);
        }
        write_out(fmt::format("Created topic {}.\n", *name));
        co_return 0;
    }

    awaitable<int> remove()
    {
        if (!_a.has("topic")) throw usage_error("Missing required option --topic");
        auto found = co_await selected();
        if (!check_found(found)) co_return 0;
        zk::admin admin(_zk);
        for (auto& name : found) {
            if (is_internal_topic(name)) {
                throw cli_error(fmt::format(
                    "Topic {} is a kafka internal topic and is not allowed to be marked for deletion.", name));
            }
        }
        for (auto& name : found) {
            auto r = co_await admin.delete_topic(name);
            if (!r) throw cli_error("Error while executing topic command : " + r.error().message);
            write_out(fmt::format("Topic {} is marked for deletion.\n", name));
        }
        co_return 0;
    }

    awaitable<int> alter()
    {
        if (!_a.has("topic")) throw usage_error("Missing required option --topic");
        if (_a.has("config")) {
            throw usage_error("--config cannot be used with --alter; change topic configs with samsa configs --alter");
        }
        auto count = _a.int_value("partitions");
        if (!count) throw usage_error("--alter needs --partitions");
        auto found = co_await selected();
        if (!check_found(found)) co_return 0;
        auto brokers = co_await live_brokers();
        zk::admin admin(_zk);
        for (auto& name : found) {
            auto t = co_await read_topic(name);
            if (!t) throw cli_error(fmt::format("Topic '{}' does not exist as expected", name));
            auto current = static_cast<int32_t>(t->assignment.partitions.size());
            if (*count <= current) {
                throw cli_error(fmt::format("Error while executing topic command : The number of partitions for a "
                                            "topic can only be increased. Topic {} currently has {} partitions, {} "
                                            "would not be an increase.", name, current, *count));
            }
            auto rf = t->assignment.partitions.empty() ? 1 : t->assignment.partitions.begin()->second.size();
            cluster::topic_info info;
            info.name = name;
            if (auto id = cluster::uuid_from_base64(t->assignment.topic_id)) info.id = *id;
            std::vector<cluster::replica_assignment> added;
            if (_a.has("replica-assignment")) {
                added = manual_assignment(*_a.value("replica-assignment"), brokers, current);
                if (static_cast<int64_t>(added.size()) != *count - current) {
                    throw usage_error(fmt::format("--replica-assignment must list the {} new partition(s)", *count - current));
                }
            } else {
                if (rf > brokers.size()) {
                    throw cli_error(fmt::format("Error while executing topic command : Replication factor: {} larger "
                                                "than available brokers: {}.", rf, brokers.size()));
                }
                auto planned = cluster::assign_replicas(brokers, static_cast<int32_t>(*count) - current,
                                                        static_cast<int16_t>(rf), random_start(brokers.size()), current);
                if (!planned) throw cli_error("Error while executing topic command : " + planned.error().message);
                added = std::move(*planned);
            }
            info.partitions = std::move(added);
            auto r = co_await admin.add_partitions(info);
            if (!r) throw cli_error("Error while executing topic command : " + r.error().message);
        }
        write_out("WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering "
                  "of the messages will be affected\nAdding partitions succeeded!\n");
        co_return 0;
    }

    awaitable<int> describe()
    {
        auto found = co_await selected();
        if (_a.has("topic") && !check_found(found)) co_return 0;
        bool under = _a.has("under-replicated-partitions");
        bool unavailable = _a.has("unavailable-partitions");
        std::set<int32_t> live;
        for (auto& b : co_await live_brokers()) live.insert(b.id());
        for (auto& name : found) {
            auto t = co_await read_topic(name);
            if (!t) continue; // deleted meanwhile
            if (!under && !unavailable) {
                std::vector<std::string> cfg;
                for (auto& [k, v] : t->configs) cfg.push_back(k + "=" + v);
                if (_a.has("topics-with-overrides") && cfg.empty()) continue;
                auto rf = t->assignment.partitions.empty() ? 0 : t->assignment.partitions.begin()->second.size();
                std::string id = t->assignment.topic_id.empty() ? "" : "\tTopicId: " + t->assignment.topic_id;
                write_out(fmt::format("Topic: {}{}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}{}\n", name, id,
                                      t->assignment.partitions.size(), rf, join(cfg, ","),
                                      t->deleting ? "\tMarkedForDeletion: true" : ""));
                if (_a.has("topics-with-overrides")) continue;
            }
            for (auto& [p, replicas] : t->assignment.partitions) {
                zk::partition_state_znode st;
                bool has_state = false;
                if (auto got = co_await _zk.get(zk::paths::partition_state(name, p))) {
                    if (auto s = zk::decode_partition_state(got->data)) {
                        st = *s;
                        has_state = true;
                    }
                }
                bool leader_live = has_state && st.leader >= 0 && live.count(st.leader);
                if (under && st.isr.size() >= replicas.size()) continue;
                if (unavailable && leader_live) continue;
                std::vector<std::string> reps, isr;
                for (auto r : replicas) reps.push_back(std::to_string(r));
                for (auto r : st.isr) isr.push_back(std::to_string(r));
                write_out(fmt::format("\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}{}\n", name, p,
                                      leader_live ? std::to_string(st.leader) : "none", join(reps, ","), join(isr, ","),
                                      t->deleting ? "\tMarkedForDeletion: true" : ""));
            }
        }
        co_return 0;
    }

    zk::session& _zk;
    const parsed_args& _a;
};

} // namespace

int run_topics_zookeeper(const parsed_args& a)
{
    if (a.has("bootstrap-server")) throw usage_error("Only one of --bootstrap-server or --zookeeper must be specified");
    auto connect = *a.value("zookeeper");
    boost::asio::io_context io;
    int rc = 1;
    std::exception_ptr failure;
    boost::asio::co_spawn(
        io,
        [&]() -> awaitable<int> {
            zk::session s(io.get_executor(), connect, connect_timeout);
            // The C client's own lines (each refused connection attempt) are not for a tool's user.
            zoo_set_debug_level(static_cast<ZooLogLevel>(0));
            auto up = co_await s.wait_connected(connect_timeout);
            if (!up) {
                throw cli_error(fmt::format("Error while executing topic command : cannot connect to ZooKeeper at {} "
                                            "within {} s", connect, connect_timeout.count()));
            }
            zk_topics cmd(s, a);
            co_return co_await cmd.run();
        },
        [&](std::exception_ptr e, int r) {
            failure = e;
            rc = r;
            io.stop();
        });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return rc;
}

} // namespace samsa::cli
