#!/usr/bin/env bash
# A single-node KRaft Kafka broker on loopback: kafka.sh start|stop|status|topics NAME....
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), PRESCALE_RUN_DIR (state,
# logs, PID file under kafka/), KAFKA_HEAP (1g, Kafka's default). Idempotent: start on a running broker
# and stop on a stopped one do nothing.
source "$(dirname "$0")/lib.sh"

PORT="${KAFKA_PORT:-9092}"
CPORT="${KAFKA_CONTROLLER_PORT:-9093}"
RUN="$PRESCALE_RUN_DIR/kafka"
PIDFILE="$RUN/kafka.pid"
LOG="$RUN/logs/server.log"

started() { port_open "$PORT" && grep -q "Kafka Server started" "$LOG" 2>/dev/null; }

start() {
  if alive "$PIDFILE"; then
    log "kafka already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    return 0
  fi
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process (set KAFKA_PORT)"
  port_open "$CPORT" && die "127.0.0.1:$CPORT is taken by another process (set KAFKA_CONTROLLER_PORT)"
  bash "$STACK_DIR/deps.sh"
  mkdir -p "$RUN/logs" "$RUN/data"
  cat >"$RUN/kraft.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
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
  log "kafka ready on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), logs $RUN/logs)"
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

case "${1:-}" in
  start) start ;;
  topics) shift; topics "$@" ;;
  stop) stop_pid kafka "$PIDFILE" ;;
  status)
    if alive "$PIDFILE" && started; then echo "kafka running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
    else echo "kafka not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|topics NAME..." >&2; exit 2 ;;
esac
