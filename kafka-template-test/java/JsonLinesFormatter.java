// Prints each consumed record as one JSON line, with key, value and header values
// in base64, so tests can compare exact bytes whatever the payload holds.
// Used by TopicReader and through Kafka's own ConsoleConsumer (`--formatter
// JsonLinesFormatter`): the fetching, decompression and batch decoding stay Kafka's.
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.MessageFormatter;
import org.apache.kafka.common.header.Header;

public class JsonLinesFormatter implements MessageFormatter {
    private static String b64(byte[] bytes) {
        return bytes == null ? "null" : "\"" + Base64.getEncoder().encodeToString(bytes) + "\"";
    }

    private static String str(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    @Override
    public void writeTo(ConsumerRecord<byte[], byte[]> record, PrintStream output) {
        StringBuilder line = new StringBuilder(256);
        line.append("{\"topic\":").append(str(record.topic()));
        line.append(",\"partition\":").append(record.partition());
        line.append(",\"offset\":").append(record.offset());
        line.append(",\"timestamp\":").append(record.timestamp());
        line.append(",\"timestamp_type\":").append(str(record.timestampType().name));
        line.append(",\"key\":").append(b64(record.key()));
        line.append(",\"value\":").append(b64(record.value()));
        line.append(",\"headers\":[");
        boolean first = true;
        for (Header header : record.headers()) {
            if (!first) {
                line.append(',');
            }
            first = false;
            line.append('[').append(str(header.key())).append(',').append(b64(header.value())).append(']');
        }
        line.append("]}");
        output.println(line);
    }
}
