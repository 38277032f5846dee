#!/usr/bin/env bash
# Times the positions queries on synthetic ledgers of 100k and 1M statements,
# with the snapshot and with a forced full replay, and their peak memory.
# Usage: tools/bench-positions.sh [DIR]   (needs hyperfine; builds release first)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d)}
cargo build -q --release --bins
B=target/release/demarche
for n in 100000 1000000; do
  L=$dir/ledger-$n
  if [ ! -d "$L" ]; then
    target/release/demarche-gen --count "$n" --seed 11 --out "$dir/corpus-$n.jsonl"
    $B --ledger "$L" import "$dir/corpus-$n.jsonl" >/dev/null
  fi
  echo "## $n events"
  /usr/bin/time -f "snapshot build (first query): %e s, %M kB" $B --ledger "$L" positions --as-of 2012-06-30 --party USA --json >/dev/null
  for args in "--party USA" ""; do
    for mode in "" "--replay"; do
      /usr/bin/time -f "positions --as-of 2012-06-30 ${args:-(all)} ${mode:-(snapshot)}: %e s, %M kB" \
        $B --ledger "$L" positions --as-of 2012-06-30 $args --json $mode >/dev/null
    done
  done
  /usr/bin/time -f "diff over 2012, --party USA: %e s, %M kB" $B --ledger "$L" diff --from 2012-01-01 --to 2012-12-31 --party USA --json >/dev/null
  echo "positions in all: $($B --ledger "$L" positions --as-of 2012-06-30 --json | wc -l)"
  hyperfine -N -w 1 -r 5 \
    "$B --ledger $L positions --as-of 2012-06-30 --party USA --json" \
    "$B --ledger $L positions --as-of 2012-06-30 --party USA --json --replay" \
    "$B --ledger $L head"
done
