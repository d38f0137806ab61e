#!/usr/bin/env bash
# The edge agent's throughput against Kafka's own kafka-producer-perf-test, side by side in
# one run, on the same real broker (started here on free loopback ports, stopped at the end)
# and at the same message size. Prints one JSON object.
#
#   scripts/bench/edge-throughput.sh [READINGS] [BUILD_DIR]
#
# The agent runs twice, pinned to one core (taskset -c 1; the broker gets core 0):
#   stdin: JSON reading lines parsed, batched, produced (the path of device data);
#   trace: readings generated from a trace as fast as possible (no parsing).
# The reference then sends as many records of the agent's mean batch size with
# ProducerPerformance, pinned to the same core, acks=all and idempotence like the agent,
# linger.ms=5 and batch.size=1000000 like librdkafka's defaults. After a discarded warm-up
# of both, ROUNDS (5) alternating rounds; medians. ratio = agent MB/s / reference MB/s
# (MB = 10^6 bytes for both).
set -euo pipefail
source "$(dirname "$0")/../stack/lib.sh"

READINGS="${1:-5000000}"
BUILD="${2:-$REPO_DIR/build}"
BIN="$BUILD/prescale"
[ -x "$BIN" ] || die "$BIN is missing (make build)"
bash "$STACK_DIR/deps.sh"

WORK="$(mktemp -d /tmp/prescale-bench-edge.XXXXXX)"
export PRESCALE_RUN_DIR="$WORK/run"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1; }
export KAFKA_PORT="$(free_port)" KAFKA_CONTROLLER_PORT="$(free_port)"
cleanup() { bash "$STACK_DIR/kafka.sh" stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
bash "$STACK_DIR/kafka.sh" start
BROKER_PID="$(cat "$PRESCALE_RUN_DIR/kafka/kafka.pid")"
taskset -a -p -c 0 "$BROKER_PID" >/dev/null
BROKERS="127.0.0.1:$KAFKA_PORT"

echo "gw-bench $(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$WORK/keys.txt"
# READINGS lines like a city sensor's: id, timestamp, three values.
awk -v n="$READINGS" 'BEGIN { for (i = 0; i < n; i++)
  printf "{\"sensor\":\"city/block-%d/air-%d\",\"ts_ms\":%d,\"values\":[%.2f,%.3f,%d]}\n",
         i % 97, i % 13, 1764000000000 + i, 20 + (i % 50) / 10.0, 0.001 * (i % 1000), i % 400 }' \
  >"$WORK/readings.jsonl"

run_agent() {  # NAME ARGS...: the agent's JSON report
  local name=$1
  shift
  taskset -c 1 "$BIN" edge --device gw-bench --key-file "$WORK/keys.txt" --brokers "$BROKERS" \
    --data-topic "bench-$name" --control-topic "bench-$name-meta" "$@" 2>"$WORK/$name.err" \
    || { cat "$WORK/$name.err" >&2; die "the agent failed ($name)"; }
}
TRACE="$REPO_DIR/data/traces/nab/realKnownCause/nyc_taxi.csv"
[ -f "$TRACE" ] || die "$TRACE is missing (the repository ships it)"
agent_stdin() { run_agent stdin --stdin --interval-ms 1000 <"$WORK/readings.jsonl"; }
agent_trace() { run_agent trace --trace "$TRACE" --speedup 0 --scale 0.025 --forecaster last; }

field() { echo "$1" | sed -E "s/.*\"$2\":([0-9.eE+-]+).*/\1/"; }
reference() {  # RECORDS SIZE: messages/s of ProducerPerformance
  # The broker does not create topics on first use (auto.create.topics.enable=false).
  java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$PRESCALE_RUN_DIR/kafka/log4j.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$BROKERS" --create --if-not-exists \
    --topic "bench-ref-$2" --partitions 1 --replication-factor 1 >>"$WORK/ref.err" 2>&1 \
    || { cat "$WORK/ref.err" >&2; die "could not create the reference topic"; }
  local out rps
  out=$(taskset -c 1 java -Xmx1g -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$PRESCALE_RUN_DIR/kafka/log4j.properties" \
    org.apache.kafka.tools.ProducerPerformance --topic "bench-ref-$2" --num-records "$1" --record-size "$2" \
    --throughput -1 --producer-props bootstrap.servers="$BROKERS" acks=all enable.idempotence=true \
    linger.ms=5 batch.size=1000000 2>>"$WORK/ref.err" | tail -n 1)
  rps=$(echo "$out" | sed -E 's/^[0-9]+ records sent, ([0-9.]+) records\/sec.*/\1/')
  [[ "$rps" =~ ^[0-9.]+$ ]] || { cat "$WORK/ref.err" >&2; die "unexpected ProducerPerformance output: $out"; }
  echo "$rps"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Warm-up (discarded): the broker's JIT, page cache and topic creation must not count
# against whoever runs first.
agent_stdin >/dev/null
WARM=$(agent_stdin)
reference "$(field "$WARM" batches)" "$(( $(field "$WARM" data_bytes) / $(field "$WARM" batches) ))" >/dev/null

# ROUNDS alternating rounds; medians.
ROUNDS="${ROUNDS:-5}"
compare() {  # NAME AGENT_FN: the JSON object of one comparison
  local name=$1 fn=$2 rep batches size
  : >"$WORK/$name.rps"; : >"$WORK/$name.mbs"; : >"$WORK/$name.ref"
  for _ in $(seq "$ROUNDS"); do
    rep=$($fn)
    batches=$(field "$rep" batches)
    size=$(( $(field "$rep" data_bytes) / batches ))
    field "$rep" readings_per_s >>"$WORK/$name.rps"
    field "$rep" mb_per_s >>"$WORK/$name.mbs"
    reference "$batches" "$size" >>"$WORK/$name.ref"
  done
  local rps mbs ref
  rps=$(median <"$WORK/$name.rps"); mbs=$(median <"$WORK/$name.mbs"); ref=$(median <"$WORK/$name.ref")
  local samples
  samples=$(paste -d' ' "$WORK/$name.mbs" "$WORK/$name.ref" | awk -v s="$size" \
    '{ printf "%s[%.1f,%.1f]", (NR > 1 ? "," : ""), $1, $2 * s / 1e6 }')
  awk -v n="$name" -v r="$rps" -v m="$mbs" -v b="$batches" -v s="$size" -v rr="$ref" -v sm="$samples" \
    'BEGIN { rm = rr * s / 1e6; printf "\"%s\":{\"readings_per_s\":%.0f,\"mb_s\":%.1f,\"messages\":%d,\"message_bytes\":%d,\"reference_msgs_per_s\":%.0f,\"reference_mb_s\":%.1f,\"ratio\":%.2f,\"mb_s_agent_vs_reference_per_round\":[%s]}", n, r, m, b, s, rr, rm, m / rm, sm }'
}
echo "{$(compare stdin agent_stdin),$(compare trace agent_trace),\"readings\":$READINGS,\"rounds\":$ROUNDS,\"cores\":\"agent and reference on core 1, broker on core 0\"}"
