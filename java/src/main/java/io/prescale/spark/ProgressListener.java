package io.prescale.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.SourceProgress;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * Publishes each micro-batch's progress to {@code iot-metrics} in the Progress format
 * (docs/controller.md), with the offsets behind latest and the live executor count. Enable
 * with {@code spark.sql.streaming.streamingQueryListeners=io.prescale.spark.ProgressListener}
 * and {@code spark.prescale.kafka.bootstrap}; topic {@code spark.prescale.metricsTopic}.
 *
 * <p>It also says what the controller must not guess (optional fields; a controller from
 * before them ignores them): the plugin's bounds {@code min_executors}/{@code max_executors}
 * when the application runs the plugin, the lease epoch it applies ({@code lease_epoch}, once
 * it applied a command), and {@code records_per_message}, the readings per
 * Kafka message of the batch, when the query observes them: a Dataset.observe named
 * {@value #OBSERVED} with the long columns {@code readings} and {@code messages} (IotJob does;
 * Spark's own row counts are Kafka messages).
 */
public final class ProgressListener extends StreamingQueryListener {
  /** The observed metrics' name (Dataset.observe) a job counts its readings under. */
  public static final String OBSERVED = "prescale";

  private static final ObjectMapper JSON = new ObjectMapper();
  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final int[] bounds;  // the plugin's {min, max}; null without the plugin
  private volatile long lastBatch = 0;

  public ProgressListener(SparkConf conf) {
    Properties p = new Properties();
    p.put("bootstrap.servers", conf.get("spark.prescale.kafka.bootstrap"));
    p.put("linger.ms", "0");
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    producer = new KafkaProducer<>(p);
    topic = conf.get("spark.prescale.metricsTopic", "iot-metrics");
    bounds = pluginBounds(conf);
  }

  @Override
  public void onQueryStarted(QueryStartedEvent event) {}

  @Override
  public void onQueryProgress(QueryProgressEvent event) {
    lastBatch = Math.max(lastBatch, event.progress().batchId());
    ObjectNode j = encode(event.progress(), liveExecutors());
    addJobFacts(j, bounds, readingsPerMessage(event.progress().observedMetrics()), ScalingDriverPlugin.appliedEpoch());
    producer.send(new ProducerRecord<>(topic, "progress", j.toString()));
  }

  /** Spark 3.5 reports an idle query here instead of as progress: load 0, still fresh. */
  @Override
  public void onQueryIdle(QueryIdleEvent event) {
    ObjectNode j = JSON.createObjectNode();
    j.put("v", 1);
    j.put("type", "progress");
    j.put("app", String.valueOf(event.id()));
    j.put("ts_ms", System.currentTimeMillis());
    j.put("batch_id", lastBatch);
    j.put("input_rows_per_s", 0.0);
    j.put("processed_rows_per_s", 0.0);
    j.put("batch_duration_ms", 0.0);
    j.put("num_input_rows", 0);
    j.put("offsets_behind", 0);
    j.put("executors_active", liveExecutors());
    j.put("event_latency_ms", 0.0);
    addJobFacts(j, bounds, 0, ScalingDriverPlugin.appliedEpoch());  // no rows: nothing measured
    producer.send(new ProducerRecord<>(topic, "progress", j.toString()));
  }

  @Override
  public void onQueryTerminated(QueryTerminatedEvent event) {
    producer.flush();
  }

  static int liveExecutors() {
    // The status tracker lists the driver too.
    return Math.max(0, SparkContext.getOrCreate().statusTracker().getExecutorInfos().length - 1);
  }

  /** The plugin's {min, max} when the application runs it, else null. */
  static int[] pluginBounds(SparkConf conf) {
    return ScalingDriverPlugin.installed(conf) ? ScalingDriverPlugin.bounds(conf) : null;
  }

  /**
   * Readings per Kafka message of the batch, from the observed metrics {@value #OBSERVED}
   * (readings, messages); 0 when the query does not observe them or the batch had no messages.
   */
  static double readingsPerMessage(Map<String, Row> observed) {
    Row r = observed == null ? null : observed.get(OBSERVED);
    if (r == null) return 0;
    try {
      int ri = r.fieldIndex("readings"), mi = r.fieldIndex("messages");
      if (r.isNullAt(ri) || r.isNullAt(mi)) return 0;
      long readings = ((Number) r.get(ri)).longValue();
      long messages = ((Number) r.get(mi)).longValue();
      return messages > 0 && readings >= 0 ? (double) readings / messages : 0;
    } catch (IllegalArgumentException | UnsupportedOperationException | ClassCastException e) {
      return 0;  // not the shape this listener knows: say nothing rather than something wrong
    }
  }

  /**
   * Adds the optional facts that are known: the bounds (a pair), readings per message, and the
   * lease epoch whose commands the plugin applies (a controller with a lower one is ignored).
   */
  static void addJobFacts(ObjectNode j, int[] bounds, double readingsPerMessage, long leaseEpoch) {
    if (bounds != null && bounds.length == 2 && bounds[1] >= 1 && bounds[0] >= 0 && bounds[0] <= bounds[1]) {
      j.put("min_executors", bounds[0]);
      j.put("max_executors", bounds[1]);
    }
    if (readingsPerMessage > 0 && Double.isFinite(readingsPerMessage))
      j.put("records_per_message", readingsPerMessage);
    if (leaseEpoch > 0) j.put("lease_epoch", leaseEpoch);
  }

  static ObjectNode encode(StreamingQueryProgress p, int executors) {
    ObjectNode j = JSON.createObjectNode();
    j.put("v", 1);
    j.put("type", "progress");
    j.put("app", p.name() == null ? String.valueOf(p.id()) : p.name());
    j.put("ts_ms", System.currentTimeMillis());
    j.put("batch_id", p.batchId());
    j.put("input_rows_per_s", finite(p.inputRowsPerSecond()));
    j.put("processed_rows_per_s", finite(p.processedRowsPerSecond()));
    Long trigger = p.durationMs().get("triggerExecution");
    j.put("batch_duration_ms", trigger == null ? 0.0 : trigger.doubleValue());
    j.put("num_input_rows", p.numInputRows());
    long behind = 0;
    for (SourceProgress s : p.sources()) {
      Map<String, String> m = s.metrics();
      String v = m == null ? null : m.get("maxOffsetsBehindLatest");
      if (v != null) {
        try {
          behind += (long) Double.parseDouble(v);
        } catch (NumberFormatException ignored) {
          // absent or "NaN" before the first batch
        }
      }
    }
    j.put("offsets_behind", Math.max(0, behind));
    j.put("executors_active", executors);
    j.put("event_latency_ms", eventLatencyMs(p, trigger == null ? 0 : trigger));
    return j;
  }

  /**
   * The oldest reading's age when its batch finished: the batch's start plus its duration
   * minus the minimum event time Spark saw in it (reported because the query has a
   * watermark); 0 when the batch had no rows.
   */
  static double eventLatencyMs(StreamingQueryProgress p, long durationMs) {
    Map<String, String> et = p.eventTime();
    String min = et == null ? null : et.get("min");
    if (min == null || p.timestamp() == null) return 0.0;
    try {
      long end = Instant.parse(p.timestamp()).toEpochMilli() + durationMs;
      return Math.max(0.0, (double) (end - Instant.parse(min).toEpochMilli()));
    } catch (DateTimeParseException e) {
      return 0.0;
    }
  }

  private static double finite(double x) {
    return Double.isFinite(x) && x >= 0 ? x : 0.0;
  }
}
