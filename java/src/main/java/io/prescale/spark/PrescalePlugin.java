package io.prescale.spark;

import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Enable with {@code spark.plugins=io.prescale.spark.PrescalePlugin} and
 * {@code spark.dynamicAllocation.enabled=false}. The driver side consumes the controller's
 * {@code scale_to} commands and resizes the application ({@link ScalingDriverPlugin}).
 */
public final class PrescalePlugin implements SparkPlugin {
  @Override
  public DriverPlugin driverPlugin() {
    return new ScalingDriverPlugin();
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return null;
  }
}
