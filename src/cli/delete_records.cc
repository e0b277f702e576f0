// samsa delete-records: kafka-delete-records.sh. Moves partitions' log start offsets up to the
// offsets given in a JSON file, through librdkafka's DeleteRecords admin API.
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"

#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace samsa::cli {

namespace {

command_spec delete_records_spec()
{
    command_spec s{
        "delete-records",
        "Deletes records below the given offsets (the partitions' new log start offsets). Offset -1 "
        "means the high watermark: everything currently committed.",
        "  samsa delete-records --bootstrap-server localhost:9092 --offset-json-file offsets.json\n"
        "  where offsets.json holds:\n"
        "  {\"partitions\": [{\"topic\": \"t\", \"partition\": 0, \"offset\": 450}], \"version\": 1}\n",
        {
            {"offset-json-file", arity::one, "file", "JSON naming each partition and the offset to delete up to."},
        }};
    add_client_options(s);
    return s;
}

struct target {
    std::string topic;
    int32_t partition;
    int64_t offset;
};

/// Reads Kafka's offset file format: {"partitions": [{"topic", "partition", "offset"}...], "version": 1}.
std::vector<target> read_offsets(const std::string& path)
{
    std::ifstream in(path);
    if (!in) throw cli_error(fmt::format("Cannot read the offset JSON file {}", path));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto at = text.find("\"partitions\"");
    if (at == std::string::npos) throw cli_error(fmt::format("{}: no \"partitions\" array", path));
    static const std::regex object(R"(\{[^{}]*\})");
    static const std::regex topic_re(R"re("topic"\s*:\s*"([^"]*)")re");
    static const std::regex partition_re(R"re("partition"\s*:\s*(-?\d+))re");
    static const std::regex offset_re(R"re("offset"\s*:\s*(-?\d+))re");
    std::vector<target> out;
    auto body = text.substr(at);
    for (std::sregex_iterator it(body.begin(), body.end(), object), end; it != end; ++it) {
        std::string o = it->str();
        std::smatch t, p, off;
        if (!std::regex_search(o, t, topic_re) || !std::regex_search(o, p, partition_re) ||
            !std::regex_search(o, off, offset_re)) {
            throw cli_error(fmt::format("{}: each partition needs \"topic\", \"partition\" and \"offset\": {}", path, o));
        }
        out.push_back({t[1], static_cast<int32_t>(std::stol(p[1])), std::stoll(off[1])});
    }
    if (out.empty()) throw cli_error(fmt::format("{}: the \"partitions\" array is empty", path));
    return out;
}

} // namespace

int run_delete_records(const std::vector<std::string>& args)
{
    auto spec = delete_records_spec();
    auto a = parse_args(spec, args);
    if (a.has("help")) {
        write_out(help_text(spec));
        return 0;
    }
    if (!a.has("offset-json-file")) throw usage_error("Missing required argument \"[offset-json-file]\"");
    auto targets = read_offsets(*a.value("offset-json-file"));
    admin_client admin(client_config::from_args(a));
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(targets.size()));
    for (auto& t : targets) rd_kafka_topic_partition_list_add(list, t.topic.c_str(), t.partition)->offset = t.offset;
    auto* del = rd_kafka_DeleteRecords_new(list);
    rd_kafka_topic_partition_list_destroy(list);
    write_out("Executing records delete operation\n");
    auto ev = admin.run(RD_KAFKA_ADMIN_OP_DELETERECORDS, "DeleteRecords",
                        [&](rd_kafka_t* rk, const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
                            rd_kafka_DeleteRecords(rk, &del, 1, opts, q);
                        });
    rd_kafka_DeleteRecords_destroy(del);
    auto* res = rd_kafka_event_DeleteRecords_result(ev.get());
    const auto* offsets = rd_kafka_DeleteRecords_result_offsets(res);
    write_out("Records delete operation completed:\n");
    int failed = 0;
    for (int i = 0; offsets && i < offsets->cnt; ++i) {
        auto& e = offsets->elems[i];
        if (e.err) {
            ++failed;
            write_out(fmt::format("partition: {}-{}\terror: {}\n", e.topic, e.partition, error_text(e.err)));
        } else {
            write_out(fmt::format("partition: {}-{}\tlow_watermark: {}\n", e.topic, e.partition, e.offset));
        }
    }
    return failed ? 1 : 0;
}

} // namespace samsa::cli
