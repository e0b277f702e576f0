#pragma once

#include "protocol/wire.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::cli {

/// Plain TCP to the bootstrap brokers, outside librdkafka: the address syntax check and the
/// quick reachability check every client runs before librdkafka's (silent, retrying) connect,
/// and one raw Kafka request for what librdkafka 2.0.2 does not expose (topic ids).

/// One entry of bootstrap.servers.
struct broker_address {
    std::string text; // as given, for messages
    std::string host; // without IPv6 brackets
    uint16_t port = 0;
};

/// Parses bootstrap.servers as Kafka's clients do: comma-separated `host:port` entries (an IPv6
/// host in brackets, an optional `PLAINTEXT://`-style prefix). cli_error naming the first bad
/// entry and what is wrong with it (no host, no port, port not a number or out of range).
std::vector<broker_address> parse_bootstrap(std::string_view servers);

/// Resolves and connects to each address in turn until one accepts a TCP connection (closed at
/// once). When none does within `timeout_ms`, cli_error "Cannot reach the broker(s) at <servers>:
/// <address>: <cause>[; ...]" with the real cause of each: name does not resolve, connection
/// refused, no answer within the timeout.
void check_reachable(const std::vector<broker_address>& addresses, int timeout_ms);

/// Topic ids by topic name, from a Metadata v12 request sent over a plain socket to the first
/// reachable address. Best effort: an empty map when the brokers cannot be asked or answer
/// without ids (older brokers); topics the broker does not know are left out.
std::map<std::string, protocol::uuid> fetch_topic_ids(const std::vector<broker_address>& addresses,
                                                      const std::vector<std::string>& topics, int timeout_ms);

} // namespace samsa::cli
