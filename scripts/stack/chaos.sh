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
#             Recovered: the first command decided on fresh metrics after the broker is back
#             (limit CHAOS_KAFKA_RECOVER_S, 10 s).
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
# CHAOS_TIER_PORT (28090); CHAOS_CASES ("kafka redis executor s3"), CHAOS_POLICY (rl),
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
command -v python3 >/dev/null || die "python3 is missing (scripts/install-deps.sh installs it)"
mkdir -p "$PRESCALE_RUN_DIR"
exec 9>"$PRESCALE_RUN_DIR/chaos.lock"
flock -n 9 || die "another chaos run is using $PRESCALE_RUN_DIR (set CHAOS_RUN_DIR and the CHAOS_*_PORT variables for a second one)"

CASES="${CHAOS_CASES:-kafka redis executor s3}"
for c in $CASES; do
  case "$c" in kafka | redis | executor | s3) ;; *) die "CHAOS_CASES: unknown case '$c' (expected kafka, redis, executor, s3)" ;; esac
done
KAFKA_DOWN_S="${CHAOS_KAFKA_DOWN_S:-20}"
KAFKA_RECOVER_S="${CHAOS_KAFKA_RECOVER_S:-10}"
REDIS_DOWN_S="${CHAOS_REDIS_DOWN_S:-10}"
S3_DOWN_S="${CHAOS_S3_DOWN_S:-15}"
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
# Its log with the time of each line (ms), to line it up with the cases.
stamp() { python3 -u -c 'import sys, time
for line in sys.stdin: print("%d %s" % (time.time() * 1000, line), end="", flush=True)'; }
export -f stamp
start_bg controller controller.log bash -c '"$@" 2>&1 | stamp' _ "$BIN" controller --config "$C/controller.yaml"

# The traffic: one gateway replaying a calm/burst cycle at 30x (2 s a sample): 80 s calm (~600
# readings/s, one executor's work) then 20 s burst (x3), for CHAOS_TRAFFIC_S (1800) s; the
# lookahead forecaster raises the signal 30 s before each burst, as in the race.
python3 - "$C/traffic.csv" "${CHAOS_TRAFFIC_S:-1800}" <<'PY'
import sys, datetime
rows = int(sys.argv[2]) // 2 + 1
t = datetime.datetime(2023, 11, 14, 22, 0, 0)
with open(sys.argv[1], "w") as f:
    f.write("timestamp,value\n")
    for i in range(rows):
        f.write("%s,%d\n" % ((t + datetime.timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S"),
                             3600 if i % 50 >= 40 else 1200))
PY
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

log "chaos: stack ready after $((SECONDS - T0)) s; cases: $CASES (settle ${SETTLE_S} s before each)"
T_CASES=$SECONDS
for c in $CASES; do
  sleep "$SETTLE_S"
  "case_$c"
done
sleep 5
log "chaos: cases done in $((SECONDS - T_CASES)) s ($((SECONDS - T0)) s in all so far)"

# --- the report ----------------------------------------------------------------------------
python3 - "$C" "$PRESCALE_RUN_DIR/iot-job/driver.log" "$JOB_MIN" "$JOB_MAX" "$METRICS_STALE_MS" \
  "$PRESCALE_RUN_DIR/chaos.json" "$((SECONDS - T0))" <<'PY' | tee "$PRESCALE_RUN_DIR/chaos.txt"
import glob, json, os, re, sys, datetime
C, driver_log, lo, hi, stale_ms, out_json, wall_s = sys.argv[1:8]
lo, hi, stale_ms = int(lo), int(hi), int(stale_ms)

# Commands on iot-control: (arrival ms, create ms, the command).
commands = []
for line in open(os.path.join(C, "commands.log"), errors="replace"):
    parts = line.rstrip("\n").split("\t", 2)
    if len(parts) < 3 or not parts[1].startswith("CreateTime:"):
        continue
    try:
        cmd = json.loads(parts[2])
    except ValueError:
        continue
    if cmd.get("type") != "scale_to":
        continue
    commands.append((int(parts[0]), int(parts[1][11:]), cmd))

# What the plugin applied (ScalingDriverPlugin): "seq N (epoch E) -> T executors (...)", and
# "seq N applied: total T" when Spark was asked. The driver logs local time to the second.
applied, totals = [], []
pat = re.compile(r"^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d) .*prescale: seq (\d+)(?: \(epoch (\d+)\))? -> (\d+) executors")
tot = re.compile(r"^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d) .*prescale: seq (\d+) applied: total (\d+)")
def when(s):
    return int(datetime.datetime.strptime(s, "%y/%m/%d %H:%M:%S").timestamp() * 1000)
for line in open(driver_log, errors="replace"):
    m = pat.match(line)
    if m:
        applied.append((when(m.group(1)), int(m.group(3) or -1), int(m.group(2)), int(m.group(4))))
    m = tot.match(line)
    if m:
        totals.append((when(m.group(1)), int(m.group(2)), int(m.group(3))))

samples = []
for line in open(os.path.join(C, "samples.log")):
    f = line.split()
    if len(f) == 8:
        try:
            samples.append([float(x) for x in f])
        except ValueError:
            pass

tier = [l.rstrip("\n").split(" ", 5) for l in open(os.path.join(C, "tier.log"))] if os.path.exists(os.path.join(C, "tier.log")) else []

def out_of_bounds(a, b):
    c = sum(1 for (_, ct, x) in commands if a <= ct < b and not lo <= x.get("target_executors", -1) <= hi)
    p = sum(1 for (t, _, _, x) in applied if a - 1000 <= t < b + 1000 and not lo <= x <= hi)
    return c + p

def twice(a, b):
    seen, dup = set(), 0
    for (t, e, s, _) in applied:
        if (e, s) in seen and a - 1000 <= t < b + 1000:
            dup += 1
        seen.add((e, s))
    ts = set()
    for (t, s, _) in totals:
        if s in ts and a - 1000 <= t < b + 1000:
            dup += 1
        ts.add(s)
    return dup

def first_fresh_command(after):
    xs = [ct for (_, ct, x) in commands if ct >= after and not x.get("reason", "").startswith("hold")]
    return min(xs) if xs else None

rows = []
for path in sorted(glob.glob(os.path.join(C, "cases", "*.json")), key=lambda p: json.load(open(p))["order"]):
    c = json.load(open(path))
    name, a, b = c["name"], c["t_start"], c["t_end"]
    notes, held, rec = [], True, None
    if name == "kafka":
        blind_from, blind_to = c["t_kill"] + stale_ms, c["t_back"]
        made = [x for (_, ct, x) in commands if blind_from <= ct < blind_to]
        fresh = [x for x in made if not x.get("reason", "").startswith("hold")]
        targets = {int(s[4]) for s in samples if blind_from <= s[0] < blind_to and s[4] >= 0}
        changed = [x for x in applied if c["t_kill"] <= x[0] < c["t_back"] - 1000]
        held = not fresh and len(targets) <= 1 and not changed
        notes.append("blind %d-%d s: %d command(s) made (%d on fresh metrics), target(s) %s, %d applied" % (
            stale_ms // 1000, (blind_to - c["t_kill"]) // 1000, len(made), len(fresh),
            sorted(targets) or "-", len(changed)))
        late = [x for (arr, ct, x) in commands if c["t_kill"] <= ct < c["t_back"] and arr >= c["t_back"]]
        if late:
            notes.append("%d command(s) made while blind were delivered after the return (targets %s, epochs %s)" % (
                len(late), sorted({x["target_executors"] for x in late}), sorted({x.get("epoch", 0) for x in late})))
        t = first_fresh_command(c["t_back"])
        if t is not None:
            rec = (t - c["t_back"]) / 1000.0
            epochs = sorted({x.get("epoch", 0) for (_, ct, x) in commands if ct >= c["t_back"] and ct <= t})
            notes.append("first command on fresh metrics %.1f s after the broker was ready (%.1f s after its restart began), epoch %s" % (
                rec, (t - c["t_restart"]) / 1000.0, epochs))
        fresh_at = [s[0] for s in samples if s[0] >= c["t_back"] and s[1] == 1]
        if fresh_at:
            notes.append("metrics fresh again %.1f s after the return" % ((fresh_at[0] - c["t_back"]) / 1000.0))
        if not c["driver_alive"]:
            held = False
            notes.append("the job's driver died")
    elif name == "redis":
        during = [r for r in tier if r[0] == "redis:during"]
        bad = [r for r in during if r[4] == "bad"]
        gets_ok = sum(1 for r in during if r[1] == "get" and r[4] == "ok")
        gets = sum(1 for r in during if r[1] == "get")
        puts_ok = sum(1 for r in during if r[1] == "put" and r[4] == "ok")
        puts = sum(1 for r in during if r[1] == "put")
        held = (c["driver_alive"] == 1 and not bad and gets_ok == gets and c["in_tier"] > 0
                and c["tier_before_ok"] == 1)
        notes.append("%d object(s) had a copy in Redis at the kill; while down: %d/%d reads ok, %d/%d writes acknowledged, %d bad answer(s)" % (
            c["in_tier"], gets_ok, gets, puts_ok, puts, len(bad)))
        t = first_fresh_command(c["t_back"])
        prog = [s[0] for s in samples if s[0] >= c["t_back"] and s[6] > c["progress_before"] and s[1] == 1]
        notes.append("job aggregates in Redis: %d keys before, %d after the restart" % (c["agg_keys_before"], c["agg_keys_after"]))
        if t is not None and prog and c["agg_keys_after"] > c["agg_keys_before"]:  # new windows
            rec = max(t - c["t_back"], prog[0] - c["t_back"], 0) / 1000.0
        if not c["driver_alive"]:
            notes.append("the job's driver died")
    elif name == "executor":
        held = c["driver_alive"] == 1
        if c["t_back"]:
            rec = (c["t_back"] - c["t_kill"]) / 1000.0
        notes.append("%d executor(s) before (target %d); Spark counted the loss %s; back at the target %s" % (
            c["executors_before"], c["target_before"],
            "%.1f s after the kill" % ((c["t_noticed"] - c["t_kill"]) / 1000.0) if c["t_noticed"] else "never (60 s)",
            "%.1f s after the kill" % rec if rec is not None else "never"))
        if not c["driver_alive"]:
            notes.append("the job's driver died")
    elif name == "s3":
        during = [r for r in tier if r[0] == "s3:during"]
        bad = [r for r in during if r[4] == "bad"]
        clean = sum(1 for r in during if r[4] == "clean")
        ok = sum(1 for r in during if r[4] == "ok")
        held = not bad and c["in_tier"] > 0 and c["tier_before_ok"] == 1
        notes.append("%d object(s) in S3 at the kill; while down: %d answers ok, %d clean JSON errors, %d bad" % (
            c["in_tier"], ok, clean, len(bad)))
        for r in bad[:3]:
            notes.append("bad answer: %s" % " ".join(r))
        if c["t_ok"]:
            rec = (c["t_ok"] - c["t_back"]) / 1000.0
    lost = None
    if name in ("redis", "s3"):
        # Every object acknowledged before this case's reads after the restart (tier.log is in
        # order), and the last answer each got in those reads.
        acked, last, after = [], {}, False
        for r in tier:
            after = after or r[0] == name + ":after"
            if not after and r[1] == "put" and r[4] == "ok":
                acked.append(r[2])
            if r[0] == name + ":after" and r[1] == "get":
                last[r[2]] = r[4]
        lost = sum(1 for k in acked if last.get(k) != "ok")
        notes.append("%d acknowledged object(s), %d not read back intact after the restart" % (len(acked), lost))
    oob, dup = out_of_bounds(a, b), twice(a, b)
    recovered = rec is not None and rec <= c["recover_limit_s"]
    ok = held and recovered and oob == 0 and dup == 0 and not lost
    rows.append({"case": name, "did": c["did"], "held": held, "recovered_s": rec,
                 "recover_limit_s": c["recover_limit_s"], "commands_out_of_bounds": oob,
                 "commands_applied_twice": dup, "acknowledged_lost": lost,
                 "verdict": "pass" if ok else "FAIL", "notes": notes})

t_all = (min(ct for (_, ct, _) in commands) if commands else 0, 1 << 62)
summary = {
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
    "bounds": [lo, hi], "metrics_stale_ms": stale_ms, "wall_s": int(wall_s),
    "commands_seen": len(commands), "commands_applied": len(applied),
    "commands_out_of_bounds": out_of_bounds(*t_all), "commands_applied_twice": twice(*t_all),
    "epochs": sorted({x.get("epoch", 0) for (_, _, x) in commands}),
    "cases": rows, "pass": all(r["verdict"] == "pass" for r in rows),
}
json.dump(summary, open(out_json, "w"), indent=2)
print("| case | what was done | held? | recovered in | commands out of bounds | applied twice | verdict |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    rec = "never" if r["recovered_s"] is None else "%.1f s" % r["recovered_s"]
    print("| %s | %s | %s | %s (limit %d s) | %d | %d | %s |" % (
        r["case"], r["did"], "yes" if r["held"] else "NO", rec, r["recover_limit_s"],
        r["commands_out_of_bounds"], r["commands_applied_twice"], r["verdict"]))
print()
for r in rows:
    for n in r["notes"]:
        print("%s: %s" % (r["case"], n))
print("whole run: %d commands seen on iot-control, %d applied by the plugin, epochs %s; %d out of bounds [%d, %d], %d applied twice" % (
    summary["commands_seen"], summary["commands_applied"], summary["epochs"],
    summary["commands_out_of_bounds"], lo, hi, summary["commands_applied_twice"]))
sys.exit(0 if summary["pass"] else 1)
PY
rc=${PIPESTATUS[0]}
log "chaos: the table in $PRESCALE_RUN_DIR/chaos.txt, JSON in $PRESCALE_RUN_DIR/chaos.json, logs in $C"
exit "$rc"
