#pragma once

#include "cluster/controller.h"
#include "cluster/zk/member.h"

#include <functional>

namespace samsa::cluster::zk {

/// The admin operations of ZooKeeper mode, written in Kafka's layout (as Kafka's AdminZkClient
/// does, so Kafka's tools and Samsa's see the same thing): a topic is its config
/// (/config/topics/<t>) then its assignment (/brokers/topics/<t>, which the controller watches);
/// a deletion is /admin/delete_topics/<t>; new partitions rewrite the assignment conditionally;
/// config changes rewrite /config/topics/<t> and announce it in /config/changes.
class admin final : public cluster_admin {
public:
    /// The member's session (replaced when it expires) or, for `samsa topics --zookeeper`, one
    /// session of its own.
    explicit admin(member& m) : _zk([&m]() -> session& { return m.zk(); }) {}
    explicit admin(session& s) : _zk([&s]() -> session& { return s; }) {}

    boost::asio::awaitable<op_result<void>> create_topic(const topic_info& t) override;
    boost::asio::awaitable<op_result<void>> delete_topic(const std::string& name) override;
    boost::asio::awaitable<op_result<void>> add_partitions(const topic_info& t) override;
    boost::asio::awaitable<op_result<void>> set_topic_overrides(const std::string& name,
                                                                const config::property_map& overrides) override;
    boost::asio::awaitable<op_result<void>> set_broker_overrides(const std::string& entity,
                                                                 const config::property_map& overrides) override;

private:
    std::function<session&()> _zk;
};

/// The assignment znode of a topic (Kafka's /brokers/topics/<t> JSON).
topic_assignment assignment_of(const topic_info& t);

} // namespace samsa::cluster::zk
