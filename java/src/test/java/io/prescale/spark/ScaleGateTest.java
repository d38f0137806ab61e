package io.prescale.spark;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ScaleGateTest {
  private static String cmd(long seq, long ts, int target) {
    return "{\"v\":1,\"type\":\"scale_to\",\"seq\":" + seq + ",\"ts_ms\":" + ts + ",\"target_executors\":"
        + target + ",\"shuffle_tier\":\"nvme\",\"reason\":\"rl: burst\"}";
  }

  @Test
  void parsesTheControllersMessage() {
    ScaleCommand c = ScaleCommand.parse(cmd(7, 1000, 4));
    assertEquals(7, c.seq);
    assertEquals(1000, c.tsMs);
    assertEquals(4, c.targetExecutors);
    assertEquals("nvme", c.shuffleTier);
    assertEquals("rl: burst", c.reason);
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
