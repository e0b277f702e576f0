package samsa;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The Java client's producer, consumer and Admin API against samsa-server. Each scenario prints
 * one JSON line of what it saw, for tests/interop/test_java_client.py to check.
 *
 *   codecs BOOTSTRAP TOPIC COUNT: for each compression codec, a producer with default settings
 *       (idempotent, acks=all) sends COUNT keyed records with two headers; a consumer reads the
 *       topic back checking key, value, headers and timestamp of each record and the offsets' order:
 *       {"codecs": {codec: {"acked": n, "read": n, "mismatched": n, "duplicated": n}}, "out_of_order": n}
 *   consumer BOOTSTRAP TOPIC GROUP: a group member with manual commits and a rebalance listener,
 *       then one with automatic commits, seek, pause/resume and offsetsForTimes
 *   admin BOOTSTRAP: topics, cluster, configs, records, offsets, log dirs and groups through Admin
 *   reassign BOOTSTRAP TOPIC: (a cluster) alterPartitionReassignments, listPartitionReassignments,
 *       electLeaders
 */
public final class Clients {
    private static final Duration POLL = Duration.ofMillis(200);
    private static final long BASE_TS = 1_700_000_000_000L;

    private static Properties producerProps(String bootstrap) {
        return Eos.producerProps(bootstrap);
    }

