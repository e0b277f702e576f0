#pragma once

#include "protocol/api_key.h"
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

} // namespace samsa::cli
