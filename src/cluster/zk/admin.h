#pragma once

#include "cluster/controller.h"
#include "cluster/zk/member.h"

namespace samsa::cluster::zk {

/// The admin operations of ZooKeeper mode, written in Kafka's layout (as Kafka's AdminZkClient
/// does, so Kafka's tools and Samsa's see the same thing): a topic is its config
/// (/config/topics/<t>) then its assignment (/brokers/topics/<t>, which the controller watches);
/// a deletion is /admin/delete_topics/<t>; new partitions rewrite the assignment conditionally;
/// config changes rewrite /config/topics/<t> and announce it in /config/changes.
class admin final : public cluster_admin {
public:
    explicit admin(member& m) : _member(m) {}

    boost::asio::awaitable<op_result<void>> create_topic(const topic_info& t) override;
    boost::asio::awaitable<op_result<void>> delete_topic(const std::string& name) override;
    boost::asio::awaitable<op_result<void>> add_partitions(const topic_info& t) override;
    boost::asio::awaitable<op_result<void>> set_topic_overrides(const std::string& name,
                                                                const config::property_map& overrides) override;

private:
    member& _member;
};

/// The assignment znode of a topic (Kafka's /brokers/topics/<t> JSON).
topic_assignment assignment_of(const topic_info& t);

} // namespace samsa::cluster::zk
