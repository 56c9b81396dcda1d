// A broker plugin for tests of KIP-714 client metrics: a metrics reporter that
// is also the broker's client telemetry receiver (ClientTelemetry). With it
// configured (metric.reporters=TelemetryRecorder) the broker advertises the
// GetTelemetrySubscriptions and PushTelemetry APIs; every push it accepts is
// decoded here with the OpenTelemetry classes Kafka itself ships (shaded in
// kafka-clients) and written to the file named by the broker property
// telemetry.recorder.file, one line per data point:
//
//   <client instance id> \t <terminating> \t <client id> \t <metric name> \t <kind> \t <value>
//
// kind: gauge, sum/delta or sum/cumulative. A payload that is not a MetricsData
// protobuf makes exportMetrics throw, so the broker answers INVALID_RECORD.
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.server.authorizer.AuthorizableRequestContext;
import org.apache.kafka.server.telemetry.ClientTelemetry;
import org.apache.kafka.server.telemetry.ClientTelemetryPayload;
import org.apache.kafka.server.telemetry.ClientTelemetryReceiver;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.Metric;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.MetricsData;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import org.apache.kafka.shaded.io.opentelemetry.proto.metrics.v1.AggregationTemporality;

public class TelemetryRecorder implements MetricsReporter, ClientTelemetry, ClientTelemetryReceiver {
    private volatile Path file;

    @Override
    public void configure(Map<String, ?> configs) {
        Object path = configs.get("telemetry.recorder.file");
        if (path != null) {
            file = Paths.get(path.toString());
        }
    }

    @Override
    public void init(List<KafkaMetric> metrics) {}

    @Override
    public void metricChange(KafkaMetric metric) {}

    @Override
    public void metricRemoval(KafkaMetric metric) {}

    @Override
    public void close() {}

    @Override
    public ClientTelemetryReceiver clientReceiver() {
        return this;
    }

    @Override
    public void exportMetrics(AuthorizableRequestContext context, ClientTelemetryPayload payload) {
        MetricsData data;
        try {
            data = MetricsData.parseFrom(payload.data().duplicate());
        } catch (IOException e) {
            throw new IllegalArgumentException("not an OTLP MetricsData payload", e);
        }
        StringBuilder out = new StringBuilder();
        String prefix = payload.clientInstanceId() + "\t" + payload.isTerminating() + "\t" + context.clientId() + "\t";
        for (ResourceMetrics resource : data.getResourceMetricsList()) {
            for (ScopeMetrics scope : resource.getScopeMetricsList()) {
                for (Metric metric : scope.getMetricsList()) {
                    List<NumberDataPoint> points;
                    String kind;
                    if (metric.hasSum()) {
                        points = metric.getSum().getDataPointsList();
                        kind = metric.getSum().getAggregationTemporality() == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
                            ? "sum/delta" : "sum/cumulative";
                    } else if (metric.hasGauge()) {
                        points = metric.getGauge().getDataPointsList();
                        kind = "gauge";
                    } else {
                        continue;
                    }
                    for (NumberDataPoint point : points) {
                        double value = point.hasAsInt() ? point.getAsInt() : point.getAsDouble();
                        out.append(prefix).append(metric.getName()).append('\t').append(kind)
                            .append('\t').append(value).append('\n');
                    }
                }
            }
        }
        if (out.length() == 0) {
            out.append(prefix).append("-\t-\t0\n");
        }
        Path target = file;
        if (target == null) {
            return;
        }
        synchronized (this) {
            try {
                Files.write(target, out.toString().getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
