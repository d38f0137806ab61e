#!/usr/bin/env bash
# Installs every Debian package prescale's build, tests and benchmarks need.
# Idempotent: quiet and fast when everything is already present.
set -euo pipefail

# package                reason
PACKAGES=(
  cmake                  # build system (presets)
  ninja-build            # build backend
  g++                    # C++20 compiler
  make                   # top-level entry points (make build/demo/test/bench)
  pkg-config             # finds libraries without CMake configs
  libyaml-cpp-dev        # scenario files (scenarios/*.yaml) with line numbers for errors
  nlohmann-json3-dev     # --format json output and JSON messages
  libcli11-dev           # the `prescale` command line and its subcommands
  libgtest-dev           # unit and integration tests
  libgmock-dev           # GoogleTest's matchers (gtest's CMake config expects it)
  libbenchmark-dev       # Google Benchmark programs under bench/
  clang-format           # the committed .clang-format style
  libtorch-dev           # src/rl training: networks, autograd, Adam (PPO worker, TD3 manager)
  libopenblas0-pthread   # makes libtorch's CPU matmuls ~4x faster than the reference BLAS
  libeigen3-dev          # allocation-free forward pass for shipped models (decision p99 target)
  libssl-dev             # HMAC-SHA256 of edge signals (src/bus): OpenSSL, constant-time compare
  librdkafka-dev         # the dual-plane Kafka producer/consumer (src/bus), C and C++ APIs
  libmosquitto-dev       # `prescale edge --mqtt`: devices speak MQTT to their gateway
  mosquitto              # the real MQTT broker the integration tests start on loopback
  openjdk-17-jdk-headless  # runs the Kafka broker and kafka-producer-perf-test (Maven jars)
  maven                  # fetches the Kafka jars from Maven Central (scripts/stack/deps.sh)
  libcpp-httplib-dev     # the controller's /metrics and /healthz (HTTP server, loopback by default)
  redis-server           # the hot tier; the Spark job's results (integration tests start it on loopback)
  redis-tools            # redis-cli: the stack scripts' readiness probe
  attr                   # getfattr: s3proxy.sh finds the partial uploads a killed S3Proxy left
  python3-pip            # fetches the pyspark distribution (a Spark 3.5 SPARK_HOME) once
  libsimdjson-dev        # parses device readings at the gateway (154 ns a line; nlohmann took ~1.5 us)
  libhiredis-dev         # src/tier: the Redis (hot) tier's client, AUTH and redis:// URLs
  libsqlite3-dev         # src/tier: the durable catalog of where objects live (WAL, crash recovery)
  libcurl4-openssl-dev   # src/tier: the S3 (cold) tier, SigV4 signing by CURLOPT_AWS_SIGV4
  curl                   # examples/tier/curl.sh: the tier HTTP API as docs/tier.md shows it (its test runs it)
  jq                     # scripts/stack/chaos.sh: reads the commands and cases (JSON) and writes chaos.json
  libzstd-dev            # src/tier: per-tier compression (zstd, the cold tier's default)
  liblz4-dev             # src/tier: per-tier compression (lz4, cheap enough for the hot tier)
  chromium               # headless browser for report.html's tests and benchmark (playwright-core drives it)
  clang                  # `make fuzz`: libFuzzer targets need clang (-fsanitize=fuzzer); gcc has no libFuzzer
  libclang-rt-14-dev     # clang 14's libFuzzer, ASan and UBSan runtimes (not pulled in without recommends)
  openssl                # the openssl CLI: kafka_security_integration_test makes its CA, certificates and keystore
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
