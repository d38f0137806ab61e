package io.prescale.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadingWorkTest {
  @Test
  void sleepModeHoldsTheSlotForEveryReadingsWorkInPieces() {
    List<Long> slept = new ArrayList<>();
    // A sleeper that oversleeps by 10%: the next readings pay it back.
    ReadingWork w = new ReadingWork("sleep", 400_000L, ns -> {
      long took = ns + ns / 10;
      slept.add(took);
      return took;
    });
    for (int i = 0; i < 10_000; i++) assertEquals(1.5, w.apply(1.5));
    long total = slept.stream().mapToLong(Long::longValue).sum();
    // 10,000 x 400 us = 4 s, to within one piece; never a sleep shorter than a piece.
    assertEquals(4_000_000_000L, total + w.owedNs(), 1.0);
    assertTrue(Math.abs(w.owedNs()) < ReadingWork.MIN_SLEEP_NS + 400_000L, "owed " + w.owedNs());
    for (long s : slept) assertTrue(s >= ReadingWork.MIN_SLEEP_NS, "slept " + s);
    assertTrue(slept.size() < 10_000 / 4, "pieces " + slept.size());
  }

  @Test
  void noWorkAndCpuModeNeverSleep() {
    ReadingWork none = new ReadingWork("sleep", 0, ns -> fail("slept"));
    assertEquals(2.0, none.apply(2.0));
    ReadingWork cpu = new ReadingWork("cpu", 1_000L, ns -> fail("slept"));
    assertEquals(3.0, cpu.apply(3.0));
  }

  @Test
  void rejectsAnUnknownModeOrNegativeWorkNamingTheOption() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new ReadingWork("gpu", 1));
    assertTrue(e.getMessage().contains("--work-mode"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ReadingWork("cpu", -1000));
    assertTrue(e.getMessage().contains("--work-us"), e.getMessage());
  }
}
