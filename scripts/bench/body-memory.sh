#!/usr/bin/env bash
# What one large PUT and GET cost the tier server in memory, with bodies streamed (the
# default, http.body_buffer_kb: 1024: a PUT spooled to a file, a GET sent chunked as it is
# read) and held whole in memory (body_buffer_kb above the body's size, the behaviour before
# bodies were streamed), side by side in one run.
#
#   scripts/bench/body-memory.sh [BODY_MB] [PRESCALE]      (default: 1024 MB, build/prescale)
#
# Starts `prescale tier serve` on loopback with only the directory tier (in a temp dir), PUTs
# a BODY_MB file with curl (the answer and the stored size checked), restarts the server and
# GETs it back (the bytes compared with the file). Prints one JSON line per mode: the server's
# peak resident memory (VmHWM) before and after the PUT, and before and after the GET, and
# the times. Needs about 3 x BODY_MB of free space in $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
body_mb=${1:-1024}
prescale=${2:-build/prescale}
[[ "$body_mb" =~ ^[0-9]+$ ]] && [ "$body_mb" -gt 0 ] ||
  { echo "body-memory: BODY_MB must be a whole number of MB, got '$body_mb'" >&2; exit 2; }
[ -x "$prescale" ] || { echo "body-memory: $prescale is missing (make build)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/prescale-body-memory.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# Random bytes are slow to make; repeated 1 MB random blocks are as good for memory.
head -c $((1 << 20)) /dev/urandom >"$work/block"
for _ in $(seq "$body_mb"); do cat "$work/block"; done >"$work/body"
port=$((20000 + RANDOM % 20000))

start_server() {
  "$prescale" tier serve --config "$work/tier.yaml" >>"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "body-memory: the server did not start: $(tail -3 "$work/serve.log")" >&2
  exit 1
}
stop_server() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
hwm() { awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$pid/status"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

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
  start_server
  put_before=$(hwm)
  t=$(date +%s.%N)
  code=$(curl -s -o "$work/answer" -w '%{http_code}' -T "$work/body" "http://127.0.0.1:$port/objects/big")
  put_s=$(since "$t")
  put_after=$(hwm)
  [ "$code" = 204 ] || { echo "body-memory: $mode PUT answered $code: $(cat "$work/answer")" >&2; exit 1; }
  stored=$(find "$work/store/nvme" -type f ! -name '.tmp-*' -printf '%s\n' | sort -n | tail -1)
  [ "$stored" = $((body_mb << 20)) ] || { echo "body-memory: $mode stored $stored bytes" >&2; exit 1; }
  stop_server
  start_server  # the GET from a fresh process, so that its own peak shows
  get_before=$(hwm)
  t=$(date +%s.%N)
  code=$(curl -s -o "$work/got" -w '%{http_code}' "http://127.0.0.1:$port/objects/big")
  get_s=$(since "$t")
  get_after=$(hwm)
  { [ "$code" = 200 ] && cmp -s "$work/got" "$work/body"; } ||
    { echo "body-memory: $mode GET answered $code or other bytes" >&2; exit 1; }
  rm -f "$work/got"
  stop_server
  printf '{"mode":"%s","body_mb":%d,"body_buffer_kb":%d,"put_peak_rss_mb_before":%d,"put_peak_rss_mb_after":%d,"put_seconds":%s,"get_peak_rss_mb_before":%d,"get_peak_rss_mb_after":%d,"get_seconds":%s}\n' \
    "$mode" "$body_mb" "$buffer_kb" "$put_before" "$put_after" "$put_s" "$get_before" "$get_after" "$get_s"
done
