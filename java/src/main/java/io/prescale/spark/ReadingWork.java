package io.prescale.spark;

import java.util.concurrent.locks.LockSupport;
import java.util.function.LongUnaryOperator;

/**
 * The per-reading work of the IoT job (--work-us, --work-mode), so a burst really loads the
 * executors' task slots.
 *
 * <ul>
 *   <li>{@code cpu}: spins for work-us on the task's thread.
 *   <li>{@code sleep}: holds the task slot for work-us without using a core, like an
 *       I/O-bound enrichment (a lookup, a remote call) would. The time owed is accumulated
 *       per thread and slept in pieces of at least {@link #MIN_SLEEP_NS}; oversleeping is
 *       paid back by the next readings, so over a batch the slot is held for (readings x
 *       work-us) to within one piece. This lets a 2-core machine run 3+ one-core executors
 *       whose capacity adds up, as a larger cluster's would, without the spinning threads
 *       starving the broker, the driver and the controller.
 * </ul>
 *
 * <p>One instance per task thread (not thread-safe).
 */
final class ReadingWork {
  static final long MIN_SLEEP_NS = 2_000_000L;

  private final boolean spin;
  private final long workNs;
  private final LongUnaryOperator sleeper;  // sleeps about n ns, returns the ns it took
  private long owedNs;

  ReadingWork(String mode, long workNs) {
    this(mode, workNs, ReadingWork::park);
  }

  ReadingWork(String mode, long workNs, LongUnaryOperator sleeper) {
    if (!mode.equals("cpu") && !mode.equals("sleep"))
      throw new IllegalArgumentException("--work-mode: expected cpu or sleep, got '" + mode + "'");
    if (workNs < 0) throw new IllegalArgumentException("--work-us: expected >= 0, got " + workNs / 1000);
    this.spin = mode.equals("cpu");
    this.workNs = workNs;
    this.sleeper = sleeper;
  }

  /** One reading's work; returns v unchanged (the work is deterministic in its result). */
  double apply(double v) {
    if (workNs == 0) return v;
    if (spin) {
      long end = System.nanoTime() + workNs;
      double x = v;
      while (System.nanoTime() < end) x = Math.sqrt(x * x + 1e-9);
      return v;
    }
    owedNs += workNs;
    if (owedNs >= MIN_SLEEP_NS) owedNs -= sleeper.applyAsLong(owedNs);
    return v;
  }

  long owedNs() {
    return owedNs;
  }

  private static long park(long ns) {
    long t0 = System.nanoTime();
    LockSupport.parkNanos(ns);
    return System.nanoTime() - t0;
  }
}
