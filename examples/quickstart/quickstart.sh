#!/usr/bin/env bash
# docs/quickstart.md as one script: the doc quotes the blocks marked below line for line, and
# tests/quickstart_test.cpp runs `quickstart.sh run` against a real Kafka and Spark (and
# checks the quotes), so the doc, these files and the product cannot drift apart.
#
# Usage: examples/quickstart/quickstart.sh STEP...   (from any directory; steps run in order)
#   build       prescale (make build) and the plugin jar (Maven)
#   jar         the plugin jar only, when it is missing or older than its sources
#   stack       Kafka with the iot-* topics and Spark 3.5 standalone, as `make stack-up` starts
#               them (the same scripts, ports and run directory: after make stack-up, nothing to do)
#   keys        the gateway's HMAC key
#   submit      the example job through spark-submit, with the plugin and the progress listener
#   controller  `prescale controller` with controller.yaml; waits until the idle job runs 1 executor
#   gateway     one gateway (`prescale edge`) replaying burst.csv: 300 readings/s, 8x from +50 s
#   watch       Spark's executors, the controller's target and the signal, every second
#   stop        stops the gateway, the controller and the job (make stack-down stops the stack)
#   run         jar stack keys submit controller gateway watch, then stops everything it started
#               (Kafka and Spark too, unless they were running before), even on Ctrl-C
# Environment: the stack scripts' (PRESCALE_RUN_DIR, default out/stack, make stack-up's; KAFKA_PORT
# 9092; SPARK_MASTER_PORT 7077; ...), JOB_UI_PORT (4040: the job's UI and REST API),
# CONTROLLER_HTTP_PORT (9464: the dashboard), QUICKSTART_TAIL_S (30: watched after the replay),
# PRESCALE_BIN (build/prescale). Everything the quickstart starts keeps its files (logs, PID
# files, the controller's config, the key) under $PRESCALE_RUN_DIR/quickstart/.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../scripts/stack/lib.sh"
log() { echo "quickstart: $*" >&2; }
die() { clear_status; echo "quickstart: error: $*" >&2; exit 1; }

HERE="$REPO_DIR/examples/quickstart"
QS="$PRESCALE_RUN_DIR/quickstart"
BIN="${PRESCALE_BIN:-$REPO_DIR/build/prescale}"
JAR="$REPO_DIR/java/target/prescale-spark-0.1.0.jar"
KAFKA="127.0.0.1:${KAFKA_PORT:-9092}"
UI="${JOB_UI_PORT:-4040}"
HTTP="${CONTROLLER_HTTP_PORT:-9464}"
KEYS="$QS/keys.txt"
SPEEDUP=30  # burst.csv's one-minute samples replayed in 2 s
export SPARK_HOME="$SPARK_HOME_CACHED" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1

build() {
  # --- docs/quickstart.md quotes from here (build) ---
  make build
  (cd java && mvn -B -q -Dstyle.color=never -DskipTests package)   # java/target/prescale-spark-0.1.0.jar
  # --- to here ---
}

# The jar when it is missing or older than its sources (what `run` needs of `build`).
jar() {
  if [ ! -f "$JAR" ] || [ -n "$(find java/src java/pom.xml -newer "$JAR" -print -quit)" ]; then
    log "building the plugin jar"
    (cd java && mvn -B -q -Dstyle.color=never -DskipTests package >&2)
  fi
}

stack() {
  # --- docs/quickstart.md quotes from here (stack) ---
  bash scripts/stack/kafka.sh start
  bash scripts/stack/kafka.sh topics iot-raw-data iot-processed iot-metrics iot-control iot-metadata
  bash scripts/stack/spark.sh start
  # --- to here ---
}

keys() {
  mkdir -p "$QS"
  [ -s "$KEYS" ] && return 0
  # --- docs/quickstart.md quotes from here (keys) ---
  (umask 077 && echo "gw-1 $(openssl rand -hex 32)" >"$KEYS")
  # --- to here ---
}

