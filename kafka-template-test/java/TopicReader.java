// Reads a topic from the beginning with Kafka's own KafkaConsumer and prints each
// record as one JSON line (JsonLinesFormatter): the fetching, decompression and
// batch decoding stay Kafka's.
//
// Why not ConsoleConsumer: its --timeout-ms clock also runs while it finds the
// group coordinator and joins its group, which on a loaded machine can take the
// whole timeout, so a read could come back empty with the records on the broker.
// Here the partitions are assigned directly (no group, nothing committed), and
// the idle clock runs only once the reader has caught up with the end offsets
// the partitions had when it started (the last stable offsets under
// read_committed): a reader starved of CPU for longer than the idle timeout
// still reads every record that was there, and only records that might come
// later are waited for with the idle timeout.
//
// Arguments: BOOTSTRAP TOPIC MAX_RECORDS IDLE_TIMEOUT_MS ISOLATION [CONFIG_FILE]
//   MAX_RECORDS -1: no limit (read until idle)
//   ISOLATION   read_committed or read_uncommitted
//   CONFIG_FILE consumer properties (security settings of a secured listener)
// Exit status 0 when the read ended (enough records, or idle once caught up);
// 1 on an error, or when it could not catch up within SETUP_TIMEOUT, with the
// reason on stderr. A last stderr line says what was read: the partitions'
// start offsets (past 0 when the broker deleted records), their end offsets
// and the positions reached.
import java.io.BufferedOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class TopicReader {
    // How long finding the topic's partitions and their start offsets may take:
    // long enough for a starved machine, short enough that a broken test ends.
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(120);

    public static void main(String[] args) throws Exception {
        if (args.length < 5 || args.length > 6) {
            System.err.println(
                    "usage: TopicReader BOOTSTRAP TOPIC MAX_RECORDS IDLE_TIMEOUT_MS ISOLATION [CONFIG_FILE]");
            System.exit(2);
        }
        String topic = args[1];
        long max = Long.parseLong(args[2]);
        long idleMs = Long.parseLong(args[3]);
        Properties props = new Properties();
        if (args.length == 6) {
            try (InputStream in = new FileInputStream(args[5])) {
                props.load(in);
            }
        }
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, args[4]);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "kafka-template-test-reader");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false, "UTF-8");
        JsonLinesFormatter formatter = new JsonLinesFormatter();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = partitionsOf(consumer, topic, idleMs);
            if (partitions.isEmpty()) {
                System.err.println("TopicReader: " + topic + " not found within " + idleMs + " ms");
                return; // no such topic within the idle timeout: nothing to read
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            for (TopicPartition partition : partitions) {
                consumer.position(partition, SETUP_TIMEOUT);
            }
            Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions, SETUP_TIMEOUT);
            // What is there now; honours the isolation level.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, SETUP_TIMEOUT);
            long catchUpDeadline = System.nanoTime() + SETUP_TIMEOUT.toNanos();
            long printed = 0;
            long lastProgress = System.nanoTime();
            while (max < 0 || printed < max) {
                long idleLeft = idleMs - (System.nanoTime() - lastProgress) / 1_000_000;
                if (idleLeft <= 0) {
                    String behind = behind(consumer, partitions, end);
                    if (behind.isEmpty()) {
                        break;
                    }
                    if (System.nanoTime() >= catchUpDeadline) {
                        out.flush();
                        System.err.println("TopicReader: " + topic + " not read to its end offsets within "
                                + SETUP_TIMEOUT.toSeconds() + " s (" + printed + " records read): " + behind);
                        System.exit(1);
                    }
                    idleLeft = 500;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(Math.min(idleLeft, 500)));
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    formatter.writeTo(record, out);
                    printed++;
                    if (printed == max) {
                        break;
                    }
                }
                if (!records.isEmpty()) {
                    lastProgress = System.nanoTime();
                }
            }
            out.flush();
            System.err.println("TopicReader: read " + printed + " records of " + topic + "; start offsets "
                    + start + "; end offsets " + end + "; positions " + positions(consumer, partitions));
        } finally {
            out.flush();
        }
    }

    // The partitions whose position is short of `end`, as "partition position/end"
    // (empty when caught up).
    private static String behind(
            KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions, Map<TopicPartition, Long> end) {
        StringBuilder behind = new StringBuilder();
        for (TopicPartition partition : partitions) {
            long position = consumer.position(partition, SETUP_TIMEOUT);
            long last = end.getOrDefault(partition, 0L);
            if (position < last) {
                if (behind.length() > 0) {
                    behind.append(", ");
                }
                behind.append(partition).append(' ').append(position).append('/').append(last);
            }
        }
        return behind.toString();
    }

    // Each partition's position, for the closing summary.
    private static String positions(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
        StringBuilder positions = new StringBuilder("{");
        for (TopicPartition partition : partitions) {
            if (positions.length() > 1) {
                positions.append(", ");
            }
            positions.append(partition).append('=').append(consumer.position(partition, SETUP_TIMEOUT));
        }
        return positions.append('}').toString();
    }

    // The topic's partitions, asking until the topic is known or `idleMs` ran
    // out (a topic created just before may not be in every broker's metadata yet).
    private static List<TopicPartition> partitionsOf(
            KafkaConsumer<byte[], byte[]> consumer, String topic, long idleMs) throws InterruptedException {
        long deadline = System.nanoTime() + idleMs * 1_000_000;
        while (true) {
            List<PartitionInfo> infos;
            try {
                infos = consumer.partitionsFor(topic, SETUP_TIMEOUT);
            } catch (RetriableException e) {
                infos = List.of();
            }
            List<TopicPartition> partitions = new ArrayList<>();
            if (infos != null) {
                for (PartitionInfo info : infos) {
                    partitions.add(new TopicPartition(info.topic(), info.partition()));
                }
            }
            if (!partitions.isEmpty() || System.nanoTime() >= deadline) {
                return partitions;
            }
            Thread.sleep(200);
        }
    }
}
