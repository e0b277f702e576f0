#include "kafka/topic_helpers.h"

#include "base/logging.h"
#include "kafka/errors.h"
#include "protocol/records.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace samsa::kafka {
namespace {
constexpr logger log{"kafka"};

// Kafka's AclOperation codes.
enum acl_op { read = 3, write = 4, create = 5, del = 6, alter = 7, describe = 8, cluster_action = 9,
              describe_configs = 10, alter_configs = 11, idempotent_write = 12, create_tokens = 13,
              describe_tokens = 14 };

int32_t bits(std::initializer_list<int> ops)
{
    int32_t v = 0;
    for (int o : ops) v |= 1 << o;
    return v;
}
} // namespace

protocol::error_code topic_error(const broker_context& b, const std::string& name)
{
    if (b.topics.find(name)) return protocol::error_code::none;
    if (cluster::validate_topic_name(name)) return protocol::error_code::invalid_topic_exception;
    return protocol::error_code::unknown_topic_or_partition;
}

boost::asio::awaitable<protocol::error_code> ensure_topic(broker_context& b, std::string name, bool allowed)
{
    auto ec = topic_error(b, name);
    if (ec != protocol::error_code::unknown_topic_or_partition) co_return ec;
    if (!allowed || !b.config.current().auto_create_topics_enable) co_return ec;
    // A cluster broker that has not heard from a controller yet (just started) knows no topics
    // and too few brokers: the topic may well exist. Retriable, as Kafka answers a topic that
    // exists but has no leader here yet.
    if (b.controlled && b.controlled->controller_epoch() == 0) co_return protocol::error_code::leader_not_available;
    cluster::create_topic_request req;
    req.name = name;
    auto r = co_await b.topics.controller().create_topic(req, false);
    if (!r) {
        // Another request may have created it meanwhile.
        if (b.topics.find(name)) co_return protocol::error_code::none;
        log.warn("auto-creation of topic {} failed: {}", name, r.error().message);
        co_return to_kafka_error(r.error().code);
    }
    co_return protocol::error_code::none;
}

int16_t internal_replication_factor(const broker_context& b, int32_t configured)
{
    // A cluster creates the topic only once enough brokers are alive (Kafka: until then the
    // coordinator is not available); a single node makes do with itself.
    if (b.controlled) return static_cast<int16_t>(std::max(configured, 1));
    return static_cast<int16_t>(std::min<size_t>(static_cast<size_t>(std::max(configured, 1)), b.topics.live_brokers().size()));
}

boost::asio::awaitable<bool> ensure_internal_topic(broker_context& b, cluster::create_topic_request req)
{
    if (b.topics.find(req.name)) co_return true;
    req.internal = true;
    auto r = co_await b.topics.controller().create_topic(req, false);
    if (!r) {
        if (b.topics.find(req.name)) co_return true; // created by another request meanwhile
        if (to_kafka_error(r.error().code) == protocol::error_code::invalid_replication_factor) {
            log.info("{} waits for {} live brokers, its replication factor ({} now)", req.name, req.replication_factor,
                     b.topics.live_brokers().size());
        } else {
            log.error("cannot create {}: {}", req.name, r.error().message);
        }
        co_return false;
    }
    co_return true;
}

boost::asio::awaitable<bool> wait_settled(broker_context& b, std::vector<std::string> names, int64_t timeout_ms)
{
    auto all = [&] {
        for (auto& n : names) {
            if (!b.topics.settled(n)) return false;
        }
        return true;
    };
    if (all()) co_return true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0));
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!all()) {
        if (std::chrono::steady_clock::now() >= deadline) co_return false;
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(boost::asio::use_awaitable);
    }
    co_return true;
}

protocol::error_code no_replica_error(const broker_context& b, const std::string& topic, int32_t partition)
{
    auto* t = b.topics.find(topic);
    if (t && partition >= 0 && static_cast<size_t>(partition) < t->partitions.size()) {
        return protocol::error_code::not_leader_or_follower;
    }
    return protocol::error_code::unknown_topic_or_partition;
}

int32_t all_topic_operations()
{
    return bits({read, write, create, del, alter, describe, describe_configs, alter_configs});
}

int32_t all_cluster_operations()
{
    return bits({create, alter, describe, cluster_action, describe_configs, alter_configs, idempotent_write,
                 create_tokens, describe_tokens});
}

void for_each_batch(cluster::partition& part,
                    const std::function<void(const protocol::batch_header&, bytes_view)>& on_batch)
{
    offset next = part.log_start_offset();
    while (next < part.high_watermark()) {
        auto read = part.read(next, 1 << 20, cluster::isolation::high_watermark, true);
        if (!read || read->slice.empty()) return;
        auto data = read->slice.read_all();
        if (!data) return;
        protocol::batch_iterator it(*data);
        while (auto h = it.next()) {
            next = h->next_offset();
            on_batch(*h, it.current());
        }
        if (it.error()) return;
    }
}

} // namespace samsa::kafka
