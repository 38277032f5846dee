#!/usr/bin/env bash
# Imports into a ledger that already holds many events, as a user who imports every
# day meets them: each round copies LEDGER to a new directory (and syncs it), then
# imports FILE1, FILE2, ... into the copy one after another with each build in turn,
# and prints the wall, user and system seconds and the peak RSS of every import.
# Builds take turns within a round, so that a machine whose speed drifts slows them
# alike: compare builds within one run.
#
#   ROUNDS=2 tools/bench-into.sh LEDGER 'FILE1 FILE2 ...' BIN [BIN ...]
#
# Needs /usr/bin/time. The copies are made beside LEDGER and removed after each import
# sequence.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
src=$(realpath "$1")
files=$2
shift 2
rounds=${ROUNDS:-2}
for ((r = 1; r <= rounds; r++)); do
  for bin in "$@"; do
    copy=$(mktemp -d "$(dirname "$src")/into.XXXXXX")
    cp -r "$src" "$copy/l"
    sync
    line="round $r  $bin:"
    for f in $files; do
      /usr/bin/time -f "%e %U %S %M" -o "$copy/time" "$bin" --ledger "$copy/l" import "$f" >/dev/null
      read -r wall user sys rss <"$copy/time"
      line="$line  $(basename "$f") ${wall}s (user $user, sys $sys, $((rss / 1024)) MiB)"
    done
    echo "$line"
    rm -rf "$copy"
  done
done
