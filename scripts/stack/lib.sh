# Shared helpers of the stack scripts (sourced, not run). Every service binds 127.0.0.1,
# keeps its state and logs under $PRESCALE_RUN_DIR/<service>, and is stopped only through
# the PID file its own start wrote.
set -euo pipefail

STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$STACK_DIR/../.." && pwd)"
PRESCALE_RUN_DIR="${PRESCALE_RUN_DIR:-$REPO_DIR/out/stack}"
PRESCALE_CACHE="${PRESCALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prescale}"
KAFKA_VERSION=3.9.1
KAFKA_LIBS="$PRESCALE_CACHE/kafka-$KAFKA_VERSION/libs"
SPARK_VERSION=3.5.3
SPARK_HOME_CACHED="$PRESCALE_CACHE/spark-$SPARK_VERSION"
SPARK_KAFKA_JARS="$PRESCALE_CACHE/spark-kafka-$SPARK_VERSION"
S3PROXY_VERSION=2.6.0
S3PROXY_LIBS="$PRESCALE_CACHE/s3proxy-$S3PROXY_VERSION/libs"

log() { echo "stack: $*" >&2; }
die() { echo "stack: error: $*" >&2; exit 1; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# alive PIDFILE: true when the PID in the file is a running process.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_until SECONDS PIDFILE LOGFILE CMD...: polls CMD every 0.2 s until it succeeds; fails
# early (with the log's tail) when the process dies, or after SECONDS.
wait_until() {
  local secs=$1 pidfile=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + secs))
  while ! "$@"; do
    if ! alive "$pidfile"; then
      [ -f "$logfile" ] && tail -n 30 "$logfile" >&2
      die "the process of $pidfile exited during start (log: $logfile)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ -f "$logfile" ] && tail -n 30 "$logfile" >&2
      die "not ready after ${secs}s: $* (log: $logfile)"
    fi
    sleep 0.2
  done
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
  while kill -0 "$pid" 2>/dev/null; do
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
