#pragma once

#include "base/result.h"
#include "cluster/zk/session.h"
#include "cluster/zk/znodes.h"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace samsa::cluster::zk {

/// The cluster id in /cluster/id, as a starting broker finds it: the one there, or
/// `candidate` written there first when there is none (Kafka's rule; the first broker wins a
/// race, the others read its id).
boost::asio::awaitable<result<std::string>> get_or_create_cluster_id(session& zk, std::string candidate);

/// Registers a broker: /brokers/ids/<id> as an ephemeral of this session (parents created).
/// session_errc::node_exists when another live session holds the id (a second broker with the
/// same broker.id: Kafka refuses to start it); a registration of this very session (a retry
/// after a lost connection) counts as done.
boost::asio::awaitable<result<void>> register_broker(session& zk, const broker_registration& b);

/// The registered brokers, by id, from /brokers/ids; malformed registrations are skipped (and
/// named in `skipped`). `watch` fires once when the set of brokers changes.
boost::asio::awaitable<result<std::vector<broker_registration>>>
live_brokers(session& zk, std::vector<std::string>* skipped = nullptr, session::watcher watch = {});

} // namespace samsa::cluster::zk
