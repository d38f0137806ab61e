#!/usr/bin/env bash
# The IoT Structured Streaming job (java/) on the local Spark cluster, with the prescale
# plugin and progress listener: iot-job.sh start|stop|status.
# Environment: SPARK_MASTER_PORT (7077), KAFKA_PORT (9092), REDIS_PORT (6379; "" = no Redis),
# JOB_UI_PORT (4040: the application's REST API), JOB_MAX_EXECUTORS (6), JOB_MIN_EXECUTORS (1),
# JOB_WORK_US (per-reading work, 0), JOB_WORK_MODE (cpu: spin; sleep: hold the task slot without a
# core, so more one-core executors than cores add capacity; cpu), JOB_PROVISION_DELAY_MS (emulated cold start, 0),
# JOB_TRIGGER_MS (1000), JOB_SHUFFLE_PARTITIONS (8), JOB_READ_PARTITIONS (tasks per batch for the
# reading stage, Kafka minPartitions; JOB_MAX_EXECUTORS: one per executor), JOB_REDIS_RETRY_MS (how
# long a batch retries an unreachable Redis before its tasks fail; 120000; a failed query is
# started again from its checkpoint, at most 10 failures in a row), PRESCALE_RUN_DIR (driver log, checkpoint, PID under iot-job/).
# PRESCALE_LOG4J2 (the log4j2 configuration of the driver and executors; default
# log4j2.properties beside this script: Spark at WARN, prescale at INFO).
# The jar is built here (mvn package) when missing or older than the Java sources.
source "$(dirname "$0")/lib.sh"

RUN="$PRESCALE_RUN_DIR/iot-job"
PIDFILE="$RUN/driver.pid"
LOG="$RUN/driver.log"
UI="${JOB_UI_PORT:-4040}"
JAR="$REPO_DIR/java/target/prescale-spark-0.1.0.jar"
# Spark's own lines at WARN, the plugin's decisions at INFO (log4j2.properties beside this).
LOG4J2="${PRESCALE_LOG4J2:-$STACK_DIR/log4j2.properties}"
export SPARK_HOME="$SPARK_HOME_CACHED" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1

# Ready = the query has resolved its Kafka starting offsets (Spark writes them to the
# checkpoint's sources/0/0 on the first trigger). Before that, with startingOffsets=latest,
# a reading produced now could fall before "latest" and never be read.
running() {
  grep -q "Starting prescale-iot" "$LOG" 2>/dev/null && port_open "$UI" &&
    [ -s "$RUN/checkpoint/sources/0/0" ]
}

build_jar() {
  if [ -f "$JAR" ] && [ -z "$(find "$REPO_DIR/java/src" "$REPO_DIR/java/pom.xml" -newer "$JAR" -print -quit)" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "maven is missing (scripts/install-deps.sh installs it)"
  log "building $JAR"
  (cd "$REPO_DIR/java" && mvn -B -q -Dstyle.color=never -DskipTests package >&2) || die "the job jar did not build"
}

start() {
  if alive "$PIDFILE"; then
    log "iot-job already running (driver pid $(cat "$PIDFILE"), REST http://127.0.0.1:$UI/api/v1)"
    return 0
  fi
  bash "$STACK_DIR/deps.sh" spark
  build_jar
  port_open "$UI" && die "127.0.0.1:$UI is taken by another process (set JOB_UI_PORT)"
  mkdir -p "$RUN"
  rm -rf "$RUN/checkpoint"
  local kafka="127.0.0.1:${KAFKA_PORT:-9092}"
  local redis=""
  [ -n "${REDIS_PORT-6379}" ] && redis="127.0.0.1:${REDIS_PORT:-6379}"
  local jars
  jars=$(ls "$SPARK_KAFKA_JARS"/*.jar | paste -sd, -)
  # `cd; nohup ... &` (not `cd && nohup ... &`, which would background a subshell and put
  # the subshell's PID, not the driver's, in the PID file).
  (cd "$RUN" || exit 1; nohup "$SPARK_HOME/bin/spark-submit" --master "spark://127.0.0.1:${SPARK_MASTER_PORT:-7077}" \
    --class io.prescale.spark.IotJob --jars "$jars" \
    --driver-memory 768m --conf spark.executor.cores=1 --conf spark.executor.memory=512m \
    --conf spark.cores.max="${JOB_MAX_EXECUTORS:-6}" \
    --conf spark.dynamicAllocation.enabled=false \
    --conf spark.plugins=io.prescale.spark.PrescalePlugin \
    --conf spark.prescale.kafka.bootstrap="$kafka" \
    --conf spark.prescale.minExecutors="${JOB_MIN_EXECUTORS:-1}" \
    --conf spark.prescale.maxExecutors="${JOB_MAX_EXECUTORS:-6}" \
    --conf spark.prescale.provisionDelayMs="${JOB_PROVISION_DELAY_MS:-0}" \
    --conf spark.sql.streaming.streamingQueryListeners=io.prescale.spark.ProgressListener \
    --conf spark.ui.port="$UI" --conf spark.ui.showConsoleProgress=false \
    --driver-java-options "-Dlog4j2.configurationFile=$LOG4J2" \
    --conf spark.executor.extraJavaOptions="-Dlog4j2.configurationFile=$LOG4J2" \
    "$JAR" --brokers "$kafka" --checkpoint "$RUN/checkpoint" --redis "$redis" \
    --work-us "${JOB_WORK_US:-0}" --work-mode "${JOB_WORK_MODE:-cpu}" --trigger-ms "${JOB_TRIGGER_MS:-1000}" \
    --shuffle-partitions "${JOB_SHUFFLE_PARTITIONS:-8}" --redis-retry-ms "${JOB_REDIS_RETRY_MS:-120000}" \
    --read-partitions "${JOB_READ_PARTITIONS:-${JOB_MAX_EXECUTORS:-6}}" >"$LOG" 2>&1 </dev/null &
   echo $! >"$PIDFILE")
  wait_until 180 "$PIDFILE" "$LOG" running
  log "iot-job running (driver pid $(cat "$PIDFILE"), REST http://127.0.0.1:$UI/api/v1, log $LOG)"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid iot-job "$PIDFILE" ;;
  status)
    if alive "$PIDFILE" && running; then echo "iot-job running (REST http://127.0.0.1:$UI/api/v1)"
    else echo "iot-job not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
