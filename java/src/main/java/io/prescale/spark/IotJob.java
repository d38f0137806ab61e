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
import java.util.Map;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamReader;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;

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
 * task per topic partition).
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
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) throw new IllegalArgumentException("argument " + argv[i] + ": expected --key value");
      a.put(argv[i].substring(2), argv[i + 1]);
    }
    for (String k : new String[] {"brokers", "checkpoint"})
      if (!a.containsKey(k)) throw new IllegalArgumentException("--" + k + ": missing");
    final long workNs = Long.parseLong(a.get("work-us")) * 1000L;
    final String redis = a.get("redis");

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
          try (Jedis j = new Jedis(hp[0], Integer.parseInt(hp[1]))) {
            Pipeline pl = j.pipelined();
            while (rows.hasNext()) {
              Row r = rows.next();
              String key = "prescale:hot:agg:" + r.getString(0) + ":" + r.getTimestamp(1).getTime();
              Map<String, String> h = new HashMap<>();
              h.put("count", String.valueOf(r.getLong(2)));
              h.put("mean", String.valueOf(r.getDouble(3)));
              h.put("max", String.valueOf(r.getDouble(4)));
              pl.hset(key, h);
            }
            pl.sync();
          }
        });
      }
      df.selectExpr("CAST(sensor AS STRING) AS key", "to_json(struct(*)) AS value")
          .write().format("kafka")
          .option("kafka.bootstrap.servers", brokers)
          .option("topic", output)
          .save();
      df.unpersist();
    };
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
    query.awaitTermination();
  }
}
