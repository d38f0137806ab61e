#!/usr/bin/env bash
# Fetches the stack's jars from Maven Central once and caches them under $PRESCALE_CACHE
# (default ~/.cache/prescale): the Kafka 3.9 broker and Kafka's own tools
# (kafka-producer-perf-test). Quiet and instant when the cache is complete.
source "$(dirname "$0")/lib.sh"

if [ -f "$KAFKA_LIBS/.complete" ]; then exit 0; fi
command -v mvn >/dev/null || die "maven is missing (scripts/install-deps.sh installs it)"
command -v java >/dev/null || die "java is missing (scripts/install-deps.sh installs it)"
log "fetching Kafka $KAFKA_VERSION jars into $KAFKA_LIBS"
tmp="$KAFKA_LIBS.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
mvn -B -q -Dstyle.color=never -f "$STACK_DIR/kafka-pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp" >&2 || { rm -rf "$tmp"; die "maven could not fetch the Kafka jars"; }
ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after the fetch"; }
touch "$tmp/.complete"
rm -rf "$KAFKA_LIBS"
mkdir -p "$(dirname "$KAFKA_LIBS")"
mv "$tmp" "$KAFKA_LIBS"
log "Kafka jars cached ($(ls "$KAFKA_LIBS" | wc -l) files)"
