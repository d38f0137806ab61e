package io.prescale.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryTest {
  private long now = 0;
  private final List<Long> slept = new ArrayList<>();

  private Retry retry(long budgetMs) {
    return new Retry(budgetMs, 100, 1000, e -> e instanceof IOException, () -> now, ms -> {
      slept.add(ms);
      now += ms;
    });
  }

  @Test
  void transientFailuresAreRetriedWithDoublingBackoffUntilTheActionSucceeds() throws Exception {
    int[] calls = {0};
    int retries = retry(60_000).run(() -> {
      if (++calls[0] <= 6) throw new IOException("Connection refused");
    });
    assertEquals(6, retries);
    assertEquals(7, calls[0]);
    assertEquals(List.of(100L, 200L, 400L, 800L, 1000L, 1000L), slept);
  }

  @Test
  void pastTheBudgetTheLastErrorIsThrown() {
    IOException e = assertThrows(IOException.class, () -> retry(1500).run(() -> {
      throw new IOException("down for good");
    }));
    assertEquals("down for good", e.getMessage());
    // 100 + 200 + 400 + 800 would pass 1500: the last sleep is cut to what is left.
    assertEquals(List.of(100L, 200L, 400L, 800L), slept);
    assertEquals(1500, now);
  }

  @Test
  void otherErrorsAreNotRetried() {
    assertThrows(IllegalStateException.class, () -> retry(60_000).run(() -> {
      throw new IllegalStateException("a bug, not an outage");
    }));
    assertTrue(slept.isEmpty());
  }

  @Test
  void aZeroBudgetTriesOnce() {
    int[] calls = {0};
    assertThrows(IOException.class, () -> retry(0).run(() -> {
      calls[0]++;
      throw new IOException("refused");
    }));
    assertEquals(1, calls[0]);
  }

  @Test
  void badSettingsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Retry(-1, 100, 1000, e -> true));
    assertThrows(IllegalArgumentException.class, () -> new Retry(1000, 0, 1000, e -> true));
    assertThrows(IllegalArgumentException.class, () -> new Retry(1000, 500, 100, e -> true));
  }
}
