#!/usr/bin/env bash
# S3Proxy on loopback, an S3-compatible server that checks SigV4 signatures, storing
# objects in a directory (jclouds filesystem-nio2): s3proxy.sh start|stop|status.
# Environment: S3_PORT (9000), S3_ACCESS_KEY (prescale), S3_SECRET_KEY (prescale-secret; a
# local test credential, not a real one), PRESCALE_RUN_DIR (data, log, PID file under s3proxy/).
source "$(dirname "$0")/lib.sh"

PORT="${S3_PORT:-9000}"
RUN="$PRESCALE_RUN_DIR/s3proxy"
PIDFILE="$RUN/s3proxy.pid"
LOG="$RUN/s3proxy.log"

# Ready when it answers HTTP (an unsigned request gets a 403 from a live server).
ready() { port_open "$PORT" && curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/"; }

start() {
  if alive "$PIDFILE"; then
    log "s3proxy already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    return 0
  fi
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process (set S3_PORT)"
  bash "$STACK_DIR/deps.sh" s3proxy
  mkdir -p "$RUN/data"
  cat >"$RUN/s3proxy.properties" <<PROPS
s3proxy.endpoint=http://127.0.0.1:$PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${S3_ACCESS_KEY:-prescale}
s3proxy.credential=${S3_SECRET_KEY:-prescale-secret}
jclouds.provider=filesystem-nio2
jclouds.identity=local
jclouds.credential=local
jclouds.filesystem.basedir=$RUN/data
PROPS
  chmod 600 "$RUN/s3proxy.properties"
  # Without a configuration logback logs every request at DEBUG.
  cat >"$RUN/logback.xml" <<XML
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$LOG</file>
    <encoder><pattern>%d %level %logger{20} %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="FILE"/></root>
  <logger name="org.gaul.s3proxy.Main" level="INFO"/>
</configuration>
XML
  : >"$LOG"
  nohup java -Xmx512m -Dlogback.configurationFile="$RUN/logback.xml" -cp "$S3PROXY_LIBS/*" \
    org.gaul.s3proxy.Main --properties "$RUN/s3proxy.properties" >>"$RUN/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_until 60 "$PIDFILE" "$LOG" ready
  log "s3proxy ready on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), data $RUN/data)"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid s3proxy "$PIDFILE" ;;
  status)
    if alive "$PIDFILE" && ready; then echo "s3proxy running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    else echo "s3proxy not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
