#pragma once

#include "cli/args.h"
#include "protocol/api_key.h"
#include "protocol/messages/metadata.h"
#include "protocol/wire.h"

#include <cstdint>
#include <map>
#include <optional>
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

/// One plain Kafka-protocol connection to a broker, for requests librdkafka 2.0.2 does not
/// expose (topic ids, the transaction APIs). Requests go one at a time; every failure
/// (connection lost, timeout, an undecodable response) is a cli_error naming the broker.
class broker_connection {
public:
    /// Connects to the first reachable address (cli_error as check_reachable when none is).
    broker_connection(const std::vector<broker_address>& addresses, int timeout_ms);
    ~broker_connection();
    broker_connection(const broker_connection&) = delete;
    broker_connection& operator=(const broker_connection&) = delete;

    /// Sends one request body and returns the response body, its header checked.
    bytes exchange(protocol::api_key key, int16_t version, bytes_view body);

    /// A typed request of a generated API (e.g. protocol::describe_transactions_api).
    template<typename Api>
    typename Api::response_type call(const typename Api::request_type& req, int16_t version)
    {
        protocol::writer w;
        req.encode(w, version);
        auto body = exchange(Api::request_type::api, version, protocol::flatten(std::move(w).finish()));
        typename Api::response_type resp;
        decode_response(body, [&](protocol::reader& r) { resp.decode(r, version); });
        return resp;
    }

    const std::string& peer() const { return _peer; }

private:
    template<typename F>
    void decode_response(const bytes& body, F decode)
    {
        try {
            protocol::reader r(body);
            decode(r);
        } catch (const protocol::decode_error& e) {
            throw_bad_response(e.what());
        }
    }
    [[noreturn]] void throw_bad_response(const char* what) const;

    int _fd = -1;
    int32_t _next_correlation = 1;
    std::string _peer;
};

/// Topic ids by topic name, from a Metadata v12 request sent over a plain socket to the first
/// reachable address. Best effort: an empty map when the brokers cannot be asked or answer
/// without ids (older brokers); topics the broker does not know are left out.
std::map<std::string, protocol::uuid> fetch_topic_ids(const std::vector<broker_address>& addresses,
                                                      const std::vector<std::string>& topics, int timeout_ms);

/// The brokers (and the topics asked for) as one broker's Metadata (v9) tells them.
struct cluster_view {
    int32_t controller_id = -1;
    std::vector<protocol::metadata_response::metadata_response_broker> brokers;
    std::vector<protocol::metadata_response::metadata_response_topic> topics;
};

/// Metadata for `topic` (nullopt: no topic; `all_topics`: every topic).
cluster_view describe_cluster(broker_connection& conn, const std::optional<std::string>& topic, bool all_topics = false);
std::vector<broker_address> address_of(const protocol::metadata_response::metadata_response_broker& b);
/// cli_error "Broker <id> is not in the cluster" when it is not.
const protocol::metadata_response::metadata_response_broker& broker_by_id(const cluster_view& c, int32_t id);

/// Sends a request to the controller: asks the bootstrap brokers which broker it is and
/// connects there; `call` returns false (NOT_CONTROLLER: the controller moved) to be retried
/// with the controller found again, a few times over `timeout_ms`.
template<typename Call>
void with_controller(const std::vector<broker_address>& bootstrap, int timeout_ms, Call call);

} // namespace samsa::cli

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace samsa::cli {

template<typename Call>
void with_controller(const std::vector<broker_address>& bootstrap, int timeout_ms, Call call)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string last = "the cluster is electing one, or has none";
    for (;;) {
        broker_connection boot(bootstrap, timeout_ms);
        auto c = describe_cluster(boot, std::nullopt);
        if (c.controller_id >= 0) {
            // A controller that just died may still be named for a moment: ask again.
            try {
                broker_connection conn(address_of(broker_by_id(c, c.controller_id)), timeout_ms);
                if (call(conn)) return;
                last = fmt::format("broker {} is no longer the controller", c.controller_id);
            } catch (const cli_error& e) {
                last = e.what();
            }
        }
        if (std::chrono::steady_clock::now() >= until) {
            throw cli_error(fmt::format("No controller answered within the timeout ({})", last));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

} // namespace samsa::cli
