#pragma once

#include "app/node.h"
#include "cluster/metadata_store.h"
#include "cluster/topic_manager.h"
#include "config/broker_config_store.h"
#include "kafka/broker_context.h"
#include "kafka/dispatcher.h"
#include "protocol/headers.h"
#include "protocol/messages/alter_configs.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_records.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/add_offsets_to_txn.h"
#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/end_txn.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_transactions.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/txn_offset_commit.h"
#include "protocol/messages/write_txn_markers.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "storage/log_manager.h"
#include "test_util/temp_dir.h"

#include <boost/asio/io_context.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace samsa::kafka::test {

/// The response type of a request type.
template<typename Request>
struct response_of;

#define SAMSA_TEST_RESPONSE_OF(api)                                                                \
    template<>                                                                                     \
    struct response_of<protocol::api##_request> {                                                  \
        using type = protocol::api##_response;                                                     \
    };
SAMSA_TEST_RESPONSE_OF(produce)
SAMSA_TEST_RESPONSE_OF(fetch)
SAMSA_TEST_RESPONSE_OF(list_offsets)
SAMSA_TEST_RESPONSE_OF(metadata)
SAMSA_TEST_RESPONSE_OF(api_versions)
SAMSA_TEST_RESPONSE_OF(create_topics)
SAMSA_TEST_RESPONSE_OF(delete_topics)
SAMSA_TEST_RESPONSE_OF(delete_records)
SAMSA_TEST_RESPONSE_OF(describe_configs)
SAMSA_TEST_RESPONSE_OF(alter_configs)
SAMSA_TEST_RESPONSE_OF(create_partitions)
SAMSA_TEST_RESPONSE_OF(incremental_alter_configs)
SAMSA_TEST_RESPONSE_OF(describe_cluster)
SAMSA_TEST_RESPONSE_OF(init_producer_id)
SAMSA_TEST_RESPONSE_OF(describe_producers)
SAMSA_TEST_RESPONSE_OF(add_partitions_to_txn)
SAMSA_TEST_RESPONSE_OF(add_offsets_to_txn)
SAMSA_TEST_RESPONSE_OF(end_txn)
SAMSA_TEST_RESPONSE_OF(write_txn_markers)
SAMSA_TEST_RESPONSE_OF(txn_offset_commit)
SAMSA_TEST_RESPONSE_OF(describe_transactions)
SAMSA_TEST_RESPONSE_OF(list_transactions)
SAMSA_TEST_RESPONSE_OF(find_coordinator)
SAMSA_TEST_RESPONSE_OF(offset_fetch)
#undef SAMSA_TEST_RESPONSE_OF

template<typename Request>
using response_t = typename response_of<Request>::type;

/// One record of a fetched v2 batch, copied out.
struct fetched_record {
    int64_t offset = -1;
    int64_t timestamp = -1;
    int32_t leader_epoch = -1;
    std::optional<std::string> key;
    std::optional<std::string> value;
};

/// Every record of the v2 batches laid end to end in `data` (a trailing partial batch is
/// ignored, as clients do). Throws std::runtime_error on a malformed batch.
std::vector<fetched_record> decode_records(bytes_view data);

/// A whole broker in process, without sockets: an app::node (the same assembly samsa-server
/// runs) over a temp directory with the log directory and the metadata store, with the network
/// and the background threads off, driven on an io_context owned by the test's thread (run
/// until it has no work left; nothing ticks by itself). Requests go in as frames (header +
/// body) exactly as a connection would hand them over.
///
/// restart() shuts the node down cleanly (node::shutdown: logs closed, clean-shutdown markers)
/// and opens a new one on the same directory, restoring persisted dynamic broker configs as
/// the app does.
class broker_fixture {
public:
    /// `props` go over the fixture's defaults (log.dirs = the temp dir, node.id = 0). `fs`
    /// (e.g. a storage::faulty_file_ops over posix) must outlive the fixture; default posix.
    explicit broker_fixture(config::property_map props = {}, storage::file_ops* fs = nullptr);
    ~broker_fixture();
    broker_fixture(const broker_fixture&) = delete;
    broker_fixture& operator=(const broker_fixture&) = delete;

