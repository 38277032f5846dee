#!/usr/bin/env bash
# Times import and export of N synthetic events, each next to the ledger's raw
# batch append and raw scan measured in the same run, with peak memory.
# Usage: tools/bench-transfer.sh [N] [DIR]   (builds release first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
dir=${2:-$(mktemp -d)}
cargo build -q --release --bins
B=target/release/demarche
X=target/release/demarche-bench
corpus=$dir/corpus.jsonl
target/release/demarche-gen --count "$n" --seed 7 --out "$corpus"
echo "## $n events, $(du -h "$corpus" | cut -f1) of JSON Lines"
secs() { python3 -c 'import json,sys; print(json.load(sys.stdin)["secs"])'; }
timed() { # label, command...: prints label, wall seconds and peak kB
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$dir/time" "$@" >/dev/null
  read -r wall kb <"$dir/time"
  printf '%-34s %8.2f s  %7d kB\n' "$label" "$wall" "$kb"
  echo "$wall" >"$dir/last"
}
raw_append=$($X phase append --dir "$dir/raw" --count "$n" --seed 7 --pre-parsed | secs)
printf '%-34s %8.2f s  (in process, events parsed beforehand)\n' "raw batch append" "$raw_append"
timed "import (whole command)" $B --ledger "$dir/ledger" import "$corpus"
import=$(cat "$dir/last")
raw_scan=$($X phase scan --dir "$dir/ledger" --count "$n" | secs)
printf '%-34s %8.2f s  (in process)\n' "raw scan" "$raw_scan"
timed "export JSON Lines (whole command)" $B --ledger "$dir/ledger" export -o "$dir/export.jsonl"
export=$(cat "$dir/last")
timed "export CSV (whole command)" $B --ledger "$dir/ledger" export --format csv -o "$dir/export.csv"
timed "verify --export" $B verify --export "$dir/export.jsonl"
timed "rebuild --from" $B --ledger "$dir/rebuilt" rebuild --from "$dir/export.jsonl"
timed "import again (all skipped)" $B --ledger "$dir/ledger" import "$corpus"
python3 - "$raw_append" "$import" "$raw_scan" "$export" <<'PY'
import sys
ra, im, rs, ex = map(float, sys.argv[1:])
print(f"import rate vs raw batch append: {ra / im:.2f} (target >= 0.60)")
print(f"export rate vs raw scan:         {rs / ex:.2f} (target >= 0.50)")
PY
rm -rf "$dir/raw" "$dir/rebuilt"
