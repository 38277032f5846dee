#!/usr/bin/env bash
# Times `import --format gdelt` of N synthetic GDELT rows into a fresh ledger
# of each engine, next to `import` of N JSON Lines statements in the same run.
# Usage: tools/bench-gdelt.sh [N] [DIR] [SAMPLE]   (builds release first, or
# takes demarche and demarche-gen from $BENCH_BIN_DIR when it is set)
# SAMPLE: a real GDELT 2.0 export to take code distributions from
# (default ../shared/data/gdelt-sample.export.CSV); no row of it is copied.
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
rows=$dir/synth.export.CSV
jsonl=$dir/corpus.jsonl
python3 tools/gdelt_synth.py "$sample" --rows "$n" --seed 7 >"$rows"
"$BENCH_BIN_DIR/demarche-gen" --count "$n" --seed 7 --out "$jsonl"
echo "## $n GDELT rows ($(du -h "$rows" | cut -f1)) and $n JSON Lines statements ($(du -h "$jsonl" | cut -f1))"
for engine in sled redb; do
  for kind in gdelt jsonl; do
    rm -rf "$dir/l-$engine-$kind"
    case $kind in
      gdelt) args=(import --format gdelt "$rows") ;;
      jsonl) args=(import "$jsonl") ;;
    esac
    /usr/bin/time -f "%e %M" -o "$dir/time" \
      env DEMARCHE_ENGINE=$engine $B --ledger "$dir/l-$engine-$kind" "${args[@]}" >/dev/null
    read -r wall kb <"$dir/time"
    python3 -c 'import sys; n, w, kb = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]; print(f"{sys.argv[4]:5} {sys.argv[5]:5} {w:7.2f} s  {n / w:>10,.0f} rows/s  {kb} kB")' \
      "$n" "$wall" "$kb" "$engine" "$kind"
  done
done
echo "target: at least 200,000 GDELT rows/s on either engine"
rm -rf "$dir"/l-*
