package samsa;

import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

/**
 * A stateful Kafka Streams application against samsa-server, for tests/interop/test_streams.py:
 * lines from INPUT are split into words, re-keyed by word (a repartition topic), counted in a
 * RocksDB store (its changelog a compacted topic) and in 10-second tumbling windows (a day of
 * grace: the repartition topic interleaves the input partitions' times); every count
 * update goes to OUTPUT ("word" -> count) and OUTPUT-windowed ("word@windowStart" -> count), with
 * record caches off so each input word gives exactly one update of each.
 *
 *   WordCount BOOTSTRAP APPLICATION_ID GUARANTEE STATE_DIR INPUT OUTPUT
 *       GUARANTEE: at_least_once or exactly_once_v2. Runs until SIGTERM (closes cleanly) or SIGKILL;
 *       prints "RUNNING" once the application is running.
 */
public final class WordCount {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], appId = args[1], guarantee = args[2], stateDir = args[3], input = args[4],
               output = args[5];
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 2);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);

        StreamsBuilder b = new StreamsBuilder();
        KStream<String, String> lines = b.stream(input);
        KGroupedStream<String, String> words = lines
            .flatMapValues(line -> Arrays.asList(line.split(" ")))
            .map((k, word) -> KeyValue.pair(word, word))
            .groupByKey(Grouped.with("by-word", Serdes.String(), Serdes.String()));
        words.count(Materialized.as("counts"))
            .toStream()
            .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        words.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofDays(1)))
            .count(Materialized.as("windowed-counts"))
            .toStream()
            .map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start(), n))
            .to(output + "-windowed", Produced.with(Serdes.String(), Serdes.Long()));

        KafkaStreams streams = new KafkaStreams(b.build(), p);
        CountDownLatch done = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) System.out.println("RUNNING");
            if (now == KafkaStreams.State.ERROR) {
                System.out.println("ERROR");
                done.countDown();
            }
            System.out.flush();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(30));
            done.countDown();
        }));
        streams.start();
        done.await();
    }
}
