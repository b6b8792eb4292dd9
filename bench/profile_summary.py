"""Sort py-spy raw samples of a hongbao server into where the time goes (auth, gate, writer, HTTP, ...).

    py-spy record -p PID -d 15 -r 100 -f raw -o w1.gil.raw --gil     # run.sh --profile does this
    python bench/profile_summary.py bench/results/sqlite-w1-profile.gil.raw [--top 25]

Each sample goes to the category of its innermost frame that matches one (see CATEGORIES), so a
SQLAlchemy call made for a token lookup counts as "auth", and routing code counts as "FastAPI".
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter

# (category, substrings of a py-spy frame "function (file:line)"), tried from the innermost frame out.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("auth: bearer token (hash, cache, DB read)", ("Users.authenticate", "current_user (")),
    ("gate: admit / check_grab", ("LocalGate", "Packets._admit", "check_grab", "audience.py")),
    ("writer thread: open jobs, commits", ("SqlStore._write_loop",)),
    ("reads for the audit (untimed GET /v1/packets)", ("Packets.detail",)),
    ("refusal -> problem+json", ("api/errors.py",)),
    ("sync dependency in a thread (get_app)", ("run_in_threadpool", "to_thread.py", "WorkerThread.run")),
    ("open use case glue", ("Packets.open", "open_packet (")),
    ("response: serialise and send", ("RequestResponseCycle.send", "Response.__call__", "_send (")),
    ("FastAPI: solve dependencies, validate params", ("solve_dependencies", "request_params_to_args")),
    ("FastAPI/Starlette: routing, middleware", ("fastapi/", "starlette/")),
    ("uvicorn: HTTP parsing, protocol", ("uvicorn/", "httptools")),
    ("event loop, other", ("",)),
]


def category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES[:-1]:
            if any(n in frame for n in needles):
                return name
    return CATEGORIES[-1][0]


def summarize(path: str) -> tuple[int, Counter[str], Counter[str]]:
    per_category: Counter[str] = Counter()
    per_leaf: Counter[str] = Counter()
    total = 0
    with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            per_category[category(frames)] += n
            per_leaf[frames[-1]] += n
    return total, per_category, per_leaf


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("raw", nargs="+", help="py-spy raw (collapsed stack) files, plain or .gz")
    p.add_argument("--top", type=int, default=15, help="also list the N hottest leaf frames")
    a = p.parse_args(argv)
    for path in a.raw:
        total, per_category, per_leaf = summarize(path)
        print(f"{path}: {total} samples")
        for name, n in per_category.most_common():
            print(f"  {100 * n / total:5.1f}%  {name}")
        if a.top:
            print("  hottest leaf frames:")
            for frame, n in per_leaf.most_common(a.top):
                print(f"    {100 * n / total:5.1f}%  {frame[:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
