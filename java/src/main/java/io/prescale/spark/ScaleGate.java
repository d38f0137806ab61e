package io.prescale.spark;

import java.util.HashSet;
import java.util.Set;

/**
 * Which commands the plugin applies: only the newest controller's (the highest lease epoch
 * seen), within it only newer ones (seq strictly increasing), only fresh ones (ts_ms within
 * {@code staleMs} of the driver's clock), and always clamped to [min, max] executors. Pure
 * logic, unit-tested; the plugin does the I/O.
 *
 * <p>Epochs (docs/controller.md, "One controller per job"): a controller that takes the
 * job's lease gets a larger epoch than any before it. A command of a lower epoch than the
 * highest seen comes from a controller that lost the lease (or never had it) and is ignored,
 * its verdict logged once per stale epoch, not once per command (such a controller sends
 * every tick). A higher epoch is a new holder: accepted, and its seqs start a new order
 * (seqs are per controller). An equal epoch keeps the seq rule. Commands without an epoch
 * (controllers from before leases) have epoch 0.
 */
public final class ScaleGate {
  /** What to do with one command. */
  public static final class Verdict {
    public final boolean apply;
    public final int target;  // clamped; meaningful when apply
    public final String why;
    public final boolean log;  // false: an ignored command already reported (a stale epoch's)
    public final boolean newLease;  // applied, and its epoch is above every one before it

    Verdict(boolean apply, int target, String why) {
      this(apply, target, why, true, false);
    }

    Verdict(boolean apply, int target, String why, boolean log, boolean newLease) {
      this.apply = apply;
      this.target = target;
      this.why = why;
      this.log = log;
      this.newLease = newLease;
    }
  }

  private final int min;
  private final int max;
  private final long staleMs;
  private long epoch = 0;
  private long lastSeq = -1;
  private final Set<Long> reportedStaleEpochs = new HashSet<>();  // since the current epoch began

  public ScaleGate(int min, int max, long staleMs) {
    if (min < 0 || max < min) throw new IllegalArgumentException("bounds: expected 0 <= min <= max, got [" + min + ", " + max + "]");
    this.min = min;
    this.max = max;
    this.staleMs = staleMs;
  }

  public Verdict judge(ScaleCommand c, long nowMs) {
    if (c.epoch < epoch) {
      boolean first = reportedStaleEpochs.add(c.epoch);
      return new Verdict(false, 0,
          "ignored: epoch " + c.epoch + " is older than the current lease's " + epoch + " (another controller?)", first, false);
    }
    boolean newLease = c.epoch > epoch;
    if (!newLease && c.seq <= lastSeq)
      return new Verdict(false, 0, "ignored: seq " + c.seq + " is not after " + lastSeq + " (repeat or out of order)");
    if (nowMs - c.tsMs > staleMs)
      return new Verdict(false, 0, "ignored: stale (" + (nowMs - c.tsMs) + " ms old, limit " + staleMs + " ms)");
    String lease = "";
    if (newLease) {
      lease = " (new lease: epoch " + c.epoch + " after " + epoch + ")";
      epoch = c.epoch;
      reportedStaleEpochs.clear();
    }
    lastSeq = c.seq;
    int t = Math.max(min, Math.min(max, c.targetExecutors));
    String why = (t == c.targetExecutors ? "apply " + t : "apply " + t + " (clamped from " + c.targetExecutors + " to [" + min + ", " + max + "])") + lease;
    return new Verdict(true, t, why, true, newLease);
  }

  public int min() {
    return min;
  }

  public int max() {
    return max;
  }

  public long lastSeq() {
    return lastSeq;
  }

  /** The highest lease epoch applied so far (0: none, or only controllers from before leases). */
  public long epoch() {
    return epoch;
  }
}
