#include "sim/executor_pool.h"

#include <gtest/gtest.h>

namespace prescale::sim {
namespace {

TEST(ExecutorPoolTest, NewExecutorsServeOnlyAfterTheColdStart) {
  ExecutorPool pool(/*cold_start_steps=*/12, /*initial_active=*/4);
  pool.promote(0);
  pool.set_target(10, 0);
  EXPECT_EQ(pool.active(), 4);
  EXPECT_EQ(pool.pending(), 6);
  for (int t = 1; t < 12; ++t) {
    pool.promote(t);
    pool.set_target(10, t);
    EXPECT_EQ(pool.active(), 4) << "step " << t;
    EXPECT_EQ(pool.total(), 10);
  }
  pool.promote(12);
  EXPECT_EQ(pool.active(), 10);
  EXPECT_EQ(pool.pending(), 0);
}

TEST(ExecutorPoolTest, RemovalTakesTheYoungestFirst) {
  ExecutorPool pool(3, 2);
  pool.promote(0);
  pool.set_target(4, 0);  // 2 ready at step 3
  pool.promote(1);
  pool.set_target(7, 1);  // 3 ready at step 4
  pool.promote(2);
  pool.set_target(4, 2);  // removes the 3 requested at step 1
  EXPECT_EQ(pool.active(), 2);
  EXPECT_EQ(pool.pending(), 2);
  pool.promote(3);
  EXPECT_EQ(pool.active(), 4);
  pool.set_target(1, 3);  // no pending left: serving executors go
  EXPECT_EQ(pool.active(), 1);
  EXPECT_EQ(pool.pending(), 0);
  pool.promote(4);
  EXPECT_EQ(pool.active(), 1) << "cancelled requests never arrive";
}

TEST(ExecutorPoolTest, ZeroColdStartServesAtOnce) {
  ExecutorPool pool(0, 1);
  pool.promote(0);
  pool.set_target(5, 0);
  EXPECT_EQ(pool.active(), 5);
  EXPECT_EQ(pool.pending(), 0);
}

}  // namespace
}  // namespace prescale::sim
