#!/usr/bin/env bash
# `make validate` (issue 16, item 3; docs/sim2real.md, "Validation"): the arena against the
# live stack, side by side. One stack (scripts/stack/race.sh), the three traffic shapes
# (burst, diurnal, llm) for hpa and rl, each run recorded in out/validate/SHAPE; then the
# arena calibrated from the burst run (`prescale calibrate --from out/validate/burst`), and
# every shape's runs replayed through the arena with it (`prescale validate`), twice: with
# the capacity as the marginal rate (live-calibrated.yaml) and as the trigger-filling rate
# (live-calibrated-trigger.yaml, `calibrate --capacity trigger`), and each shape against a
# calibration from the other shapes' runs (live-calibrated-loo-SHAPE.yaml: leave one out):
#   out/validate/SHAPE/CAL.json, CAL.txt   the figures (and the arena's timelines)
#   out/validate/SHAPE/CAL.html            live and arena on one chart per policy
#   out/validate/summary.json              every shape's figures against live.yaml and both
# Each race also compares its runs with the uncalibrated scenarios/live.yaml right away
# (race.json, report.html, race.txt). 32 minutes on this machine (2026-11-27, warm-up included); not part of `make test`.
# A warm-up run (hpa on the first shape, not compared; VALIDATE_WARMUP names another policy,
# or is empty for none) comes before the measured ones: docs/sim2real.md, item 3.
# Environment: VALIDATE_DIR (out/validate), VALIDATE_POLICIES (hpa,rl), VALIDATE_SHAPES (burst
# diurnal llm), VALIDATE_RERUN (1: skip the races, compare the recorded runs again),
# RACE_FORECASTER_<shape> (the live side's forecaster per shape; the defaults
# below: the global model where its signal rises on the shape, else lookahead), PRESCALE_BIN.
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PRESCALE_BIN:-$REPO_DIR/build/prescale}"
OUT="${VALIDATE_DIR:-$REPO_DIR/out/validate}"
SHAPES="${VALIDATE_SHAPES:-burst diurnal llm}"
mkdir -p "$OUT"
# The forecaster of the live side per shape (docs/sim2real.md says why each).
export RACE_FORECASTER_burst="${RACE_FORECASTER_burst:-global}"
export RACE_FORECASTER_diurnal="${RACE_FORECASTER_diurnal:-global}"
export RACE_FORECASTER_llm="${RACE_FORECASTER_llm:-lookahead}"

# VALIDATE_RERUN=1: no stack, the comparisons again from the recorded run directories.
if [ "${VALIDATE_RERUN:-0}" != 1 ]; then
  RACE_RUN_DIR="$OUT" RACE_SHAPES="$SHAPES" RACE_POLICIES="${VALIDATE_POLICIES:-hpa,rl}" \
    RACE_WARMUP="${VALIDATE_WARMUP-hpa}" \
    PRESCALE_BIN="$BIN" bash "$REPO_DIR/scripts/stack/race.sh"
fi

# Two calibrations from the burst run: cluster.capacity_rps as the marginal rate (what
# `prescale calibrate` writes by default) and as the input per executor that fills a trigger
# (--capacity trigger); docs/sim2real.md says which predicts the live runs better.
echo "validate: calibrating from $OUT/burst" >&2
"$BIN" calibrate --from "$OUT/burst" --out "$OUT/live-calibrated.yaml" | tee "$OUT/calibration.txt"
"$BIN" calibrate --from "$OUT/burst" --format json --out "$OUT/live-calibrated.yaml" >"$OUT/calibration.json"
"$BIN" calibrate --from "$OUT/burst" --capacity trigger --name live-calibrated-trigger \
  --out "$OUT/live-calibrated-trigger.yaml" >/dev/null

# Each shape against both (the races compared each with scenarios/live.yaml already), and,
# with two or more shapes, against a calibration from the other shapes' runs alone (leave one
# shape out: the honest out-of-sample figure; docs/sim2real.md).
summary="{\"calibration\":$(cat "$OUT/calibration.json"),\"shapes\":{"
sep=""
for shape in $SHAPES; do
  # The hand fit (the race compared against it already; again here, with this binary).
  "$BIN" validate --from "$OUT/$shape" --scenario live --out "$OUT/$shape/live.json" >/dev/null
  entry="\"live_yaml\":$(cat "$OUT/$shape/live.json")"
  cals="live-calibrated live-calibrated-trigger"
  others=()
  for other in $SHAPES; do [ "$other" != "$shape" ] && others+=(--from "$OUT/$other"); done
  if [ ${#others[@]} -gt 0 ]; then
    "$BIN" calibrate "${others[@]}" --name "live-calibrated-loo-$shape" \
      --out "$OUT/live-calibrated-loo-$shape.yaml" >/dev/null
    cals+=" live-calibrated-loo-$shape"
  fi
  for cal in $cals; do
    echo "validate: $shape against $cal" >&2
    "$BIN" validate --from "$OUT/$shape" --scenario "$OUT/$cal.yaml" \
      --out "$OUT/$shape/$cal.json" --report "$OUT/$shape/$cal.html" | tee "$OUT/$shape/$cal.txt"
    key="${cal%-"$shape"}"
    entry+=",\"${key//-/_}\":$(cat "$OUT/$shape/$cal.json")"
  done
  summary+="$sep\"$shape\":{$entry}"
  sep=","
done
summary+="}}"
echo "$summary" | jq '(.shapes[][] | .policies[]) |= del(.arena)' >"$OUT/summary.json"
echo "validate: $OUT/summary.json; reports in $OUT/SHAPE/*.html" >&2
