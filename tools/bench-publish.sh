#!/usr/bin/env bash
# Times `publish` of a ledger from scratch and again after 1,000 appends, and
# the reader's side (`follow` from scratch and after the appends, `clone`),
# beside `export` and `verify` of the same ledger in the same run, with peak
# memory. The ledger is copied first; the original is never changed.
# Usage: tools/bench-publish.sh LEDGER [DIR]
#   BENCH_BIN_DIR: where demarche and demarche-gen are (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: tools/bench-publish.sh LEDGER [DIR]}
dir=${2:-$(mktemp -d)}
if [ -z "${BENCH_BIN_DIR:-}" ]; then
  cargo build -q --release --bins
  BENCH_BIN_DIR=target/release
fi
B=$BENCH_BIN_DIR/demarche
G=$BENCH_BIN_DIR/demarche-gen
export DEMARCHE_CACHE_KEY=${DEMARCHE_CACHE_KEY:-$(printf '%064d' 7)}
rm -rf "$dir/L" "$dir/pub" "$dir/copy" "$dir/state" "$dir/state2"
cp -r "$src" "$dir/L"
L=$dir/L
$B key generate --name bench.example/ledger --out "$dir/k" --force >/dev/null
size=$($B --ledger "$L" head | cut -d: -f1)
echo "## publish: $size records, engine $($B --ledger "$L" status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("engine","?"))' 2>/dev/null || echo '?')"
timed() { # label, command...: prints label, wall seconds and peak kB
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$dir/time" "$@" >/dev/null
  read -r wall kb <"$dir/time"
  printf '%-40s %8.2f s  %8d kB\n' "$label" "$wall" "$kb"
}
timed "verify (baseline)" $B --ledger "$L" verify
timed "export JSON Lines (baseline)" $B --ledger "$L" export -o "$dir/export.jsonl" --force
rm -f "$dir/export.jsonl"
timed "publish from scratch" $B --ledger "$L" publish "$dir/pub" --sign "$dir/k.key"
echo "   tree: $(find "$dir/pub" -type f | wc -l) files, $(du -sh "$dir/pub" | cut -f1)"
timed "follow from scratch (directory)" $B follow "$dir/pub" --key "$dir/k.vkey" --state "$dir/state"
timed "clone from the directory" $B --ledger "$dir/copy" clone "$dir/pub" --key "$dir/k.vkey"
$G --count 1000 --seed 4242 --out "$dir/more.jsonl" >/dev/null
$B --ledger "$L" import "$dir/more.jsonl" >/dev/null
timed "publish after 1,000 appends" $B --ledger "$L" publish "$dir/pub" --sign "$dir/k.key"
timed "publish with nothing new" $B --ledger "$L" publish "$dir/pub" --sign "$dir/k.key"
timed "follow after 1,000 appends" $B follow "$dir/pub" --key "$dir/k.vkey" --state "$dir/state"
timed "follow a copy after 1,000 appends" $B --ledger "$dir/copy" follow
[ "$($B --ledger "$dir/copy" head)" = "$($B --ledger "$L" head)" ] && echo "   the copy's head is the ledger's"
rm -rf "$dir/L" "$dir/pub" "$dir/copy"
