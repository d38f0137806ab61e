package io.prescale.spark;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The emulated cold start: which delayed scale-ups are requested when their delay has passed. */
class ProvisioningTest {
  @Test
  void aScaleUpStillWantedIsRequested() {
    assertTrue(ScalingDriverPlugin.provisioned(3, 3, 1));
  }

  @Test
  void aHigherTargetMeanwhileDoesNotRestartTheFirstExecutorsClock() {
    // scale_to 2, then scale_to 3 before 2's delay passed: at 2's time, 2 are requested (the
    // live race's rl run waited 46 s for executors asked for 39 s before the burst otherwise).
    assertTrue(ScalingDriverPlugin.provisioned(2, 3, 1));
    // ... unless they add nothing.
    assertFalse(ScalingDriverPlugin.provisioned(2, 3, 2));
    assertFalse(ScalingDriverPlugin.provisioned(2, 3, 3));
  }

  @Test
  void aLowerTargetMeanwhileCancelsIt() {
    assertFalse(ScalingDriverPlugin.provisioned(3, 2, 1));
    assertFalse(ScalingDriverPlugin.provisioned(3, 1, 1));
  }
}
