# Shared helpers of the stack scripts (sourced, not run). Every service binds 127.0.0.1,
# keeps its state and logs under $PRESCALE_RUN_DIR/<service>, and is stopped only through
# the PID file its own start wrote.
set -euo pipefail

STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$STACK_DIR/../.." && pwd)"
# The run directory: make stack-up's, out/stack, unless PRESCALE_RUN_DIR is set when this
# file is sourced. A script with a stack of its own sets it before sourcing (race.sh: out/race
# and its own ports), so that it never reuses, nor stops, the services of another stack.
PRESCALE_RUN_DIR="${PRESCALE_RUN_DIR:-$REPO_DIR/out/stack}"
PRESCALE_CACHE="${PRESCALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prescale}"
KAFKA_VERSION=3.9.1
KAFKA_LIBS="$PRESCALE_CACHE/kafka-$KAFKA_VERSION/libs"
SPARK_VERSION=3.5.3
SPARK_HOME_CACHED="$PRESCALE_CACHE/spark-$SPARK_VERSION"
SPARK_KAFKA_JARS="$PRESCALE_CACHE/spark-kafka-$SPARK_VERSION"
S3PROXY_VERSION=2.6.0
S3PROXY_LIBS="$PRESCALE_CACHE/s3proxy-$S3PROXY_VERSION/libs"

# STACK_STEP ("2/5"), set by a caller that starts several services (race.sh), numbers
# the lines of each step.
log() { echo "stack: ${STACK_STEP:+[$STACK_STEP] }$*" >&2; }
die() { clear_status; echo "stack: error: ${STACK_STEP:+[$STACK_STEP] }$*" >&2; exit 1; }

# Progress (issue 13). While wait_until polls a starting service, a terminal (stderr) gets
# one status line, rewritten every second: the step, what is starting, the time so far and
# an ETA from the last successful start of the same service here
# ($PRESCALE_CACHE/start-times/). Off a terminal (a log, CI) nothing is printed until the
# service's own "ready" line: one line per phase. PRESCALE_PROGRESS=never turns the status
# line off on a terminal too.
progress_tty() { [ -t 2 ] && [ "${PRESCALE_PROGRESS:-auto}" != never ]; }
clear_status() { if progress_tty; then printf '\r\033[K' >&2; fi; }

# status_line NAME ELAPSED LAST_START_S TIMEOUT_S
status_line() {
  local name=$1 elapsed=$2 last=$3 timeout=$4 eta
  if [ -n "$last" ] && [ "$last" -gt "$elapsed" ]; then
    eta="ETA ~$((last - elapsed)) s (the last start took $last s)"
  elif [ -n "$last" ]; then
    eta="longer than the last start ($last s); gives up at $timeout s"
  else
    eta="first start timed here; gives up at $timeout s"
  fi
  printf '\r\033[Kstack: %s%s: starting, %d s; %s' "${STACK_STEP:+[$STACK_STEP] }" "$name" "$elapsed" "$eta" >&2
}

# wait_name PIDFILE: "kafka" for kafka/kafka.pid, "spark master" for spark/master.pid.
wait_name() {
  local dir base
  dir=$(basename "$(dirname "$1")")
  base=$(basename "$1" .pid)
  if [ "$dir" = "$base" ]; then echo "$dir"; else echo "$dir $base"; fi
}

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# alive PIDFILE: true when the PID in the file is a running process (a zombie is not: a
# server killed with -9 whose reaper has not yet reaped it must count as stopped).
alive() {
  [ -f "$1" ] || return 1
  local pid
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && ! grep -qs "^State:[[:space:]]*Z" "/proc/$pid/status"
}

# wait_until SECONDS PIDFILE LOGFILE CMD...: polls CMD every 0.2 s until it succeeds; fails
# early (with the log's tail) when the process dies, or after SECONDS.
wait_until() {
  local secs=$1 pidfile=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + secs)) began=$SECONDS shown=-1 name key last=""
  name=$(wait_name "$pidfile")
  key="$PRESCALE_CACHE/start-times/${name// /-}"
  [ -f "$key" ] && last=$(cat "$key" 2>/dev/null || true)
  [[ "$last" =~ ^[0-9]+$ ]] || last=""
  while ! "$@"; do
    if ! alive "$pidfile"; then
      clear_status
      [ -f "$logfile" ] && tail -n 30 "$logfile" >&2
      die "the process of $pidfile exited during start (log: $logfile)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      clear_status
      [ -f "$logfile" ] && tail -n 30 "$logfile" >&2
      die "not ready after ${secs}s: $* (log: $logfile)"
    fi
    if progress_tty && [ "$SECONDS" -ne "$shown" ]; then
      shown=$SECONDS
      status_line "$name" $((SECONDS - began)) "$last" "$secs"
    fi
    sleep 0.2
  done
  clear_status
  { mkdir -p "$(dirname "$key")" && echo $((SECONDS - began)) >"$key"; } 2>/dev/null || true
}

# stop_pid NAME PIDFILE: TERM, up to 30 s, then KILL; removes the PID file. Idempotent.
stop_pid() {
  local name=$1 pidfile=$2
  if ! alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ! grep -qs "^State:[[:space:]]*Z" "/proc/$pid/status"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name (pid $pid) ignored TERM for 30 s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$pidfile"
  log "$name stopped (pid $pid)"
}
