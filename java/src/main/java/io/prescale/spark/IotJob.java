package io.prescale.spark;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.window;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamReader;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * The IoT streaming job: reads the gateways' reading batches from {@code iot-raw-data},
 * explodes them into readings, and keeps per-sensor aggregates (count, mean, max of the first
 * value) per 10 s event-time window with a 20 s watermark. Each micro-batch's updated windows
 * go to Redis (the hot tier; hash {@code prescale:hot:agg:SENSOR:WINDOW_START_MS}) and, as
 * JSON, to {@code iot-processed}.
 *
 * <p>Arguments (--key value): brokers, input (iot-raw-data), output (iot-processed), redis
 * (host:port, empty = none), work-us (CPU burnt per reading, so a burst really loads the
 * executors; 0), work-mode (cpu: spin; sleep: hold the task slot without a core, see
 * {@link ReadingWork}; cpu), trigger-ms (1000), checkpoint (a directory), shuffle-partitions (8),
 * read-partitions (Kafka source minPartitions: tasks the reading stage splits into, so the
 * per-reading work spreads over the executors even when the topic has one partition; 0 = one
 * task per topic partition), redis-retry-ms (how long a batch waits for an unreachable Redis,
 * retrying, before its tasks fail; 120000), max-restarts (failed queries started again from the
 * checkpoint in a row before the job gives up; 10).
 */
