#include "cluster/metadata_store.h"

#include "base/logging.h"
#include "storage/errc.h"

#include <charconv>
#include <fmt/format.h>
#include <limits>

namespace samsa::cluster {
namespace {

constexpr logger log{"cluster"};
constexpr std::string_view suffix = ".properties";

std::error_code corrupt() { return make_error_code(storage::errc::corrupt); }

template<typename T>
bool parse_int(std::string_view s, T& out)
{
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

std::vector<node_id> parse_nodes(std::string_view s, bool& ok)
{
    std::vector<node_id> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        int32_t v = 0;
        if (!parse_int(s.substr(0, comma), v)) ok = false;
        out.push_back(node_id(v));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

/// The file holding a topic: `<topic>.properties`, or for names too long for that plus the
/// atomic write's `.tmp` within the 255-byte file-name limit (Kafka allows 249 characters), a
/// 200-character prefix, `~` and a 64-bit FNV-1a hash of the whole name. Loading reads the name
/// from the file, so the file name only has to be a function of it.
std::string topic_file_name(const std::string& name)
{
    constexpr size_t max_name = storage::max_file_name_bytes - storage::atomic_write_suffix.size();
    if (name.size() + suffix.size() <= max_name) return name + std::string(suffix);
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
    return fmt::format("{}~{:016x}{}", name.substr(0, 200), h, suffix);
}

std::string join_nodes(const std::vector<node_id>& v)
{
    std::string out;
    for (auto& n : v) out += (out.empty() ? "" : ",") + std::to_string(n());
    return out;
}

} // namespace

local_metadata_store::local_metadata_store(storage::file_ops& fs, std::string dir) : _fs(fs), _dir(std::move(dir)) {}

std::string local_metadata_store::encode_topic(const topic_record& r)
{
    auto& t = r.topic;
    config::property_map m;
    m["name"] = t.name;
    m["topic.id"] = t.id.to_string();
    m["replication.factor"] = std::to_string(t.replication_factor);
    m["internal"] = t.internal ? "true" : "false";
    m["partitions"] = std::to_string(t.partitions.size());
    if (t.deleting) m["deleting"] = "true";
    for (size_t i = 0; i < t.partitions.size(); ++i) {
        auto& p = t.partitions[i];
        auto k = fmt::format("partition.{}.", p.id());
        m[k + "replicas"] = join_nodes(p.replicas);
        partition_state s = i < r.states.size() ? r.states[i] : partition_state{};
        m[k + "isr"] = join_nodes(s.isr);
        m[k + "leader"] = std::to_string(s.leader());
        m[k + "leader.epoch"] = std::to_string(s.epoch());
        if (s.partition_epoch != 0) m[k + "partition.epoch"] = std::to_string(s.partition_epoch);
    }
    for (auto& [k, v] : t.overrides) m["config." + k] = v;
    return config::write_properties(m);
}

result<topic_record> local_metadata_store::decode_topic(std::string_view text)
{
    auto parsed = config::parse_properties(text, "topic metadata");
    if (!parsed) return corrupt();
    auto m = config::to_map(*parsed);
    topic_record r;
    auto& t = r.topic;
    int32_t count = 0;
    bool ok = m.count("name") && m.count("topic.id") && parse_int(m["partitions"], count) && count >= 0 &&
              parse_int(m["replication.factor"], t.replication_factor);
    if (!ok) return corrupt();
    t.name = m["name"];
    auto id = uuid_from_base64(m["topic.id"]);
    if (!id) return corrupt();
    t.id = *id;
    t.internal = m["internal"] == "true";
    t.deleting = m.count("deleting") && m["deleting"] == "true";
    for (int32_t i = 0; i < count; ++i) {
        auto k = fmt::format("partition.{}.", i);
        replica_assignment p;
        partition_state s;
        p.id = partition_id(i);
        int32_t leader = -1, epoch = 0;
        ok = parse_int(m[k + "leader"], leader) && parse_int(m[k + "leader.epoch"], epoch);
        if (m.count(k + "partition.epoch")) ok = ok && parse_int(m[k + "partition.epoch"], s.partition_epoch);
        p.replicas = parse_nodes(m[k + "replicas"], ok);
        s.isr = parse_nodes(m[k + "isr"], ok);
        if (!ok) return corrupt();
        s.leader = node_id(leader);
        s.epoch = leader_epoch(epoch);
        t.partitions.push_back(std::move(p));
        r.states.push_back(std::move(s));
    }
    for (auto& [k, v] : m) {
        if (k.rfind("config.", 0) == 0) t.overrides[k.substr(7)] = v;
    }
    return r;
}

result<std::map<std::string, topic_record>> local_metadata_store::load_topics()
{
    std::map<std::string, topic_record> out;
    auto dir = storage::join_path(_dir, "topics");
    SAMSA_TRY(_fs.create_dirs(dir));
    SAMSA_TRY_ASSIGN(auto names, _fs.list_dir(dir));
    for (auto& n : names) {
        auto path = storage::join_path(dir, n);
        if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0) {
            if (n.ends_with(".tmp")) SAMSA_TRY(_fs.remove(path)); // an interrupted write
            continue;
        }
        SAMSA_TRY_ASSIGN(auto raw, _fs.read_file(path));
        auto t = decode_topic(as_string_view(raw));
        if (!t) {
            log.error("{}: unreadable topic metadata", path);
            return t.error();
        }
        auto name = t->topic.name;
        out.emplace(std::move(name), std::move(*t));
    }
    return out;
}

result<void> local_metadata_store::save_topic(const topic_record& t)
{
    auto dir = storage::join_path(_dir, "topics");
    SAMSA_TRY(_fs.create_dirs(dir));
    auto text = encode_topic(t);
    SAMSA_TRY(_fs.write_file_atomic(storage::join_path(dir, topic_file_name(t.topic.name)), as_bytes(text)));
    notify({metadata_event::kind::topic_saved, t.topic.name, t});
    return ok();
}

result<void> local_metadata_store::remove_topic(const std::string& name)
{
    auto dir = storage::join_path(_dir, "topics");
    auto path = storage::join_path(dir, topic_file_name(name));
    if (_fs.exists(path)) SAMSA_TRY(_fs.remove(path));
    SAMSA_TRY(_fs.sync_dir(dir));
    notify({metadata_event::kind::topic_removed, name, std::nullopt});
    return ok();
}

result<std::map<std::string, config::property_map>> local_metadata_store::load_broker_overrides()
{
    std::map<std::string, config::property_map> out;
    auto dir = storage::join_path(_dir, "broker-configs");
    SAMSA_TRY(_fs.create_dirs(dir));
    SAMSA_TRY_ASSIGN(auto names, _fs.list_dir(dir));
    for (auto& n : names) {
        if (!n.ends_with(suffix)) continue;
        SAMSA_TRY_ASSIGN(auto raw, _fs.read_file(storage::join_path(dir, n)));
        auto parsed = config::parse_properties(as_string_view(raw), n);
        if (!parsed) return corrupt();
        auto scope = n.substr(0, n.size() - suffix.size());
        out[scope == "default" ? "" : scope] = config::to_map(*parsed);
    }
    return out;
}

result<void> local_metadata_store::save_broker_overrides(const std::string& scope, const config::property_map& m)
{
    auto dir = storage::join_path(_dir, "broker-configs");
    SAMSA_TRY(_fs.create_dirs(dir));
    auto text = config::write_properties(m);
    return _fs.write_file_atomic(storage::join_path(dir, (scope.empty() ? "default" : scope) + std::string(suffix)),
                                 as_bytes(text));
}

result<producer_id_block> local_metadata_store::allocate_producer_id_block(node_id broker, int64_t size)
{
    auto path = storage::join_path(_dir, "latest-producer-id-block.properties");
    int64_t last = -1;
    if (_fs.exists(path)) {
        SAMSA_TRY_ASSIGN(auto raw, _fs.read_file(path));
        auto parsed = config::parse_properties(as_string_view(raw), path);
        if (!parsed) return corrupt();
        auto m = config::to_map(*parsed);
        auto it = m.find("block.end");
        if (it == m.end()) return corrupt();
        if (!parse_int(it->second, last) || last < -1) return corrupt();
    }
    if (size <= 0 || last > std::numeric_limits<int64_t>::max() - size) return make_error_code(storage::errc::invalid_argument);
    producer_id_block b{broker, last + 1, last + size};
    config::property_map m{{"version", "1"},
                           {"broker", std::to_string(broker())},
                           {"block.start", std::to_string(b.first)},
                           {"block.end", std::to_string(b.last)}};
    SAMSA_TRY(_fs.create_dirs(_dir));
    SAMSA_TRY(_fs.write_file_atomic(path, as_bytes(config::write_properties(m))));
    return b;
}

} // namespace samsa::cluster
