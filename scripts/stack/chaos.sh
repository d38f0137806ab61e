#!/usr/bin/env bash
# `make chaos` (issue 15 item 6): failures injected into the live stack, one case after
# another, and what held. Starts a stack of its own (Kafka + topics, Redis, S3Proxy, Spark 3.5
# standalone, the IoT job with the prescale plugin and its Redis sink), `prescale tier serve`
# (Redis hot, a directory warm, S3 cold), `prescale controller` (rl, with its lease) and one
# `prescale edge` gateway replaying a calm/burst cycle; then runs the cases and prints a table
# (stdout and RUN/chaos.txt) and RUN/chaos.json; stops everything it started, even on Ctrl-C.
# Exit 0 when every case passed, 1 when one did not, 2 when the stack could not start.
#
# The cases (CHAOS_CASES, in this order; docs/controller.md, "Chaos"):
#   kafka     kill -9 of the broker, down CHAOS_KAFKA_DOWN_S (20) s, restarted on its data. Held:
#             no command decided on fresh metrics while blind (past metrics_stale_ms), the
#             target unchanged and nothing applied by the plugin before the broker is back.
#             No command made while the broker was down is delivered after its return (the
#             controller's deliveries expire after one lease session). Recovered: the first
#             command decided on fresh metrics after the broker is back (limit
#             CHAOS_KAFKA_RECOVER_S, 10 s).
#   redis     kill -9 of redis-server, down CHAOS_REDIS_DOWN_S (10) s, restarted (AOF). Held: the
#             job's driver lives, every tier read of an acknowledged object succeeds (backing
#             copies), writes are acknowledged or refused with a JSON error. Recovered: the job
#             progresses again, the controller commands on fresh metrics, the job's aggregates are
#             in Redis again, and every acknowledged object reads back byte for byte.
#   executor  kill -9 of one Spark executor JVM. Held: the job lives, commands stay within the
#             plugin's bounds. Recovered: Spark counts the loss, then runs the controller's
#             target again.
#   s3        ten fresh objects, never read, go cold to S3; kill -9 of S3Proxy, down
#             CHAOS_S3_DOWN_S (15) s, restarted. Held: every tier request answered with success
#             or a JSON error. Recovered: every acknowledged object (the cold ones in S3 among
#             them) reads back byte for byte.
#   lease     the controller's lease topic deleted, as an operator might (Kafka's TopicCommand).
#             Held: the controller and the job's driver live. Recovered: the plugin takes a lease
#             epoch above the one it applied before (a recreated topic restarts its offsets at
#             0; docs/controller.md, "A recreated lease topic"), within CHAOS_LEASE_RECOVER_S
#             (30) s.
# A redis or s3 case in which no object had its copy in that tier at the kill tested nothing,
# and fails.
# In every case and over the whole run: no command on iot-control, and none the plugin applied,
# outside the plugin's bounds; no command (epoch, seq) applied twice (the driver's log).
#
# Its own run directory and ports, whatever the environment says (as race.sh): CHAOS_RUN_DIR
# (out/chaos; absolute, iot-job.sh changes directory), CHAOS_KAFKA_PORT (29092),
# CHAOS_KAFKA_CONTROLLER_PORT (29093), CHAOS_SPARK_MASTER_PORT (27077),
# CHAOS_SPARK_MASTER_WEBUI_PORT (27080), CHAOS_SPARK_WORKER_WEBUI_PORT (27081), CHAOS_JOB_UI_PORT
# (24040), CHAOS_REDIS_PORT (26379), CHAOS_S3_PORT (29000), CHAOS_CONTROLLER_PORT (29464),
# CHAOS_TIER_PORT (28090); CHAOS_CASES ("kafka redis executor s3 lease"), CHAOS_POLICY (rl),
# CHAOS_SETTLE_S (seconds between cases, 20), PRESCALE_BIN (build/prescale). A second chaos run
# in the same directory is refused (a lock). Redis, S3Proxy and the tier server start only for
# the redis and s3 cases; the job then writes its aggregates to Redis.
#
# The run directory is set before lib.sh is sourced: lib.sh defaults it to out/stack, the
# shared stack's, and keeps whatever is set already.
CHAOS_REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PRESCALE_RUN_DIR="${CHAOS_RUN_DIR:-$CHAOS_REPO_DIR/out/chaos}"
export KAFKA_PORT="${CHAOS_KAFKA_PORT:-29092}" KAFKA_CONTROLLER_PORT="${CHAOS_KAFKA_CONTROLLER_PORT:-29093}" \
  SPARK_MASTER_PORT="${CHAOS_SPARK_MASTER_PORT:-27077}" \
  SPARK_MASTER_WEBUI_PORT="${CHAOS_SPARK_MASTER_WEBUI_PORT:-27080}" \
  SPARK_WORKER_WEBUI_PORT="${CHAOS_SPARK_WORKER_WEBUI_PORT:-27081}" JOB_UI_PORT="${CHAOS_JOB_UI_PORT:-24040}" \
  S3_PORT="${CHAOS_S3_PORT:-29000}"
