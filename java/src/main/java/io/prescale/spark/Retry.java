package io.prescale.spark;

import java.util.function.Predicate;

/**
 * Retries an idempotent action while it fails with an error that a restart of the server it
 * talks to cures (a refused or broken connection), with doubling back-off, for at most
 * {@code budgetMs}; then, or on any other error, the error is thrown as it is. The job's Redis
 * sink writes through it (an {@code HSET} of a window's aggregate may be repeated), so a
 * redis-server restart holds the batch until Redis is back instead of failing its tasks, the
 * batch and the query (found by {@code make chaos}: before, a kill -9 of Redis killed the job).
 * Pure logic with an injectable clock and sleeper, unit-tested.
 */
final class Retry {
  /** The clock (ms) and the sleeper; the defaults are the system's. */
  interface Clock {
    long nowMs();
  }

  interface Sleeper {
    void sleep(long ms) throws InterruptedException;
  }

  /** The action: may throw anything. */
  interface Action {
    void run() throws Exception;
  }

  private final long budgetMs;
  private final long firstBackoffMs;
  private final long maxBackoffMs;
  private final Predicate<Throwable> transient_;
  private final Clock clock;
  private final Sleeper sleeper;

  Retry(long budgetMs, long firstBackoffMs, long maxBackoffMs, Predicate<Throwable> isTransient) {
    this(budgetMs, firstBackoffMs, maxBackoffMs, isTransient, System::currentTimeMillis, Thread::sleep);
  }

  Retry(long budgetMs, long firstBackoffMs, long maxBackoffMs, Predicate<Throwable> isTransient, Clock clock,
      Sleeper sleeper) {
    if (budgetMs < 0 || firstBackoffMs < 1 || maxBackoffMs < firstBackoffMs)
      throw new IllegalArgumentException("retry: expected budget >= 0 and 1 <= first back-off <= max back-off");
    this.budgetMs = budgetMs;
    this.firstBackoffMs = firstBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.transient_ = isTransient;
    this.clock = clock;
    this.sleeper = sleeper;
  }

  /** Runs the action until it succeeds; returns the number of retries it took. */
  int run(Action a) throws Exception {
    final long start = clock.nowMs();
    long backoff = firstBackoffMs;
    for (int retries = 0;; retries++) {
      try {
        a.run();
        return retries;
      } catch (Exception e) {
        long left = budgetMs - (clock.nowMs() - start);
        if (!transient_.test(e) || left <= 0) throw e;
        sleeper.sleep(Math.min(backoff, left));
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }
}
