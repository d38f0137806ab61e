#!/usr/bin/env bash
# A Mosquitto MQTT broker on loopback (Debian's mosquitto): mosquitto.sh start|stop|status.
# Environment: MQTT_PORT (1883), PRESCALE_RUN_DIR (config, log, PID file under mosquitto/).
source "$(dirname "$0")/lib.sh"

PORT="${MQTT_PORT:-1883}"
RUN="$PRESCALE_RUN_DIR/mosquitto"
PIDFILE="$RUN/mosquitto.pid"
LOG="$RUN/mosquitto.log"
BIN="$(command -v mosquitto || echo /usr/sbin/mosquitto)"

start() {
  if alive "$PIDFILE"; then
    log "mosquitto already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    return 0
  fi
  [ -x "$BIN" ] || die "mosquitto is missing (scripts/install-deps.sh installs it)"
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process (set MQTT_PORT)"
  mkdir -p "$RUN"
  cat >"$RUN/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
# QoS 1 messages queued for a slow subscriber (mosquitto drops beyond this; its default of
# 1000 can drop readings when the gateway agent lags, e.g. on a loaded 2-core machine).
max_queued_messages 100000
log_dest file $LOG
log_type error
log_type warning
log_type notice
CONF
  : >"$LOG"
  nohup "$BIN" -c "$RUN/mosquitto.conf" >>"$RUN/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_until 20 "$PIDFILE" "$LOG" port_open "$PORT"
  log "mosquitto ready on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid mosquitto "$PIDFILE" ;;
  status)
    if alive "$PIDFILE"; then echo "mosquitto running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    else echo "mosquitto not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
