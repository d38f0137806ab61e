package io.prescale.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A {@code scale_to} command from the controller on {@code iot-control} (../shared/design.md):
 * {@code {"v":1,"type":"scale_to","seq":..,"ts_ms":..,"target_executors":..,
 * "shuffle_tier":"redis|nvme|s3","reason":"..","epoch":..}}. {@code epoch} is the sending
 * controller's lease epoch (docs/controller.md, "One controller per job"); optional: absent =
 * 0, a controller from before leases. Parsing is strict: anything else is an
 * {@link IllegalArgumentException} naming the field.
 */
public final class ScaleCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  public final long seq;
  public final long tsMs;
  public final int targetExecutors;
  public final String shuffleTier;
  public final String reason;
  public final long epoch;

  public ScaleCommand(long seq, long tsMs, int targetExecutors, String shuffleTier, String reason) {
    this(seq, tsMs, targetExecutors, shuffleTier, reason, 0);
  }

  public ScaleCommand(long seq, long tsMs, int targetExecutors, String shuffleTier, String reason, long epoch) {
    this.seq = seq;
    this.tsMs = tsMs;
    this.targetExecutors = targetExecutors;
    this.shuffleTier = shuffleTier;
    this.reason = reason;
    this.epoch = epoch;
  }

  public static ScaleCommand parse(String text) {
    JsonNode j;
    try {
      j = JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException("scale_to message: not JSON (" + e.getMessage() + ")");
    }
    if (j == null || !j.isObject()) throw new IllegalArgumentException("scale_to message: not a JSON object");
    if (!j.path("v").isInt() || j.get("v").asInt() != 1)
      throw new IllegalArgumentException("scale_to message: field 'v': expected 1");
    if (!"scale_to".equals(j.path("type").asText(null)))
      throw new IllegalArgumentException("scale_to message: field 'type': expected scale_to");
    long seq = integer(j, "seq", 0, Long.MAX_VALUE);
    long ts = integer(j, "ts_ms", 0, Long.MAX_VALUE);
    int target = (int) integer(j, "target_executors", 0, 1_000_000);
    JsonNode tier = j.get("shuffle_tier");
    if (tier == null || !tier.isTextual()
        || !(tier.asText().equals("redis") || tier.asText().equals("nvme") || tier.asText().equals("s3")))
      throw new IllegalArgumentException("scale_to message: field 'shuffle_tier': expected redis|nvme|s3");
    JsonNode reason = j.get("reason");
    if (reason == null || !reason.isTextual())
      throw new IllegalArgumentException("scale_to message: field 'reason': expected a string");
    long epoch = j.has("epoch") ? integer(j, "epoch", 0, Long.MAX_VALUE) : 0;
    return new ScaleCommand(seq, ts, target, tier.asText(), reason.asText(), epoch);
  }

  private static long integer(JsonNode j, String field, long lo, long hi) {
    JsonNode n = j.get(field);
    if (n == null || !n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < lo || n.asLong() > hi)
      throw new IllegalArgumentException(
          "scale_to message: field '" + field + "': expected an integer in [" + lo + ", " + hi + "]");
    return n.asLong();
  }
}
