#!/usr/bin/env bash
# What derived data costs a ledger of N statements (default 1M), on each engine:
#   1. `append` p50 before any positions query, and again after ten queries (each
#      followed by one append, every command a process of its own), with the size of
#      the ledger's files (store and cache/) before and after;
#   2. `verify` with every derived-data check (the positions snapshot included), without
#      the snapshot (no cache key), and `--chain-only`.
# Every figure of one engine comes from the same run: compare within it.
#
#   BENCH_BIN_DIR=target/release tools/bench-derived.sh [DIR] [N]
#
# Needs hyperfine and jq. Builds the ledgers in DIR (default a new temporary directory)
# from demarche-gen's statements, with a cache key of their own (DIR/cache.key).
set -euo pipefail
cd "$(dirname "$0")/.."
bins=${BENCH_BIN_DIR:-target/release}
if [ -z "${BENCH_BIN_DIR:-}" ]; then cargo build -q --release --bins; fi
B=$(realpath "$bins/demarche")
dir=$(realpath "${1:-$(mktemp -d)}")
n=${2:-1000000}
mkdir -p "$dir"
export DEMARCHE_CACHE_KEY=$dir/cache.key
corpus=$dir/corpus-$n.jsonl
[ -s "$corpus" ] || "$bins/demarche-gen" --count "$n" --seed 11 --out "$corpus"
line='{"type":"statement","said_on":"2021-02-01","party":"GBR","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":"bench","source":{"publisher":"p"}}'
p50() { # the median of hyperfine's runs of one command, in ms
  hyperfine -N -w 2 -r 20 --export-json "$dir/hf.json" "$1" >/dev/null 2>&1
  jq '.results[0].median * 1000 | floor' "$dir/hf.json"
}
size() { du -sb --exclude=cache "$1" | cut -f1; }
cache() { if [ -d "$1/cache" ]; then du -sb "$1/cache" | cut -f1; else echo 0; fi; }
for engine in sled redb; do
  L=$dir/$engine-$n
  rm -rf "$L"
  DEMARCHE_ENGINE=$engine "$B" --ledger "$L" import "$corpus" >/dev/null
  append="$B --ledger $L append --allow-duplicate --json '$line'"
  before=$(p50 "$append")
  store_before=$(size "$L")
  for _ in $(seq 10); do
    "$B" --ledger "$L" positions --as-of 2012-06-30 --party USA --json >/dev/null
    eval "$append" >/dev/null
  done
  after=$(p50 "$append")
  echo "## $engine, $n statements"
  echo "append p50: ${before} ms before any query, ${after} ms after ten ($(echo "scale=2; $after / $before" | bc)x)"
  echo "store: $store_before bytes before, $(size "$L") after; cache/: $(cache "$L") bytes"
  hyperfine -N -w 1 -r 5 \
    "$B --ledger $L verify" \
    "env DEMARCHE_CACHE_KEY= $B --ledger $L verify" \
    "$B --ledger $L verify --chain-only" 2>&1 | grep -E "Benchmark|Time"
done
