#!/usr/bin/env bash
# What one large PUT costs the tier server in memory, with bodies spooled (the default,
# http.body_buffer_kb: 1024) and held whole in memory (body_buffer_kb above the body's size,
# the behaviour before bodies were streamed), side by side in one run.
#
#   scripts/bench/put-memory.sh [BODY_MB] [PRESCALE]      (default: 1024 MB, build/prescale)
#
# Starts `prescale tier serve` on loopback with only the directory tier (in a temp dir), PUTs
# a BODY_MB file with curl, checks the answer and the stored size, and prints one JSON line
# per mode: the server's peak resident memory (VmHWM) before and after the PUT, and the PUT's
# time. Needs BODY_MB of free space in $TMPDIR (twice for the in-memory run's file).
set -euo pipefail
cd "$(dirname "$0")/../.."
body_mb=${1:-1024}
prescale=${2:-build/prescale}
[[ "$body_mb" =~ ^[0-9]+$ ]] || { echo "put-memory: BODY_MB must be a whole number, got '$body_mb'" >&2; exit 2; }
[ -x "$prescale" ] || { echo "put-memory: $prescale is missing (make build)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/prescale-put-memory.XXXXXX")
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
# A file of random-looking bytes is slow to make; repeated 1 MB blocks are as good for memory.
head -c $((1 << 20)) /dev/urandom >"$work/block"
for _ in $(seq "$body_mb"); do cat "$work/block"; done >"$work/body"
port=$((20000 + RANDOM % 20000))

for mode in spooled in-memory; do
  buffer_kb=1024
  [ "$mode" = in-memory ] && buffer_kb=$(((body_mb + 1) * 1024))
  rm -rf "$work/store" && mkdir -p "$work/store"
  cat >"$work/tier.yaml" <<YAML
catalog: $work/store/catalog.db
port: $port
nvme:
  dir: $work/store/nvme
http:
  max_body_mb: $((body_mb + 1))
  body_buffer_kb: $buffer_kb
  timeout_s: 60
YAML
  "$prescale" tier serve --config "$work/tier.yaml" >"$work/serve-$mode.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  hwm() { awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$pid/status"; }
  before=$(hwm)
  start=$(date +%s.%N)
  code=$(curl -s -o "$work/answer" -w '%{http_code}' -T "$work/body" "http://127.0.0.1:$port/objects/big")
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  after=$(hwm)
  [ "$code" = 204 ] || { echo "put-memory: $mode PUT answered $code: $(cat "$work/answer")" >&2; exit 1; }
  stored=$(find "$work/store/nvme" -type f ! -name '.tmp-*' -printf '%s\n' | sort -n | tail -1)
  [ "$stored" = $((body_mb << 20)) ] || { echo "put-memory: $mode stored $stored bytes" >&2; exit 1; }
  printf '{"mode":"%s","body_mb":%d,"body_buffer_kb":%d,"peak_rss_mb_before":%d,"peak_rss_mb_after":%d,"put_seconds":%s}\n' \
    "$mode" "$body_mb" "$buffer_kb" "$before" "$after" "$seconds"
  kill "$pid" && wait "$pid" 2>/dev/null || true
  pid=""
done
