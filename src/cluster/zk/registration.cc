#include "cluster/zk/registration.h"

#include <algorithm>
#include <charconv>

namespace samsa::cluster::zk {

boost::asio::awaitable<result<std::string>> get_or_create_cluster_id(session& zk, std::string candidate)
{
    const std::string path(paths::cluster_id);
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto existing = co_await zk.get(path);
        if (existing) co_return decode_cluster_id(existing->data);
        if (existing.error() != make_error_code(session_errc::no_node)) co_return existing.error();
        if (auto r = co_await zk.ensure_path("/cluster"); !r) co_return r.error();
        auto created = co_await zk.create(path, encode_cluster_id(candidate), create_mode::persistent);
        if (created) co_return candidate;
        if (created.error() != make_error_code(session_errc::node_exists)) co_return created.error();
        // Another broker wrote it first: read theirs.
    }
    co_return make_error_code(session_errc::node_exists);
}

boost::asio::awaitable<result<void>> register_broker(session& zk, const broker_registration& b)
{
    if (auto r = co_await zk.ensure_path(std::string(paths::broker_ids)); !r) co_return r.error();
    auto path = paths::broker(b.id);
    auto created = co_await zk.create(path, encode_broker(b), create_mode::ephemeral);
    if (created) co_return ok();
    if (created.error() != make_error_code(session_errc::node_exists)) co_return created.error();
    auto existing = co_await zk.get(path);
    if (existing && existing->ephemeral_owner == zk.session_id()) co_return ok();
    co_return make_error_code(session_errc::node_exists);
}

boost::asio::awaitable<result<std::vector<broker_registration>>> live_brokers(session& zk, std::vector<std::string>* skipped,
                                                                            session::watcher watch)
{
    using out_t = std::vector<broker_registration>;
    auto ids = co_await zk.children(std::string(paths::broker_ids), std::move(watch));
    if (!ids && ids.error() == make_error_code(session_errc::no_node)) co_return out_t{};
    if (!ids) co_return ids.error();
    out_t out;
    for (auto& name : *ids) {
        int32_t id = -1;
        auto [p, e] = std::from_chars(name.data(), name.data() + name.size(), id);
        // (No co_await inside ?: — g++ 12 miscompiles it.)
        result<znode> data = make_error_code(errc::malformed);
        if (e == std::errc() && p == name.data() + name.size()) data = co_await zk.get(paths::broker(id));
        if (!data && data.error() == make_error_code(session_errc::no_node)) continue; // gone meanwhile
        auto b = data ? decode_broker(id, data->data) : result<broker_registration>(data.error());
        if (!b) {
            if (skipped) skipped->push_back(name);
            continue;
        }
        b->epoch = data->czxid;
        out.push_back(std::move(*b));
    }
    std::sort(out.begin(), out.end(), [](auto& x, auto& y) { return x.id < y.id; });
    co_return out;
}

} // namespace samsa::cluster::zk
