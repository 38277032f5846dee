#!/usr/bin/env python3
"""Synthetic GDELT 2.0 event rows, built from the code distributions of a real export.

Reads a real export (tab-separated, 61 columns) only to count how often each
EventCode, each Actor1 (code, country, type), each Actor2 and each action
country occur, then writes N rows of its own making: each field drawn
independently from those counts, with invented event ids, dates, counts, tones
and example.org URLs. No row of the input is copied. Deterministic for a seed.

    python3 tools/gdelt_synth.py SAMPLE.export.CSV --rows 100000 --seed 7 > synth.export.CSV
    demarche --ledger /tmp/l import --format gdelt synth.export.CSV

Exit status: 0, or 2 when the input is not an export.
"""

import argparse
import collections
import random
import sys


def counts(rows, pick):
    c = collections.Counter(pick(r) for r in rows)
    return list(c.keys()), list(c.values())


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sample", help="a real GDELT 2.0 event export, to count codes in")
    ap.add_argument("--rows", type=int, default=10000, help="rows to write (10000)")
    ap.add_argument("--seed", type=int, default=1, help="seed (1)")
    a = ap.parse_args(argv[1:])
    rows = []
    with open(a.sample, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 61:
                print(f"{a.sample}: line {n}: expected 61 columns, found {len(cols)}", file=sys.stderr)
                return 2
            rows.append(cols)
    if not rows:
        print(f"{a.sample}: no rows", file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    actor = lambda i: lambda r: tuple(r[i:i + 10])  # code, name, country, ..., types
    codes = counts(rows, lambda r: r[26])
    actor1 = counts(rows, actor(5))
    actor2 = counts(rows, actor(15))
    geo = counts(rows, lambda r: tuple(r[51:59]))  # ActionGeo: 8 columns
    out = sys.stdout
    for i in range(a.rows):
        code = rng.choices(*codes)[0]
        a1 = rng.choices(*actor1)[0]
        a2 = rng.choices(*actor2)[0]
        g = rng.choices(*geo)[0]
        day = 1 + rng.randrange(28)
        date = f"202611{day:02d}"
        event_id = 2_000_000_000 + a.seed * 100_000_000 + i
        goldstein = rng.choice([-10.0, -7.0, -5.0, -2.0, 0.0, 1.0, 3.0, 3.4, 7.0])
        mentions = 1 + int(rng.expovariate(0.3))
        sources = max(1, mentions // 3)
        tone = rng.gauss(-2.0, 3.0)
        cols = [""] * 61
        cols[0] = str(event_id)
        cols[1] = date
        cols[2] = date[:6]
        cols[3] = date[:4]
        cols[4] = f"{2026 + (day - 1) / 365:.4f}"
        cols[5:15] = a1
        cols[15:25] = a2
        cols[25] = "1"
        cols[26] = code
        cols[27] = code[:3]
        cols[28] = code[:2]
        cols[29] = "1"
        cols[30] = f"{goldstein:.1f}"
        cols[31] = str(mentions)
        cols[32] = str(sources)
        cols[33] = str(mentions)
        cols[34] = f"{tone:.14f}".rstrip("0").rstrip(".")
        cols[35:43] = g  # Actor1Geo, Actor2Geo and ActionGeo alike
        cols[43:51] = g
        cols[51:59] = g
        cols[59] = date + "120000"
        cols[60] = f"https://www.example.org/news/synthetic/{event_id}"
        out.write("\t".join(cols) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
