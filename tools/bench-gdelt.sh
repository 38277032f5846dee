#!/usr/bin/env bash
# Times `import --format gdelt` of N synthetic GDELT rows into a fresh ledger
# of each engine, next to `import` of N JSON Lines statements in the same run:
# wall time, rows (or statements) a second, CPU time (user and system, all
# threads), peak RSS, and the ratio of the two.
# Usage: tools/bench-gdelt.sh [N] [DIR] [SAMPLE]   (builds release first, or
# takes demarche and demarche-gen from $BENCH_BIN_DIR when it is set)
# SAMPLE: a real GDELT 2.0 export to take code distributions from
# (default ../shared/data/gdelt-sample.export.CSV); no row of it is copied.
# BENCH_BEFORE=<another demarche binary> times its GDELT import too, in the
# same run, and prints this build's speed over its speed.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-400000}
dir=${2:-$(mktemp -d)}
mkdir -p "$dir"
sample=${3:-../shared/data/gdelt-sample.export.CSV}
if [ -z "${BENCH_BIN_DIR:-}" ]; then
  cargo build -q --release --bins
  BENCH_BIN_DIR=${CARGO_TARGET_DIR:-target}/release
fi
B=$BENCH_BIN_DIR/demarche
before=${BENCH_BEFORE:-}
target=200000
rows=$dir/synth.export.CSV
jsonl=$dir/corpus.jsonl
python3 tools/gdelt_synth.py "$sample" --rows "$n" --seed 7 >"$rows"
"$BENCH_BIN_DIR/demarche-gen" --count "$n" --seed 7 --out "$jsonl"
echo "## $n GDELT rows ($(du -h "$rows" | cut -f1)) and $n JSON Lines statements ($(du -h "$jsonl" | cut -f1))"
# run ENGINE LABEL BINARY ARGS...: prints one line, sets $rate (per second).
run() {
  local engine=$1 label=$2 bin=$3
  shift 3
  rm -rf "$dir/l-$engine-$label"
  /usr/bin/time -f "%e %M %U %S" -o "$dir/time" \
    env DEMARCHE_ENGINE="$engine" "$bin" --ledger "$dir/l-$engine-$label" "$@" >/dev/null
  read -r wall kb user sys <"$dir/time"
  rate=$(python3 -c 'import sys; print(round(int(sys.argv[1]) / max(float(sys.argv[2]), 0.01)))' "$n" "$wall")
  python3 -c 'import sys; n, w, r, kb, cpu = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[7]) + float(sys.argv[8]); print(f"{sys.argv[5]:5} {sys.argv[6]:12} {w:7.2f} s  {r:>10,} rows/s  {cpu:6.2f} s CPU  {kb / 1024:6.0f} MB peak RSS")' \
    "$n" "$wall" "$rate" "$kb" "$engine" "$label" "$user" "$sys"
  rm -rf "$dir/l-$engine-$label"
}
summary=()
for engine in sled redb; do
  run "$engine" gdelt "$B" import --format gdelt "$rows"
  gdelt=$rate
  if [ -n "$before" ]; then
    run "$engine" gdelt-before "$before" import --format gdelt "$rows"
    old=$rate
  fi
  run "$engine" jsonl "$B" import "$jsonl"
  jsonl_rate=$rate
  line=$(python3 -c 'import sys; g, j, t = map(int, sys.argv[1:4]); met = "reached" if g >= t else "not reached"; print(f"{sys.argv[4]}: GDELT {g:,} rows/s = {g / j:.2f} x JSON Lines {j:,}/s; target {t:,}: {met}")' \
    "$gdelt" "$jsonl_rate" "$target" "$engine")
  if [ -n "$before" ]; then
    line="$line; $(python3 -c 'import sys; print(f"{int(sys.argv[1]) / int(sys.argv[2]):.2f} x before ({int(sys.argv[2]):,} rows/s)")' "$gdelt" "$old")"
  fi
  summary+=("$line")
done
printf '%s\n' "${summary[@]}"
