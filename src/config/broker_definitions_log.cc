#include "config/broker_definitions.h"

namespace samsa::config::detail {
namespace {

constexpr const char* long_max = "9223372036854775807";
constexpr const char* int_max = "2147483647";

} // namespace

void define_log_configs(config_def& d)
{
    using enum config_type;
    using enum importance;
    using enum update_mode;
    const auto none = validator{};
    const auto at_least = validator::at_least;

    add(d, "log.dir", list, "/tmp/kafka-logs", validator::non_empty(), high, read_only,
        "Data directory, used when log.dirs is not set.");
    add(d, "log.dirs", list, std::nullopt, validator::non_empty(), high, read_only,
        "Comma-separated data directories; takes precedence over log.dir.");
    add(d, "num.partitions", int32, "1", at_least(1), medium, read_only,
        "Partition count of topics created without one (including auto-created topics).");
    add(d, "auto.create.topics.enable", boolean, "true", none, high, read_only,
        "Create a topic when a client asks for metadata of, or produces to, one that does not exist.");
    add(d, "delete.topic.enable", boolean, "true", none, high, read_only, "Allow DeleteTopics requests.");
    add(d, "message.max.bytes", int32, "1048588", at_least(0), high, cluster_wide,
        "Largest record batch a topic accepts, unless its max.message.bytes says otherwise.");
    add(d, "log.segment.bytes", int32, "1073741824", at_least(14), high, cluster_wide,
        "Size at which the active segment of a log is rolled.");
    add(d, "log.roll.ms", int64, std::nullopt, none, high, cluster_wide,
        "Age in ms at which the active segment is rolled; unset means log.roll.hours.");
    add(d, "log.roll.hours", int32, "168", at_least(1), high, cluster_wide,
        "Age in hours at which the active segment is rolled, used when log.roll.ms is unset.");
    add(d, "log.roll.jitter.ms", int64, std::nullopt, none, high, cluster_wide,
        "Random amount in ms subtracted from the roll age; unset means log.roll.jitter.hours.");
    add(d, "log.roll.jitter.hours", int32, "0", at_least(0), high, cluster_wide,
        "Random amount in hours subtracted from the roll age, used when log.roll.jitter.ms is unset.");
    add(d, "log.retention.ms", int64, std::nullopt, none, high, cluster_wide,
        "How long segments are kept, in ms; -1 keeps them forever. Wins over minutes and hours.");
    add(d, "log.retention.minutes", int32, std::nullopt, none, high, cluster_wide,
        "How long segments are kept, in minutes, used when log.retention.ms is unset.");
    add(d, "log.retention.hours", int32, "168", none, high, cluster_wide,
        "How long segments are kept, in hours, used when neither ms nor minutes is set.");
    add(d, "log.retention.bytes", int64, "-1", none, high, cluster_wide,
        "Partition size beyond which old segments are deleted; -1 means no size limit.");
    add(d, "log.retention.check.interval.ms", int64, "300000", at_least(1), medium, read_only,
        "How often logs are checked for segments to delete.");
    add(d, "log.cleanup.policy", list, "delete", validator::list_of({"compact", "delete"}, false), medium, cluster_wide,
        "What happens to old segments: delete them, compact them, or both.");
    add(d, "log.cleaner.enable", boolean, "true", none, medium, read_only,
        "Run the log cleaner that compacts topics with the compact policy.");
    add(d, "log.cleaner.threads", int32, "1", at_least(0), medium, cluster_wide, "Threads that compact logs.");
    add(d, "log.cleaner.io.max.bytes.per.second", float64, "1.7976931348623157E308", none, medium, cluster_wide,
        "Combined read and write rate limit of the log cleaner.");
    add(d, "log.cleaner.dedupe.buffer.size", int64, "134217728", none, medium, cluster_wide,
        "Memory for the key map that compaction builds, across all cleaner threads.");
    add(d, "log.cleaner.io.buffer.size", int32, "524288", at_least(0), medium, cluster_wide,
        "I/O buffer memory of the log cleaner, across all cleaner threads.");
    add(d, "log.cleaner.io.buffer.load.factor", float64, "0.9", none, medium, cluster_wide,
        "How full the compaction key map may get.");
    add(d, "log.cleaner.backoff.ms", int64, "15000", at_least(0), medium, cluster_wide,
        "Pause of the log cleaner when there is nothing to clean.");
    add(d, "log.cleaner.min.cleanable.ratio", float64, "0.5", validator::between(0, 1), medium, cluster_wide,
        "Share of a log that must be uncompacted before the cleaner works on it.");
    add(d, "log.cleaner.delete.retention.ms", int64, "86400000", at_least(0), medium, cluster_wide,
        "How long tombstones stay in a compacted log.");
    add(d, "log.cleaner.min.compaction.lag.ms", int64, "0", at_least(0), medium, cluster_wide,
        "Youngest a record may be and still be compacted.");
    add(d, "log.cleaner.max.compaction.lag.ms", int64, long_max, at_least(1), medium, cluster_wide,
        "Oldest a record may get before it must be compacted.");
    add(d, "log.index.size.max.bytes", int32, "10485760", at_least(4), medium, cluster_wide,
        "Largest size of an offset or time index file.");
    add(d, "log.index.interval.bytes", int32, "4096", at_least(0), medium, cluster_wide,
        "Bytes of records between two index entries.");
    add(d, "log.flush.interval.messages", int64, long_max, at_least(1), high, cluster_wide,
        "Records appended to a partition before it is fsynced.");
    add(d, "log.flush.interval.ms", int64, std::nullopt, none, high, cluster_wide,
        "Longest time data stays unsynced, in ms; unset means log.flush.scheduler.interval.ms.");
    add(d, "log.flush.scheduler.interval.ms", int64, long_max, none, high, read_only,
        "How often logs are checked for a time-based flush.");
    add(d, "log.flush.offset.checkpoint.interval.ms", int32, "60000", at_least(0), high, read_only,
        "How often the recovery point of each log is written to disk.");
    add(d, "log.flush.start.offset.checkpoint.interval.ms", int32, "60000", at_least(0), high, read_only,
        "How often the log start offset of each log is written to disk.");
    add(d, "log.segment.delete.delay.ms", int64, "60000", at_least(0), high, cluster_wide,
        "Delay between marking a segment deleted and removing its files.");
    add(d, "log.preallocate", boolean, "false", none, medium, cluster_wide,
        "Preallocate segment files when they are created.");
    add(d, "num.recovery.threads.per.data.dir", int32, "1", at_least(1), high, cluster_wide,
        "Threads per data directory that recover logs at startup and flush them at shutdown.");
    add(d, "min.insync.replicas", int32, "1", at_least(1), high, cluster_wide,
        "In-sync replicas needed before an acks=all produce succeeds.");
    add(d, "log.message.timestamp.type", string, "CreateTime", validator::one_of({"CreateTime", "LogAppendTime"}),
        medium, cluster_wide, "Whether record timestamps are the producer's (CreateTime) or the broker's append time.");
    add(d, "log.message.timestamp.difference.max.ms", int64, long_max, at_least(0), medium, cluster_wide,
        "Largest gap allowed between a CreateTime timestamp and the broker's clock.");
    add(d, "log.message.downconversion.enable", boolean, "true", none, low, cluster_wide,
        "Convert batches to older formats for old consumers.");
    // Deprecated in Kafka 3.0 and ignored there (batches are stored as the producer sent them);
    // accepted so that configurations and tools written for older brokers keep working.
    add(d, "log.message.format.version", string, std::string(ignored_message_format_version), none, low, read_only,
        "Deprecated and ignored: batches are stored in the format the producer sent.");
    add(d, "compression.type", string, "producer",
        validator::one_of({"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"}), high, cluster_wide,
        "Codec of stored batches; producer keeps whatever the producer used.");
}

void define_coordinator_configs(config_def& d)
{
    using enum config_type;
    using enum importance;
    using enum update_mode;
    const auto none = validator{};
    const auto at_least = validator::at_least;

    add(d, "group.min.session.timeout.ms", int32, "6000", none, medium, read_only,
        "Shortest session timeout a group member may ask for.");
    add(d, "group.max.session.timeout.ms", int32, "1800000", none, medium, read_only,
        "Longest session timeout a group member may ask for.");
    add(d, "group.initial.rebalance.delay.ms", int32, "3000", none, medium, read_only,
        "How long a new group waits for more members before its first rebalance.");
    add(d, "group.max.size", int32, int_max, at_least(1), medium, read_only, "Most members one group may have.");
    add(d, "offset.metadata.max.bytes", int32, "4096", none, high, read_only,
        "Largest metadata string stored with a committed offset.");
    add(d, "offsets.load.buffer.size", int32, "5242880", at_least(1), high, read_only,
        "Read size used when loading committed offsets.");
    add(d, "offsets.topic.replication.factor", int16, "3", at_least(1), high, read_only,
        "Replication factor of __consumer_offsets (limited to the live brokers on a small cluster).");
    add(d, "offsets.topic.num.partitions", int32, "50", at_least(1), high, read_only,
        "Partition count of __consumer_offsets; do not change after it exists.");
    add(d, "offsets.topic.segment.bytes", int32, "104857600", at_least(1), high, read_only,
        "Segment size of __consumer_offsets.");
    add(d, "offsets.retention.minutes", int32, "10080", at_least(1), high, read_only,
        "How long committed offsets of an empty group are kept.");
    add(d, "offsets.retention.check.interval.ms", int64, "600000", at_least(1), high, read_only,
        "How often expired offsets are looked for.");
    add(d, "offsets.commit.timeout.ms", int32, "5000", at_least(1), high, read_only,
        "Longest wait for an offset commit to be replicated.");
    add(d, "transactional.id.expiration.ms", int32, "604800000", at_least(1), high, read_only,
        "Idle time after which a transactional id is forgotten.");
    add(d, "transaction.max.timeout.ms", int32, "900000", at_least(1), high, read_only,
        "Longest transaction timeout a producer may ask for.");
    add(d, "transaction.state.log.min.isr", int32, "2", at_least(1), high, read_only,
        "min.insync.replicas of __transaction_state.");
    add(d, "transaction.state.log.load.buffer.size", int32, "5242880", at_least(1), high, read_only,
        "Read size used when loading transaction state.");
    add(d, "transaction.state.log.replication.factor", int16, "3", at_least(1), high, read_only,
        "Replication factor of __transaction_state (limited to the live brokers on a small cluster).");
    add(d, "transaction.state.log.num.partitions", int32, "50", at_least(1), high, read_only,
        "Partition count of __transaction_state.");
    add(d, "transaction.state.log.segment.bytes", int32, "104857600", at_least(1), high, read_only,
        "Segment size of __transaction_state.");
    add(d, "transaction.abort.timed.out.transaction.cleanup.interval.ms", int32, "10000", at_least(1), low, read_only,
        "How often timed-out transactions are aborted.");
    add(d, "transaction.remove.expired.transaction.cleanup.interval.ms", int32, "3600000", at_least(1), low, read_only,
        "How often expired transactional ids are removed.");
    add(d, "transaction.partition.verification.enable", boolean, "true", none, low, cluster_wide,
        "Write a batch starting a transaction on a partition only once its coordinator has the "
        "partition in the transaction (KIP-890).");
    add(d, "producer.id.expiration.ms", int32, "86400000", at_least(1), low, cluster_wide,
        "Idle time after which a producer id's sequence state is dropped.");
    add(d, "producer.id.expiration.check.interval.ms", int32, "600000", at_least(1), low, read_only,
        "How often producer ids past producer.id.expiration.ms are removed.");
    add(d, "share.coordinator.state.topic.replication.factor", int16, "3", at_least(1), medium, read_only,
        "Replication factor of the share-group state topic (accepted for compatibility).");
    add(d, "share.coordinator.state.topic.min.isr", int16, "2", at_least(1), medium, read_only,
        "min.insync.replicas of the share-group state topic (accepted for compatibility).");
}

} // namespace samsa::config::detail
