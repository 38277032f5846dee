#!/usr/bin/env bash
# Refreshes the local copy of the RustSec advisory database that `.ci/run`
# audits the dependencies against (ARCHITECTURE.md, "Dependency audit").
#
#   tools/update-advisory-db.sh SOURCE [DEST]
#
# SOURCE is a git repository of rustsec/advisory-db (a checkout or a bare
# clone); its HEAD is what is copied. DEST defaults to ../shared/advisory-db,
# beside the repository, where `.ci/run` looks for it. Only `crates/` is kept
# (the advisories against crates; `rust/` covers the toolchain, which the
# audit does not read), with a file COMMIT that names the database's commit
# and that commit's date, and a README.md that says the same in words.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 SOURCE [DEST]" >&2
  exit 2
fi
src=$1
dest=${2:-"$(cd "$(dirname "$0")/.." && pwd)/../shared/advisory-db"}
commit=$(git -C "$src" rev-parse --verify 'HEAD^{commit}')
date=$(git -C "$src" show -s --format=%cI "$commit")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/advisory-db.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git -C "$src" archive "$commit" crates | tar -x -C "$tmp"
count=$(find "$tmp/crates" -type f -name 'RUSTSEC-*.md' | wc -l)
if [ "$count" -eq 0 ]; then
  echo "no advisories under crates/ at $commit in $src" >&2
  exit 1
fi
printf '%s %s\n' "$commit" "$date" >"$tmp/COMMIT"
cat >"$tmp/README.md" <<END
# RustSec advisory database: the advisories against crates

The \`crates/\` folder of the RustSec advisory database (rustsec/advisory-db
on GitHub) at commit $commit, dated $date:
$count advisories, public domain (CC0-1.0) like the database itself.
\`COMMIT\` holds the same commit and date for scripts.

demarche's \`.ci/run\` audits Cargo.lock against this copy with cargo-deny,
offline. To refresh it, from the demarche repository:

    tools/update-advisory-db.sh PATH-TO-A-CLONE-OF-advisory-db DEST
END

mkdir -p "$dest"
rm -rf "$dest/crates"
mv "$tmp/crates" "$tmp/COMMIT" "$tmp/README.md" "$dest/"
echo "advisory database $commit ($date): $count advisories in $dest"