    /// Encodes `req` at `version`, runs it through the dispatcher and decodes the response
    /// (the whole body must be consumed). Throws std::runtime_error when there is no response.
    /// Records in the response are views into a body buffer the fixture keeps until it dies.
    template<typename Request>
    response_t<Request> call(const Request& req, int16_t version)
    {
        protocol::writer w;
        req.encode(w, version);
        auto body = exchange(Request::api, version, protocol::flatten(std::move(w).finish()));
        if (!body) throw std::runtime_error("the request got no response");
        _bodies.push_back(std::move(*body));
        return decode_body<response_t<Request>>(_bodies.back(), version);
    }

    template<typename Response>
    static Response decode_body(const bytes& body, int16_t version)
    {
        protocol::reader r(body);
        Response resp;
        resp.decode(r, version);
        if (!r.empty()) throw std::runtime_error("bytes left after the response body");
        return resp;
    }

    /// Sends one request body with a fresh correlation id; returns the response body after
    /// checking the response header's correlation id, nullopt when the request gets no
    /// response. Rethrows what the dispatcher throws (protocol::decode_error).
    std::optional<bytes> exchange(protocol::api_key key, int16_t version, bytes_view body);
    /// A request frame: header (in the header version of key/version) then `body`.
    static frame_bytes frame(protocol::api_key key, int16_t version, int32_t correlation_id, bytes_view body);

    /// Clean shutdown, then everything reopened from the same directory.
    void restart();

    broker_context& broker() { return _node->context(); }
    cluster::topic_manager& topics() { return _node->topics(); }
    storage::log_manager& logs() { return _node->logs(); }
    config::broker_config_store& config() { return _node->config(); }
    dispatcher& handler() { return _node->dispatcher(); }
    app::node& node() { return *_node; }
    boost::asio::io_context& io() { return _io; }
    std::shared_ptr<const net::connection_info> conn() const { return _conn; }
    const std::string& log_dir() const { return _log_dir; }
    const std::string& cluster_id() const { return _cluster_id; }

    static constexpr const char* advertised_host = "broker.test";
    static constexpr int32_t advertised_port = 9092;

    // Conveniences for tests (each checks its outcome with GoogleTest assertions).

    /// Creates a topic through the topic manager.
    void create_topic(const std::string& name, int32_t partitions = 1, config::property_map configs = {});
    /// Produces `batch` (a v2 batch, or a magic 0/1 message set at version <= 2) with acks=1;
    /// returns the partition response.
    protocol::produce_response::partition_produce_response produce(const std::string& topic, int32_t partition,
                                                                    bytes batch, int16_t version = 9,
                                                                    std::optional<std::string> transactional_id = {});
    /// Builds a batch of `values` with timestamps `first_ts`, `first_ts + 1`, … and produces it;
    /// returns the base offset.
    int64_t produce_values(const std::string& topic, int32_t partition, const std::vector<std::string>& values,
                           int64_t first_ts = 1'000);

    /// A Fetch request for one partition (max_wait 0, min_bytes 1 unless changed).
    static protocol::fetch_request fetch_request(const std::string& topic, int32_t partition, int64_t fetch_offset,
                                                 int32_t partition_max_bytes = 1 << 20);

private:
    void open();
    void close();

    storage::file_ops& _fs;
    samsa::test::temp_dir _dir;
    std::string _log_dir;
    std::string _meta_dir;
    config::property_map _props;
    std::string _cluster_id;
    boost::asio::io_context _io; // before the node: outlives it
    std::unique_ptr<app::node> _node;
    std::shared_ptr<const net::connection_info> _conn;
    int32_t _next_correlation = 1;
    std::deque<bytes> _bodies; // what decoded responses' record views point into
};

} // namespace samsa::kafka::test
