#!/usr/bin/env bash
# A Redis server on loopback (Debian's redis-server): redis.sh start|stop|status.
# Persistence: AOF with appendfsync everysec (a kill -9 or power loss loses at most about the
# last second of writes), no RDB snapshots. The tiered store never depends on it (a Redis copy
# is never an object's only copy, docs/tier.md); it only keeps the hot copies warm across a
# restart. Defence in depth, and what the Spark job's hashes rely on.
# Environment: REDIS_PORT (6379), PRESCALE_RUN_DIR (log and PID file under redis/).
source "$(dirname "$0")/lib.sh"

PORT="${REDIS_PORT:-6379}"
RUN="$PRESCALE_RUN_DIR/redis"
PIDFILE="$RUN/redis.pid"
LOG="$RUN/redis.log"

ping() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; }

start() {
  if alive "$PIDFILE"; then
    log "redis already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    return 0
  fi
  command -v redis-server >/dev/null || die "redis-server is missing (scripts/install-deps.sh installs it)"
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process (set REDIS_PORT)"
  mkdir -p "$RUN"
  nohup redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly yes --appendfsync everysec \
    --dir "$RUN" --logfile "$LOG" >/dev/null 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_until 20 "$PIDFILE" "$LOG" ping
  log "redis ready on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid redis "$PIDFILE" ;;
  status)
    if alive "$PIDFILE" && ping; then echo "redis running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    else echo "redis not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
