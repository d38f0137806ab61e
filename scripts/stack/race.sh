#!/usr/bin/env bash
# `make stack-demo [SHAPE=burst|diurnal|llm]`: rl vs hpa on the live stack, end to end. Starts
# Kafka (+ topics), Spark 3.5 standalone and the IoT job with the live scenario's settings in a
# stack of its own, replays a traffic shape (`prescale race --shape`: burst =
# scenarios/race/burst.csv, diurnal, llm; src/live/shapes.h) once per policy through
# `prescale race` (a readable live log on stderr, the summary table and the arena's comparison
# on stdout and in RUN/race.txt, every timeline in RUN/race.json and as charts in
# RUN/report.html, and as JSON lines for `prescale calibrate --from RUN` and `prescale validate
# --from RUN`: RUN/runs.jsonl, batches.jsonl, executors.jsonl, commands.jsonl, replay.json,
# trace.csv; docs/sim2real.md), and stops everything it started, even on Ctrl-C.
#
# Its own run directory and ports, whatever the environment says: a race next to a running
# `make stack-up` (out/stack, Kafka 9092, Spark 7077, ...) neither reuses nor stops that
# stack's services, and a second race at the same time is refused (a lock in the run dir).
# Environment: RACE_RUN_DIR (out/race), RACE_KAFKA_PORT (19092), RACE_KAFKA_CONTROLLER_PORT
# (19093), RACE_SPARK_MASTER_PORT (17077), RACE_SPARK_MASTER_WEBUI_PORT (17080),
# RACE_SPARK_WORKER_WEBUI_PORT (17081), RACE_JOB_UI_PORT (14040), RACE_FORECASTER (the edge
# agent's forecaster: lookahead, the trace's own future, or global), RACE_POLICIES (rl,hpa),
# PRESCALE_BIN (build/prescale), RACE_SHAPE (burst), RACE_SHAPES (several shapes, each into
# RUN/SHAPE: make validate), RACE_FORECASTER_<shape> (that shape's forecaster), RACE_SCENARIO
# (live: the arena scenario the race compares each run with afterwards; docs/sim2real.md),
# RACE_WARMUP (a policy, e.g. hpa: one run of it on the first shape before the measured ones,
# into RUN/warmup, compared with nothing: a freshly started job's first batches are slow (its
# JIT, its first executor's), and the first measured run would pay for it; default none).
# RACE_RUN_DIR must be absolute (iot-job.sh changes directory). (PRESCALE_RUN_DIR and the stack
# scripts' *_PORT variables are make stack-up's and are ignored here.)
#
# The run directory is set before lib.sh is sourced: lib.sh defaults it to out/stack, the
# shared stack's, and keeps whatever is set already.
RACE_REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PRESCALE_RUN_DIR="${RACE_RUN_DIR:-$RACE_REPO_DIR/out/race}"
export KAFKA_PORT="${RACE_KAFKA_PORT:-19092}" KAFKA_CONTROLLER_PORT="${RACE_KAFKA_CONTROLLER_PORT:-19093}" \
  SPARK_MASTER_PORT="${RACE_SPARK_MASTER_PORT:-17077}" \
  SPARK_MASTER_WEBUI_PORT="${RACE_SPARK_MASTER_WEBUI_PORT:-17080}" \
  SPARK_WORKER_WEBUI_PORT="${RACE_SPARK_WORKER_WEBUI_PORT:-17081}" JOB_UI_PORT="${RACE_JOB_UI_PORT:-14040}"
source "$(dirname "$0")/lib.sh"
BIN="${PRESCALE_BIN:-$REPO_DIR/build/prescale}"
[ -x "$BIN" ] || die "$BIN is missing (make build)"
mkdir -p "$PRESCALE_RUN_DIR"
# One race per run directory: the second would reuse the first's services and stop them.
exec 9>"$PRESCALE_RUN_DIR/race.lock"
flock -n 9 || die "another race is running in $PRESCALE_RUN_DIR (set RACE_RUN_DIR and the RACE_*_PORT variables for a second one)"