    private static Properties consumerProps(String bootstrap, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return p;
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    /** A tiny JSON writer: maps, lists, strings, numbers, booleans. */
    static String json(Object o) {
        if (o == null) return "null";
        if (o instanceof String s) return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        if (o instanceof Number || o instanceof Boolean) return o.toString();
        if (o instanceof Map<?, ?> m) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : m.entrySet()) parts.add(json(e.getKey().toString()) + ":" + json(e.getValue()));
            return "{" + String.join(",", parts) + "}";
        }
        if (o instanceof Collection<?> c) {
            List<String> parts = new ArrayList<>();
            for (Object x : c) parts.add(json(x));
            return "[" + String.join(",", parts) + "]";
        }
        return json(o.toString());
    }

    static void codecs(String bootstrap, String topic, int count) throws Exception {
        Map<String, Object> out = new TreeMap<>();
        Map<String, Object> perCodec = new TreeMap<>();
        String[] codecs = {"none", "gzip", "snappy", "lz4", "zstd"};
        for (String codec : codecs) {
            Properties p = producerProps(bootstrap);
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
                for (int i = 0; i < count; i++) {
                    ProducerRecord<String, String> r = new ProducerRecord<>(topic, null, BASE_TS + i, "k-" + codec + "-" + i,
                                                                            codec + "-" + i);
                    r.headers().add("codec", codec.getBytes(StandardCharsets.UTF_8));
                    r.headers().add("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                    futures.add(producer.send(r));
                }
                producer.flush();
            }
            int acked = 0;
            for (Future<RecordMetadata> f : futures) {
                f.get();
                acked++;
            }
            perCodec.put(codec, new TreeMap<>(Map.of("acked", acked, "read", 0, "mismatched", 0, "duplicated", 0)));
        }
        // Read everything back, checking key, value and both headers of every record.
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(bootstrap, null))) {
            List<TopicPartition> parts = new ArrayList<>();
            c.partitionsFor(topic).forEach(pi -> parts.add(new TopicPartition(topic, pi.partition())));
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts);
            Map<Integer, Long> lastOffset = new HashMap<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            int outOfOrder = 0;
            long deadline = System.currentTimeMillis() + 60000;
            while (System.currentTimeMillis() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) done &= c.position(tp) >= ends.get(tp);
                if (done) break;
                for (ConsumerRecord<String, String> r : c.poll(POLL)) {
                    String codec = r.value().substring(0, r.value().indexOf('-'));
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) perCodec.get(codec);
                    String n = r.value().substring(codec.length() + 1);
                    Header hc = r.headers().lastHeader("codec");
                    Header hn = r.headers().lastHeader("n");
                    boolean good = r.key().equals("k-" + r.value()) && hc != null
                        && new String(hc.value(), StandardCharsets.UTF_8).equals(codec) && hn != null
                        && new String(hn.value(), StandardCharsets.UTF_8).equals(n)
                        && r.timestamp() == BASE_TS + Long.parseLong(n);
                    m.put("read", (Integer) m.get("read") + 1);
                    if (!good) m.put("mismatched", (Integer) m.get("mismatched") + 1);
                    if (!seen.add(r.value())) m.put("duplicated", (Integer) m.get("duplicated") + 1);
                    Long last = lastOffset.put(r.partition(), r.offset());
                    if (last != null && r.offset() <= last) outOfOrder++;
                }
            }
            out.put("out_of_order", outOfOrder);
        }
        out.put("codecs", perCodec);
        System.out.println(json(out));
    }

    static void consumer(String bootstrap, String topic, String group) throws Exception {
        Map<String, Object> out = new TreeMap<>();
        long base = System.currentTimeMillis() - 1_000_000;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(topic, i % 2, base + i * 1000L, "k" + i, "v" + i));
            }
            producer.flush();
        }
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        // A member with manual commits and a rebalance listener: reads 40 records, commits them.
        List<String> events = new ArrayList<>();
        Properties manual = consumerProps(bootstrap, group);
        manual.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        manual.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10");
        int firstRead = 0;
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(manual)) {
            c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                    if (!parts.isEmpty()) events.add("revoked " + parts.size());
                }
                public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                    events.add("assigned " + parts.size());
                }
            });
            long deadline = System.currentTimeMillis() + 60000;
            while (firstRead < 40 && System.currentTimeMillis() < deadline) firstRead += c.poll(POLL).count();
            c.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(Set.of(p0, p1));
            long sum = 0;
            for (OffsetAndMetadata om : committed.values()) sum += om == null ? 0 : om.offset();
            out.put("manual_read", firstRead);
            out.put("manual_committed", sum);
        }
        out.put("rebalance_events", events);
        // A member with automatic commits resumes where the first left off.
        Properties auto = consumerProps(bootstrap, group);
        auto.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
        auto.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "100");
        int secondRead = 0;
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(auto)) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60000;
            while (firstRead + secondRead < 100 && System.currentTimeMillis() < deadline) secondRead += c.poll(POLL).count();
            out.put("auto_read", secondRead);
            // Paused partitions give nothing; resumed ones give again (after a seek back).
            c.seek(p0, 10);
            c.seek(p1, 10);
            c.pause(Set.of(p0, p1));
            int whilePaused = 0;
            for (int i = 0; i < 5; i++) whilePaused += c.poll(POLL).count();
            out.put("read_while_paused", whilePaused);
            c.resume(Set.of(p0));
            ConsumerRecords<String, String> rs = ConsumerRecords.empty();
            deadline = System.currentTimeMillis() + 30000;
            while (rs.isEmpty() && System.currentTimeMillis() < deadline) rs = c.poll(POLL);
            ConsumerRecord<String, String> first = rs.iterator().next();
            out.put("after_seek", Map.of("partition", first.partition(), "offset", first.offset(), "value", first.value()));
            Set<Integer> partsSeen = new java.util.TreeSet<>();
            rs.forEach(r -> partsSeen.add(r.partition()));
            out.put("partitions_after_resume", new ArrayList<>(partsSeen));
            // The offset of the first record at or after a timestamp: record 41 is p1's offset 20.
            Map<TopicPartition, OffsetAndTimestamp> at = c.offsetsForTimes(Map.of(p1, base + 41 * 1000L));
            out.put("offset_for_time", at.get(p1) == null ? -1 : at.get(p1).offset());
            Thread.sleep(300); // one more automatic commit
            c.poll(POLL);
        }
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(bootstrap, group))) {
            long sum = 0;
            for (OffsetAndMetadata om : c.committed(Set.of(p0, p1)).values()) sum += om == null ? 0 : om.offset();
            out.put("auto_committed", sum);
        }
        System.out.println(json(out));
    }

    static void adminApi(String bootstrap) throws Exception {
        Map<String, Object> out = new TreeMap<>();
        try (Admin a = admin(bootstrap)) {
            a.createTopics(List.of(new NewTopic("java-admin-a", 3, (short) 1),
                                   new NewTopic("java-admin-b", 1, (short) 1).configs(Map.of("cleanup.policy", "compact"))))
                .all().get();
            out.put("listed", new java.util.TreeSet<>(a.listTopics().names().get()).containsAll(
                Set.of("java-admin-a", "java-admin-b")));
            Map<String, TopicDescription> d = a.describeTopics(List.of("java-admin-a")).allTopicNames().get();
            out.put("partitions", d.get("java-admin-a").partitions().size());
            DescribeClusterResult cluster = a.describeCluster();
            Collection<Node> nodes = cluster.nodes().get();
            out.put("cluster", Map.of("nodes", nodes.size(), "controller", cluster.controller().get().id(),
                                      "id", cluster.clusterId().get()));
            ConfigResource topicA = new ConfigResource(ConfigResource.Type.TOPIC, "java-admin-a");
            a.incrementalAlterConfigs(Map.of(topicA, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "123456"), AlterConfigOp.OpType.SET)))).all().get();
            Config cfg = a.describeConfigs(List.of(topicA)).all().get().get(topicA);
            out.put("retention_ms", cfg.get("retention.ms").value());
            out.put("retention_source", cfg.get("retention.ms").source().toString());
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(nodes.iterator().next().id()));
            out.put("broker_num_partitions", a.describeConfigs(List.of(broker)).all().get().get(broker)
                .get("num.partitions").value());

            TopicPartition tp = new TopicPartition("java-admin-a", 0);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
                for (int i = 0; i < 20; i++) producer.send(new ProducerRecord<>("java-admin-a", 0, "k" + i, "v" + i));
                producer.flush();
            }
            a.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(5))).all().get();
            ListOffsetsResult earliest = a.listOffsets(Map.of(tp, OffsetSpec.earliest()));
            ListOffsetsResult latest = a.listOffsets(Map.of(tp, OffsetSpec.latest()));
            out.put("offsets", List.of(earliest.partitionResult(tp).get().offset(), latest.partitionResult(tp).get().offset()));
            Map<Integer, Map<String, LogDirDescription>> dirs = a.describeLogDirs(List.of(nodes.iterator().next().id()))
                .allDescriptions().get();
            long size = -1;
            for (Map<String, LogDirDescription> byDir : dirs.values()) {
                for (LogDirDescription dd : byDir.values()) {
                    ReplicaInfo ri = dd.replicaInfos().get(tp);
                    if (ri != null) size = ri.size();
                }
            }
            out.put("log_dir_size", size);

            Properties cp = consumerProps(bootstrap, "java-admin-group");
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
                c.assign(List.of(tp));
                c.commitSync(Map.of(tp, new OffsetAndMetadata(7)));
            }
            List<String> groups = new ArrayList<>();
            for (GroupListing g : a.listGroups().all().get()) groups.add(g.groupId());
            out.put("groups_listed", groups.contains("java-admin-group"));
            ConsumerGroupDescription gd = a.describeConsumerGroups(List.of("java-admin-group")).all().get()
                .get("java-admin-group");
            out.put("group_state", gd.groupState().toString());
            out.put("group_offset", a.listConsumerGroupOffsets("java-admin-group").partitionsToOffsetAndMetadata().get()
                .get(tp).offset());
            a.deleteConsumerGroups(List.of("java-admin-group")).all().get();
            groups.clear();
            for (GroupListing g : a.listGroups().all().get()) groups.add(g.groupId());
            out.put("group_deleted", !groups.contains("java-admin-group"));
            a.deleteTopics(List.of("java-admin-a", "java-admin-b")).all().get();
            long deadline = System.currentTimeMillis() + 30000;
            while (a.listTopics().names().get().contains("java-admin-a") && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            out.put("deleted", !a.listTopics().names().get().contains("java-admin-a"));
            // A bad request gets Kafka's exception.
            try {
                a.createTopics(List.of(new NewTopic("java-admin-bad", 1, (short) 9))).all().get();
                out.put("bad_replication_factor", "accepted");
            } catch (java.util.concurrent.ExecutionException e) {
                out.put("bad_replication_factor", e.getCause().getClass().getSimpleName());
            }
        }
        System.out.println(json(out));
    }

    static void reassign(String bootstrap, String topic) throws Exception {
        Map<String, Object> out = new TreeMap<>();
        try (Admin a = admin(bootstrap)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            List<Integer> before = new ArrayList<>();
            a.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).replicas()
                .forEach(n -> before.add(n.id()));
            // Move to the reverse order, which changes the preferred leader too.
            List<Integer> target = new ArrayList<>(before);
            java.util.Collections.reverse(target);
            a.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(target)))).all().get();
            long deadline = System.currentTimeMillis() + 60000;
            Map<TopicPartition, PartitionReassignment> ongoing = a.listPartitionReassignments().reassignments().get();
            while (!ongoing.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
                ongoing = a.listPartitionReassignments().reassignments().get();
            }
            out.put("reassignment_done", ongoing.isEmpty());
            List<Integer> after = new ArrayList<>();
            a.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).replicas()
                .forEach(n -> after.add(n.id()));
            out.put("replicas", after);
            // The order changed, not the set: the new first replica leads once elected.
            deadline = System.currentTimeMillis() + 30000;
            String result = "";
            while (System.currentTimeMillis() < deadline) {
                try {
                    a.electLeaders(ElectionType.PREFERRED, Set.of(tp)).partitions().get().get(tp)
                        .ifPresent(e -> { throw new RuntimeException(e); });
                    result = "elected";
                    break;
                } catch (RuntimeException e) {
                    result = e.getCause() == null ? e.toString() : e.getCause().getClass().getSimpleName();
                    if (result.equals("ElectionNotNeededException")) break;
                    Thread.sleep(500);
                }
            }
            out.put("election", result);
            int leader = a.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).leader().id();
            out.put("leader", leader);
        }
        System.out.println(json(out));
    }

    public static void main(String[] args) throws Exception {
        switch (args.length > 0 ? args[0] : "") {
            case "codecs" -> codecs(args[1], args[2], Integer.parseInt(args[3]));
            case "consumer" -> consumer(args[1], args[2], args[3]);
            case "admin" -> adminApi(args[1]);
            case "reassign" -> reassign(args[1], args[2]);
            default -> {
                System.err.println("usage: Clients codecs|consumer|admin|reassign ...");
                System.exit(2);
            }
        }
    }
}
