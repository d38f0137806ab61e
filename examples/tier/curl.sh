#!/usr/bin/env bash
# The tier's HTTP API with curl: the commands of docs/tier.md ("HTTP API with curl"), as
# written. tests/tier_integration_test.cpp runs this script against a real `prescale tier
# serve`, so the doc and the server cannot drift apart.
# Usage: examples/tier/curl.sh [BASE_URL]   (default http://127.0.0.1:8090, tier.yaml's port)
set -euo pipefail
TIER=${1:-http://127.0.0.1:8090}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Store a 1 MB file and read it back. Any Content-Type is stored as bytes (curl's default
# for --data-binary, application/x-www-form-urlencoded, included); the answer is 204.
head -c 1048576 /dev/urandom >1MB.bin
curl -sS --fail-with-body -X PUT --data-binary @1MB.bin "$TIER/objects/examples/1MB.bin"
curl -sS --fail-with-body -o back.bin "$TIER/objects/examples/1MB.bin"
cmp 1MB.bin back.bin && echo "1MB.bin: the same bytes came back"

# Keys under a prefix, one per line; the per-tier counters as JSON.
curl -sS --fail-with-body "$TIER/objects?prefix=examples/"
curl -sS --fail-with-body "$TIER/stats" && echo

# Burst mode on and off: no body needed, 204.
curl -sS --fail-with-body -X POST "$TIER/burst?on=1"
curl -sS --fail-with-body -X POST "$TIER/burst?on=0"

# Every error is JSON with its status: a key that is not there is 404 {"error": "..."}.
curl -sS -w ' (HTTP %{http_code})\n' "$TIER/objects/examples/missing"

curl -sS --fail-with-body -X DELETE "$TIER/objects/examples/1MB.bin"
echo "done"