# The job is ready when its query has resolved its Kafka starting offsets (as iot-job.sh) and
# committed its first batch: that one carries the query's start-up (~10 s here), which a
# controller started before it would read as a job at full load.
job_ready() {
  grep -q "Starting prescale-iot" "$QS/driver.log" 2>/dev/null && port_open "$UI" &&
    [ -s "$QS/checkpoint/sources/0/0" ] && [ -e "$QS/checkpoint/commits/0" ]
}

submit() {
  if alive "$QS/driver.pid"; then
    log "the job is already running (driver pid $(cat "$QS/driver.pid"), UI http://127.0.0.1:$UI)"
    return 0
  fi
  alive "$PRESCALE_RUN_DIR/iot-job/driver.pid" &&
    die "make stack-up's demo job runs on the same topics (one job per control topic): stop it first with bash scripts/stack/iot-job.sh stop"
  port_open "$UI" && die "127.0.0.1:$UI is taken by another process (set JOB_UI_PORT)"
  [ -f "$JAR" ] || die "$JAR is missing (quickstart.sh build)"
  mkdir -p "$QS"
  rm -rf "$QS/checkpoint"
  local kafka_jars
  kafka_jars=$(ls "$SPARK_KAFKA_JARS"/*.jar | paste -sd, -)  # Spark's Kafka source (make stack-up fetched it)
  # --- docs/quickstart.md quotes from here (submit) ---
  nohup "$SPARK_HOME/bin/spark-submit" \
    --master "spark://127.0.0.1:${SPARK_MASTER_PORT:-7077}" \
    --jars "$JAR,$kafka_jars" \
    --conf spark.plugins=io.prescale.spark.PrescalePlugin \
    --conf spark.sql.streaming.streamingQueryListeners=io.prescale.spark.ProgressListener \
    --conf spark.prescale.kafka.bootstrap="$KAFKA" \
    --conf spark.prescale.controlTopic=iot-control \
    --conf spark.prescale.metricsTopic=iot-metrics \
    --conf spark.prescale.minExecutors=1 \
    --conf spark.prescale.maxExecutors=3 \
    --conf spark.prescale.staleMs=30000 \
    --conf spark.prescale.provisionDelayMs=0 \
    --conf spark.dynamicAllocation.enabled=false \
    --conf spark.executor.cores=1 \
    --conf spark.cores.max=3 \
    --conf spark.executor.memory=512m --driver-memory 768m \
    --conf spark.ui.port="$UI" \
    --class io.prescale.spark.IotJob "$JAR" \
      --brokers "$KAFKA" --checkpoint "$QS/checkpoint" --trigger-ms 5000 \
      --work-us 400 --work-mode sleep --read-partitions 3 --shuffle-partitions 2 \
    >"$QS/driver.log" 2>&1 </dev/null &
  # --- to here ---
  echo $! >"$QS/driver.pid"
  wait_until 180 "$QS/driver.pid" "$QS/driver.log" job_ready
  log "job running (driver pid $(cat "$QS/driver.pid"), UI http://127.0.0.1:$UI, log $QS/driver.log)"
}

# Live executors of the job, from Spark's REST API (the driver is not one); empty if none answers.
spark_executors() {
  local json app
  json=$(curl -s -m 2 "http://127.0.0.1:$UI/api/v1/applications") || return 0
  app=$(echo "$json" | grep -o '"id" : "[^"]*"' | head -n 1 | cut -d'"' -f4) || true
  [ -n "$app" ] || return 0
  json=$(curl -s -m 2 "http://127.0.0.1:$UI/api/v1/applications/$app/executors") || return 0
  echo "$json" | grep -c '"id" : "[0-9]*"' || true
}
at_executors() { [ "$(spark_executors)" = "$1" ]; }

# One gauge of the controller's /metrics ("-" when it does not answer).
metric() {
  local v
  v=$(curl -s -m 2 "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" '$1 == m { print $2; exit }') || true
  echo "${v:--}"
}

controller() {
  if alive "$QS/controller.pid"; then
    log "the controller is already running (pid $(cat "$QS/controller.pid"), http://127.0.0.1:$HTTP/)"
    return 0
  fi
  [ -x "$BIN" ] || die "$BIN is missing (quickstart.sh build)"
  [ -s "$KEYS" ] || die "$KEYS is missing (quickstart.sh keys)"
  port_open "$HTTP" && die "127.0.0.1:$HTTP is taken by another process (set CONTROLLER_HTTP_PORT)"
  mkdir -p "$QS"
  # --- docs/quickstart.md quotes from here (controller) ---
  sed -e "s|127.0.0.1:9092|$KAFKA|" -e "s|^keys_file: .*|keys_file: $KEYS|" \
      -e "s|port: 9464|port: $HTTP|" examples/quickstart/controller.yaml >"$QS/controller.yaml"
  nohup "$BIN" controller --config "$QS/controller.yaml" >"$QS/controller.log" 2>&1 </dev/null &
  # --- to here ---
  echo $! >"$QS/controller.pid"
  wait_until 60 "$QS/controller.pid" "$QS/controller.log" port_open "$HTTP"
  log "controller running (pid $(cat "$QS/controller.pid"), dashboard http://127.0.0.1:$HTTP/, log $QS/controller.log)"
  # Standalone Spark starts the job with spark.cores.max / spark.executor.cores executors (3,
  # the config's initial_executors); the idle job needs one, which the policy commands once
  # the scale-down stabilisation (20 s) has passed.
  log "waiting for the idle job to be scaled down to 1 executor (~30 s)"
  wait_until 150 "$QS/controller.pid" "$QS/controller.log" settled
  log "settled: the job runs 1 executor, the controller has fresh metrics and a target of 1"
}

# The job at the minimum, the controller's target too, on fresh metrics, for 6 s (more than
# a trigger: a progress report came in meanwhile).
SETTLED_SINCE=""
settled() {
  if at_executors 1 && [ "$(metric prescale_controller_executors_target)" = 1 ] &&
    [ "$(metric prescale_controller_metrics_fresh)" = 1 ]; then
    [ -n "$SETTLED_SINCE" ] || SETTLED_SINCE=$SECONDS
    [ $((SECONDS - SETTLED_SINCE)) -ge 6 ]
  else
    SETTLED_SINCE=""
    return 1
  fi
}

gateway() {
  if alive "$QS/gateway.pid"; then
    log "the gateway is already running (pid $(cat "$QS/gateway.pid"))"
    return 0
  fi
  [ -s "$KEYS" ] || die "$KEYS is missing (quickstart.sh keys)"
  mkdir -p "$QS"
  date +%s%3N >"$QS/gateway.started"
  # --- docs/quickstart.md quotes from here (gateway) ---
  nohup "$BIN" edge --device gw-1 --key-file "$KEYS" --brokers "$KAFKA" \
    --trace examples/quickstart/burst.csv --speedup "$SPEEDUP" \
    --forecaster lookahead --horizon 15 >"$QS/gateway.out" 2>"$QS/gateway.log" </dev/null &
  # --- to here ---
  echo $! >"$QS/gateway.pid"
  sleep 2
  if ! alive "$QS/gateway.pid"; then
    tail -n 20 "$QS/gateway.log" >&2
    die "the gateway exited at once (log $QS/gateway.log)"
  fi
  log "gateway replaying examples/quickstart/burst.csv (pid $(cat "$QS/gateway.pid"), log $QS/gateway.log)"
}

# One line a second from the gateway's start until QUICKSTART_TAIL_S after its replay ends:
# the time since the replay began, the executors Spark runs, the controller's target, the
# gateway's signal as the controller sees it and the job's input. A line when the executor
# count first rises, and at the end whether it came back down.
watch() {
  [ -f "$QS/gateway.started" ] || die "no gateway started (quickstart.sh gateway)"
  local t0 step peak_sample peak_s tail="${QUICKSTART_TAIL_S:-30}" ended="" t n when
  local first="" rose="" back=""
  t0=$(cat "$QS/gateway.started")
  step=$(( $(date -d "$(sed -n 3p "$HERE/burst.csv" | cut -d, -f1)" +%s) -
           $(date -d "$(sed -n 2p "$HERE/burst.csv" | cut -d, -f1)" +%s) ))
  peak_sample=$(awk -F, 'NR > 1 && $2 > max { max = $2; at = NR - 2 } END { print at }' "$HERE/burst.csv")
  peak_s=$(( peak_sample * step / SPEEDUP ))
  log "watching: the burst peaks at +$peak_s s; dashboard http://127.0.0.1:$HTTP/"
  while :; do
    t=$(( ($(date +%s%3N) - t0) / 1000 ))
    n=$(spark_executors)
    printf '  +%d s  executors %s  target %s  signal %s  input %s/s\n' "$t" "${n:--}" \
      "$(metric prescale_controller_executors_target)" \
      "$( [ "$(metric prescale_controller_burst_signal)" = 1 ] && echo BURST || echo calm)" \
      "$(metric prescale_controller_input_rps | cut -d. -f1)"
    if [ -n "$n" ]; then
      [ -n "$first" ] || first=$n
      if [ -z "$rose" ] && [ "$n" -gt "$first" ]; then
        rose=$t
        when="$((peak_s - t)) s before the burst peaks"
        [ "$t" -lt "$peak_s" ] || when="$((t - peak_s)) s after the burst peaked"
        log "executors $first -> $n at +$t s, $when (+$peak_s s)"
      fi
      if [ -n "$rose" ] && [ -z "$back" ] && [ "$n" -le "$first" ]; then
        back=$t
        log "executors back to $n at +$t s"
      fi
    fi
    if ! alive "$QS/gateway.pid"; then
      [ -n "$ended" ] || ended=$t
      if [ $((t - ended)) -ge "$tail" ]; then break; fi
    fi
    sleep 1
  done
  if [ -z "$rose" ]; then
    log "the job stayed at ${first:-?} executor(s): see $QS/controller.log and $QS/driver.log"
    return 1
  fi
  [ -n "$back" ] || log "executors still $n at the end (the scale-down waits for the controller's stabilisation)"
}

stop() {
  stop_pid gateway "$QS/gateway.pid"
  stop_pid controller "$QS/controller.pid"
  stop_pid job "$QS/driver.pid"
}

# `run` stops Kafka and Spark at the end only if it started them.
OWN_KAFKA=""
OWN_SPARK=""
stop_started() {
  stop || true
  if [ -n "$OWN_SPARK" ]; then bash "$STACK_DIR/spark.sh" stop || true; fi
  if [ -n "$OWN_KAFKA" ]; then bash "$STACK_DIR/kafka.sh" stop || true; fi
}

run() {
  bash "$STACK_DIR/kafka.sh" status >/dev/null 2>&1 || OWN_KAFKA=1
  bash "$STACK_DIR/spark.sh" status >/dev/null 2>&1 || OWN_SPARK=1
  trap stop_started EXIT
  trap 'exit 130' INT TERM
  jar
  stack
  keys
  submit
  controller
  gateway
  watch
}

cd "$REPO_DIR"
[ $# -gt 0 ] || { sed -n '6,18p' "$0" >&2; exit 2; }
for step in "$@"; do
  case "$step" in
    build | jar | stack | keys | submit | controller | gateway | watch | stop | run) "$step" ;;
    *) die "unknown step '$step' (build, stack, keys, submit, controller, gateway, watch, stop, run)" ;;
  esac
done
