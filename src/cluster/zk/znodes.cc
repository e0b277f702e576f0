#include "cluster/zk/znodes.h"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <charconv>

namespace samsa::cluster::zk {

namespace json = boost::json;

namespace {

struct category final : std::error_category {
    const char* name() const noexcept override { return "znode"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::malformed: return "malformed znode data";
        case errc::unknown_version: return "unknown znode version";
        }
        return "unknown znode error";
    }
};

std::error_code malformed() { return make_error_code(errc::malformed); }

/// The JSON object of a znode, or nullopt.
std::optional<json::object> parse_object(std::string_view text)
{
    std::error_code ec;
    auto v = json::parse(json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

/// An integer field; Kafka writes some numbers as strings ("timestamp", "block_start").
std::optional<int64_t> int_field(const json::object& o, std::string_view key)
{
    auto it = o.find(json::string_view(key.data(), key.size()));
    if (it == o.end()) return std::nullopt;
    auto& v = it->value();
    if (v.is_int64()) return v.as_int64();
    if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v.as_uint64());
    if (v.is_string()) {
        auto& s = v.as_string();
        int64_t out = 0;
        auto [p, e] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (e == std::errc() && p == s.data() + s.size()) return out;
    }
    return std::nullopt;
}

std::optional<std::string> string_field(const json::object& o, std::string_view key)
{
    auto it = o.find(json::string_view(key.data(), key.size()));
    if (it == o.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().as_string());
}

std::optional<std::vector<int32_t>> int_array(const json::value& v)
{
    if (!v.is_array()) return std::nullopt;
    std::vector<int32_t> out;
    for (auto& x : v.as_array()) {
        if (!x.is_int64()) return std::nullopt;
        out.push_back(static_cast<int32_t>(x.as_int64()));
    }
    return out;
}

json::array to_array(const std::vector<int32_t>& v)
{
    json::array a;
    for (auto x : v) a.push_back(x);
    return a;
}

/// {"0":[1,2],...} → partition → replicas; an absent key is an empty map.
std::optional<std::map<int32_t, std::vector<int32_t>>> replica_map(const json::object& o, std::string_view key)
{
    std::map<int32_t, std::vector<int32_t>> out;
    auto it = o.find(json::string_view(key.data(), key.size()));
    if (it == o.end() || it->value().is_null()) return out;
    if (!it->value().is_object()) return std::nullopt;
    for (auto& [k, v] : it->value().as_object()) {
        int32_t p = 0;
        auto [ptr, e] = std::from_chars(k.data(), k.data() + k.size(), p);
        if (e != std::errc() || ptr != k.data() + k.size()) return std::nullopt;
        auto replicas = int_array(v);
        if (!replicas) return std::nullopt;
        out[p] = std::move(*replicas);
    }
    return out;
}

json::object to_object(const std::map<int32_t, std::vector<int32_t>>& m)
{
    json::object o;
    for (auto& [p, r] : m) o[std::to_string(p)] = to_array(r);
    return o;
}

std::string to_text(const json::object& o) { return json::serialize(o); }

/// "NAME://host:port" (an IPv6 host in brackets).
std::optional<broker_registration::endpoint> parse_endpoint(std::string_view s)
{
    auto sep = s.find("://");
    if (sep == std::string_view::npos || sep == 0) return std::nullopt;
    broker_registration::endpoint e;
    e.listener = std::string(s.substr(0, sep));
    auto rest = s.substr(sep + 3);
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = rest.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    e.host = std::string(host);
    auto port = rest.substr(colon + 1);
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
    if (ec != std::errc() || p != port.data() + port.size() || e.port < 0 || e.port > 65535) return std::nullopt;
    return e;
}

std::string endpoint_string(const broker_registration::endpoint& e)
{
    bool v6 = e.host.find(':') != std::string::npos;
    return fmt::format("{}://{}{}{}:{}", e.listener, v6 ? "[" : "", e.host, v6 ? "]" : "", e.port);
}

} // namespace

const std::error_category& znode_category()
{
    static const category c;
    return c;
}

namespace paths {
std::string broker(int32_t id) { return fmt::format("{}/{}", broker_ids, id); }
std::string topic(std::string_view t) { return fmt::format("{}/{}", broker_topics, t); }
std::string partition_state(std::string_view t, int32_t p) { return fmt::format("{}/{}/partitions/{}/state", broker_topics, t, p); }
std::string topic_config(std::string_view t) { return fmt::format("{}/{}", config_topics, t); }
std::string broker_config(std::string_view b) { return fmt::format("{}/{}", config_brokers, b); }
} // namespace paths

std::string encode_cluster_id(std::string_view id)
{
    json::object o;
    o["version"] = "1";
    o["id"] = json::string_view(id.data(), id.size());
    return to_text(o);
}

result<std::string> decode_cluster_id(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto id = string_field(*o, "id");
    if (!id || id->empty()) return malformed();
    return *id;
}

std::string encode_broker(const broker_registration& b)
{
    json::object o;
    json::object protocols;
    json::array endpoints;
    const broker_registration::endpoint* plaintext = nullptr;
    for (auto& e : b.endpoints) {
        protocols[e.listener] = e.security_protocol;
        endpoints.push_back(json::string(endpoint_string(e)));
        if (!plaintext && e.security_protocol == "PLAINTEXT") plaintext = &e;
    }
    o["listener_security_protocol_map"] = std::move(protocols);
    o["endpoints"] = std::move(endpoints);
    if (b.rack) o["rack"] = *b.rack;
    o["jmx_port"] = b.jmx_port;
    json::object features;
    for (auto& [name, range] : b.features) {
        features[name] = json::object{{"min_version", range.first}, {"max_version", range.second}};
    }
    o["features"] = std::move(features);
    // As Kafka: host and port of the first PLAINTEXT listener, for clients of before 0.10.
    if (plaintext) {
        o["host"] = plaintext->host;
        o["port"] = plaintext->port;
    } else {
        o["host"] = nullptr;
        o["port"] = -1;
    }
    o["timestamp"] = std::to_string(b.timestamp_ms);
    o["version"] = 5;
    return to_text(o);
}

result<broker_registration> decode_broker(int32_t id, std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto version = int_field(*o, "version");
    if (!version) return malformed();
    if (*version < 1 || *version > 5) return make_error_code(errc::unknown_version);
    broker_registration b;
    b.id = id;
    std::map<std::string, std::string> protocols;
    if (auto it = o->find("listener_security_protocol_map"); it != o->end() && it->value().is_object()) {
        for (auto& [k, v] : it->value().as_object()) {
            if (v.is_string()) protocols[std::string(k)] = std::string(v.as_string());
        }
    }
    if (auto it = o->find("endpoints"); it != o->end() && it->value().is_array()) {
        for (auto& v : it->value().as_array()) {
            if (!v.is_string()) return malformed();
            auto e = parse_endpoint(std::string_view(v.as_string().data(), v.as_string().size()));
            if (!e) return malformed();
            if (auto p = protocols.find(e->listener); p != protocols.end()) e->security_protocol = p->second;
            else e->security_protocol = e->listener; // version 1-2: the listener is the protocol
            b.endpoints.push_back(std::move(*e));
        }
    } else {
        // Version 1: only host and port.
        auto host = string_field(*o, "host");
        auto port = int_field(*o, "port");
        if (!host || !port) return malformed();
        b.endpoints.push_back({"PLAINTEXT", "PLAINTEXT", *host, static_cast<int32_t>(*port)});
    }
    if (auto it = o->find("rack"); it != o->end() && it->value().is_string()) b.rack = std::string(it->value().as_string());
    b.jmx_port = static_cast<int32_t>(int_field(*o, "jmx_port").value_or(-1));
    b.timestamp_ms = int_field(*o, "timestamp").value_or(0);
    if (auto it = o->find("features"); it != o->end() && it->value().is_object()) {
        for (auto& [k, v] : it->value().as_object()) {
            if (!v.is_object()) return malformed();
            auto lo = int_field(v.as_object(), "min_version");
            auto hi = int_field(v.as_object(), "max_version");
            if (!lo || !hi) return malformed();
            b.features[std::string(k)] = {static_cast<int16_t>(*lo), static_cast<int16_t>(*hi)};
        }
    }
    return b;
}

std::string encode_topic(const topic_assignment& t)
{
    json::object o;
    o["partitions"] = to_object(t.partitions);
    if (!t.topic_id.empty()) o["topic_id"] = t.topic_id;
    o["adding_replicas"] = to_object(t.adding_replicas);
    o["removing_replicas"] = to_object(t.removing_replicas);
    o["version"] = 3;
    return to_text(o);
}

result<topic_assignment> decode_topic(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto version = int_field(*o, "version").value_or(1);
    if (version < 1 || version > 3) return make_error_code(errc::unknown_version);
    topic_assignment t;
    auto parts = replica_map(*o, "partitions");
    auto adding = replica_map(*o, "adding_replicas");
    auto removing = replica_map(*o, "removing_replicas");
    if (!parts || !adding || !removing || o->find("partitions") == o->end()) return malformed();
    t.partitions = std::move(*parts);
    t.adding_replicas = std::move(*adding);
    t.removing_replicas = std::move(*removing);
    t.topic_id = string_field(*o, "topic_id").value_or("");
    return t;
}

std::string encode_partition_state(const partition_state_znode& s)
{
    json::object o;
    o["controller_epoch"] = s.controller_epoch;
    o["leader"] = s.leader;
    o["version"] = 1;
    o["leader_epoch"] = s.leader_epoch;
    o["isr"] = to_array(s.isr);
    return to_text(o);
}

result<partition_state_znode> decode_partition_state(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto version = int_field(*o, "version");
    if (!version) return malformed();
    if (*version < 1 || *version > 2) return make_error_code(errc::unknown_version);
    partition_state_znode s;
    auto leader = int_field(*o, "leader");
    auto epoch = int_field(*o, "leader_epoch");
    auto ce = int_field(*o, "controller_epoch");
    auto isr_it = o->find("isr");
    if (!leader || !epoch || !ce || isr_it == o->end()) return malformed();
    auto isr = int_array(isr_it->value());
    if (!isr) return malformed();
    s.leader = static_cast<int32_t>(*leader);
    s.leader_epoch = static_cast<int32_t>(*epoch);
    s.controller_epoch = static_cast<int32_t>(*ce);
    s.isr = std::move(*isr);
    s.leader_recovery_state = static_cast<int8_t>(int_field(*o, "leader_recovery_state").value_or(0));
    return s;
}

std::string encode_controller(const controller_znode& c)
{
    json::object o;
    o["version"] = 1;
    o["brokerid"] = c.broker_id;
    o["timestamp"] = std::to_string(c.timestamp_ms);
    return to_text(o);
}

result<controller_znode> decode_controller(std::string_view text)
{
    // Kafka 0.8 wrote the bare broker id.
    int32_t bare = 0;
    auto [p, e] = std::from_chars(text.data(), text.data() + text.size(), bare);
    if (e == std::errc() && p == text.data() + text.size()) return controller_znode{bare, 0};
    auto o = parse_object(text);
    if (!o) return malformed();
    auto id = int_field(*o, "brokerid");
    if (!id) return malformed();
    return controller_znode{static_cast<int32_t>(*id), int_field(*o, "timestamp").value_or(0)};
}

std::string encode_controller_epoch(int32_t epoch) { return std::to_string(epoch); }

result<int32_t> decode_controller_epoch(std::string_view data)
{
    int32_t epoch = 0;
    auto [p, e] = std::from_chars(data.data(), data.data() + data.size(), epoch);
    if (e != std::errc() || p != data.data() + data.size() || epoch < 0) return malformed();
    return epoch;
}

std::string encode_config(const std::map<std::string, std::string>& config)
{
    json::object o;
    o["version"] = 1;
    json::object c;
    for (auto& [k, v] : config) c[k] = v;
    o["config"] = std::move(c);
    return to_text(o);
}

result<std::map<std::string, std::string>> decode_config(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto it = o->find("config");
    if (it == o->end() || !it->value().is_object()) return malformed();
    std::map<std::string, std::string> out;
    for (auto& [k, v] : it->value().as_object()) {
        if (!v.is_string()) return malformed();
        out[std::string(k)] = std::string(v.as_string());
    }
    return out;
}

std::string encode_config_change(std::string_view entity_path)
{
    json::object o;
    o["version"] = 2;
    o["entity_path"] = json::string_view(entity_path.data(), entity_path.size());
    return to_text(o);
}

result<std::string> decode_config_change(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto version = int_field(*o, "version");
    if (version && *version == 2) {
        auto path = string_field(*o, "entity_path");
        if (!path || path->empty()) return malformed();
        return *path;
    }
    if (version && *version == 1) {
        // Version 1: {"version":1,"entity_type":"topics","entity_name":"t"}
        auto type = string_field(*o, "entity_type");
        auto name = string_field(*o, "entity_name");
        if (!type || !name) return malformed();
        return *type + "/" + *name;
    }
    return make_error_code(errc::unknown_version);
}

std::string encode_isr_change(const std::vector<topic_partition_ref>& partitions)
{
    json::object o;
    o["version"] = 1;
    json::array a;
    for (auto& p : partitions) a.push_back(json::object{{"topic", p.topic}, {"partition", p.partition}});
    o["partitions"] = std::move(a);
    return to_text(o);
}

result<std::vector<topic_partition_ref>> decode_isr_change(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto it = o->find("partitions");
    if (it == o->end() || !it->value().is_array()) return malformed();
    std::vector<topic_partition_ref> out;
    for (auto& v : it->value().as_array()) {
        if (!v.is_object()) return malformed();
        auto topic = string_field(v.as_object(), "topic");
        auto partition = int_field(v.as_object(), "partition");
        if (!topic || !partition) return malformed();
        out.push_back({*topic, static_cast<int32_t>(*partition)});
    }
    return out;
}

std::string encode_reassignment(const std::vector<reassignment_ref>& partitions)
{
    json::array parts;
    for (auto& p : partitions) {
        json::object e;
        e["topic"] = p.topic;
        e["partition"] = p.partition;
        json::array reps;
        for (auto r : p.replicas) reps.push_back(r);
        e["replicas"] = std::move(reps);
        parts.push_back(std::move(e));
    }
    json::object o;
    o["version"] = 1;
    o["partitions"] = std::move(parts);
    return to_text(o);
}

result<std::vector<reassignment_ref>> decode_reassignment(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto it = o->find("partitions");
    if (it == o->end() || !it->value().is_array()) return malformed();
    std::vector<reassignment_ref> out;
    for (auto& v : it->value().as_array()) {
        if (!v.is_object()) return malformed();
        auto& e = v.as_object();
        auto topic = string_field(e, "topic");
        auto partition = int_field(e, "partition");
        auto reps = e.find("replicas");
        if (!topic || !partition || reps == e.end() || !reps->value().is_array()) return malformed();
        reassignment_ref r{*topic, static_cast<int32_t>(*partition), {}};
        for (auto& x : reps->value().as_array()) {
            if (!x.is_int64()) return malformed();
            r.replicas.push_back(static_cast<int32_t>(x.as_int64()));
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::string encode_log_dir_failure(int32_t broker)
{
    json::object o;
    o["version"] = 1;
    o["broker"] = broker;
    o["event"] = 1; // LogDirFailure, the only event Kafka defines
    return to_text(o);
}

result<int32_t> decode_log_dir_event(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto broker = int_field(*o, "broker");
    if (!broker) return malformed();
    return static_cast<int32_t>(*broker);
}

std::string encode_producer_id_block(const producer_id_block_znode& b)
{
    json::object o;
    o["version"] = 1;
    o["broker"] = b.broker;
    o["block_start"] = std::to_string(b.block_start);
    o["block_end"] = std::to_string(b.block_end);
    return to_text(o);
}

result<producer_id_block_znode> decode_producer_id_block(std::string_view text)
{
    auto o = parse_object(text);
    if (!o) return malformed();
    auto broker = int_field(*o, "broker");
    auto start = int_field(*o, "block_start");
    auto end = int_field(*o, "block_end");
    if (!broker || !start || !end || *end < *start) return malformed();
    return producer_id_block_znode{static_cast<int32_t>(*broker), *start, *end};
}

} // namespace samsa::cluster::zk
