package io.prescale.spark;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ScaleGateTest {
  private static String cmd(long seq, long ts, int target) {
    return "{\"v\":1,\"type\":\"scale_to\",\"seq\":" + seq + ",\"ts_ms\":" + ts + ",\"target_executors\":"
        + target + ",\"shuffle_tier\":\"nvme\",\"reason\":\"rl: burst\"}";
  }

  private static String cmd(long seq, long ts, int target, long epoch) {
    String c = cmd(seq, ts, target);
    return c.substring(0, c.length() - 1) + ",\"epoch\":" + epoch + "}";
  }

  @Test
  void parsesTheControllersMessage() {
    ScaleCommand c = ScaleCommand.parse(cmd(7, 1000, 4));
    assertEquals(7, c.seq);
    assertEquals(1000, c.tsMs);
    assertEquals(4, c.targetExecutors);
    assertEquals("nvme", c.shuffleTier);
    assertEquals("rl: burst", c.reason);
    assertEquals(0, c.epoch);  // no epoch: a controller from before leases
    assertEquals(42, ScaleCommand.parse(cmd(7, 1000, 4, 42)).epoch);
    assertEquals(Long.MAX_VALUE, ScaleCommand.parse(cmd(7, 1000, 4, Long.MAX_VALUE)).epoch);
  }

  @Test
  void rejectsABadEpochNamingTheField() {
    String base = cmd(1, 1, 1);
    for (String bad : new String[] {"-1", "1.5", "\"3\"", "null", "true", "{}", "1e30", "99999999999999999999"}) {
      String text = base.substring(0, base.length() - 1) + ",\"epoch\":" + bad + "}";
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScaleCommand.parse(text), text);
      assertTrue(e.getMessage().contains("field 'epoch'"), e.getMessage());
    }
  }

  @Test
  void aLowerEpochIsIgnoredAndReportedOncePerEpoch() {
    ScaleGate g = new ScaleGate(1, 8, 30_000);
    assertTrue(g.judge(ScaleCommand.parse(cmd(100, 100_000, 3, 7)), 100_100).apply);
    assertEquals(7, g.epoch());
    // The old holder keeps sending, with ever newer seqs: never applied, said once.
    ScaleGate.Verdict first = g.judge(ScaleCommand.parse(cmd(500, 100_000, 1, 5)), 100_200);
    assertFalse(first.apply);
    assertTrue(first.log);
    assertEquals("ignored: epoch 5 is older than the current lease's 7 (another controller?)", first.why);
    for (int i = 1; i <= 20; ++i) {
      ScaleGate.Verdict again = g.judge(ScaleCommand.parse(cmd(500 + i, 100_000, 1, 5)), 100_200 + i);
      assertFalse(again.apply);
      assertFalse(again.log, "epoch 5 was reported already");
    }
    // Another stale epoch (an epoch-less controller too) is a new fact: reported once.
    ScaleGate.Verdict other = g.judge(ScaleCommand.parse(cmd(900, 100_000, 1, 6)), 100_300);
    assertFalse(other.apply);
    assertTrue(other.log);
    assertFalse(g.judge(ScaleCommand.parse(cmd(901, 100_000, 1, 6)), 100_300).log);
    ScaleGate.Verdict none = g.judge(ScaleCommand.parse(cmd(902, 100_000, 1)), 100_300);
    assertFalse(none.apply);
    assertTrue(none.log);
    assertTrue(none.why.contains("epoch 0 is older"), none.why);
    assertEquals(100, g.lastSeq());  // ignored commands do not advance the sequence
    assertEquals(7, g.epoch());
    // The current holder is unaffected.
    assertTrue(g.judge(ScaleCommand.parse(cmd(101, 100_000, 4, 7)), 100_400).apply);
  }

  @Test
  void aHigherEpochIsANewHolderWhoseSeqsStartANewOrder() {
    ScaleGate g = new ScaleGate(1, 8, 30_000);
    assertTrue(g.judge(ScaleCommand.parse(cmd(5_000, 100_000, 3)), 100_100).apply);  // epoch 0
    // The new holder started earlier: its seqs are lower. Applied anyway, and reported.
    ScaleGate.Verdict v = g.judge(ScaleCommand.parse(cmd(10, 100_000, 5, 2)), 100_200);
    assertTrue(v.apply);
    assertEquals(5, v.target);
    assertTrue(v.why.contains("new lease: epoch 2 after 0"), v.why);
    assertTrue(v.newLease);
    assertEquals(2, g.epoch());
    assertEquals(10, g.lastSeq());
    // Within the new epoch the seq rule holds again.
    assertFalse(g.judge(ScaleCommand.parse(cmd(10, 100_000, 6, 2)), 100_300).apply);
    assertFalse(g.judge(ScaleCommand.parse(cmd(9, 100_000, 6, 2)), 100_300).apply);
    ScaleGate.Verdict same = g.judge(ScaleCommand.parse(cmd(11, 100_000, 6, 2)), 100_300);
    assertTrue(same.apply);
    assertFalse(same.newLease);  // the same holder again
    // A stale command of a newer epoch is not applied and does not move the lease.
    ScaleGate.Verdict stale = g.judge(ScaleCommand.parse(cmd(1, 10_000, 2, 9)), 100_400);
    assertFalse(stale.apply);
    assertTrue(stale.why.contains("stale"), stale.why);
    assertEquals(2, g.epoch());
    // The next holder; then the one before it is stale.
    assertTrue(g.judge(ScaleCommand.parse(cmd(3, 100_000, 2, 9)), 100_500).apply);
    assertEquals(9, g.epoch());
    ScaleGate.Verdict old = g.judge(ScaleCommand.parse(cmd(12, 100_000, 6, 2)), 100_600);
    assertFalse(old.apply);
    assertTrue(old.log);
  }

  @Test
  void anEqualEpochKeepsTheSeqRule() {
    ScaleGate g = new ScaleGate(1, 8, 30_000);
    assertTrue(g.judge(ScaleCommand.parse(cmd(20, 100_000, 3, 4)), 100_100).apply);
    ScaleGate.Verdict repeat = g.judge(ScaleCommand.parse(cmd(20, 100_000, 5, 4)), 100_200);
    assertFalse(repeat.apply);
    assertTrue(repeat.why.contains("seq 20 is not after 20"), repeat.why);
    assertFalse(g.judge(ScaleCommand.parse(cmd(19, 100_000, 5, 4)), 100_200).apply);
    assertTrue(g.judge(ScaleCommand.parse(cmd(21, 100_000, 5, 4)), 100_200).apply);
    assertEquals(4, g.epoch());
  }

  @Test
  void rejectsBadMessagesNamingTheField() {
    String[][] cases = {
      {"{not json", "not JSON"},
      {"[1]", "not a JSON object"},
      {"{\"v\":2,\"type\":\"scale_to\"}", "'v'"},
      {"{\"v\":1,\"type\":\"progress\"}", "'type'"},
      {cmd(-1, 1, 1), "'seq'"},
      {cmd(1, 1, -3), "'target_executors'"},
      {cmd(1, 1, 1).replace("nvme", "tape"), "'shuffle_tier'"},
      {cmd(1, 1, 1).replace("\"rl: burst\"", "3"), "'reason'"},
      {cmd(1, 1, 1).replace("\"seq\":1", "\"seq\":1.5"), "'seq'"},
    };
    for (String[] c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScaleCommand.parse(c[0]), c[0]);
      assertTrue(e.getMessage().contains(c[1]), e.getMessage());
    }
  }

  @Test
  void appliesOnlyNewerFreshCommandsClamped() {
    ScaleGate g = new ScaleGate(1, 8, 30_000);
    ScaleGate.Verdict v = g.judge(ScaleCommand.parse(cmd(10, 100_000, 5)), 100_500);
    assertTrue(v.apply);
    assertEquals(5, v.target);
    assertFalse(g.judge(ScaleCommand.parse(cmd(10, 100_000, 6)), 100_600).apply);  // repeat
    assertFalse(g.judge(ScaleCommand.parse(cmd(9, 100_000, 6)), 100_600).apply);   // out of order
    ScaleGate.Verdict stale = g.judge(ScaleCommand.parse(cmd(11, 10_000, 6)), 100_600);
    assertFalse(stale.apply);
    assertTrue(stale.why.contains("stale"), stale.why);
    assertEquals(10, g.lastSeq());  // a stale command does not advance the sequence
    ScaleGate.Verdict high = g.judge(ScaleCommand.parse(cmd(12, 100_000, 50)), 100_700);
    assertTrue(high.apply);
    assertEquals(8, high.target);
    assertTrue(high.why.contains("clamped from 50"), high.why);
    assertEquals(1, g.judge(ScaleCommand.parse(cmd(13, 100_000, 0)), 100_700).target);
  }

  @Test
  void refusesImpossibleBounds() {
    assertThrows(IllegalArgumentException.class, () -> new ScaleGate(5, 2, 1000));
  }
}
