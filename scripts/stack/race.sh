#!/usr/bin/env bash
# `make stack-demo`: rl vs hpa on the live stack, end to end. Starts Kafka (+ topics), Spark
# 3.5 standalone and the IoT job with the live scenario's settings under its own run
# directory (default out/race), replays scenarios/race/burst.csv once per policy through
# `prescale race` (a readable live log on stderr, the summary table on stdout, every
# timeline in RUN/race.json and as charts in RUN/report.html), and stops everything it
# started, even on Ctrl-C.
# Environment: the ports of the stack scripts (KAFKA_PORT, SPARK_MASTER_PORT, JOB_UI_PORT,
# ...), PRESCALE_RUN_DIR (out/race), RACE_POLICIES (rl,hpa), PRESCALE_BIN (build/prescale).
source "$(dirname "$0")/lib.sh"
export PRESCALE_RUN_DIR="${PRESCALE_RUN_DIR:-$REPO_DIR/out/race}"
BIN="${PRESCALE_BIN:-$REPO_DIR/build/prescale}"
[ -x "$BIN" ] || die "$BIN is missing (make build)"
mkdir -p "$PRESCALE_RUN_DIR"

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

STACK_STEP=5/5 log "race: ${RACE_POLICIES:-rl,hpa} (about 3 min a policy)"
"$BIN" race --config "$REPO_DIR/scenarios/race/controller.yaml" \
  --trace "$REPO_DIR/scenarios/race/burst.csv" --key-file "$KEYS" \
  --brokers "127.0.0.1:${KAFKA_PORT:-9092}" --spark-ui-port "${JOB_UI_PORT:-4040}" \
  --policies "${RACE_POLICIES:-rl,hpa}" --tail-s 30 --out "$PRESCALE_RUN_DIR/race.json" \
  --report "$PRESCALE_RUN_DIR/report.html"
log "timelines in $PRESCALE_RUN_DIR/race.json, the report in $PRESCALE_RUN_DIR/report.html"