public final class IotJob {
  private static final Logger LOG = LoggerFactory.getLogger(IotJob.class);
  // One per task thread on the executors.
  private static final ThreadLocal<ReadingWork> WORK = new ThreadLocal<>();

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    a.put("input", "iot-raw-data");
    a.put("output", "iot-processed");
    a.put("redis", "");
    a.put("work-us", "0");
    a.put("work-mode", "cpu");
    a.put("trigger-ms", "1000");
    a.put("shuffle-partitions", "8");
    a.put("read-partitions", "0");
    a.put("redis-retry-ms", "120000");
    a.put("max-restarts", "10");
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) throw new IllegalArgumentException("argument " + argv[i] + ": expected --key value");
      a.put(argv[i].substring(2), argv[i + 1]);
    }
    for (String k : new String[] {"brokers", "checkpoint"})
      if (!a.containsKey(k)) throw new IllegalArgumentException("--" + k + ": missing");
    final long workNs = Long.parseLong(a.get("work-us")) * 1000L;
    final String redis = a.get("redis");
    final long redisRetryMs = Long.parseLong(a.get("redis-retry-ms"));

    SparkSession spark = SparkSession.builder().appName("prescale-iot").getOrCreate();
    spark.conf().set("spark.sql.shuffle.partitions", a.get("shuffle-partitions"));
    final String workMode = a.get("work-mode");
    new ReadingWork(workMode, workNs);  // validates the options before the query starts
    spark.udf().register("work", (UDF1<Double, Double>) v -> {
      ReadingWork w = WORK.get();
      if (w == null) {
        w = new ReadingWork(workMode, workNs);
        WORK.set(w);
      }
      return w.apply(v == null ? 0 : v);
    }, DataTypes.DoubleType);

    StructType reading = new StructType()
        .add("sensor", DataTypes.StringType)
        .add("ts_ms", DataTypes.LongType)
        .add("values", DataTypes.createArrayType(DataTypes.DoubleType));
    StructType batch = new StructType()
        .add("device", DataTypes.StringType)
        .add("readings", DataTypes.createArrayType(reading));

    DataStreamReader source = spark.readStream().format("kafka")
        .option("kafka.bootstrap.servers", a.get("brokers"))
        .option("subscribe", a.get("input"))
        .option("startingOffsets", "latest")
        .option("failOnDataLoss", "false");
    final int readPartitions = Integer.parseInt(a.get("read-partitions"));
    if (readPartitions < 0) throw new IllegalArgumentException("--read-partitions: expected >= 0, got " + readPartitions);
    if (readPartitions > 0) source = source.option("minPartitions", Integer.toString(readPartitions));
    // The readings per Kafka message, for the controller (ProgressListener publishes the
    // ratio): Spark's own row counts are messages. Counted per message, before the explode,
    // so a stage Spark recomputes counts both numbers again and the ratio stays right.
    Dataset<Row> readings = source.load()
        .select(from_json(col("value").cast("string"), batch).as("b"))
        .observe(ProgressListener.OBSERVED,
            sum(when(col("b.readings").isNull(), lit(0)).otherwise(size(col("b.readings")))).as("readings"),
            count(lit(1)).as("messages"))
        .select(explode(col("b.readings")).as("r"))
        .select(col("r.sensor").as("sensor"),
            col("r.ts_ms").divide(1000).cast("timestamp").as("ts"),
            org.apache.spark.sql.functions.callUDF("work", col("r.values").getItem(0)).as("value"));

    Dataset<Row> agg = readings.withWatermark("ts", "20 seconds")
        .groupBy(window(col("ts"), "10 seconds"), col("sensor"))
        .agg(count("*").as("count"), avg("value").as("mean"), max("value").as("max"))
        .select(col("sensor"), col("window.start").as("window_start"), col("count"), col("mean"), col("max"));

    final String brokers = a.get("brokers");
    final String output = a.get("output");
    VoidFunction2<Dataset<Row>, Long> sink = (df, id) -> {
      df.persist();
      if (!redis.isEmpty()) {
        df.foreachPartition((Iterator<Row> rows) -> {
          String[] hp = redis.split(":");
          Map<String, Map<String, String>> windows = new LinkedHashMap<>();
          while (rows.hasNext()) {
            Row r = rows.next();
            Map<String, String> h = new HashMap<>();
            h.put("count", String.valueOf(r.getLong(2)));
            h.put("mean", String.valueOf(r.getDouble(3)));
            h.put("max", String.valueOf(r.getDouble(4)));
            windows.put("prescale:hot:agg:" + r.getString(0) + ":" + r.getTimestamp(1).getTime(), h);
          }
          // Redis restarting (or briefly unreachable) holds the batch, not fails it: HSET of
          // the same fields is idempotent, so the whole partition is written again.
          int retries = new Retry(redisRetryMs, 200, 5000, IotJob::redisUnreachable).run(() -> {
            try (Jedis j = new Jedis(hp[0], Integer.parseInt(hp[1]))) {
              Pipeline pl = j.pipelined();
              for (Map.Entry<String, Map<String, String>> w : windows.entrySet()) pl.hset(w.getKey(), w.getValue());
              pl.sync();
            }
          });
          if (retries > 0) LOG.warn("prescale: Redis at {} was unreachable; written after {} retries", redis, retries);
        });
      }
      df.selectExpr("CAST(sensor AS STRING) AS key", "to_json(struct(*)) AS value")
          .write().format("kafka")
          .option("kafka.bootstrap.servers", brokers)
          .option("topic", output)
          .save();
      df.unpersist();
    };
    // A query that fails (a sink or source error that outlasted its retries) is started again
    // from its checkpoint, as a cluster manager restarts a failed job, after a back-off of 5 s
    // doubling to 60 s; --max-restarts failures in a row (a query that ran 2 minutes resets
    // the count) end the job with the last error. The batch that failed runs again from the
    // offsets in the checkpoint; the Redis sink's HSETs are idempotent.
    final int maxRestarts = Integer.parseInt(a.get("max-restarts"));
    long backoffMs = 5000;
    for (int failures = 0;; ) {
      StreamingQuery query = agg.writeStream()
          .queryName("prescale-iot")
          .outputMode("update")
          .foreachBatch(sink)
          .option("checkpointLocation", a.get("checkpoint"))
          .trigger(Trigger.ProcessingTime(Long.parseLong(a.get("trigger-ms"))))
          .start();
      // At INFO under the stack's log4j2 configuration, where Spark's own lines are at WARN
      // (scripts/stack/iot-job.sh waits for this line).
      LOG.info("prescale: Starting prescale-iot (query {}, trigger {} ms, checkpoint {})", query.id(),
          a.get("trigger-ms"), a.get("checkpoint"));
      final long started = System.currentTimeMillis();
      try {
        query.awaitTermination();
        return;  // stopped, not failed
      } catch (StreamingQueryException e) {
        if (spark.sparkContext().isStopped()) throw e;  // the application is ending: no restart
        if (System.currentTimeMillis() - started >= 120_000) {
          failures = 0;
          backoffMs = 5000;
        }
        if (++failures > maxRestarts) throw e;
        LOG.warn("prescale: the query failed ({}); restarting it from the checkpoint in {} ms (failure {} in a row, "
            + "at most {})", rootMessage(e), backoffMs, failures, maxRestarts);
        Thread.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 60_000);
      }
    }
  }

  /** Whether an error is Redis being unreachable (refused, reset, timed out). */
  static boolean redisUnreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause())
      if (t instanceof JedisConnectionException) return true;
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
