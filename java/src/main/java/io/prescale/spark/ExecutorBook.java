package io.prescale.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The application's executors as the plugin sees them: the live ones (added, not yet removed)
 * and, among them, the ones the plugin has asked Spark to kill (leaving). Pure logic,
 * unit-tested; the plugin does the I/O. Thread-safe: Spark's listener bus and the command
 * thread both use it.
 *
 * <p>Why it counts the leaving executors apart: a kill takes a moment to be reported. A
 * second scale-down in that moment used to count the leaving executor as live, pin the total
 * at that count before its kills, and the standalone master launched a replacement for the
 * executor that had just gone: the job ended above its target and stayed there (make
 * validate, 2026-11-28: target 1, 2 live). Now the pin is the executors that stay, and a
 * leaving one is never chosen twice.
 */
final class ExecutorBook {
  private final TreeSet<Integer> live = new TreeSet<>();
  private final TreeSet<Integer> leaving = new TreeSet<>();

  synchronized void added(int id) {
    live.add(id);
  }

  synchronized void removed(int id) {
    live.remove(id);
    leaving.remove(id);
  }

  /** Live executors not being killed: what the job keeps once the pending kills land. */
  synchronized int staying() {
    return live.size() - leaving.size();
  }

  /**
   * The newest staying executors to kill so that {@code wanted} stay (none when no more than
   * {@code wanted} stay); they are marked leaving.
   */
  synchronized List<Integer> release(int wanted) {
    List<Integer> kill = new ArrayList<>();
    int excess = staying() - wanted;
    for (Integer id : live.descendingSet()) {
      if (kill.size() >= excess) break;
      if (!leaving.contains(id)) kill.add(id);
    }
    leaving.addAll(kill);
    return kill;
  }

  /** Spark refused to kill these: they stay, and a later release may choose them again. */
  synchronized void kept(List<Integer> ids) {
    leaving.removeAll(ids);
  }
}
