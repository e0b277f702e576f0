package samsa;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java client against samsa-server with its default producer settings (enable.idempotence=true,
 * acks=all since 3.0). Prints one JSON line.
 *
 *   idempotent BOOTSTRAP TOPIC COUNT KEYS: COUNT records "java-i" with key "key-(i % KEYS)";
 *       {"acked": n, "offsets": {"java-i": [partition, offset], ...}}
 *   commit-latency BOOTSTRAP TOPIC TRANSACTIONS: transactions of 100 records of 100 B to partition 0,
 *       each committed; {"transactions": n, "commit_ms_p50": x, "commit_ms_p99": y} (bench/, by hand)
 *   transactions BOOTSTRAP TOPIC GROUP: a committed transaction of "java-commit-i", an aborted one of
 *       "java-abort-i", a committed one of "java-offsets-i" that commits offset 7 of partition 0 for
 *       GROUP (sendOffsetsToTransaction); then TOPIC read back by a read_committed consumer:
 *       {"read_committed": [values]}
 */
public final class Eos {
    static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return p;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static void idempotent(String bootstrap, String topic, int count, int keys) throws Exception {
        Properties p = producerProps(bootstrap);
        // Small batches and a fast reconnect: many requests for the test's proxy to drop.
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "400");
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count; i++) {
                futures.add(producer.send(new ProducerRecord<>(topic, "key-" + (i % keys), "java-" + i)));
            }
            producer.flush();
        }
        StringBuilder out = new StringBuilder("{\"acked\": " + futures.size() + ", \"offsets\": {");
        for (int i = 0; i < futures.size(); i++) {
            RecordMetadata md = futures.get(i).get();
            out.append(i == 0 ? "" : ", ").append(quote("java-" + i)).append(": [").append(md.partition())
                .append(", ").append(md.offset()).append("]");
        }
        System.out.println(out.append("}}"));
    }

    private static void sendBatch(KafkaProducer<String, String> producer, String topic, String prefix) {
        for (int i = 0; i < 20; i++) producer.send(new ProducerRecord<>(topic, i % 3, null, prefix + "-" + i));
    }

    static void transactions(String bootstrap, String topic, String group) {
        Properties p = producerProps(bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "java-txn");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            sendBatch(producer, topic, "java-commit");
            producer.commitTransaction();
            producer.beginTransaction();
            sendBatch(producer, topic, "java-abort");
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            sendBatch(producer, topic, "java-offsets");
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            offsets.put(new TopicPartition(topic, 0), new OffsetAndMetadata(7));
            producer.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(group));
            producer.commitTransaction();
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition())).collect(Collectors.toList());
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = consumer.endOffsets(parts); // the LSO under read_committed
            long deadline = System.currentTimeMillis() + 30000;
            while (System.currentTimeMillis() < deadline
                   && parts.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        System.out.println("{\"read_committed\": [" + values.stream().map(Eos::quote).collect(Collectors.joining(", "))
                           + "]}");
    }

    static void commitLatency(String bootstrap, String topic, int transactions) {
        Properties p = producerProps(bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "java-commit-latency");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        String value = "x".repeat(100);
        double[] ms = new double[transactions];
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            for (int t = 0; t < transactions + 100; t++) { // the first 100 warm up
                producer.beginTransaction();
                for (int i = 0; i < 100; i++) producer.send(new ProducerRecord<>(topic, 0, null, value));
                long start = System.nanoTime();
                producer.commitTransaction();
                if (t >= 100) ms[t - 100] = (System.nanoTime() - start) / 1e6;
            }
        }
        java.util.Arrays.sort(ms);
        System.out.printf("{\"transactions\": %d, \"commit_ms_p50\": %.3f, \"commit_ms_p99\": %.3f}%n", transactions,
                          ms[transactions / 2], ms[Math.min(transactions - 1, (int) (transactions * 0.99))]);
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "commit-latency" -> commitLatency(args[1], args[2], Integer.parseInt(args[3]));
            case "idempotent" -> idempotent(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            case "transactions" -> transactions(args[1], args[2], args[3]);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
