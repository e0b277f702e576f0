#include "kafka/tests/broker_fixture.h"

#include "base/logging.h"
#include "protocol/record_batch_builder.h"
#include "protocol/records.h"

#include <boost/asio/co_spawn.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace samsa::kafka::test {

namespace asio = boost::asio;

std::vector<fetched_record> decode_records(bytes_view data)
{
    std::vector<fetched_record> out;
    protocol::batch_iterator it(data);
    while (auto h = it.next()) {
        auto reader = protocol::record_reader::open(it.current());
        if (!reader) throw std::runtime_error("bad batch: " + reader.error().message());
        while (auto r = reader->next()) {
            fetched_record f;
            f.offset = r->offset();
            f.timestamp = r->timestamp();
            f.leader_epoch = h->partition_leader_epoch();
            if (r->key) f.key = std::string(r->key->begin(), r->key->end());
            if (r->value) f.value = std::string(r->value->begin(), r->value->end());
            out.push_back(std::move(f));
        }
        if (reader->error()) throw std::runtime_error("bad record: " + reader->error().message());
    }
    return out;
}

protocol::fetch_request broker_fixture::fetch_request(const std::string& topic, int32_t partition,
                                                      int64_t fetch_offset, int32_t partition_max_bytes)
{
    protocol::fetch_request req;
    req.max_wait_ms = 0;
    req.min_bytes = 1;
    protocol::fetch_request::fetch_topic ft;
    ft.topic = topic;
    protocol::fetch_request::fetch_partition fp;
    fp.partition = partition;
    fp.fetch_offset = fetch_offset;
    fp.partition_max_bytes = partition_max_bytes;
    ft.partitions.push_back(fp);
    req.topics.push_back(std::move(ft));
    return req;
}

broker_fixture::broker_fixture(config::property_map props, storage::file_ops* fs)
  : _fs(fs ? *fs : storage::posix_file_ops()), _dir("samsa-kafka-test"), _log_dir(_dir / "logs"), _meta_dir(_dir / "metadata"), _props(std::move(props)),
    _cluster_id(cluster::random_cluster_id())
{
    set_log_level(log_level::warn);
    _props.emplace("log.dirs", _log_dir);
    _props.emplace("node.id", "0");
    auto info = std::make_shared<net::connection_info>();
    info->id = 1;
    info->listener = "PLAINTEXT";
    info->peer = "127.0.0.1:50000";
    _conn = std::move(info);
    open();
}

broker_fixture::~broker_fixture() { close(); }

void broker_fixture::open()
{
    app::node_options opts;
    opts.fs = &_fs;
    opts.io = &_io;
    opts.listen = false;
    opts.endpoints = {advertised_endpoint{"PLAINTEXT", advertised_host, advertised_port}};
    opts.background = false;
    opts.cluster_id = _cluster_id;
    opts.metadata_dir = _meta_dir;
    _node = std::make_unique<app::node>(_props, std::move(opts));
    _node->start();
}

void broker_fixture::close()
{
    if (!_node) return;
    _io.restart();
    _io.run(); // let anything still queued finish first
    bool done = false, clean = false;
    std::exception_ptr error;
    asio::co_spawn(_io, _node->shutdown(), [&](std::exception_ptr e, bool c) {
        error = e;
        clean = c;
        done = true;
    });
    _io.restart();
    _io.run();
    EXPECT_TRUE(done) << "the node's shutdown did not complete";
    EXPECT_FALSE(error) << "the node's shutdown threw";
    EXPECT_TRUE(clean) << "the logs did not close cleanly";
    _node.reset();
}

void broker_fixture::restart()
{
    close();
    open();
}

frame_bytes broker_fixture::frame(protocol::api_key key, int16_t version, int32_t correlation_id, bytes_view body)
{
    protocol::writer w;
    protocol::request_header h;
    h.key = key;
    h.version = version;
    h.correlation_id = correlation_id;
    h.client_id = "kafka-tests";
    h.encode(w);
    w.write_raw(body);
    auto flat = protocol::flatten(std::move(w).finish());
    return frame_bytes(flat.begin(), flat.end());
}

std::optional<bytes> broker_fixture::exchange(protocol::api_key key, int16_t version, bytes_view body)
{
    int32_t correlation = _next_correlation++;
    std::optional<protocol::encoded_message> response;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(_io, handler().handle(_conn, frame(key, version, correlation, body)),
                   [&](std::exception_ptr e, std::optional<protocol::encoded_message> r) {
                       error = e;
                       response = std::move(r);
                       done = true;
                   });
    _io.restart();
    _io.run();
    if (!done) throw std::runtime_error("the request did not complete");
    if (error) std::rethrow_exception(error);
    if (!response) return std::nullopt;
    bytes all = protocol::flatten(*response);
    protocol::reader r(all);
    protocol::response_header h;
    h.decode(r, protocol::response_header_version(key, version));
    if (h.correlation_id != correlation) {
        throw std::runtime_error(fmt::format("correlation id {} in the response to {}", h.correlation_id, correlation));
    }
    return bytes(all.begin() + static_cast<std::ptrdiff_t>(r.position()), all.end());
}

void broker_fixture::create_topic(const std::string& name, int32_t partitions, config::property_map configs)
{
    cluster::create_topic_request req;
    req.name = name;
    req.partitions = partitions;
    req.configs = std::move(configs);
    std::optional<cluster::op_result<cluster::topic_info>> r;
    asio::co_spawn(_io, topics().controller().create_topic(std::move(req), false),
                   [&](std::exception_ptr e, cluster::op_result<cluster::topic_info> out) {
                       if (e) std::rethrow_exception(e);
                       r = std::move(out);
                   });
    _io.restart();
    _io.run();
    ASSERT_TRUE(r) << "the topic creation did not complete";
    ASSERT_TRUE(*r) << r->error().message;
}

protocol::produce_response::partition_produce_response broker_fixture::produce(const std::string& topic,
                                                                               int32_t partition, bytes batch,
                                                                               int16_t version,
                                                                               std::optional<std::string> transactional_id)
{
    protocol::produce_request req;
    req.transactional_id = std::move(transactional_id);
    req.acks = 1;
    req.timeout_ms = 1000;
    protocol::produce_request::topic_produce_data td;
    td.name = topic;
    protocol::produce_request::partition_produce_data pd;
    pd.index = partition;
    pd.records = protocol::records_payload(std::move(batch));
    td.partition_data.push_back(std::move(pd));
    req.topic_data.push_back(std::move(td));
    auto resp = call(req, version);
    if (resp.responses.size() != 1 || resp.responses[0].partition_responses.size() != 1) {
        throw std::runtime_error("unexpected produce response shape");
    }
    return resp.responses[0].partition_responses[0];
}

int64_t broker_fixture::produce_values(const std::string& topic, int32_t partition,
                                       const std::vector<std::string>& values, int64_t first_ts)
{
    protocol::batch_builder b;
    for (size_t i = 0; i < values.size(); ++i) {
        b.add("k" + std::to_string(i), values[i], timestamp_ms(first_ts + static_cast<int64_t>(i)));
    }
    auto r = produce(topic, partition, b.build());
    EXPECT_EQ(r.error_code, 0) << r.error_message.value_or("");
    return r.base_offset;
}

} // namespace samsa::kafka::test