# The live scenario's job (scenarios/live.yaml; scenarios/race/README.md).
export REDIS_PORT= JOB_MAX_EXECUTORS=3 JOB_MIN_EXECUTORS=1 JOB_WORK_US=400 JOB_WORK_MODE=sleep JOB_TRIGGER_MS=5000 \
  JOB_SHUFFLE_PARTITIONS=2 JOB_PROVISION_DELAY_MS=15000

stop_all() {
  bash "$STACK_DIR/iot-job.sh" stop || true
  bash "$STACK_DIR/spark.sh" stop || true
  bash "$STACK_DIR/kafka.sh" stop || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Five steps, numbered in the log (STACK_STEP); on a terminal each start shows a status
# line with an ETA (lib.sh), and the race its own (which run, its phase, an ETA).
STACK_STEP=1/5 bash "$STACK_DIR/kafka.sh" start
STACK_STEP=2/5 log "creating the topics"
STACK_STEP=2/5 bash "$STACK_DIR/kafka.sh" topics iot-raw-data iot-processed iot-metrics iot-control iot-metadata
STACK_STEP=3/5 bash "$STACK_DIR/spark.sh" start
STACK_STEP=4/5 bash "$STACK_DIR/iot-job.sh" start

# A fresh HMAC key for the gateway (and the controller that verifies its signals).
KEYS="$PRESCALE_RUN_DIR/keys.txt"
(umask 077 && echo "gw-1 $(openssl rand -hex 32)" >"$KEYS")

# The traffic: RACE_SHAPES (several, each in its own RUN/SHAPE directory: make validate) or
# RACE_SHAPE (one, in RUN: make stack-demo SHAPE=...), default burst (scenarios/race/burst.csv).
SHAPES="${RACE_SHAPES:-${RACE_SHAPE:-burst}}"
STACK_STEP=5/5 log "race: ${RACE_POLICIES:-rl,hpa} on ${SHAPES// /, } (about 3 min a policy and shape)"
if [ -n "${RACE_WARMUP:-}" ]; then
  first="${SHAPES%% *}"
  fc_var="RACE_FORECASTER_$first"
  mkdir -p "$PRESCALE_RUN_DIR/warmup"
  STACK_STEP=5/5 log "race: warm-up, $RACE_WARMUP on $first, into $PRESCALE_RUN_DIR/warmup (not compared)"
  "$BIN" race --config "$REPO_DIR/scenarios/race/controller.yaml" \
    --shape "$first" --key-file "$KEYS" \
    --brokers "127.0.0.1:$KAFKA_PORT" --spark-ui-port "$JOB_UI_PORT" \
    --policies "$RACE_WARMUP" --tail-s 30 --out "$PRESCALE_RUN_DIR/warmup/race.json" \
    --forecaster "${!fc_var:-${RACE_FORECASTER:-lookahead}}" --scenario "${RACE_SCENARIO:-live}" \
    >"$PRESCALE_RUN_DIR/warmup/race.txt"
fi
for shape in $SHAPES; do
  dir="$PRESCALE_RUN_DIR"
  [ -n "${RACE_SHAPES:-}" ] && dir="$PRESCALE_RUN_DIR/$shape"
  mkdir -p "$dir"
  # RACE_FORECASTER_<shape> (e.g. RACE_FORECASTER_llm=lookahead) overrides RACE_FORECASTER.
  fc_var="RACE_FORECASTER_$shape"
  forecaster="${!fc_var:-${RACE_FORECASTER:-lookahead}}"
  STACK_STEP=5/5 log "race: shape $shape, forecaster $forecaster, into $dir"
  "$BIN" race --config "$REPO_DIR/scenarios/race/controller.yaml" \
    --shape "$shape" --key-file "$KEYS" \
    --brokers "127.0.0.1:$KAFKA_PORT" --spark-ui-port "$JOB_UI_PORT" \
    --policies "${RACE_POLICIES:-rl,hpa}" --tail-s 30 --out "$dir/race.json" \
    --report "$dir/report.html" --record-dir "$dir" \
    --forecaster "$forecaster" --scenario "${RACE_SCENARIO:-live}" | tee "$dir/race.txt"
  log "timelines in $dir/race.json (and *.jsonl: prescale calibrate --from $dir; prescale validate --from $dir), the report in $dir/report.html"
done
