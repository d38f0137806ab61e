package io.prescale.spark;

/**
 * Which commands the plugin applies: only newer ones (seq strictly increasing), only fresh
 * ones (ts_ms within {@code staleMs} of the driver's clock), and always clamped to
 * [min, max] executors. Pure logic, unit-tested; the plugin does the I/O.
 */
public final class ScaleGate {
  /** What to do with one command. */
  public static final class Verdict {
    public final boolean apply;
    public final int target;  // clamped; meaningful when apply
    public final String why;

    Verdict(boolean apply, int target, String why) {
      this.apply = apply;
      this.target = target;
      this.why = why;
    }
  }

  private final int min;
  private final int max;
  private final long staleMs;
  private long lastSeq = -1;

  public ScaleGate(int min, int max, long staleMs) {
    if (min < 0 || max < min) throw new IllegalArgumentException("bounds: expected 0 <= min <= max, got [" + min + ", " + max + "]");
    this.min = min;
    this.max = max;
    this.staleMs = staleMs;
  }

  public Verdict judge(ScaleCommand c, long nowMs) {
    if (c.seq <= lastSeq)
      return new Verdict(false, 0, "ignored: seq " + c.seq + " is not after " + lastSeq + " (repeat or out of order)");
    if (nowMs - c.tsMs > staleMs)
      return new Verdict(false, 0, "ignored: stale (" + (nowMs - c.tsMs) + " ms old, limit " + staleMs + " ms)");
    lastSeq = c.seq;
    int t = Math.max(min, Math.min(max, c.targetExecutors));
    String why = t == c.targetExecutors ? "apply " + t : "apply " + t + " (clamped from " + c.targetExecutors + " to [" + min + ", " + max + "])";
    return new Verdict(true, t, why);
  }

  public long lastSeq() {
    return lastSeq;
  }
}
