#!/usr/bin/env bash
# Append throughput with and without the Merkle tree (alternating, same run),
# and the time and size of inclusion and consistency proofs, at N events.
# Usage: tools/bench-proofs.sh [N] [DIR]   (builds release first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
dir=${2:-$(mktemp -d)}
cargo build -q --release --bins
X=target/release/demarche-bench
secs() { python3 -c 'import json,sys; print(json.load(sys.stdin)["secs"])'; }
with=() without=()
for round in 1 2 3; do
  rm -rf "$dir/a" "$dir/b"
  without+=("$($X phase append --dir "$dir/a" --count "$n" --seed 3 --pre-parsed --no-tree | secs)")
  with+=("$($X phase append --dir "$dir/b" --count "$n" --seed 3 --pre-parsed | secs)")
  echo "round $round: without tree ${without[-1]} s, with tree ${with[-1]} s"
done
python3 - "${without[*]}" "${with[*]}" "$n" <<'PY'
import sys, statistics as st
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
n = int(sys.argv[3])
print(f"median batch append: {n/st.median(a):,.0f}/s without the tree, {n/st.median(b):,.0f}/s with it")
print(f"with / without: {st.median(a)/st.median(b):.2f} (target >= 0.70)")
PY
$X phase proofs --dir "$dir/b" --samples 200
rm -rf "$dir/a" "$dir/b"
