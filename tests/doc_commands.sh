#!/usr/bin/env bash
# Every `./build/prescale ...` command that README.md and docs/*.md show (indented code, a
# `\` continuation joined, a trailing `# comment` dropped) either runs as written, exit 0,
# or is listed here as skipped with the reason: long runs, commands that need the real stack
# (their integration tests run them), and templates with placeholders. A new command in the
# docs is run unless it matches a skip rule, so docs and the CLI cannot drift apart.
# `make ...` lines are not run here: CI runs make test and make fuzz; the rest are long or
# start the stack.
#
# usage: doc_commands.sh SOURCE_DIR BUILD_DIR
# Commands run in a scratch directory holding symlinks to build/, data/, scenarios/,
# models/ and examples/ of the source tree, so their outputs (out/...) never land in it.
set -uo pipefail

SRC=$(cd "${1:?source dir}" && pwd)
BUILD=$(cd "${2:?build dir}" && pwd)
PER_COMMAND_S=${DOC_COMMANDS_TIMEOUT_S:-240}

# Skip rules: an extended regex on the command, and why.
SKIP_RULES=(
  'prescale (train|forecast train)|||trains models: minutes to an hour (docs/rl.md, docs/forecast.md give the figures)'
  'prescale traces( +#.*)?$|prescale traces --out|||every development trace at two speeds: ~10 min (the quick one-case form runs)'
  'prescale ablation|||20 seeds x 5 policies: minutes'
  'prescale (edge|controller|race)|||needs Kafka (and Spark): edge, controller, e2e and quickstart integration tests'
  'prescale calibrate|||needs a live run'"'"'s directory (make stack-demo); calibrate_test covers the fit'
  'prescale tier (serve|put|get|crashtest|bench)|||needs the tier servers or runs for minutes: tier integration and crash tests'
  'prescale bench (dualplane|tournament)|||needs Kafka, or is a benchmark of minutes (make bench)'
  '--speedup 1 --steps 17280|||a day at real speed: ~1 min per policy (cli_test runs --speedup at small scale)'
  '\[|\.\.\.|KEY|--file F|\$[A-Z]|||a template with placeholders'
)

skip_reason() {
  local cmd=$1 rule pattern reason
  for rule in "${SKIP_RULES[@]}"; do
    pattern=${rule%%|||*}
    reason=${rule##*|||}
    if [[ $cmd =~ $pattern ]]; then
      echo "$reason"
      return 0
    fi
  done
  return 1
}

# The commands, one per line: "FILE<TAB>command".
extract() {
  local f
  for f in "$SRC/README.md" "$SRC"/docs/*.md; do
    awk -v F="${f#"$SRC"/}" '
      /^    (\.\/build\/prescale|[A-Z_]+=[^ ]+ \.\/build\/prescale)/ {
        line = $0
        while (line ~ /\\$/ && (getline nxt) > 0) { sub(/\\$/, "", line); line = line " " nxt }
        sub(/^ +/, "", line)
        sub(/[ \t]+#.*$/, "", line)      # a trailing comment
        sub(/ && xdg-open .*$/, "", line)  # opening the report is the reader'"'"'s part
        gsub(/[ \t]+/, " ", line)
        print F "\t" line
      }' "$f"
  done
}

SCRATCH=$(mktemp -d /tmp/prescale-doc-commands.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
ln -s "$BUILD" "$SCRATCH/build"
for d in data scenarios models examples; do ln -s "$SRC/$d" "$SCRATCH/$d"; done

ran=0 skipped=0 failed=0
while IFS=$'\t' read -r file cmd; do
  if reason=$(skip_reason "$cmd"); then
    printf 'skip  %-18s %s\n      (%s)\n' "$file" "$cmd" "$reason"
    skipped=$((skipped + 1))
    continue
  fi
  start=$(date +%s)
  out=$(cd "$SCRATCH" && timeout "$PER_COMMAND_S" bash -c "$cmd" 2>&1 >/dev/null)
  rc=$?
  secs=$(($(date +%s) - start))
  if [ $rc -eq 0 ]; then
    printf 'ok    %-18s %s (%d s)\n' "$file" "$cmd" "$secs"
    ran=$((ran + 1))
  else
    printf 'FAIL  %-18s %s (exit %d after %d s)\n' "$file" "$cmd" "$rc" "$secs"
    printf '%s\n' "$out" | tail -5 | sed 's/^/      /'
    failed=$((failed + 1))
  fi
done < <(extract)

echo "doc commands: $ran ran, $skipped skipped, $failed failed"
[ "$ran" -gt 0 ] || { echo "no command found in the docs: the extraction is broken"; exit 1; }
[ "$failed" -eq 0 ]
