#!/usr/bin/env bash
# A single-node KRaft Kafka broker on loopback: kafka.sh start|stop|status|topics NAME...|delete-topics NAME...|list-topics.
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), PRESCALE_RUN_DIR (state,
# logs, PID file under kafka/), KAFKA_HEAP (1g, Kafka's default). Idempotent: start on a running broker
# and stop on a stopped one do nothing.
#
# Optional: a second listener, SASL_SSL on 127.0.0.1 (TLS, then SASL/PLAIN), beside the
# PLAINTEXT one (which stays: topic creation, inter-broker traffic, the other tools). Enabled
# by KAFKA_SASL_SSL_PORT; then all three of these are required (paths; no secret is ever
# passed in the environment or on a command line):
#   KAFKA_SSL_KEYSTORE                the broker's key and certificate chain, PKCS12
#   KAFKA_SSL_KEYSTORE_PASSWORD_FILE  its password (the first line of the file)
#   KAFKA_SASL_PLAIN_USERS_FILE       `USER PASSWORD` lines (# comments), the accounts the
#                                     listener accepts (listener.name.sasl_ssl.plain.
#                                     sasl.jaas.config); USER is [A-Za-z0-9._-]+, PASSWORD the
#                                     rest of the line
# The secrets are copied into $PRESCALE_RUN_DIR/kafka/kraft.properties, written with mode
# 600 when the listener is enabled, and nowhere else (never to a log). Without
# KAFKA_SASL_SSL_PORT nothing differs. Clients: security.protocol=SASL_SSL,
# sasl.mechanisms=PLAIN, sasl.username, sasl.password, ssl.ca.location=<the CA that signed
# the broker's certificate> (docs/edge.md, "Kafka with TLS and SASL").
source "$(dirname "$0")/lib.sh"

PORT="${KAFKA_PORT:-9092}"
CPORT="${KAFKA_CONTROLLER_PORT:-9093}"
SPORT="${KAFKA_SASL_SSL_PORT:-}"
RUN="$PRESCALE_RUN_DIR/kafka"
PIDFILE="$RUN/kafka.pid"
LOG="$RUN/logs/server.log"

started() {
  port_open "$PORT" && { [ -z "$SPORT" ] || port_open "$SPORT"; } &&
    grep -q "Kafka Server started" "$LOG" 2>/dev/null
}

# The SASL_SSL listener's part of kraft.properties, on stdout (the caller writes it to a
# mode-600 file). Checks the inputs first; messages name files and users, never a secret.
sasl_ssl_props() {
  local ks="${KAFKA_SSL_KEYSTORE:-}" pwfile="${KAFKA_SSL_KEYSTORE_PASSWORD_FILE:-}"
  local users="${KAFKA_SASL_PLAIN_USERS_FILE:-}"
  [ -n "$ks" ] && [ -n "$pwfile" ] && [ -n "$users" ] ||
    die "KAFKA_SASL_SSL_PORT needs KAFKA_SSL_KEYSTORE, KAFKA_SSL_KEYSTORE_PASSWORD_FILE and KAFKA_SASL_PLAIN_USERS_FILE"
  local f
  for f in "$ks" "$pwfile" "$users"; do
    [ -r "$f" ] || die "cannot read $f"
  done
  # Java properties: a backslash escapes, so each is doubled; JAAS quotes: \ and " escaped.
  local pw="" jaas="org.apache.kafka.common.security.plain.PlainLoginModule required"
  local n=0 user="" pass="" line="" lineno=0
  IFS= read -r pw <"$pwfile" || true
  pw="${pw%$'\r'}"
  [ -n "$pw" ] || die "$pwfile: empty first line (expected the keystore password)"
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line="${line%$'\r'}"
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    [[ "$line" =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]+(.*[^[:space:]])[[:space:]]*$ ]] ||
      die "$users:$lineno: expected USER PASSWORD"
    user="${BASH_REMATCH[1]}"
    pass="${BASH_REMATCH[2]}"
    [[ "$user" =~ ^[A-Za-z0-9._-]+$ ]] || die "$users:$lineno: a user name is [A-Za-z0-9._-]+"
    pass="${pass//\\/\\\\}"
    pass="${pass//\"/\\\"}"
    jaas+=" user_$user=\"$pass\""
    n=$((n + 1))
  done <"$users"
  [ "$n" -gt 0 ] || die "$users: no USER PASSWORD line"
  jaas+=";"
  jaas="${jaas//\\/\\\\}"
  pw="${pw//\\/\\\\}"
  printf '%s\n' "sasl.enabled.mechanisms=PLAIN" \
    "listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN" \
    "listener.name.sasl_ssl.plain.sasl.jaas.config=$jaas" \
    "listener.name.sasl_ssl.ssl.keystore.type=PKCS12" \
    "listener.name.sasl_ssl.ssl.keystore.location=$ks" \
    "listener.name.sasl_ssl.ssl.keystore.password=$pw" \
    "listener.name.sasl_ssl.ssl.client.auth=none"
}

