#!/usr/bin/env bash
# Requests per second of `demarche serve`: the signed checkpoint, a full hash
# tile, an entry bundle and positions queries, measured with wrk against
# 127.0.0.1, on a copy of LEDGER (the ledger itself is never touched).
# Usage: tools/bench-serve.sh LEDGER [SECONDS] [CONNECTIONS]   (builds release first)
# Needs wrk (Debian: apt-get install -y wrk) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: tools/bench-serve.sh LEDGER [SECONDS] [CONNECTIONS]}
secs=${2:-10}
conns=${3:-8}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 2; }
cargo build -q --release --bin demarche
X=${CARGO_TARGET_DIR:-target}/release/demarche
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cp -a "$src" "$work/ledger"
$X key generate --name bench.example/serve --out "$work/k" >/dev/null 2>&1
$X --ledger "$work/ledger" serve --addr 127.0.0.1:0 --sign "$work/k.key" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do
  grep -q ' at http://' "$work/err" && break
  sleep 0.1
done
url=$(grep -o 'http://[0-9.:]*' "$work/err" | head -1)
echo "$(head -1 "$work/err")"
size=$(curl -sf "$url/api/head" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
echo "ledger of $size events; wrk -t2 -c$conns -d${secs}s on the same 2 cores as the server"
start=$(date +%s.%N)
curl -sf -o /dev/null "$url/checkpoint"
echo "first /checkpoint (verifies the chain, then signs): $(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')") s"
for path in \
  /checkpoint \
  /tile/0/000 \
  /tile/1/000 \
  /tile/entries/000 \
  "/api/positions?party=RUS&as-of=2021-01-29" \
  "/api/positions?party=USA&predicate=withdrawal" \
  /api/head; do
  curl -sf -o /dev/null "$url$path" || { echo "$path: not answered" >&2; exit 1; }
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$url$path" >"$work/wrk"
  python3 - "$path" "$work/wrk" <<'PY'
import re, sys
path, text = sys.argv[1], open(sys.argv[2]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", text))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{path:48} {float(rps):>9,.0f} req/s   p50 {lat.get('50')}  p99 {lat.get('99')}"
      + (f"   {errors.group(1)} non-2xx" if errors else ""))
PY
done
