#!/usr/bin/env bash
# A Spark 3.5 standalone cluster on loopback (master + one worker): spark.sh start|stop|status.
# Environment: SPARK_MASTER_PORT (7077), SPARK_MASTER_WEBUI_PORT (8080),
# SPARK_WORKER_WEBUI_PORT (8081), SPARK_WORKER_CORES (8: executors of 1 core; the worker may
# advertise more cores than the machine has), SPARK_WORKER_MEMORY (6g), PRESCALE_RUN_DIR
# (logs, work dirs, PID files under spark/). SPARK_HOME comes from deps.sh (pyspark).
source "$(dirname "$0")/lib.sh"

MPORT="${SPARK_MASTER_PORT:-7077}"
MUI="${SPARK_MASTER_WEBUI_PORT:-8080}"
WUI="${SPARK_WORKER_WEBUI_PORT:-8081}"
RUN="$PRESCALE_RUN_DIR/spark"
export SPARK_HOME="$SPARK_HOME_CACHED" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOG_DIR="$RUN/logs" SPARK_WORKER_DIR="$RUN/work" SPARK_LOCAL_DIRS="$RUN/local"

worker_alive() {
  curl -s "http://127.0.0.1:$MUI/json/" 2>/dev/null | grep -q '"aliveworkers" *: *[1-9]'
}

start() {
  if alive "$RUN/master.pid" && alive "$RUN/worker.pid"; then
    log "spark already running (master spark://127.0.0.1:$MPORT, UI http://127.0.0.1:$MUI)"
    return 0
  fi
  bash "$STACK_DIR/deps.sh" spark
  for p in "$MPORT" "$MUI" "$WUI"; do
    port_open "$p" && die "127.0.0.1:$p is taken by another process (set SPARK_MASTER_PORT / _WEBUI_PORT)"
  done
  mkdir -p "$SPARK_LOG_DIR" "$SPARK_WORKER_DIR" "$SPARK_LOCAL_DIRS"
  # The master and worker log as the job does (log4j2.properties beside this: Spark at WARN);
  # spark-class passes SPARK_DAEMON_JAVA_OPTS to both daemons.
  export SPARK_DAEMON_JAVA_OPTS="-Dlog4j2.configurationFile=${PRESCALE_LOG4J2:-$STACK_DIR/log4j2.properties} ${SPARK_DAEMON_JAVA_OPTS:-}"
  nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 \
    --port "$MPORT" --webui-port "$MUI" >"$SPARK_LOG_DIR/master.out" 2>&1 </dev/null &
  echo $! >"$RUN/master.pid"
  wait_until 60 "$RUN/master.pid" "$SPARK_LOG_DIR/master.out" port_open "$MPORT"
  nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 \
    --webui-port "$WUI" --cores "${SPARK_WORKER_CORES:-8}" --memory "${SPARK_WORKER_MEMORY:-6g}" \
    --work-dir "$SPARK_WORKER_DIR" "spark://127.0.0.1:$MPORT" >"$SPARK_LOG_DIR/worker.out" 2>&1 </dev/null &
  echo $! >"$RUN/worker.pid"
  wait_until 90 "$RUN/worker.pid" "$SPARK_LOG_DIR/worker.out" worker_alive
  log "spark ready: master spark://127.0.0.1:$MPORT, UI http://127.0.0.1:$MUI (logs $SPARK_LOG_DIR)"
}

case "${1:-}" in
  start) start ;;
  stop)
    stop_pid spark-worker "$RUN/worker.pid"
    stop_pid spark-master "$RUN/master.pid"
    ;;
  status)
    if alive "$RUN/master.pid" && worker_alive; then echo "spark running (spark://127.0.0.1:$MPORT)"
    else echo "spark not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
