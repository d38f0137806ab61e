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

# The partial uploads a killed S3Proxy left behind (run before it starts, never while it runs).
# filesystem-nio2 stores a PUT by writing "<name>-<random UUID>" beside the object, then its
# extended attributes (user.content-md5 first), then renaming it over <name>, and only then
# answers 200. A kill -9 before the attributes leaves that temp file without user.content-md5,
# and S3Proxy 2.6.0 then answers HTTP 500 to every LIST of the bucket, for good: its listing
# reads that attribute of each file (gaul/s3proxy#963). Such a file was never renamed, so its
# PUT was never acknowledged: deleting it loses nothing. A file that has the attribute is left
# alone (an object that happens to end in a UUID, or a temp file killed just before its rename,
# which LIST then shows under its temp name). Java's UserDefinedFileAttributeView adds "user."
# to the names it is given, so on disk the attribute is user.user.content-md5.
remove_partial_uploads() {
  [ -d "$RUN/data" ] || return 0
  local f why n=0 temps=()
  while IFS= read -r -d '' f; do temps+=("$f"); done < <(find "$RUN/data" -type f \
    -not -path '*/.mpus-*' -regextype posix-extended \
    -regex '.*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' -print0)
  [ ${#temps[@]} -gt 0 ] || return 0
  command -v getfattr >/dev/null || die "getfattr is missing (package attr; scripts/install-deps.sh installs it)"
  for f in "${temps[@]}"; do
    why=$(LC_ALL=C getfattr --absolute-names -n user.user.content-md5 -- "$f" 2>&1 >/dev/null) && continue
    case "$why" in
      *"No such attribute"*) rm -f -- "$f" && n=$((n + 1)) ;;
      *) die "cannot read the extended attributes of $f: $why" ;;
    esac
  done
  [ "$n" -eq 0 ] || log "s3proxy: removed $n partial upload(s) a killed S3Proxy left in $RUN/data"
}

start() {
  if alive "$PIDFILE"; then
    log "s3proxy already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    return 0
  fi
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process (set S3_PORT)"
  bash "$STACK_DIR/deps.sh" s3proxy
  mkdir -p "$RUN/data"
  remove_partial_uploads
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
  [ -s "$LOG" ] && mv -f "$LOG" "$LOG.prev"  # the last run's log (why it died, if it did)
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
