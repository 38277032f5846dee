#!/usr/bin/env python3
"""Times `import` of one JSON Lines corpus into a fresh ledger, on both engines,
for one or more builds, beside the SQLite hash chain of ../shared/peers
importing the same statements.

    tools/bench_import.py CORPUS.jsonl PEERS_CORPUS.jsonl BIN [BIN...] [--rounds N]

CORPUS: demarche's lines (demarche-gen); PEERS_CORPUS: the same statements in the
peers' format (peers/dm_corpus.py); side-by-side.sh leaves both in
/tmp/demarche-peers/work/ (dm-100k.jsonl, corpus-100k.jsonl).

The commands take turns, round after round, so that a machine whose speed
drifts (these are shared) slows them alike; each round starts from an empty
store. Prints each command's median and fastest wall time (the whole process,
as a user waits for it) and its ratio to the SQLite chain's, per round.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("corpus")
ap.add_argument("peers_corpus")
ap.add_argument("bins", nargs="+")
ap.add_argument("--rounds", type=int, default=8)
ap.add_argument("--peers", default=os.path.join(here, "..", "..", "shared", "peers"))
a = ap.parse_args()

work = tempfile.mkdtemp()
store = os.path.join(work, "store")
cmds = []
chain = os.path.join(a.peers, "sqlite_chain.py")
if os.path.exists(chain):
    db = os.path.join(store, "chain.db")
    cmds.append(("sqlite-chain", ["python3", chain, "import", a.peers_corpus, db], {}))
for b in a.bins:
    for engine in ("sled", "redb"):
        cmd = [os.path.abspath(b), "--ledger", os.path.join(store, "l"), "import", a.corpus]
        cmds.append((f"{b} {engine}", cmd, {"DEMARCHE_ENGINE": engine}))
times = {name: [] for name, _, _ in cmds}
try:
    for _ in range(a.rounds + 1):  # the first round warms the page cache
        for name, cmd, env in cmds:
            shutil.rmtree(store, ignore_errors=True)
            os.makedirs(store)
            t = time.monotonic()
            subprocess.run(cmd, env={**os.environ, **env}, check=True,
                           stdout=subprocess.DEVNULL)
            times[name].append(time.monotonic() - t)
finally:
    shutil.rmtree(work, ignore_errors=True)
base = times.get("sqlite-chain")
for name, _, _ in cmds:
    ts = times[name][1:]
    line = f"{name:<40} median {statistics.median(ts):6.3f} s  min {min(ts):6.3f} s"
    if base and name != "sqlite-chain":
        per_round = [b / t for b, t in zip(base[1:], ts)]
        line += f"  {statistics.median(per_round):.2f} x the SQLite chain (median of rounds)"
    print(line)
