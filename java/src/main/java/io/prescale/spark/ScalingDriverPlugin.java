package io.prescale.spark;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code scale_to} commands from {@code iot-control} to the running application.
 *
 * <p>Settings (SparkConf): {@code spark.prescale.kafka.bootstrap} (required),
 * {@code spark.prescale.controlTopic} (iot-control), {@code spark.prescale.minExecutors} (1),
 * {@code spark.prescale.maxExecutors} (8), {@code spark.prescale.staleMs} (30000),
 * {@code spark.prescale.provisionDelayMs} (0: an emulated cold start before a scale-up is
 * requested, to show the 60 s serverless delay on one machine), {@code spark.prescale.reconcileMs}
 * (15000: a repeated command whose target is not what the job has this long after the last
 * change is applied again).
 *
 * <p>The traps (../shared/stack.md): the consumer thread starts from {@link #registerMetrics},
 * after the scheduler backend exists; the size is set with {@code requestTotalExecutors}
 * (never {@code requestExecutors}, which adds to a target that starts at 0); a scale-down
 * first pins the total at the executors that stay, then kills the newest of them
 * ({@link ExecutorBook}). Spark reports kills late and a standalone master may launch a
 * replacement; the controller repeats its target every tick, and a repeat that finds the job
 * off target once the last change has had {@code reconcileMs} to land applies it again.
 */
public final class ScalingDriverPlugin implements DriverPlugin {
  private static final Logger LOG = LoggerFactory.getLogger(ScalingDriverPlugin.class);
  static final int DEFAULT_MIN_EXECUTORS = 1;
  static final int DEFAULT_MAX_EXECUTORS = 8;

  /** Whether the application runs the plugin ({@code spark.plugins} names it). */
  static boolean installed(SparkConf conf) {
    for (String p : conf.get("spark.plugins", "").split(","))
      if (p.trim().equals(PrescalePlugin.class.getName())) return true;
    return false;
  }

  /** The bounds every command is clamped to: {min, max}. */
  static int[] bounds(SparkConf conf) {
    return new int[] {conf.getInt("spark.prescale.minExecutors", DEFAULT_MIN_EXECUTORS),
        conf.getInt("spark.prescale.maxExecutors", DEFAULT_MAX_EXECUTORS)};
  }

  private SparkContext sc;
  private ScaleGate gate;
  private String bootstrap;
  private String topic;
  private long provisionDelayMs;
  private long reconcileMs;
  private final ExecutorBook book = new ExecutorBook();
  private volatile long settleByMs = 0;  // the last change has landed by then, or it is applied again
  private final AtomicBoolean running = new AtomicBoolean(false);
  private Thread thread;
  private ScheduledExecutorService delayed;
  private volatile int target = -1;
  // The lease epoch of the commands applied, for ProgressListener (one driver per JVM).
  private static final AtomicLong APPLIED_EPOCH = new AtomicLong(0);

  /** The lease epoch whose commands the plugin applies now (0: none applied yet). */
  static long appliedEpoch() {
    return APPLIED_EPOCH.get();
  }

  @Override
  public Map<String, String> init(SparkContext sc, PluginContext ctx) {
    this.sc = sc;
    SparkConf conf = sc.getConf();
    bootstrap = conf.get("spark.prescale.kafka.bootstrap", "");
    if (bootstrap.isEmpty())
      throw new IllegalArgumentException("spark.prescale.kafka.bootstrap: missing (the controller's Kafka)");
    topic = conf.get("spark.prescale.controlTopic", "iot-control");
    int[] b = bounds(conf);
    gate = new ScaleGate(b[0], b[1], conf.getLong("spark.prescale.staleMs", 30_000));
    provisionDelayMs = conf.getLong("spark.prescale.provisionDelayMs", 0);
    reconcileMs = conf.getLong("spark.prescale.reconcileMs", 15_000);
    sc.addSparkListener(new SparkListener() {
      @Override
      public void onExecutorAdded(SparkListenerExecutorAdded e) {
        book.added(Integer.parseInt(e.executorId()));
      }

      @Override
      public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
        book.removed(Integer.parseInt(e.executorId()));
      }
    });
    return Collections.emptyMap();
  }

  @Override
  public void registerMetrics(String appId, PluginContext ctx) {
    delayed = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "prescale-provision");
      t.setDaemon(true);
      return t;
    });
    running.set(true);
    thread = new Thread(this::consume, "prescale-scale-to");
    thread.setDaemon(true);
    thread.start();
    LOG.info("prescale: applying scale_to from {} at {} (executors [{}, {}], provision delay {} ms)", topic, bootstrap,
        gate.min(), gate.max(), provisionDelayMs);
  }

  @Override
  public void shutdown() {
    running.set(false);
    if (thread != null) thread.interrupt();
    if (delayed != null) delayed.shutdownNow();
  }

  private void consume() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", "prescale-plugin-" + sc.applicationId());
    p.put("enable.auto.commit", "false");
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    p.put("fetch.max.wait.ms", "50");
    while (running.get()) {
      try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
        List<TopicPartition> parts = new ArrayList<>();
        c.partitionsFor(topic).forEach(pi -> parts.add(new TopicPartition(topic, pi.partition())));
        c.assign(parts);
        c.seekToEnd(parts);  // only commands issued from now on
        while (running.get()) {
          for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) handle(r.value());
        }
      } catch (org.apache.kafka.common.errors.InterruptException e) {
        return;
      } catch (Exception e) {
        LOG.warn("prescale: control consumer failed ({}); retrying in 2 s", e.toString());
        try {
          Thread.sleep(2000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  void handle(String json) {
    ScaleCommand cmd;
    try {
      cmd = ScaleCommand.parse(json);
    } catch (IllegalArgumentException e) {
      LOG.warn("prescale: rejected a command: {}", e.getMessage());
      return;
    }
    ScaleGate.Verdict v = gate.judge(cmd, System.currentTimeMillis());
    if (!v.apply) {
      if (v.log) LOG.info("prescale: seq {} (epoch {}): {}", cmd.seq, cmd.epoch, v.why);
      return;
    }
    APPLIED_EPOCH.set(gate.epoch());
    final long now = System.currentTimeMillis();
    final int staying = book.staying();
    if (v.target == target) {  // nothing to change, unless the job is still off target
      if (staying != target && now >= settleByMs) {
        LOG.info("prescale: seq {} (epoch {}): {} executor(s) stay, target {}: applying it again", cmd.seq, cmd.epoch,
            staying, target);
        apply(target, cmd.seq);
      } else if (v.newLease) {  // a new holder is still worth a line
        LOG.info("prescale: seq {} (epoch {}): {}, target unchanged", cmd.seq, cmd.epoch, v.why);
      }
      return;
    }
    if (v.target > staying && provisionDelayMs > 0) {
      LOG.info("prescale: seq {} (epoch {}) -> {} executors ({}; {}): provisioning, emulated delay {} ms", cmd.seq,
          cmd.epoch, v.target, v.why, cmd.reason, provisionDelayMs);
      final int t = v.target;
      target = t;
      settleByMs = now + provisionDelayMs + reconcileMs;
      delayed.schedule(() -> apply(t, cmd.seq), provisionDelayMs, TimeUnit.MILLISECONDS);
      return;
    }
    LOG.info("prescale: seq {} (epoch {}) -> {} executors ({}; {})", cmd.seq, cmd.epoch, v.target, v.why, cmd.reason);
    target = v.target;
    apply(v.target, cmd.seq);
  }

  /**
   * Whether a scale-up to {@code wanted}, requested {@code provisionDelayMs} ago, is requested
   * now that its delay has passed, the target being {@code target} and {@code staying}
   * executors staying. Each request provisions from when it was made, as a cloud's nodes do:
   * a higher target that arrived meanwhile does not restart the clock of the executors asked
   * for first (they come now, the rest when the later request's delay has passed); a lower
   * one cancels them (it was applied on its own).
   */
  static boolean provisioned(int wanted, int target, int staying) {
    if (wanted > target) return false;  // lowered while it waited
    return wanted == target || wanted > staying;  // raised: the first ones, if they add any
  }

  private synchronized void apply(int wanted, long seq) {
    if (!provisioned(wanted, target, book.staying())) return;  // superseded while it waited
    settleByMs = System.currentTimeMillis() + reconcileMs;
    final int staying = book.staying();
    List<Integer> kill = book.release(wanted);
    scala.collection.immutable.Map<String, Object> none = scala.collection.immutable.Map$.MODULE$.empty();
    boolean killed = true;
    if (!kill.isEmpty()) {
      sc.requestTotalExecutors(staying, 0, none);  // pin the total before the kills lower it
      List<String> ids = kill.stream().map(String::valueOf).toList();
      killed = sc.killExecutors(scala.collection.JavaConverters.asScalaBuffer(ids).toSeq());
      if (!killed) book.kept(kill);  // the next repeat tries again
    }
    boolean ok = sc.requestTotalExecutors(wanted, 0, none);
    LOG.info("prescale: seq {} applied: total {} (was {} staying{}), accepted={}", seq, wanted, staying,
        kill.isEmpty() ? "" : ", killed " + kill + (killed ? "" : " (refused)"), ok);
  }
}