source "$(dirname "$0")/lib.sh"
BIN="${PRESCALE_BIN:-$REPO_DIR/build/prescale}"
[ -x "$BIN" ] || die "$BIN is missing (make build)"
case "$PRESCALE_RUN_DIR" in /*) ;; *) die "CHAOS_RUN_DIR must be absolute (got $PRESCALE_RUN_DIR)" ;; esac
command -v jq >/dev/null || die "jq is missing (scripts/install-deps.sh installs it)"
mkdir -p "$PRESCALE_RUN_DIR"
exec 9>"$PRESCALE_RUN_DIR/chaos.lock"
flock -n 9 || die "another chaos run is using $PRESCALE_RUN_DIR (set CHAOS_RUN_DIR and the CHAOS_*_PORT variables for a second one)"

CASES="${CHAOS_CASES:-kafka redis executor s3 lease}"
for c in $CASES; do
  case "$c" in kafka | redis | executor | s3 | lease) ;; *) die "CHAOS_CASES: unknown case '$c' (expected kafka, redis, executor, s3, lease)" ;; esac
done
KAFKA_DOWN_S="${CHAOS_KAFKA_DOWN_S:-20}"
KAFKA_RECOVER_S="${CHAOS_KAFKA_RECOVER_S:-10}"
REDIS_DOWN_S="${CHAOS_REDIS_DOWN_S:-10}"
S3_DOWN_S="${CHAOS_S3_DOWN_S:-15}"
LEASE_RECOVER_S="${CHAOS_LEASE_RECOVER_S:-30}"
LEASE_TOPIC=iot-control-lease  # the controller's default: <control topic>-lease
SETTLE_S="${CHAOS_SETTLE_S:-20}"
CTL_PORT="${CHAOS_CONTROLLER_PORT:-29464}"
TIER_PORT="${CHAOS_TIER_PORT:-28090}"
METRICS_STALE_MS=10000
# The job's bounds (the plugin clamps to them, the listener publishes them): what "within the
# bounds" means. The controller is configured looser (max 6) on purpose: it must take the
# plugin's cap from the job's progress and never command above it.
JOB_MIN=1 JOB_MAX=3
C="$PRESCALE_RUN_DIR/chaos"  # this script's own files: logs of its children, samples, cases
rm -rf "$C"
mkdir -p "$C/cases" "$C/objects"

WANT_STORE=""  # Redis, S3Proxy and the tier server: only for the cases that break them
for c in $CASES; do [ "$c" = redis ] || [ "$c" = s3 ] && WANT_STORE=1; done
REDIS=""
if [ -n "$WANT_STORE" ]; then REDIS="${CHAOS_REDIS_PORT:-26379}"; fi
# The live scenario's job (scenarios/live.yaml) without the emulated cold start; REDIS_PORT=""
# = no Redis sink.
export REDIS_PORT="$REDIS" JOB_MAX_EXECUTORS=$JOB_MAX JOB_MIN_EXECUTORS=$JOB_MIN JOB_WORK_US=400 \
  JOB_WORK_MODE=sleep JOB_TRIGGER_MS=5000 JOB_SHUFFLE_PARTITIONS=2 JOB_PROVISION_DELAY_MS=0

now_ms() { local t=${EPOCHREALTIME/./}; echo "${t:0:13}"; }
# no_stack MESSAGE: the stack did not come up (exit 2, as a failed start; a case failing is 1).
no_stack() { clear_status; echo "stack: error: chaos: $*" >&2; exit 2; }

# start_bg NAME OUT CMD...: a child of this script in a process group of its own (setsid), its
# PID (= the group) in $C/NAME.pid, its output in $C/OUT.
start_bg() {
  local name=$1 out=$2
  shift 2
  setsid "$@" >"$C/$out" 2>&1 </dev/null &
  echo $! >"$C/$name.pid"
}
# stop_bg NAME: TERM to the group, KILL after 10 s. Idempotent.
stop_bg() {
  local f="$C/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$f"
}

stop_all() {
  local rc=$?
  clear_status
  for p in sampler watcher edge controller tier; do stop_bg "$p"; done
  bash "$STACK_DIR/iot-job.sh" stop || true
  bash "$STACK_DIR/spark.sh" stop || true
  if [ -n "$WANT_STORE" ]; then
    bash "$STACK_DIR/s3proxy.sh" stop || true
    REDIS_PORT="$REDIS" bash "$STACK_DIR/redis.sh" stop || true
  fi
  bash "$STACK_DIR/kafka.sh" stop || true
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# --- the stack -----------------------------------------------------------------------------
T0=$SECONDS
bash "$STACK_DIR/kafka.sh" start || exit 2
bash "$STACK_DIR/kafka.sh" topics iot-raw-data iot-processed iot-metrics iot-control iot-metadata || exit 2
if [ -n "$WANT_STORE" ]; then
  REDIS_PORT="$REDIS" bash "$STACK_DIR/redis.sh" start || exit 2
  bash "$STACK_DIR/s3proxy.sh" start || exit 2
fi
bash "$STACK_DIR/spark.sh" start || exit 2
bash "$STACK_DIR/iot-job.sh" start || exit 2

KEYS="$C/keys.txt"
(umask 077 && echo "gw-1 $(openssl rand -hex 32)" >"$KEYS")
cat >"$C/controller.yaml" <<YAML
# chaos.sh's controller: the race's settings (scenarios/race/controller.yaml), metrics stale
# after 10 s (two triggers), a looser max than the plugin's cap of $JOB_MAX on purpose.
policy: ${CHAOS_POLICY:-rl}
scenario: live
context: balanced
tick_ms: 2000
min_executors: 1
max_executors: 6
initial_executors: 1
metrics_stale_ms: $METRICS_STALE_MS
scale_down_stabilization_ms: 20000
trigger_ms: 5000
records_per_message: 500
keys_file: keys.txt
http: {listen: 127.0.0.1, port: $CTL_PORT}
lease: {id: chaos-controller}
kafka:
  bootstrap.servers: 127.0.0.1:$KAFKA_PORT
YAML
[ -n "$WANT_STORE" ] && echo "tier_metrics_url: http://127.0.0.1:$TIER_PORT/metrics" >>"$C/controller.yaml"
# Its log with the time of each line (ms), to line it up with the cases; a last line without
# its newline keeps it without.
stamp() {
  local line t
  while IFS= read -r line; do
    t=${EPOCHREALTIME/./}
    printf '%s %s\n' "${t:0:13}" "$line"
  done
  if [ -n "$line" ]; then t=${EPOCHREALTIME/./}; printf '%s %s' "${t:0:13}" "$line"; fi
}
export -f stamp
start_bg controller controller.log bash -c '"$@" 2>&1 | stamp' _ "$BIN" controller --config "$C/controller.yaml"

# The traffic: one gateway replaying a calm/burst cycle at 30x (2 s a sample): 80 s calm (~600
# readings/s, one executor's work) then 20 s burst (x3), for CHAOS_TRAFFIC_S (1800) s; the
# lookahead forecaster raises the signal 30 s before each burst, as in the race.
# A row a minute from 2023-11-14 22:00:00 (1699999200 in UTC): 40 calm, 10 burst.
{
  echo "timestamp,value"
  for ((i = 0; i < ${CHAOS_TRAFFIC_S:-1800} / 2 + 1; i++)); do
    TZ=UTC printf '%(%Y-%m-%d %H:%M:%S)T,%d\n' $((1699999200 + 60 * i)) $((i % 50 >= 40 ? 3600 : 1200))
  done
} >"$C/traffic.csv"
start_bg edge edge.log "$BIN" edge --device gw-1 --key-file "$KEYS" --brokers "127.0.0.1:$KAFKA_PORT" \
  --trace "$C/traffic.csv" --speedup 30 --forecaster lookahead --horizon 15

# Every command on iot-control as it arrives: "ARRIVAL_MS<TAB>CreateTime:MS<TAB>JSON" (Kafka's
# own console consumer, from the latest offset; it rides out the broker's restart).
start_bg watcher commands.log bash -c 'java -Xmx192m -Dlog4j.configuration="file:$1" -cp "$2/*" \
    org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$3" --topic iot-control \
    --property print.timestamp=true 2>"$4" | stamp | sed -u "s/ /\t/"' \
  _ "$PRESCALE_RUN_DIR/kafka/log4j.properties" "$KAFKA_LIBS" "127.0.0.1:$KAFKA_PORT" "$C/watcher.err"

# A sample a second: "T_MS fresh active epoch target holds progress executors" (the controller's
# /metrics; executors: Spark's REST API, the driver not counted; -1 when unreachable).
app_id() { curl -s -m 2 "http://127.0.0.1:$JOB_UI_PORT/api/v1/applications" | grep -o '"id" *: *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/'; }
APP=""
for _ in $(seq 60); do APP=$(app_id) && [ -n "$APP" ] && break; sleep 1; done
[ -n "$APP" ] || no_stack "the job's REST API names no application (http://127.0.0.1:$JOB_UI_PORT)"
export CHAOS_SAMPLE_CTL="http://127.0.0.1:$CTL_PORT/metrics" CHAOS_SAMPLE_EXEC="http://127.0.0.1:$JOB_UI_PORT/api/v1/applications/$APP/executors"
start_bg sampler samples.log bash -c 'while :; do
  t=${EPOCHREALTIME/./}; m=$(curl -s -m 1 "$CHAOS_SAMPLE_CTL")
  v() { echo "$m" | awk -v k="$1" "\$1 == k { print \$2; f = 1 } END { if (!f) print -1 }"; }
  e=$(curl -s -m 1 "$CHAOS_SAMPLE_EXEC") && n=$(echo "$e" | grep -o "\"id\" *: *\"[0-9]*\"" | wc -l) || n=-1
  echo "${t:0:13} $(v prescale_controller_metrics_fresh) $(v prescale_controller_active) $(v prescale_controller_epoch) $(v prescale_controller_executors_target) $(v prescale_controller_holds_total) $(v prescale_controller_progress_accepted_total) $n"
  sleep 1
done'

# The last sample's field N (1 = time, 2 fresh, 3 active, 4 epoch, 5 target, 6 holds,
# 7 progress, 8 executors).
sample() { tail -n 1 "$C/samples.log" 2>/dev/null | awk -v n="$1" '{ print $n }'; }
# wait_for SECONDS CMD...: polls CMD every 0.5 s; false after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}
ctl_ready() { [ "$(sample 2)" = 1 ] && [ "$(sample 3)" = 1 ] && grep -q '"epoch"' "$C/commands.log"; }
log "chaos: waiting for the controller to hold the lease and see fresh progress"
wait_for 180 ctl_ready || no_stack "the controller did not become active on fresh metrics within 180 s (logs in $C)"

# --- the tiered store ----------------------------------------------------------------------
# Three kinds of acknowledged objects, placed by their reads (half-life 1 h: an object touched
# n times is ~0.7 n accesses/h; hot >= 8, warm >= 4): hot-* read 14 times (-> Redis, backed on
# the directory), warm-* read 6 times (-> the directory), cold-* never read (-> S3; a read or
# two keeps it there).
tier_url() { echo "http://127.0.0.1:$TIER_PORT/objects/$1"; }
ACKED="$C/objects/acked.txt"  # keys the store acknowledged (204)
: >"$ACKED"
# tier_put KEY ROUND: a fresh 4 KB object; acknowledged keys are appended to $ACKED. Each
# request is a line in $C/tier.log: "ROUND put|get KEY HTTP_CODE ok|clean|bad DETAIL".
tier_put() {
  local key=$1 round=$2 code body
  head -c 4096 /dev/urandom >"$C/objects/$key"
  code=$(curl -s -m 30 -o "$C/objects/.body" -w '%{http_code}' -X PUT --data-binary @"$C/objects/$key" "$(tier_url "$key")") || code=000
  body=$(head -c 300 "$C/objects/.body" 2>/dev/null | tr -d '\n')
  if [ "$code" = 204 ]; then
    echo "$key" >>"$ACKED"
    echo "$round put $key $code ok" >>"$C/tier.log"
  elif [[ "$body" =~ ^\{\"error\": ]]; then
    echo "$round put $key $code clean $body" >>"$C/tier.log"
  else
    echo "$round put $key $code bad $body" >>"$C/tier.log"
  fi
}
# tier_get KEY ROUND: 200 with the same bytes = ok; an error status with a JSON error = clean;
# anything else (other bytes, no answer, an error without JSON) = bad.
tier_get() {
  local key=$1 round=$2 code body
  code=$(curl -s -m 30 -o "$C/objects/.got" -w '%{http_code}' "$(tier_url "$key")") || code=000
  if [ "$code" = 200 ] && cmp -s "$C/objects/.got" "$C/objects/$key"; then
    echo "$round get $key $code ok" >>"$C/tier.log"
    return 0
  fi
  body=$(head -c 300 "$C/objects/.got" 2>/dev/null | tr -d '\n')
  if [ "$code" != 200 ] && [ "$code" != 000 ] && [[ "$body" =~ ^\{\"error\": ]]; then
    echo "$round get $key $code clean $body" >>"$C/tier.log"
  else
    echo "$round get $key $code bad ${body:0:80}" >>"$C/tier.log"
  fi
  return 1
}
# tier_read_all ROUND: every acknowledged object once; true when all were ok.
tier_read_all() {
  local k all=0
  while IFS= read -r k; do tier_get "$k" "$1" || all=1; done <"$ACKED"
  return $all
}
tier_where() { "$BIN" tier ls --config "$C/tier.yaml" 2>/dev/null; }

if [ -n "$WANT_STORE" ]; then
  (umask 077 && echo "${S3_SECRET_KEY:-prescale-secret}" >"$C/s3.secret")
  cat >"$C/tier.yaml" <<YAML
# chaos.sh's tiered store: Redis db 1 (the job's hashes are in db 0), a directory, S3Proxy.
catalog: tier/catalog.db
key_prefix: chaos/
listen: 127.0.0.1
port: $TIER_PORT
tick_ms: 500
write_tier: nvme
half_life_s: 3600
hot_per_hour: 8
warm_per_hour: 4
nvme: {dir: tier/nvme, budget_mb: 64, codec: none, fsync: full}
redis: {url: "redis://127.0.0.1:$REDIS/1", budget_mb: 16, codec: none, connect_timeout_ms: 200, command_timeout_ms: 1000}
s3:
  endpoint: http://127.0.0.1:$S3_PORT
  bucket: prescale-chaos
  access_key: ${S3_ACCESS_KEY:-prescale}
  secret_file: s3.secret
  codec: zstd
  max_attempts: 2
  backoff_ms: 100
  create_bucket: true
YAML
  start_bg tier tier-server.log "$BIN" tier serve --config "$C/tier.yaml"
  wait_for 30 curl -sf -m 1 -o /dev/null "http://127.0.0.1:$TIER_PORT/healthz" || no_stack "the tier server did not answer (log $C/tier-server.log)"
  : >"$C/tier.log"
  for i in 00 01 02 03 04 05 06 07 08 09; do
    for kind in hot warm cold; do tier_put "$kind-$i" setup; done
    for _ in $(seq 14); do tier_get "hot-$i" setup >/dev/null || true; done
    for _ in $(seq 6); do tier_get "warm-$i" setup >/dev/null || true; done
  done
  placed() { [ "$(tier_where | grep -c '^redis .*hot-')" -ge 8 ] && [ "$(tier_where | grep -c '^s3 .*cold-')" -ge 8 ]; }
  wait_for 60 placed || log "chaos: warning: the migrator has not placed the objects yet: $(tier_where | awk '{print $1}' | sort | uniq -c | tr '\n' ' ')"
  tier_where >"$C/objects/placement-setup.txt"
fi

# --- the cases -----------------------------------------------------------------------------
# case_json NAME KEY=VALUE...: $C/cases/NAME.json (numbers as they are, the rest as strings).
case_json() {
  local name=$1 kv k v
  shift
  {
    printf '{"name": "%s"' "$name"
    for kv in "$@"; do
      k=${kv%%=*} v=${kv#*=}
      if [[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf ', "%s": %s' "$k" "$v"; else
        v=${v//\\/\\\\}; printf ', "%s": "%s"' "$k" "${v//\"/\\\"}"; fi
    done
    echo "}"
  } >"$C/cases/$name.json"
}
ORDER=0
driver_alive() { alive "$PRESCALE_RUN_DIR/iot-job/driver.pid"; }
# A command decided on fresh metrics, made after T_MS (its CreateTime), has arrived.
fresh_command_after() {
  awk -F'\t' -v t="$1" '{ sub(/^CreateTime:/, "", $2) } $2 + 0 >= t && $3 !~ /"reason":"hold/ { f = 1; exit } END { exit !f }' "$C/commands.log"
}

case_kafka() {
  local t_kill t_restart t_back
  log "chaos: [kafka] kill -9 of the broker for $KAFKA_DOWN_S s"
  t_kill=$(now_ms)
  kill -KILL "$(cat "$PRESCALE_RUN_DIR/kafka/kafka.pid")"
  sleep "$KAFKA_DOWN_S"
  t_restart=$(now_ms)
  bash "$STACK_DIR/kafka.sh" start || die "the broker did not come back"
  t_back=$(now_ms)
  wait_for 120 fresh_command_after "$t_back" || log "chaos: [kafka] no command on fresh metrics within 120 s of the broker's return"
  sleep 2
  case_json kafka order=$((ORDER += 1)) "did=kill -9 broker, down ${KAFKA_DOWN_S} s, restart" t_start="$t_kill" \
    t_kill="$t_kill" t_restart="$t_restart" t_back="$t_back" t_end="$(now_ms)" recover_limit_s="$KAFKA_RECOVER_S" \
    driver_alive="$(driver_alive && echo 1 || echo 0)"
}

case_redis() {
  local t_kill t_back p0 keys0 keys1 before_ok n_redis
  tier_read_all redis:before && before_ok=1 || before_ok=0
  tier_where >"$C/objects/placement-before-redis.txt"
  n_redis=$(grep -c '^redis ' "$C/objects/placement-before-redis.txt" || true)
  log "chaos: [redis] kill -9 of redis-server for $REDIS_DOWN_S s (the job's sink; the hot tier: $n_redis object(s) in Redis)"
  keys0=$(redis-cli -p "$REDIS" --scan --pattern 'prescale:hot:agg:*' | wc -l)
  p0=$(sample 7)
  t_kill=$(now_ms)
  kill -KILL "$(cat "$PRESCALE_RUN_DIR/redis/redis.pid")"
  local deadline=$((SECONDS + REDIS_DOWN_S)) i=0
  while [ "$SECONDS" -lt "$deadline" ]; do  # reads and writes while Redis is down
    tier_read_all redis:during || true
    tier_put "redis-down-$i" redis:during
    i=$((i + 1))
  done
  REDIS_PORT="$REDIS" bash "$STACK_DIR/redis.sh" start || die "redis did not come back"
  t_back=$(now_ms)
  wait_for 120 fresh_command_after "$t_back" || log "chaos: [redis] no command on fresh metrics within 120 s of Redis's return"
  local t_cmd
  t_cmd=$(now_ms)
  # The job's sink writes again: more aggregate keys than before the kill (new windows).
  wait_for 60 bash -c "[ \$(redis-cli -p $REDIS --scan --pattern 'prescale:hot:agg:*' | wc -l) -gt $keys0 ]" || true
  keys1=$(redis-cli -p "$REDIS" --scan --pattern 'prescale:hot:agg:*' | wc -l)
  wait_for 30 tier_read_all redis:after || true  # the last round is the verdict
  case_json redis order=$((ORDER += 1)) "did=kill -9 redis-server, down ${REDIS_DOWN_S} s, restart" t_start="$t_kill" \
    t_kill="$t_kill" t_back="$t_back" t_command="$t_cmd" t_end="$(now_ms)" agg_keys_before="$keys0" agg_keys_after="$keys1" \
    tier_before_ok="$before_ok" in_tier="$n_redis" progress_before="$p0" recover_limit_s=60 \
    driver_alive="$(driver_alive && echo 1 || echo 0)"
}

# Spark's count (a sample taken after T_MS) is below N.
executors_below() { [ "$(sample 1)" -gt "$2" ] && [ "$(sample 8)" -lt "$1" ]; }
executors_at_target() {
  local n t
  n=$(sample 8) t=$(sample 5)
  [ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -ge "$t" ] && [ "$1" -lt "$(sample 1)" ]
}
case_executor() {
  local pids pid t_kill t_back n0 target0
  pids=$(pgrep -f "CoarseGrainedExecutorBackend.*--app-id $APP" || true)
  n0=$(sample 8) target0=$(sample 5)
  if [ -z "$pids" ]; then
    log "chaos: [executor] no executor JVM of $APP to kill (is the job running?)"
    t_kill=$(now_ms)
    case_json executor order=$((ORDER += 1)) "did=kill -9 one executor JVM (none found)" t_start="$t_kill" \
      t_kill="$t_kill" t_back=0 t_end="$t_kill" executors_before="$n0" target_before="$target0" killed_pid=none \
      recover_limit_s=120 driver_alive="$(driver_alive && echo 1 || echo 0)"
    return 0
  fi
  pid=$(echo "$pids" | tail -n 1)
  log "chaos: [executor] kill -9 of executor JVM $pid ($n0 running, target $target0)"
  t_kill=$(now_ms)
  kill -KILL "$pid"
  # Spark must first notice (its count drops), then run the target again.
  local t_noticed=""
  wait_for 60 executors_below "$n0" "$t_kill" && t_noticed=$(now_ms)
  t_back=""
  if [ -n "$t_noticed" ] && wait_for 180 executors_at_target "$t_noticed"; then t_back=$(now_ms); fi
  sleep 5
  case_json executor order=$((ORDER += 1)) "did=kill -9 one executor JVM" t_start="$t_kill" t_kill="$t_kill" \
    t_back="${t_back:-0}" t_noticed="${t_noticed:-0}" t_end="$(now_ms)" executors_before="$n0" target_before="$target0" killed_pid="$pid" \
    recover_limit_s=120 driver_alive="$(driver_alive && echo 1 || echo 0)"
}

in_s3() { [ "$(tier_where | grep -c '^s3 .*s3-cold-')" -ge "$1" ]; }
case_s3() {
  local t_kill t_back t_ok="" before_ok i n_s3
  # The earlier cases' reads made every object hot: fresh ones, never read, go cold to S3.
  for i in 00 01 02 03 04 05 06 07 08 09; do tier_put "s3-cold-$i" setup; done
  wait_for 60 in_s3 10 || log "chaos: [s3] warning: not all of s3-cold-* reached S3 within 60 s"
  tier_read_all s3:before && before_ok=1 || before_ok=0
  tier_where >"$C/objects/placement-before-s3.txt"
  n_s3=$(grep -c '^s3 ' "$C/objects/placement-before-s3.txt" || true)
  log "chaos: [s3] kill -9 of S3Proxy for $S3_DOWN_S s (the cold tier: $n_s3 object(s) in S3)"
  t_kill=$(now_ms)
  kill -KILL "$(cat "$PRESCALE_RUN_DIR/s3proxy/s3proxy.pid")"
  local deadline=$((SECONDS + S3_DOWN_S)) i=0
  while [ "$SECONDS" -lt "$deadline" ]; do
    tier_read_all s3:during || true
    tier_put "s3-down-$i" s3:during
    i=$((i + 1))
  done
  bash "$STACK_DIR/s3proxy.sh" start || die "S3Proxy did not come back"
  t_back=$(now_ms)
  if wait_for 60 tier_read_all s3:after; then t_ok=$(now_ms); fi
  tier_where >"$C/objects/placement-after-s3.txt"
  case_json s3 order=$((ORDER += 1)) "did=kill -9 S3Proxy, down ${S3_DOWN_S} s, restart" t_start="$t_kill" \
    t_kill="$t_kill" t_back="$t_back" t_ok="${t_ok:-0}" t_end="$(now_ms)" tier_before_ok="$before_ok" in_tier="$n_s3" \
    recover_limit_s=60 driver_alive="$(driver_alive && echo 1 || echo 0)"
}

# The highest epoch the plugin has taken (its "new lease: epoch E after F" lines), 0 if none.
applied_epoch() {
  grep -o 'new lease: epoch [0-9]*' "$PRESCALE_RUN_DIR/iot-job/driver.log" 2>/dev/null |
    awk '$4 + 0 > m { m = $4 + 0 } END { print m + 0 }'
}
epoch_above() { [ "$(applied_epoch)" -gt "$1" ]; }
lease_topic_exists() {
  bash "$STACK_DIR/kafka.sh" list-topics | grep -qx "$LEASE_TOPIC"
}
case_lease() {
  local t_kill t_back e0 e1 exists
  e0=$(applied_epoch)
  log "chaos: [lease] the lease topic $LEASE_TOPIC deleted (the job applies epoch $e0)"
  t_kill=$(now_ms)
  bash "$STACK_DIR/kafka.sh" delete-topics "$LEASE_TOPIC" || die "could not delete $LEASE_TOPIC"
  t_back=""
  if wait_for 120 epoch_above "$e0"; then t_back=$(now_ms); fi
  e1=$(applied_epoch)
  lease_topic_exists && exists=1 || exists=0
  sleep 2
  case_json lease order=$((ORDER += 1)) "did=delete the lease topic $LEASE_TOPIC" t_start="$t_kill" \
    t_kill="$t_kill" t_back="${t_back:-0}" t_end="$(now_ms)" epoch_before="$e0" epoch_after="$e1" \
    topic_exists_after="$exists" recover_limit_s="$LEASE_RECOVER_S" \
    controller_alive="$(alive "$C/controller.pid" && echo 1 || echo 0)" \
    driver_alive="$(driver_alive && echo 1 || echo 0)"
}

log "chaos: stack ready after $((SECONDS - T0)) s; cases: $CASES (settle ${SETTLE_S} s before each)"
T_CASES=$SECONDS
for c in $CASES; do
  sleep "$SETTLE_S"
  "case_$c"
done
sleep 5
log "chaos: cases done in $((SECONDS - T_CASES)) s ($((SECONDS - T0)) s in all so far)"

# --- the report ----------------------------------------------------------------------------
# report DRIVER_LOG WALL_S: the table (stdout) and $PRESCALE_RUN_DIR/chaos.json from what the run
# left in $C and the driver's log; exit status 0 when every case passed, 1 when one did not. jq
# reads the JSON (the commands, the cases), awk judges and prints, jq writes chaos.json. Its
# working files are in $C/report: commands.tsv "ARRIVAL_MS CREATE_MS TARGET HOLD EPOCH" (the
# scale_to commands; HOLD 1 when the reason starts with "hold"), driver.tsv (the plugin's lines,
# their time in s), cases.tsv "INDEX KEY VALUE" (the cases in their order), rows.txt (what awk
# found, for jq).
report() {
  local R="$C/report" driver_log=$1 wall_s=$2 rc=0 tier_log=/dev/null
  local cases=("$C"/cases/*.json)
  rm -rf "$R"
  mkdir -p "$R"
  [ -r "$driver_log" ] || { echo "chaos: report: no driver log $driver_log" >&2; return 1; }
  [ -f "$C/tier.log" ] && tier_log="$C/tier.log"
  jq -R -r 'split("\t") as $p | select(($p | length) >= 3 and ($p[1] | startswith("CreateTime:")))
    | (try ($p[2:] | join("\t") | fromjson) catch null) as $c
    | select(($c | type) == "object" and $c.type == "scale_to")
    | [$p[0], $p[1][11:], ($c.target_executors // -1),
       (if ($c.reason // "") | startswith("hold") then 1 else 0 end), ($c.epoch // 0)]
    | map(tostring) | join("\t")' "$C/commands.log" >"$R/commands.tsv"
  # What the plugin applied (ScalingDriverPlugin): "seq N (epoch E) -> T executors (...)", and
  # "seq N applied: total T" when Spark was asked (the last such text on a line, as a greedy
  # match). The driver logs local time to the second: date(1) reads it as local time too.
  awk '
    function norm(s) { sub(/^0+/, "", s); return s == "" ? "0" : s }
    !/^[0-9][0-9]\/[0-9][0-9]\/[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] / { next }
    {
      d = substr($0, 1, 17); rest = substr($0, 19); a = ""; t = ""
      while (match(rest, /prescale: seq [0-9]+( \(epoch [0-9]+\))? -> [0-9]+ executors/)) {
        a = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + 1)
      }
      rest = substr($0, 19)
      while (match(rest, /prescale: seq [0-9]+ applied: total [0-9]+/)) {
        t = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + 1)
      }
      if (a != "") {  # "prescale: seq N [(epoch E)] -> T executors"
        n = split(a, w, " ")
        if (n == 8) { e = w[5]; sub(/\)$/, "", e); print "A\t" d "\t" norm(e) "\t" norm(w[3]) "\t" norm(w[7]) }
        else print "A\t" d "\t-1\t" norm(w[3]) "\t" norm(w[5])
      }
      if (t != "") { split(t, w, " "); print "T\t" d "\t" norm(w[3]) "\t" norm(w[6]) }
    }' "$driver_log" >"$R/driver.raw"
  cut -f 2 "$R/driver.raw" | awk -F '[/ ]' '{ printf "%s%s-%s-%s %s\n", ($1 < 69 ? "20" : "19"), $1, $2, $3, $4 }' |
    date -f - +%s | paste - "$R/driver.raw" >"$R/driver.tsv"
  if [ -e "${cases[0]}" ]; then
    jq -r -s 'sort_by(.order) | to_entries[] | .key as $i | .value | to_entries[]
      | [($i | tostring), .key, (.value | if . == null then "" else tostring end)] | join("\t")' "${cases[@]}" >"$R/cases.tsv"
  else
    : >"$R/cases.tsv"
  fi
  awk -v lo="$JOB_MIN" -v hi="$JOB_MAX" -v stale="$METRICS_STALE_MS" -v out="$R/rows.txt" -f /dev/stdin \
    part=cmd FS='\t' "$R/commands.tsv" part=drv "$R/driver.tsv" part=case "$R/cases.tsv" \
    part=smp FS=' ' "$C/samples.log" part=tier "$tier_log" <<'AWK' || rc=$?
# Python's %d (an int, truncated), %.1f of ms as seconds, and repr() of ms / 1000.0.
function pd(x) { x = int(x); return x == 0 ? "0" : sprintf("%.0f", x) }
function s1(ms) { return sprintf("%.1f", ms / 1000) }
function secs(ms,  neg, q, r) {
  neg = ms < 0; if (neg) ms = -ms
  q = int(ms / 1000); r = ms - q * 1000
  r = sprintf("%03d", r); sub(/0+$/, "", r); if (r == "") r = "0"
  return (neg ? "-" : "") sprintf("%.0f", q) "." r
}
function floordiv(x, y,  q) { q = int(x / y); while (q * y > x) q--; while ((q + 1) * y <= x) q++; return q }
# Sets of numbers (key: the number's text), printed as Python prints a sorted list: "[1, 2]".
function setadd(S, v) { S[v] = 1 }
function setlen(S,  k, n) { n = 0; for (k in S) n++; return n }
function pylist(S,  k, v, n, i, j, x, s) {
  n = 0
  for (k in S) v[++n] = k
  for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] + 0 > x + 0; j--) v[j + 1] = v[j]; v[j + 1] = x }
  s = "["
  for (i = 1; i <= n; i++) s = s (i > 1 ? ", " : "") v[i]
  return s "]"
}
function isnum(x) { return x ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
# Commands (a command's CreateTime in [a, b)) and applied lines (their time in [a - 1 s, b + 1 s))
# outside [lo, hi].
function out_of_bounds(a, b,  i, n) {
  n = 0
  for (i = 1; i <= ncmd; i++) if (a <= ct[i] && ct[i] < b && !(lo <= tg[i] && tg[i] <= hi)) n++
  for (i = 1; i <= napp; i++) if (a - 1000 <= at[i] && at[i] < b + 1000 && !(lo <= ax[i] && ax[i] <= hi)) n++
  return n
}
# An (epoch, seq) applied, or a seq's total asked of Spark, a second time within [a - 1 s, b + 1 s).
function twice(a, b,  i, k, seen, tseen, n) {
  n = 0
  for (i = 1; i <= napp; i++) {
    k = ae[i] SUBSEP as[i]
    if ((k in seen) && a - 1000 <= at[i] && at[i] < b + 1000) n++
    seen[k] = 1
  }
  for (i = 1; i <= ntot; i++) {
    k = ts[i]
    if ((k in tseen) && a - 1000 <= tt[i] && tt[i] < b + 1000) n++
    tseen[k] = 1
  }
  return n
}
# The CreateTime of the first command decided on fresh metrics made at or after T ("" if none).
function first_fresh_command(t,  i, m) {
  m = ""
  for (i = 1; i <= ncmd; i++) if (ct[i] >= t && !hold[i] && (m == "" || ct[i] < m)) m = ct[i]
  return m
}
function note(text) { notes[nrow, ++nnotes[nrow]] = text }
function emit(k, v) { print "R\t" nrow "\t" k "\t" v > out }

part == "cmd" { ncmd++; arr[ncmd] = $1 + 0; ct[ncmd] = $2 + 0; tg[ncmd] = $3 + 0; tgs[ncmd] = $3; hold[ncmd] = $4 + 0; ep[ncmd] = $5; next }
part == "drv" && $2 == "A" { napp++; at[napp] = $1 * 1000; ae[napp] = $4; as[napp] = $5; ax[napp] = $6 + 0; next }
part == "drv" && $2 == "T" { ntot++; tt[ntot] = $1 * 1000; ts[ntot] = $4; next }
part == "case" { ncase = $1 + 1 > ncase ? $1 + 1 : ncase; c[$1, $2] = $3; next }
part == "smp" && NF == 8 {
  for (k = 1; k <= 8; k++) if (!isnum($k)) next
  nsmp++
  for (k = 1; k <= 8; k++) S[nsmp, k] = $k + 0
  next
}
part == "tier" {  # "ROUND put|get KEY HTTP_CODE ok|clean|bad DETAIL": split at the first 5 spaces
  ntier++; line[ntier] = $0; rest = $0
  for (k = 1; k <= 5; k++) {
    p = index(rest, " ")
    if (!p) break
    T[ntier, k] = substr(rest, 1, p - 1); rest = substr(rest, p + 1)
  }
  T[ntier, k] = rest
  next
}

END {
  for (i = 0; i < ncase; i++) {
    nrow = i; name = c[i, "name"]; a = c[i, "t_start"] + 0; b = c[i, "t_end"] + 0
    alive = c[i, "driver_alive"] + 0; tk = c[i, "t_kill"] + 0; tb = c[i, "t_back"] + 0
    held = 1; rec = ""; lost = ""; late = ""
    if (name == "kafka") {
      bf = tk + stale; made = 0; fresh = 0; changed = 0; split("", targets)
      for (j = 1; j <= ncmd; j++) if (bf <= ct[j] && ct[j] < tb) { made++; if (!hold[j]) fresh++ }
      for (j = 1; j <= nsmp; j++) if (bf <= S[j, 1] && S[j, 1] < tb && S[j, 5] >= 0) setadd(targets, pd(S[j, 5]))
      for (j = 1; j <= napp; j++) if (tk <= at[j] && at[j] < tb - 1000) changed++
      held = fresh == 0 && setlen(targets) <= 1 && changed == 0
      note(sprintf("blind %s-%s s: %s command(s) made (%s on fresh metrics), target(s) %s, %s applied",
        pd(floordiv(stale, 1000)), pd(floordiv(tb - tk, 1000)), pd(made), pd(fresh),
        setlen(targets) ? pylist(targets) : "-", pd(changed)))
      late = 0; split("", lt); split("", le)
      for (j = 1; j <= ncmd; j++) if (tk <= ct[j] && ct[j] < tb && arr[j] >= tb) { late++; setadd(lt, tgs[j]); setadd(le, ep[j]) }
      if (late) note(sprintf("%s command(s) made while blind were delivered after the return (targets %s, epochs %s)",
        pd(late), pylist(lt), pylist(le)))
      t = first_fresh_command(tb)
      if (t != "") {
        rec = t - tb; split("", fe)
        for (j = 1; j <= ncmd; j++) if (ct[j] >= tb && ct[j] <= t) setadd(fe, ep[j])
        note(sprintf("first command on fresh metrics %s s after the broker was ready (%s s after its restart began), epoch %s",
          s1(rec), s1(t - c[i, "t_restart"]), pylist(fe)))
      }
      for (j = 1; j <= nsmp; j++) if (S[j, 1] >= tb && S[j, 2] == 1) {
        note(sprintf("metrics fresh again %s s after the return", s1(S[j, 1] - tb))); break
      }
      if (!alive) { held = 0; note("the job's driver died") }
    } else if (name == "redis") {
      nbad = 0; gets = 0; gets_ok = 0; puts = 0; puts_ok = 0
      for (j = 1; j <= ntier; j++) if (T[j, 1] == "redis:during") {
        if (T[j, 5] == "bad") nbad++
        if (T[j, 2] == "get") { gets++; if (T[j, 5] == "ok") gets_ok++ }
        if (T[j, 2] == "put") { puts++; if (T[j, 5] == "ok") puts_ok++ }
      }
      held = alive == 1 && nbad == 0 && gets_ok == gets && c[i, "in_tier"] > 0 && c[i, "tier_before_ok"] == 1
      note(sprintf("%s object(s) had a copy in Redis at the kill; while down: %s/%s reads ok, %s/%s writes acknowledged, %s bad answer(s)",
        pd(c[i, "in_tier"]), pd(gets_ok), pd(gets), pd(puts_ok), pd(puts), pd(nbad)))
      t = first_fresh_command(tb); prog = ""
      for (j = 1; j <= nsmp; j++) if (S[j, 1] >= tb && S[j, 7] > c[i, "progress_before"] + 0 && S[j, 2] == 1) { prog = S[j, 1]; break }
      note(sprintf("job aggregates in Redis: %s keys before, %s after the restart", pd(c[i, "agg_keys_before"]), pd(c[i, "agg_keys_after"])))
      if (t != "" && prog != "" && c[i, "agg_keys_after"] + 0 > c[i, "agg_keys_before"] + 0) {  # new windows
        rec = t - tb; if (prog - tb > rec) rec = prog - tb; if (rec < 0) rec = 0
      }
      if (!alive) note("the job's driver died")
    } else if (name == "executor") {
      held = alive == 1
      if (tb) rec = tb - tk
      tn = c[i, "t_noticed"] + 0
      note(sprintf("%s executor(s) before (target %s); Spark counted the loss %s; back at the target %s",
        pd(c[i, "executors_before"]), pd(c[i, "target_before"]), tn ? s1(tn - tk) " s after the kill" : "never (60 s)",
        rec != "" ? s1(rec) " s after the kill" : "never"))
      if (!alive) note("the job's driver died")
    } else if (name == "s3") {
      nbad = 0; clean = 0; ok = 0; split("", bad)
      for (j = 1; j <= ntier; j++) if (T[j, 1] == "s3:during") {
        if (T[j, 5] == "bad") bad[++nbad] = line[j]
        if (T[j, 5] == "clean") clean++
        if (T[j, 5] == "ok") ok++
      }
      held = nbad == 0 && c[i, "in_tier"] > 0 && c[i, "tier_before_ok"] == 1
      note(sprintf("%s object(s) in S3 at the kill; while down: %s answers ok, %s clean JSON errors, %s bad",
        pd(c[i, "in_tier"]), pd(ok), pd(clean), pd(nbad)))
      for (j = 1; j <= nbad && j <= 3; j++) note("bad answer: " bad[j])
      if (c[i, "t_ok"] + 0) rec = c[i, "t_ok"] - tb
    } else if (name == "lease") {
      held = alive == 1 && c[i, "controller_alive"] == 1
      if (tb) rec = tb - tk
      note(sprintf("the job applied epoch %s before; epoch %s %s; the lease topic %s", pd(c[i, "epoch_before"]),
        pd(c[i, "epoch_after"]), rec != "" ? s1(rec) " s after the deletion" : "never (120 s)",
        c[i, "topic_exists_after"] == 1 ? "exists again" : "does not exist"))
      if (c[i, "controller_alive"] != 1) note("the controller died")
      if (!alive) note("the job's driver died")
    }
    if (name == "redis" || name == "s3") {
      # Every object acknowledged before this case's reads after the restart (tier.log is in
      # order), and the last answer each got in those reads.
      nacked = 0; after = 0; split("", last)
      for (j = 1; j <= ntier; j++) {
        if (T[j, 1] == name ":after") after = 1
        if (!after && T[j, 2] == "put" && T[j, 5] == "ok") acked[++nacked] = T[j, 3]
        if (T[j, 1] == name ":after" && T[j, 2] == "get") last[T[j, 3]] = T[j, 5]
      }
      lost = 0
      for (j = 1; j <= nacked; j++) if (!((acked[j]) in last) || last[acked[j]] != "ok") lost++
      note(sprintf("%s acknowledged object(s), %s not read back intact after the restart", pd(nacked), pd(lost)))
    }
    oob = out_of_bounds(a, b); dup = twice(a, b)
    recovered = rec != "" && rec / 1000 <= c[i, "recover_limit_s"] + 0
    verdict[i] = held && recovered && oob == 0 && dup == 0 && !(lost + 0) && !(late + 0) ? "pass" : "FAIL"
    if (verdict[i] != "pass") failed = 1
    emit("case", name); emit("did", c[i, "did"]); emit("held", held ? "true" : "false")
    emit("recovered_s", rec == "" ? "" : secs(rec)); emit("recover_limit_s", c[i, "recover_limit_s"])
    emit("commands_out_of_bounds", oob); emit("commands_applied_twice", dup); emit("acknowledged_lost", lost)
    emit("commands_delivered_late", late); emit("verdict", verdict[i])
    row[i] = sprintf("| %s | %s | %s | %s (limit %s s) | %s | %s | %s |", name, c[i, "did"], held ? "yes" : "NO",
      rec == "" ? "never" : s1(rec) " s", pd(c[i, "recover_limit_s"]), pd(oob), pd(dup), verdict[i])
  }
  # The whole run: from the first command seen on.
  a = 0
  for (j = 1; j <= ncmd; j++) if (j == 1 || ct[j] < a) a = ct[j]
  b = 2 ^ 62; oob = out_of_bounds(a, b); dup = twice(a, b)
  split("", all)
  for (j = 1; j <= ncmd; j++) setadd(all, ep[j])
  print "S\tcommands_seen\t" ncmd + 0 > out; print "S\tcommands_applied\t" napp + 0 > out
  print "S\tcommands_out_of_bounds\t" oob > out; print "S\tcommands_applied_twice\t" dup > out
  print "S\tepochs\t" pylist(all) > out; print "S\tpass\t" (failed ? "false" : "true") > out
  for (i = 0; i < ncase; i++) for (j = 1; j <= nnotes[i]; j++) print "N\t" i "\t" notes[i, j] > out
  print "| case | what was done | held? | recovered in | commands out of bounds | applied twice | verdict |"
  print "|---|---|---|---|---|---|---|"
  for (i = 0; i < ncase; i++) print row[i]
  print ""
  for (i = 0; i < ncase; i++) for (j = 1; j <= nnotes[i]; j++) print c[i, "name"] ": " notes[i, j]
  printf "whole run: %s commands seen on iot-control, %s applied by the plugin, epochs %s; %s out of bounds [%s, %s], %s applied twice\n",
    pd(ncmd), pd(napp), pylist(all), pd(oob), pd(lo), pd(hi), pd(dup)
  exit failed ? 1 : 0
}
AWK
  [ "$rc" -le 1 ] || return 1
  # chaos.json as json.dump(indent=2) writes it: \u escapes for non-ASCII, no final newline,
  # and recovered_s a float ("2.0", where jq 1.6 writes "2").
  jq -R -n -a -j --indent 2 --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --argjson lo "$JOB_MIN" --argjson hi "$JOB_MAX" \
    --argjson stale "$METRICS_STALE_MS" --argjson wall "$wall_s" '
    def optnum: if . == "" then null else tonumber end;
    reduce (inputs | split("\t")) as $f ({s: {}, rows: []};
      if $f[0] == "S" then .s[$f[1]] = ($f[2:] | join("\t"))
      elif $f[0] == "R" then .rows[$f[1] | tonumber][$f[2]] = ($f[3:] | join("\t"))
      elif $f[0] == "N" then .rows[$f[1] | tonumber].notes += [$f[2:] | join("\t")]
      else . end)
    | {date: $date, bounds: [$lo, $hi], metrics_stale_ms: $stale, wall_s: $wall,
       commands_seen: (.s.commands_seen | tonumber), commands_applied: (.s.commands_applied | tonumber),
       commands_out_of_bounds: (.s.commands_out_of_bounds | tonumber),
       commands_applied_twice: (.s.commands_applied_twice | tonumber), epochs: (.s.epochs | fromjson),
       cases: [.rows[] | {case: .case, did: .did, held: (.held == "true"), recovered_s: (.recovered_s | optnum),
         recover_limit_s: (.recover_limit_s | tonumber), commands_out_of_bounds: (.commands_out_of_bounds | tonumber),
         commands_applied_twice: (.commands_applied_twice | tonumber), acknowledged_lost: (.acknowledged_lost | optnum),
         commands_delivered_late: (.commands_delivered_late | optnum),
         verdict: .verdict, notes: (.notes // [])}],
       pass: (.s.pass == "true")}' "$R/rows.txt" |
    sed 's/^\(      "recovered_s": -\{0,1\}[0-9]\{1,\}\),$/\1.0,/' >"$PRESCALE_RUN_DIR/chaos.json" || return 1
  return "$rc"
}
report "$PRESCALE_RUN_DIR/iot-job/driver.log" "$((SECONDS - T0))" | tee "$PRESCALE_RUN_DIR/chaos.txt"
rc=${PIPESTATUS[0]}
log "chaos: the table in $PRESCALE_RUN_DIR/chaos.txt, JSON in $PRESCALE_RUN_DIR/chaos.json, logs in $C"
exit "$rc"