start() {
  if alive "$PIDFILE"; then
    log "kafka already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    return 0
  fi
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process (set KAFKA_PORT)"
  port_open "$CPORT" && die "127.0.0.1:$CPORT is taken by another process (set KAFKA_CONTROLLER_PORT)"
  # The optional SASL_SSL listener (header): its properties hold secrets, so the file they
  # go into is created with mode 600 before anything is written to it.
  local sasl="" sasl_listener="" sasl_protocol=""
  if [ -n "$SPORT" ]; then
    port_open "$SPORT" && die "127.0.0.1:$SPORT is taken by another process (set KAFKA_SASL_SSL_PORT)"
    sasl=$(sasl_ssl_props) || exit 1
    sasl_listener=",SASL_SSL://127.0.0.1:$SPORT"
    sasl_protocol=",SASL_SSL:SASL_SSL"
  fi
  bash "$STACK_DIR/deps.sh"
  mkdir -p "$RUN/logs" "$RUN/data"
  if [ -n "$SPORT" ]; then
    rm -f "$RUN/kraft.properties"
    (umask 077 && : >"$RUN/kraft.properties")
  fi
  {
    cat <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT$sasl_listener
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT$sasl_listener
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT$sasl_protocol
log.dirs=$RUN/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
    if [ -n "$sasl" ]; then printf '%s\n' "$sasl"; fi
  } >"$RUN/kraft.properties"
  cat >"$RUN/log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$LOG
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
PROPS
  # Kafka's own defaults (bin/kafka-server-start.sh, kafka-run-class.sh): 1 GB heap, G1 with
  # short pauses (a GC pause is a control-plane latency spike).
  local heap="${KAFKA_HEAP:-1g}"
  local java_opts=(-Xmx"$heap" -Xms"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
                   -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
                   -Djava.awt.headless=true -Dlog4j.configuration="file:$RUN/log4j.properties")
  if [ ! -f "$RUN/data/meta.properties" ]; then
    # Tool logs go to stderr so that $(...) captures only the id.
    local id
    id=$(java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$RUN/log4j.properties" \
           kafka.tools.StorageTool random-uuid 2>>"$RUN/logs/storage-tool.log")
    java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$RUN/log4j.properties" \
      kafka.tools.StorageTool format -t "$id" -c "$RUN/kraft.properties" --ignore-formatted \
      >>"$RUN/logs/storage-tool.log" 2>&1 || die "formatting the storage failed (log: $RUN/logs/storage-tool.log)"
  fi
  : >"$LOG"
  nohup java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$RUN/kraft.properties" \
    >"$RUN/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_until 90 "$PIDFILE" "$LOG" started
  log "kafka ready on 127.0.0.1:$PORT${SPORT:+, SASL_SSL on 127.0.0.1:$SPORT} (pid $(cat "$PIDFILE"), logs $RUN/logs)"
}

# topics NAME...: creates the topics that do not exist yet (1 partition each).
topics() {
  started || die "kafka is not running on 127.0.0.1:$PORT"
  for t in "$@"; do
    java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$RUN/log4j.properties" \
      org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" --create \
      --if-not-exists --topic "$t" --partitions "${KAFKA_PARTITIONS:-1}" --replication-factor 1 \
      >>"$RUN/logs/topics.log" 2>&1 || die "could not create topic $t (log: $RUN/logs/topics.log)"
  done
}

# delete_topics NAME...: deletes them if they exist, as an operator would with Kafka's own tool
# (chaos.sh's lease case).
delete_topics() {
  started || die "kafka is not running on 127.0.0.1:$PORT"
  for t in "$@"; do
    java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$RUN/log4j.properties" \
      org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" --delete \
      --if-exists --topic "$t" >>"$RUN/logs/topics.log" 2>&1 || die "could not delete topic $t (log: $RUN/logs/topics.log)"
  done
}

# One topic name per line.
list_topics() {
  started || die "kafka is not running on 127.0.0.1:$PORT"
  java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$RUN/log4j.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" --list \
    2>>"$RUN/logs/topics.log" || die "could not list the topics (log: $RUN/logs/topics.log)"
}

case "${1:-}" in
  start) start ;;
  topics) shift; topics "$@" ;;
  delete-topics) shift; delete_topics "$@" ;;
  list-topics) list_topics ;;
  stop) stop_pid kafka "$PIDFILE" ;;
  status)
    if alive "$PIDFILE" && started; then echo "kafka running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    else echo "kafka not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|topics NAME...|delete-topics NAME...|list-topics" >&2; exit 2 ;;
esac
