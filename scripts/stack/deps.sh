#!/usr/bin/env bash
# Fetches the stack's third-party pieces once and caches them under $PRESCALE_CACHE (default
# ~/.cache/prescale); quiet and instant when the cache is complete.
#   kafka   - the Kafka 3.9.1 broker and Kafka's own tools (Maven Central; kafka-pom.xml)
#   spark   - a Spark 3.5.3 SPARK_HOME (jars, bin, sbin) from the PyPI pyspark distribution,
#             plus the Kafka source jars the IoT job needs (Maven Central; spark-kafka-pom.xml)
#   s3proxy - S3Proxy 2.6.0, a local S3-compatible server that checks SigV4 (Maven Central;
#             s3proxy-pom.xml), for the cold tier's tests and benchmarks
# Usage: deps.sh [kafka] [spark] [s3proxy]   (default: all)
source "$(dirname "$0")/lib.sh"

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(kafka spark s3proxy)

need() { command -v "$1" >/dev/null || die "$1 is missing (scripts/install-deps.sh installs it)"; }

# fetch_maven POM DEST [JAR-GLOB...]: copy-dependencies of POM into DEST (atomically).
fetch_maven() {
  local pom=$1 dest=$2
  shift 2
  need mvn
  need java
  local tmp="$dest.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/all"
  mvn -B -q -Dstyle.color=never -f "$STACK_DIR/$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/all" >&2 || { rm -rf "$tmp"; die "maven could not fetch $pom"; }
  if [ $# -gt 0 ]; then
    mkdir -p "$tmp/keep"
    for g in "$@"; do cp "$tmp"/all/$g "$tmp/keep/" || { rm -rf "$tmp"; die "$g missing after fetching $pom"; }; done
    rm -rf "$tmp/all"
    mv "$tmp/keep" "$tmp/all"
  fi
  touch "$tmp/all/.complete"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/all" "$dest"
  rm -rf "$tmp"
}

for w in "${want[@]}"; do
  case "$w" in
    kafka)
      if [ ! -f "$KAFKA_LIBS/.complete" ]; then
        log "fetching Kafka $KAFKA_VERSION jars into $KAFKA_LIBS"
        fetch_maven kafka-pom.xml "$KAFKA_LIBS"
        ls "$KAFKA_LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || die "kafka_2.13-$KAFKA_VERSION.jar missing"
      fi
      ;;
    spark)
      if [ ! -f "$SPARK_HOME_CACHED/.complete" ]; then
        need python3
        log "fetching pyspark $SPARK_VERSION (a full SPARK_HOME, ~320 MB) into $SPARK_HOME_CACHED"
        tmp="$SPARK_HOME_CACHED.tmp.$$"
        rm -rf "$tmp"
        mkdir -p "$tmp/dl" "$tmp/home"
        python3 -m pip download -q --no-deps --no-binary :all: "pyspark==$SPARK_VERSION" -d "$tmp/dl" >&2 \
          || { rm -rf "$tmp"; die "pip could not fetch pyspark==$SPARK_VERSION"; }
        tar xzf "$tmp"/dl/pyspark-"$SPARK_VERSION".tar.gz -C "$tmp/home" --strip-components=2 \
          "pyspark-$SPARK_VERSION/deps/jars" "pyspark-$SPARK_VERSION/deps/bin" "pyspark-$SPARK_VERSION/deps/sbin" \
          || { rm -rf "$tmp"; die "unexpected layout in pyspark-$SPARK_VERSION.tar.gz"; }
        touch "$tmp/home/RELEASE"  # Spark's launcher takes jars/ from a directory with RELEASE
        touch "$tmp/home/.complete"
        rm -rf "$SPARK_HOME_CACHED"
        mv "$tmp/home" "$SPARK_HOME_CACHED"
        rm -rf "$tmp"
      fi
      if [ ! -f "$SPARK_KAFKA_JARS/.complete" ]; then
        log "fetching the Spark Kafka source jars into $SPARK_KAFKA_JARS"
        fetch_maven spark-kafka-pom.xml "$SPARK_KAFKA_JARS" "spark-sql-kafka-0-10_2.12-$SPARK_VERSION.jar" \
          "spark-token-provider-kafka-0-10_2.12-$SPARK_VERSION.jar" "kafka-clients-3.4.1.jar" "commons-pool2-*.jar"
      fi
      ;;
    s3proxy)
      if [ ! -f "$S3PROXY_LIBS/.complete" ]; then
        log "fetching S3Proxy $S3PROXY_VERSION jars into $S3PROXY_LIBS"
        fetch_maven s3proxy-pom.xml "$S3PROXY_LIBS"
        ls "$S3PROXY_LIBS"/s3proxy-"$S3PROXY_VERSION".jar >/dev/null || die "s3proxy-$S3PROXY_VERSION.jar missing"
      fi
      ;;
    *) die "unknown dependency '$w' (expected kafka, spark or s3proxy)" ;;
  esac
done
