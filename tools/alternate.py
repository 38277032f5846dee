#!/usr/bin/env python3
"""Times whole commands in turn, round after round, and prints each one's median
and fastest wall time and its largest peak RSS.

    tools/alternate.py ROUNDS 'COMMAND' ['COMMAND' ...]

Each command runs through `bash -c 'exec COMMAND'` under /usr/bin/time, its
standard output thrown away (prefix environment variables with `env`, as in
`env DEMARCHE_ENGINE=redb demarche --ledger L verify`). A first round warms the
page cache and is not counted. Taking turns makes a machine whose speed drifts
(these are shared) slow every command alike, so that two builds compare in one
run; report a change as the ratio of two medians measured together.
"""
import statistics
import subprocess
import sys
import time


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    cmds = sys.argv[2:]
    walls = {c: [] for c in cmds}
    rss = {c: [] for c in cmds}
    for r in range(rounds + 1):
        for c in cmds:
            t = time.monotonic()
            p = subprocess.run(
                ["/usr/bin/time", "-f", "%M", "bash", "-c", "exec " + c + " > /dev/null"],
                stderr=subprocess.PIPE,
                text=True,
            )
            dt = time.monotonic() - t
            if r == 0:
                continue
            walls[c].append(dt)
            rss[c].append(int(p.stderr.strip().splitlines()[-1]))
    for c in cmds:
        print(
            f"{statistics.median(walls[c]) * 1000:8.1f} ms  min {min(walls[c]) * 1000:8.1f}"
            f"  rss {max(rss[c]) / 1024:6.1f} MiB  {c}"
        )


if __name__ == "__main__":
    main()
