#!/usr/bin/env python3
"""Times one `demarche append` process per statement beside one `git commit`,
the commands taking turns, and prints each one's p50 and p90 and its ratio to
git's p50.

    tools/append-beside-git.py STATEMENTS LEDGER NAME=BINARY[@OTHER] [...]

STATEMENTS is a JSON Lines file of at least 6 statements the ledger does not
hold (one `append --json LINE` each); LEDGER is copied once for every BINARY,
beside LEDGER (on its file system), and each BINARY appends into its own copy,
so that builds compare on the same ledger. `NAME=BINARY@OTHER` copies the
ledger OTHER for that build instead: for builds that lay out what they store
otherwise, each on a ledger it made (of the same statements). The git
repository is made there too, with `core.fsync=all` and no user or system
configuration, so that each commit is durable as each append is; `git commit --allow-empty -m` takes the
line's first 60 characters. The first 5 statements warm the page cache and are
not counted. Each time includes starting the process from Python, alike for
every command. Taking turns makes a machine whose speed drifts slow every
command alike.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
    if len(lines) < 6:
        sys.exit("STATEMENTS needs at least 6 lines: the first 5 are not counted")
    source = sys.argv[2]
    work = tempfile.mkdtemp(
        prefix="append-beside-git.", dir=os.path.dirname(os.path.abspath(source))
    )
    try:
        run(lines, source, sys.argv[3:], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(lines: list, source: str, builds: list, work: str) -> None:
    cmds = {}
    for i, spec in enumerate(builds):
        name, binary = spec.split("=", 1)
        binary, _, own = binary.partition("@")
        copy = os.path.join(work, f"ledger-{i}")
        shutil.copytree(own or source, copy)
        cmds[name] = (lambda b, d: lambda l: [b, "--ledger", d, "append", "--json", l])(
            binary, copy
        )
    repo = os.path.join(work, "git")
    # Only this repository's configuration: no hooks, signing or other
    # settings of the user's that would change git's time.
    os.environ["GIT_CONFIG_GLOBAL"] = os.devnull
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    subprocess.run(["git", "init", "-q", repo], check=True)
    for key, value in [
        ("core.fsync", "all"),
        ("user.name", "bench"),
        ("user.email", "bench@example.org"),
    ]:
        subprocess.run(["git", "-C", repo, "config", key, value], check=True)
    cmds["git commit"] = lambda l: [
        "git", "-C", repo, "commit", "-q", "--allow-empty", "-m", l[:60]
    ]
    os.sync()
    names = list(cmds)
    walls = {n: [] for n in names}
    for i, line in enumerate(lines):
        order = names if i % 2 == 0 else names[::-1]
        for n in order:
            t = time.perf_counter()
            p = subprocess.run(
                cmds[n](line), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            dt = time.perf_counter() - t
            if p.returncode != 0:
                sys.exit(f"{n} failed on line {i + 1}: {p.stderr.decode(errors='replace')}")
            if i >= 5:
                walls[n].append(dt * 1000)
    git = statistics.median(walls["git commit"])
    for n, v in walls.items():
        v.sort()
        p50 = statistics.median(v)
        print(
            f"{p50:7.2f} ms p50  {v[9 * len(v) // 10]:7.2f} ms p90  "
            f"{p50 / git:5.2f} x git  n {len(v)}  {n}"
        )


if __name__ == "__main__":
    main()
