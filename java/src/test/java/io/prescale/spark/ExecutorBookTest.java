package io.prescale.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExecutorBookTest {
  private static ExecutorBook withLive(int... ids) {
    ExecutorBook b = new ExecutorBook();
    for (int id : ids) b.added(id);
    return b;
  }

  @Test
  void releasesTheNewestExecutorsDownToTheTarget() {
    ExecutorBook b = withLive(1, 2, 5);
    assertEquals(List.of(5, 2), b.release(1));
    assertEquals(1, b.staying());
    assertEquals(List.of(), b.release(1));  // nothing more to do until Spark reports
    assertEquals(List.of(), b.release(3));  // a scale-up kills nothing
  }

  // make validate, 2026-11-28: scale_to 2 then scale_to 1 two seconds apart, before the
  // first kill was reported. The second counted 3 live and killed the leaving executor again.
  @Test
  void aSecondScaleDownBeforeTheFirstKillLandsCountsOnlyTheExecutorsThatStay() {
    ExecutorBook b = withLive(1, 5, 6);
    assertEquals(List.of(6), b.release(2));
    assertEquals(2, b.staying());  // the pin of the next scale-down: 2, not 3
    assertEquals(List.of(5), b.release(1));
    assertEquals(1, b.staying());
    b.removed(6);
    b.removed(5);
    assertEquals(1, b.staying());
    assertEquals(List.of(), b.release(1));
  }

  @Test
  void anExecutorThatJoinsWhileOthersLeaveCanBeReleasedLater() {
    ExecutorBook b = withLive(1, 2, 3);
    assertEquals(List.of(3, 2), b.release(1));
    b.added(4);  // a request from before the scale-down, served late
    assertEquals(2, b.staying());
    assertEquals(List.of(4), b.release(1));
    b.removed(2);
    b.removed(3);
    b.removed(4);
    assertEquals(1, b.staying());
  }

  @Test
  void anExecutorLostWithoutAKillLeavesTheBookConsistent() {
    ExecutorBook b = withLive(1, 2);
    b.removed(2);  // died on its own
    b.removed(7);  // never seen (joined before the plugin listened)
    assertEquals(1, b.staying());
    assertEquals(List.of(), b.release(1));
    assertEquals(List.of(1), b.release(0));
    assertEquals(0, b.staying());
  }

  @Test
  void aRefusedKillLeavesTheExecutorsStaying() {
    ExecutorBook b = withLive(1, 2, 3);
    List<Integer> kill = b.release(1);
    b.kept(kill);
    assertEquals(3, b.staying());
    assertEquals(List.of(3, 2), b.release(1));
  }
}
