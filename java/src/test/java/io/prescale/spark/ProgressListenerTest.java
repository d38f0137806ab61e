package io.prescale.spark;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** What the listener says about the job besides Spark's progress (docs/controller.md). */
class ProgressListenerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Map<String, Row> observed(Object readings, Object messages) {
    StructType schema = new StructType().add("readings", DataTypes.LongType).add("messages", DataTypes.LongType);
    Map<String, Row> m = new HashMap<>();
    m.put(ProgressListener.OBSERVED, new GenericRowWithSchema(new Object[] {readings, messages}, schema));
    return m;
  }

  @Test
  void publishesThePluginsBoundsOnlyWhenTheApplicationRunsIt() {
    SparkConf none = new SparkConf(false);
    assertNull(ProgressListener.pluginBounds(none));
    SparkConf defaults = new SparkConf(false).set("spark.plugins", "io.prescale.spark.PrescalePlugin");
    assertArrayEquals(new int[] {1, 8}, ProgressListener.pluginBounds(defaults));  // the plugin's defaults
    SparkConf set = new SparkConf(false)
        .set("spark.plugins", "com.example.Other, io.prescale.spark.PrescalePlugin")
        .set("spark.prescale.minExecutors", "2")
        .set("spark.prescale.maxExecutors", "6");
    assertArrayEquals(new int[] {2, 6}, ProgressListener.pluginBounds(set));
  }

  @Test
  void readingsPerMessageComeFromTheObservedCounts() {
    assertEquals(500.0, ProgressListener.readingsPerMessage(observed(2000L, 4L)));
    assertEquals(487.5, ProgressListener.readingsPerMessage(observed(975L, 2L)));
    // Nothing measured: no messages, no metrics, another shape, nulls.
    assertEquals(0.0, ProgressListener.readingsPerMessage(observed(0L, 0L)));
    assertEquals(0.0, ProgressListener.readingsPerMessage(null));
    assertEquals(0.0, ProgressListener.readingsPerMessage(new HashMap<>()));
    assertEquals(0.0, ProgressListener.readingsPerMessage(observed(null, 3L)));
    StructType other = new StructType().add("rows", DataTypes.LongType);
    Map<String, Row> m = new HashMap<>();
    m.put(ProgressListener.OBSERVED, new GenericRowWithSchema(new Object[] {5L}, other));
    assertEquals(0.0, ProgressListener.readingsPerMessage(m));
  }

  @Test
  void addsOnlyTheFactsItKnows() throws Exception {
    ObjectNode j = JSON.createObjectNode();
    ProgressListener.addJobFacts(j, new int[] {1, 6}, 500, 12);
    assertEquals(1, j.get("min_executors").asInt());
    assertEquals(6, j.get("max_executors").asInt());
    assertEquals(500.0, j.get("records_per_message").asDouble());
    assertEquals(12L, j.get("lease_epoch").asLong());
    ObjectNode bare = JSON.createObjectNode();
    ProgressListener.addJobFacts(bare, null, 0, 0);
    assertFalse(bare.has("min_executors"));
    assertFalse(bare.has("max_executors"));
    assertFalse(bare.has("records_per_message"));
    assertFalse(bare.has("lease_epoch"));  // no command applied yet
    ObjectNode bad = JSON.createObjectNode();
    ProgressListener.addJobFacts(bad, new int[] {5, 2}, Double.NaN, -1);  // never sent inconsistent
    assertFalse(bad.has("max_executors"));
    assertFalse(bad.has("records_per_message"));
    assertFalse(bad.has("lease_epoch"));
  }
}
